-- Tells the schedule that a queue has work due at a time (ms), earlier than
-- what the schedule may hold for it (broker/schedule.py).
--
-- KEYS[1]  <prefix>:{schedule}:due   sorted set: queue -> due time (ms)
-- KEYS[2]  <prefix>:{schedule}:dirty set: queues noted while a scheduler held them
-- ARGV[1]  the queue
-- ARGV[2]  the due time, in ms
--
-- Returns nothing. The queue is marked dirty so that a scheduler holding it
-- right now does not take it off the schedule when it is done with it.

redis.call('ZADD', KEYS[1], 'LT', ARGV[2], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
