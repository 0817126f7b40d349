-- Defines, changes or deletes a virtual queue (POST /control/V with
-- {"type": "virtual", ...}): a name that fetches from its member queues, in
-- their order. Every change moves the version on, which each server polls
-- to reload the definitions it keeps in memory.
--
-- KEYS[1]  <prefix>:{virtual}:defs    hash: name -> JSON array of member queues
-- KEYS[2]  <prefix>:{virtual}:version counter of changes
-- ARGV[1]  name
-- ARGV[2]  'set', 'remove' or 'destroy'
-- ARGV[3]  the members named (JSON array; for 'set', in their order)
-- ARGV[4]  the most virtual queues there may be
-- ARGV[5]  the most members one may have
--
-- Returns {'ok', the members now (JSON), or '' when it is gone}, or
-- {'full'} (too many virtual queues), {'too_many'} (too many members),
-- {'unknown'} (remove from, or destroy, a name that is not virtual).

local name, action = ARGV[1], ARGV[2]
local current = redis.call('HGET', KEYS[1], name)
if action ~= 'set' and not current then
  return {'unknown'}
end
local members = {}
if action == 'set' then
  if not current and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then
    return {'full'}
  end
  members = cjson.decode(ARGV[3])
elseif action == 'remove' then
  local removed = {}
  for _, queue in ipairs(cjson.decode(ARGV[3])) do
    removed[queue] = true
  end
  for _, queue in ipairs(cjson.decode(current)) do
    if not removed[queue] then
      members[#members + 1] = queue
    end
  end
end
if #members > tonumber(ARGV[5]) then
  return {'too_many'}
end
redis.call('INCR', KEYS[2])
if #members == 0 then
  redis.call('HDEL', KEYS[1], name)
  return {'ok', ''}
end
local encoded = cjson.encode(members)
redis.call('HSET', KEYS[1], name, encoded)
return {'ok', encoded}
