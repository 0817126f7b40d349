-- Takes the queues whose due time came, for one scheduler (broker/schedule.py):
-- each is held by moving its time `hold` ms ahead, so that other servers'
-- schedulers leave it alone meanwhile, and one that dies while holding it
-- leaves it to be taken again then.
--
-- KEYS[1]  <prefix>:{schedule}:due   sorted set: queue -> due time (ms)
-- KEYS[2]  <prefix>:{schedule}:dirty set: queues noted while a scheduler held them
-- ARGV[1]  the most queues to take
-- ARGV[2]  hold, in ms
--
-- Returns {hold deadline, queue, ...}.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local held = now + tonumber(ARGV[2])
local reply = {held}
for _, queue in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[1])) do
  redis.call('ZADD', KEYS[1], held, queue)
  redis.call('SREM', KEYS[2], queue)
  reply[#reply + 1] = queue
end
return reply
