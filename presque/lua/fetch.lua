-- Takes up to `count` jobs out of a queue for good (GET /q, GET /qb).
--
-- KEYS[1] presque:{Q}:meta     hash: status, listed
-- KEYS[2] presque:{Q}:ready    list of ready job ids, head first out
-- KEYS[3] presque:{Q}:delayed  sorted set of job ids by due time (ms)
-- KEYS[4] presque:{Q}:jobs     hash: job id -> payload
-- KEYS[5] presque:{Q}:info     hash: job id -> JSON {created, uniq}
-- KEYS[6] presque:{Q}:uniq     hash: uniq key -> job id
-- KEYS[7] presque:{Q}:stats    hash: processed, failed
--
-- ARGV[1] the most jobs to take
-- ARGV[2] the most due delayed jobs to promote first
--
-- Returns {'closed'} when the queue is closed; otherwise
-- {'ok', id, payload, id, payload, ...} (just {'ok'} when nothing is ready).
--
-- Due delayed jobs are promoted first, so a fetch never misses a job whose
-- time has come even if no scheduler has run since.

--@include now_ms
--@include promote_due

if redis.call('HGET', KEYS[1], 'status') == '0' then
  return {'closed'}
end

promote_due(KEYS[3], KEYS[2], now_ms(), tonumber(ARGV[2]))

local ids = redis.call('LPOP', KEYS[2], tonumber(ARGV[1]))
local reply = {'ok'}
if not ids then
  return reply
end

for _, id in ipairs(ids) do
  local payload = redis.call('HGET', KEYS[4], id)
  local info = redis.call('HGET', KEYS[5], id)
  if info then
    local uniq = cjson.decode(info).uniq
    if uniq and redis.call('HGET', KEYS[6], uniq) == id then
      redis.call('HDEL', KEYS[6], uniq)
    end
  end
  redis.call('HDEL', KEYS[4], id)
  redis.call('HDEL', KEYS[5], id)
  if payload then
    reply[#reply + 1] = id
    reply[#reply + 1] = payload
  end
end

local taken = (#reply - 1) / 2
if taken > 0 then
  redis.call('HINCRBY', KEYS[7], 'processed', taken)
end
return reply
