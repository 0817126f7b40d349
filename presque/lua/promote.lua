-- Moves due delayed jobs to the head of their queue (the scheduler's tick).
--
-- KEYS[1] presque:{Q}:delayed  sorted set of job ids by due time (ms)
-- KEYS[2] presque:{Q}:ready    list of ready job ids, head first out
--
-- ARGV[1] the most jobs to move in this call
--
-- Returns the number of jobs moved. Atomic, so any number of servers may
-- run it at once and each job still moves exactly once.

--@include now_ms
--@include promote_due

return promote_due(KEYS[1], KEYS[2], now_ms(), tonumber(ARGV[1]))
