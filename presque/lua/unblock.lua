-- A waiting job of this queue learns what became of a job it waits on
-- (after depend.lua, or from another queue's outbox).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the waiting job's id
-- ARGV[2]  the blocker, as the waiting job names it
-- ARGV[3]  'done', 'dead' or 'cancelled'
--
-- Returns a due time the schedule must hear of (for the outcomes this sent
-- on to other queues: a dead job's own dependents), or 0. Idempotent.

--@include queue_keys
--@include now_ms
--@include jobs
--@include ready
--@include schedule
--@include dependencies

resolve_blocker(ARGV[1], ARGV[2], ARGV[3], now_ms())
return outbox_noted
