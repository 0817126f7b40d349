-- Deletes a queue (DELETE /queues/Q), first of two steps: every key of the
-- queue goes, but a tombstone in its meta hash, which an enqueue removes.
-- The broker then takes the queue out of the set of queues and calls
-- forget_queue.lua, which tells whether a job arrived in between.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV: none
--
-- Returns the number of keys removed.

--@include queue_keys

local removed = redis.call('UNLINK', unpack(KEYS))
redis.call('HSET', K.meta, 'deleting', '1')
return removed
