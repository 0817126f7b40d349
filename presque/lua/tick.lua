-- The scheduler's work on one queue whose due time came (broker/schedule.py):
-- due delayed jobs to the head of the queue, expired leases back to it (or
-- to the dead letters), lost deliveries for good back to it; outcomes of
-- acked jobs and dead letters past their time or count forgotten.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the most jobs of each kind to handle in this call
-- then the server's default settings (settings)
--
-- Returns {promoted, expired, returned, next, owed}: next is the queue's next
-- due time in ms, or 0 when it has no due work left, owed the outcomes due
-- to other queues' waiting jobs (the broker tells them: outbox_take.lua), and becomes the time the
-- queue asked the schedule for. Atomic, so any number of servers may run it
-- at once and each job still moves exactly once. Jobs made ready are
-- announced on the queue's wake channel.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include ready
--@include groups
--@include schedule
--@include promote_due
--@include slices
--@include retention
--@include dependencies
--@include expire_leases
--@include handoff
--@include due_work

local now = now_ms()
local promoted, expired, returned = handle_due_work(now, tonumber(ARGV[1]))
trim_results(now, tonumber(ARGV[1]))
trim_dead(now, tonumber(ARGV[1]))
local next = next_due()
local kept = retention_due()
if kept and (not next or kept < next) then
  next = kept
end
if next then
  redis.call('HSET', K.meta, 'indexed', next)
else
  redis.call('HDEL', K.meta, 'indexed')
end
local owed = redis.call('ZCOUNT', K.outbox, '-inf', now)
return {promoted, expired, returned, next or 0, owed}
