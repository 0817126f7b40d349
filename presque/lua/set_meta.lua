-- Sets fields of a queue's meta hash: its status (POST /control/Q) or its
-- settings (PATCH /queues/Q). Validation is the caller's.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV  field, value, field, value, ...
--
-- Returns 1 when the queue is not yet recorded in the set of queues, else 0:
-- a queue closed or configured before its first job is listed as well, so
-- that it can be seen and deleted.

--@include queue_keys

redis.call('HSET', K.meta, unpack(ARGV))
return redis.call('HEXISTS', K.meta, 'listed') == 0 and 1 or 0
