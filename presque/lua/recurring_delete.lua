-- Deletes a schedule of recurring jobs (DELETE /schedules/NAME). A run
-- being fired then finds it gone.
--
-- KEYS: as recurring_set.lua
-- ARGV[1]  name
--
-- Returns 1 when it was deleted, 0 when there was no such schedule.

redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
