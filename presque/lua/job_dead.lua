-- Sends one job to the dead letters at once (POST /queues/Q/jobs/<id>/dead),
-- from any state, with the reason among its errors. A leased job's holder
-- then finds its receipt unknown.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the reason
--
-- Returns {'ok', schedule_at}; 'unknown' when the queue holds no such job;
-- 'dead' when it is a dead letter already. schedule_at, when not 0, is a
-- due time the schedule must hear of (the dead letter's age).

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include ready
--@include groups
--@include states
--@include schedule
--@include slices
--@include retention
--@include dependencies

local id = ARGV[1]
local state = state_of(id)
if not state then
  return 'unknown'
end
if state == 'dead' then
  return 'dead'
end
local now = now_ms()
local info = load_info(id) or {}
unlist(id, state, info)
push_error(info, ARGV[2], now)
save_info(id, info)
bury(id, info, now)
local noted = after_burial(now)
release_dependents(id, 'dead', now)
return {'ok', earliest(noted, outbox_noted)}
