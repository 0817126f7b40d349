-- Writes a schedule of recurring jobs (PUT /schedules/NAME, and its pause
-- and resume): its definition, and its next run unless it is paused. A run
-- claimed under the old definition is let go: its server finds the
-- definition changed when it is done.
--
-- KEYS[1]  <prefix>:{schedules}:defs   hash: name -> definition (JSON)
-- KEYS[2]  <prefix>:{schedules}:due    sorted set: name -> next run (ms)
-- KEYS[3]  <prefix>:{schedules}:claims hash: name -> the due time of a run being fired
-- ARGV[1]  name
-- ARGV[2]  the definition
-- ARGV[3]  next run in ms, or '' when paused
-- ARGV[4]  the most schedules there may be
--
-- Returns 'ok', or 'full' when it is a new schedule and there are as many
-- as there may be.

local name = ARGV[1]
if redis.call('HEXISTS', KEYS[1], name) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
  return 'full'
end
redis.call('HSET', KEYS[1], name, ARGV[2])
redis.call('HDEL', KEYS[3], name)
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[2], name)
else
  redis.call('ZADD', KEYS[2], ARGV[3], name)
end
return 'ok'
