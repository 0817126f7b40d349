-- The Redis server's clock in milliseconds: one clock for every presque
-- server sharing this Redis, whatever their own clocks say.
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
