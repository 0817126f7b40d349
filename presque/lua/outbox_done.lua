-- Outcomes of the outbox told to their queues (see outbox_take.lua).
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV  the entries
--
-- Returns how many were removed.

--@include queue_keys

return redis.call('ZREM', K.outbox, unpack(ARGV))
