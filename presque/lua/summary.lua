-- A queue's status and counts, for the views of queues (GET /j/Q, /queues,
-- /queues/Q). Changes nothing.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV: none
--
-- Returns {status, ready of priority 0, ..., ready of priority 9, delayed,
-- leased, dead, the counters (processed, failed, retried, dead letters
-- ever, enqueued, delivered, acked, leases expired), the id of the next
-- ready job of priority 0 or '', the id of the next urgent job or ''}:
-- status is '0' when the queue is closed, else '1'; the counters are 0
-- when absent.

--@include queue_keys

local PRIORITY_SPAN = 2 ^ 44

local reply = {redis.call('HGET', K.meta, 'status') == '0' and '0' or '1'}
reply[2] = redis.call('LLEN', K.ready)
for priority = 1, 9 do
  local low = (9 - priority) * PRIORITY_SPAN
  reply[#reply + 1] = redis.call('ZCOUNT', K.urgent, low, '(' .. (low + PRIORITY_SPAN))
end
reply[#reply + 1] = redis.call('ZCARD', K.delayed)
reply[#reply + 1] = redis.call('ZCARD', K.leased)
reply[#reply + 1] = redis.call('ZCARD', K.dead)
local totals = redis.call(
  'HMGET', K.stats, 'processed', 'failed', 'retried', 'dead', 'enqueued', 'delivered', 'acked',
  'expired'
)
for _, total in ipairs(totals) do
  reply[#reply + 1] = tonumber(total) or 0
end
reply[#reply + 1] = redis.call('LINDEX', K.ready, 0) or ''
reply[#reply + 1] = redis.call('ZRANGE', K.urgent, 0, 0)[1] or ''
return reply
