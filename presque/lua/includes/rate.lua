-- A queue's rate: a token bucket in its meta hash, refilled at `rate`
-- tokens a second up to `burst`; each job handed out spends one. Needs the
-- includes queue_keys and settings.

-- The bucket as of `now` (ms), or nil when the queue has no rate.
local function rate_bucket(now)
  local rate = setting('rate')
  if rate <= 0 then
    return nil
  end
  local burst = setting('burst')
  if burst < 1 then
    burst = math.max(1, rate)
  end
  local saved = redis.call('HMGET', K.meta, 'tokens', 'tokens_at')
  local tokens = tonumber(saved[1])
  if tokens then
    local since = math.max(0, now - (tonumber(saved[2]) or now))
    tokens = math.min(burst, tokens + since * rate / 1000)
  else
    tokens = burst
  end
  return {tokens = tokens, rate = rate, now = now}
end

-- The ms until the bucket holds a whole token.
local function bucket_wait(bucket)
  return math.max(1, math.ceil((1 - bucket.tokens) * 1000 / bucket.rate))
end

local function spend_tokens(bucket, spent)
  redis.call('HSET', K.meta, 'tokens', bucket.tokens - spent, 'tokens_at', bucket.now)
end
