-- The scheduler's periodic work on one queue: due delayed jobs to the head
-- of the queue, expired leases back to it (or to the dead letters).
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV[1]  the most jobs of each kind to handle in this call
-- ARGV[2]  the server's default maximum number of attempts
--
-- Returns {promoted, expired}. Atomic, so any number of servers may run it
-- at once and each job still moves exactly once. Jobs made ready are
-- announced on the queue's wake channel.

--@include queue_keys
--@include now_ms
--@include jobs
--@include ready
--@include promote_due
--@include expire_leases

local now, limit = now_ms(), tonumber(ARGV[1])
local promoted = promote_due(now, limit)
local expired = expire_leases(now, limit, ARGV[2])
if promoted + expired > 0 then
  wake_waiters()
end
return {promoted, expired}
