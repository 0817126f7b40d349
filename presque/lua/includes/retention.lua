-- What a queue keeps of its finished jobs, and for how long: the outcome
-- of acked jobs (K.acked, with the results of K.results) within
-- result_ttl and max_results, and the dead letters within dead_ttl and
-- max_dead (0: no bound). The oldest go first. Needs the includes
-- queue_keys, settings, slices and schedule.

local FORGOTTEN_PER_BURIAL = 10

-- Removes the oldest `count` members of the sorted set `key`, and
-- returns them.
local function drop_oldest(key, count)
  local ids = redis.call('ZRANGE', key, 0, count - 1)
  redis.call('ZREMRANGEBYRANK', key, 0, count - 1)
  return ids
end

-- How many of the oldest members of `key` are past `ttl_ms` or beyond
-- `most`, at most `limit`; a bound of 0 is none when `none_is_zero`,
-- else no bound.
local function beyond(key, now, ttl_ms, most, limit, none_is_zero)
  local size = redis.call('ZCARD', key)
  local over = 0
  if most > 0 or none_is_zero then
    over = size - most
  end
  if ttl_ms > 0 or none_is_zero then
    over = math.max(over, redis.call('ZCOUNT', key, '-inf', now - ttl_ms))
  end
  return math.min(over, limit)
end

-- Forgets at most `limit` outcomes of acked jobs past their time or count.
local function trim_results(now, limit)
  local ttl, most = setting('result_ttl') * 1000, setting('max_results')
  local count = beyond(K.acked, now, ttl, most, limit, true)
  if count > 0 then
    call_in_slices('HDEL', K.results, drop_oldest(K.acked, count))
  end
  return math.max(count, 0)
end

-- Forgets at most `limit` dead letters past their time or count.
local function trim_dead(now, limit)
  local ttl, most = setting('dead_ttl') * 1000, setting('max_dead')
  local count = beyond(K.dead, now, ttl, most, limit, false)
  if count > 0 then
    local ids = drop_oldest(K.dead, count)
    call_in_slices('HDEL', K.jobs, ids)
    call_in_slices('HDEL', K.info, ids)
  end
  return math.max(count, 0)
end

-- When the oldest outcome or dead letter runs out of time (ms), or nil.
local function retention_due()
  local earliest
  local ttls = {[K.acked] = setting('result_ttl') * 1000, [K.dead] = setting('dead_ttl') * 1000}
  for key, ttl in pairs(ttls) do
    local first = ttl > 0 and redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
    if first and (not earliest or tonumber(first) + ttl < earliest) then
      earliest = tonumber(first) + ttl
    end
  end
  return earliest
end

-- A job was just buried: keeps the dead letters within max_dead, and
-- returns a due time the schedule must hear of for their age, or 0.
local function after_burial(now)
  trim_dead(now, FORGOTTEN_PER_BURIAL)
  local ttl = setting('dead_ttl') * 1000
  if ttl > 0 and redis.call('ZCARD', K.dead) == 1 then
    return note_due(now + ttl)
  end
  return 0
end
