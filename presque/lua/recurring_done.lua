-- A claimed run of a schedule was fired (a job posted) or skipped: its
-- definition records it as the last run and the schedule's next run is set,
-- unless the schedule was changed or deleted meanwhile (its new definition
-- then stands).
--
-- KEYS: as recurring_set.lua
-- ARGV[1]  name
-- ARGV[2]  the version of the definition the run was fired under
-- ARGV[3]  the last run, as JSON: {at, job, skipped}
-- ARGV[4]  the next run in ms, or '' for none
--
-- Returns 'ok', 'changed' or 'gone'.

local name = ARGV[1]
local raw = redis.call('HGET', KEYS[1], name)
if not raw then
  return 'gone'
end
local definition = cjson.decode(raw)
if definition.version ~= ARGV[2] then
  return 'changed'
end
definition.last_run = cjson.decode(ARGV[3])
redis.call('HSET', KEYS[1], name, cjson.encode(definition))
redis.call('HDEL', KEYS[3], name)
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[2], name)
else
  redis.call('ZADD', KEYS[2], ARGV[4], name)
end
return 'ok'
