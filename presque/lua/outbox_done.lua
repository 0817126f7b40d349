-- Outcomes of the outbox told to their queues (see outbox_take.lua).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV  the entries
--
-- Returns how many were removed.

--@include queue_keys

return redis.call('ZREM', K.outbox, unpack(ARGV))
