-- Reads the payloads of a queue's ready jobs, in the order they will be
-- handed out (priorities first) (GET /status/Q?with_desc=1). Changes nothing.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the index of the last job to read (-1 for all)
--
-- Returns the list of payloads.

--@include queue_keys
--@include slices

local last = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', K.urgent, 0, last)
-- Then the ready list, then the jobs of groups.
for _, more in ipairs({{'LRANGE', K.ready}, {'ZRANGE', K.grouped}}) do
  if last < 0 or #ids <= last then
    local rest = last < 0 and -1 or last - #ids
    for _, id in ipairs(redis.call(more[1], more[2], 0, rest)) do
      ids[#ids + 1] = id
    end
  end
end
local payloads = {}
for _, payload in ipairs(gather_in_slices('HMGET', K.jobs, ids)) do
  if payload then
    payloads[#payloads + 1] = payload
  end
end
return payloads
