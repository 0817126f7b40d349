-- A scheduler is done with a queue it held (broker/schedule.py): the
-- schedule now holds the queue's next due time, or forgets the queue when it
-- has none, unless due work was noted meanwhile (then the earlier of the
-- two times stays, and the queue is looked at again then).
--
-- KEYS[1]  <prefix>:{schedule}:due   sorted set: queue -> due time (ms)
-- KEYS[2]  <prefix>:{schedule}:dirty set: queues noted while a scheduler held them
-- ARGV[1]  the queue
-- ARGV[2]  its next due time in ms, or 0 for none
--
-- Returns nothing.

local queue, next = ARGV[1], tonumber(ARGV[2])
if redis.call('SISMEMBER', KEYS[2], queue) == 1 then
  if next > 0 then
    redis.call('ZADD', KEYS[1], 'LT', next, queue)
  end
elseif next > 0 then
  redis.call('ZADD', KEYS[1], next, queue)
else
  redis.call('ZREM', KEYS[1], queue)
end
