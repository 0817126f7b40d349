-- Takes the outcomes this queue owes waiting jobs of other queues, for one
-- server: each is held `hold` ms (its score moved ahead), so that another
-- server takes it again only if this one dies before outbox_done.lua.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the most to take
-- ARGV[2]  hold, in ms
--
-- Returns the entries: JSON [queue, job id, blocker, outcome].

--@include queue_keys
--@include now_ms

local now = now_ms()
local entries = redis.call('ZRANGEBYSCORE', K.outbox, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, entry in ipairs(entries) do
  redis.call('ZADD', K.outbox, now + tonumber(ARGV[2]), entry)
end
return entries
