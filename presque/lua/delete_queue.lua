-- Deletes a queue (DELETE /queues/Q), first of two steps: every key of the
-- queue goes, but a tombstone in its meta hash, which an enqueue removes.
-- The broker then takes the queue out of the set of queues and calls
-- forget_queue.lua, which tells whether a job arrived in between.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV: none but the server's default settings (settings)
--
-- Returns the time of the queue's due work that the schedule may hold
-- (meta's indexed), or 0: the schedule then forgets the queue.

--@include queue_keys
--@include settings
--@include ready
--@include groups

local indexed = tonumber(redis.call('HGET', K.meta, 'indexed')) or 0
unlink_groups()
redis.call('UNLINK', unpack(all_keys()))
redis.call('HSET', K.meta, 'deleting', '1')
return indexed
