-- Removes every job of a queue, its uniq index and its counters (DELETE /q).
-- The queue's status and its place in the set of queues stay.
--
-- KEYS[1] presque:{Q}:ready    list of ready job ids
-- KEYS[2] presque:{Q}:delayed  sorted set of delayed job ids
-- KEYS[3] presque:{Q}:jobs     hash: job id -> payload
-- KEYS[4] presque:{Q}:info     hash: job id -> JSON {created, uniq}
-- KEYS[5] presque:{Q}:uniq     hash: uniq key -> job id
-- KEYS[6] presque:{Q}:stats    hash: processed, failed
--
-- ARGV: none
--
-- Returns the number of keys removed. UNLINK frees the memory in the
-- background, so purging a huge queue does not stall Redis.

return redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
