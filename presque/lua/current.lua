-- Which of the given deliveries are still current: leased, under the same
-- receipt (GET /sse/Q counts its unsettled jobs this way). Changes nothing.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV  job id, receipt, job id, receipt, ...
--
-- Returns the ids of the deliveries still current.

--@include queue_keys
--@include jobs

local current = {}
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  local info = load_info(id)
  if info and info.receipt == ARGV[i + 1] and redis.call('ZSCORE', K.leased, id) then
    current[#current + 1] = id
  end
end
return current
