-- The last step of deleting a queue (see delete_queue.lua): the tombstone
-- goes, unless a job arrived since, which removed it.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV: none
--
-- Returns 'gone', or 'revived' when jobs arrived meanwhile: the broker
-- lists the queue again.

--@include queue_keys

if redis.call('HGET', K.meta, 'deleting') then
  redis.call('DEL', K.meta)
  return 'gone'
end
return 'revived'
