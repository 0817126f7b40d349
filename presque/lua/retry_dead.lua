-- Puts dead letters back at the end of the queue with fresh attempts
-- (POST /dead/Q/retry).
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV[1]   the most jobs to move when no ids are given
-- ARGV[2..] the ids to retry; none: the oldest dead letters
--
-- Returns the number of jobs moved, announced on the queue's wake channel. Ids that are not dead letters are
-- skipped. Their uniq keys are not taken again: a new job may hold them.

--@include queue_keys
--@include jobs
--@include dead
--@include ready

local ids = chosen_dead_ids()
local moved = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', K.dead, id) == 1 then
    local info = load_info(id) or {}
    info.attempts = 0
    info.uniq = nil
    save_info(id, info)
    make_ready(id, info, false)
    moved = moved + 1
  end
end
if moved > 0 then
  wake_waiters()
end
return moved
