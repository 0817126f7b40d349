-- Takes the schedules whose run is due, for one server's scheduler: each is
-- held by moving its next run `hold` ms ahead, so that other servers leave
-- it alone meanwhile; the due time of the run is kept in the claims, so that
-- a server that dies before the run is done leaves the same run to the next
-- (which posts it with the same Idempotency-Key: once).
--
-- KEYS: as recurring_set.lua
-- ARGV[1]  the most schedules to take
-- ARGV[2]  hold, in ms
--
-- Returns {now, name, definition, due time, ...}.

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local reply = {now}
for _, name in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, ARGV[1])) do
  local definition = redis.call('HGET', KEYS[1], name)
  if definition then
    local due = redis.call('HGET', KEYS[3], name)
    if not due then
      due = redis.call('ZSCORE', KEYS[2], name)
      redis.call('HSET', KEYS[3], name, due)
    end
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), name)
    reply[#reply + 1] = name
    reply[#reply + 1] = definition
    reply[#reply + 1] = due
  else
    redis.call('ZREM', KEYS[2], name)
  end
end
return reply
