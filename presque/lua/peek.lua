-- Reads the payloads of a queue's ready jobs, in the order they will be
-- handed out (GET /status/Q?with_desc=1). Changes nothing.
--
-- KEYS[1] presque:{Q}:ready    list of ready job ids
-- KEYS[2] presque:{Q}:jobs     hash: job id -> payload
--
-- ARGV[1] the index of the last job to read (-1 for all)
--
-- Returns the list of payloads.

local ids = redis.call('LRANGE', KEYS[1], 0, ARGV[1])
if #ids == 0 then
  return {}
end
local payloads = {}
for first = 1, #ids, 1000 do
  local slice = redis.call('HMGET', KEYS[2], unpack(ids, first, math.min(first + 999, #ids)))
  for _, payload in ipairs(slice) do
    if payload then
      payloads[#payloads + 1] = payload
    end
  end
end
return payloads
