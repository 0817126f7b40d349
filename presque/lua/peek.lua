-- Reads the payloads of a queue's ready jobs, in the order they will be
-- handed out (GET /status/Q?with_desc=1). Changes nothing.
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV[1]  the index of the last job to read (-1 for all)
--
-- Returns the list of payloads.

--@include queue_keys

local ids = redis.call('LRANGE', K.ready, 0, ARGV[1])
local payloads = {}
for first = 1, #ids, 1000 do
  local slice = redis.call('HMGET', K.jobs, unpack(ids, first, math.min(first + 999, #ids)))
  for _, payload in ipairs(slice) do
    if payload then
      payloads[#payloads + 1] = payload
    end
  end
end
return payloads
