-- A page of a queue's dead letters, oldest first (GET /dead/Q). Changes nothing.
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV[1]  offset
-- ARGV[2]  limit
--
-- Returns {total, id, dead-lettered ms, payload, info JSON, ...}.

--@include queue_keys

local offset = tonumber(ARGV[1])
local entries = redis.call('ZRANGE', K.dead, offset, offset + tonumber(ARGV[2]) - 1, 'WITHSCORES')
local reply = {redis.call('ZCARD', K.dead)}
for i = 1, #entries, 2 do
  local id = entries[i]
  reply[#reply + 1] = id
  reply[#reply + 1] = entries[i + 1]
  reply[#reply + 1] = redis.call('HGET', K.jobs, id) or ''
  reply[#reply + 1] = redis.call('HGET', K.info, id) or '{}'
end
return reply
