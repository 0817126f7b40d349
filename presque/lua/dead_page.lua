-- A page of a queue's dead letters, oldest first (GET /dead/Q). Changes nothing.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  offset
-- ARGV[2]  limit (0: just the total)
--
-- Returns {total, id, dead-lettered ms, payload, info JSON, ...}.

--@include queue_keys

local offset, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local reply = {redis.call('ZCARD', K.dead)}
if limit <= 0 then
  return reply
end
local entries = redis.call('ZRANGE', K.dead, offset, offset + limit - 1, 'WITHSCORES')
for i = 1, #entries, 2 do
  local id = entries[i]
  reply[#reply + 1] = id
  reply[#reply + 1] = entries[i + 1]
  reply[#reply + 1] = redis.call('HGET', K.jobs, id) or ''
  reply[#reply + 1] = redis.call('HGET', K.info, id) or '{}'
end
return reply
