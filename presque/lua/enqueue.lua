-- Adds one or more jobs to a queue (POST /q, PUT /q, POST /qb).
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV[1]  due time in ms, or '' to make the jobs ready now
-- ARGV[2]  uniq key, or '' (only with a single job)
-- ARGV[3]  '1' to count a failed job first (a worker gave it back), else '0'
-- ARGV[4]  priority, 0 to 9 (higher first)
-- ARGV[5..] job id, payload, job id, payload, ...
--
-- Returns {status, unlisted}: status is 'ok', or 'exists' when the uniq key
-- is held by a job still in the queue (nothing is added); unlisted is 1 when
-- the queue has never been recorded in the set of queues.
--
-- A job id already present is skipped, so a retried call adds nothing twice.
-- Jobs ready at once are announced on the queue's wake channel.

--@include queue_keys
--@include now_ms
--@include ready

local due, uniq = ARGV[1], ARGV[2]

if ARGV[3] == '1' then
  redis.call('HINCRBY', K.stats, 'failed', 1)
end

if uniq ~= '' then
  local holder = redis.call('HGET', K.uniq, uniq)
  if holder and holder ~= ARGV[5] then
    return {'exists', 0}
  end
end

local now = now_ms()
local priority = tonumber(ARGV[4])
if priority > 0 then
  redis.call('HSET', K.meta, 'prioritized', '1')
end
local added = {}
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('HSETNX', K.jobs, id, ARGV[i + 1]) == 1 then
    local info = {created = now, attempts = 0}
    if priority > 0 then
      info.priority = priority
    end
    if uniq ~= '' then
      info.uniq = uniq
      redis.call('HSET', K.uniq, uniq, id)
    end
    redis.call('HSET', K.info, id, cjson.encode(info))
    if due == '' then
      added[#added + 1] = id
    else
      redis.call('ZADD', K.delayed, due, id)
    end
  end
end

if priority > 0 then
  for _, id in ipairs(added) do
    redis.call('ZADD', K.urgent, urgent_score(priority), id)
  end
else
  -- RPUSH in slices: Lua's unpack() has a limit on the number of arguments.
  for first = 1, #added, 1000 do
    redis.call('RPUSH', K.ready, unpack(added, first, math.min(first + 999, #added)))
  end
end
if #added > 0 then
  wake_waiters()
end

local unlisted = redis.call('HEXISTS', K.meta, 'listed') == 0 and 1 or 0
return {'ok', unlisted}
