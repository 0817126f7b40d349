-- Removes one job for good, from any state (DELETE /queues/Q/jobs/<id>).
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  job id
--
-- Returns 1 when the job was removed, 0 when the queue holds no such job.

--@include queue_keys
--@include settings
--@include jobs
--@include ready
--@include groups
--@include states

local id = ARGV[1]
local state = state_of(id)
if not state then
  return 0
end
local info = load_info(id)
unlist(id, state, info)
forget_job(id, info)
return 1
