-- What may hold a ready or delayed job back, for its view (GET /q/Q/<id>:
-- "held_by"). Changes nothing.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the job's group, or ''
-- then the server's default settings (settings)
--
-- Returns {closed, leased, leased of the group, rate_wait, last_seen, now}:
-- closed is 1 when the queue is closed; rate_wait the ms until the rate
-- lets a job out (0 when it would now, or the queue has no rate);
-- last_seen the time (ms) of the last sign of life of a worker on the
-- queue, registered or seen, or 0; now the Redis clock's time.

--@include queue_keys
--@include settings
--@include now_ms
--@include rate

local now = now_ms()
local bucket = rate_bucket(now)
local last_seen = 0
for _, key in ipairs({K.seen, K.workers}) do
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2]
  last_seen = math.max(last_seen, tonumber(newest) or 0)
end
return {
  redis.call('HGET', K.meta, 'status') == '0' and 1 or 0,
  redis.call('ZCARD', K.leased),
  ARGV[1] ~= '' and tonumber(redis.call('HGET', K.group_leased, ARGV[1])) or 0,
  (bucket and bucket.tokens < 1) and bucket_wait(bucket) or 0,
  last_seen,
  now,
}
