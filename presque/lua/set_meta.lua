-- Sets fields of a queue's meta hash: its status (POST /control/Q) or its
-- settings (PATCH /queues/Q). Validation is the caller's. A changed limit
-- lets the groups held at their limit take their turn again, and the
-- waiting consumers try again.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV  field, value, field, value, ...
--
-- Returns 1 when the queue is not yet recorded in the set of queues, else 0:
-- a queue closed or configured before its first job is listed as well, so
-- that it can be seen and deleted.

--@include queue_keys
--@include ready
-- Only rering_held_groups is used, which reads no setting: ARGV carries no
-- defaults after the fields.
--@include groups

local LIMITS = {rate = true, burst = true, concurrency = true, group_concurrency = true}

redis.call('HSET', K.meta, unpack(ARGV))
for i = 1, #ARGV, 2 do
  if LIMITS[ARGV[i]] then
    rering_held_groups()
    wake_waiters()
    break
  end
end
return redis.call('HEXISTS', K.meta, 'listed') == 0 and 1 or 0
