-- Sets fields of a queue's meta hash: its status (POST /control/Q) or its
-- settings (PATCH /queues/Q). Validation is the caller's.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV  field, value, field, value, ...
--
-- Returns the number of fields that were new.

--@include queue_keys

return redis.call('HSET', K.meta, unpack(ARGV))
