-- Puts dead letters back at the end of the queue with fresh attempts
-- (POST /dead/Q/retry).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]   the most jobs to move when no ids are given
-- ARGV[2..] the ids to retry; none: the oldest dead letters
--
-- Returns {moved, id, ...}: the number of jobs moved, announced on the
-- queue's wake channel, then the ids given that are not dead letters.

--@include queue_keys
--@include jobs
--@include dead
--@include ready
--@include revive

local reply = {0}
for _, id in ipairs(chosen_dead_ids()) do
  if redis.call('ZREM', K.dead, id) == 1 then
    revive_dead(id)
    reply[1] = reply[1] + 1
  else
    reply[#reply + 1] = id
  end
end
if reply[1] > 0 then
  wake_waiters()
end
return reply
