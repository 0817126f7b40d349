-- The answers of deliveries for good were written to their clients: the
-- jobs are gone for good (see includes/handoff.lua).
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV  job id, deadline of its delivery (ms), job id, deadline, ...
--
-- Returns the number of jobs forgotten. A delivery whose deadline passed
-- and which went out again is not the one confirmed: it is left alone.

--@include queue_keys
--@include jobs

local forgotten = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if tonumber(redis.call('ZSCORE', K.handoff, id)) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', K.handoff, id)
    forget_job(id, nil)
    forgotten = forgotten + 1
  end
end
return forgotten
