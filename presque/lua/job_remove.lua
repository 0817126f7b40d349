-- Cancels one job: removes it for good from any state (DELETE
-- /queues/Q/jobs/<id>); a leased job only when forced, as its worker may be
-- halfway through it.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  '1' to remove a leased job too, else '0'
-- then the server's default settings (settings)
--
-- Returns {'ok', schedule_at}, told on the finished channel to the
-- producers waiting on the job, and to the jobs that wait on it (cancelled
-- too: sent to the dead letters); 'unknown' when the queue holds no such job; 'leased' when it is
-- leased and not forced.

--@include queue_keys
--@include settings
--@include jobs
--@include ready
--@include groups
--@include states
--@include now_ms
--@include schedule
--@include dependencies

local id = ARGV[1]
local state = state_of(id)
if not state then
  return 'unknown'
end
if state == 'leased' and ARGV[2] ~= '1' then
  return 'leased'
end
local info = load_info(id)
unlist(id, state, info)
forget_job(id, info)
redis.call('PUBLISH', K.finished, id)
release_dependents(id, 'cancelled', now_ms())
return {'ok', outbox_noted}
