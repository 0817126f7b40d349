-- Removes every job of a queue, in every state, its uniq index and its
-- counters (DELETE /q). The queue's status, settings and place in the set
-- of queues stay.
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV: none
--
-- Returns the number of keys removed. UNLINK frees the memory in the
-- background, so purging a huge queue does not stall Redis.

--@include queue_keys

return redis.call('UNLINK', K.ready, K.delayed, K.jobs, K.info, K.uniq, K.stats,
  K.leased, K.dead, K.acked, K.urgent)
