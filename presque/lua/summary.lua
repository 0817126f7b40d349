-- A queue's status and counts, for the views of queues (GET /j/Q, /queues,
-- /queues/Q). Changes nothing.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV: none
--
-- Returns {status, ready of priority 0, ..., ready of priority 9, delayed,
-- leased, dead, waiting, the totals (in the order of TOTALS), the id of the next
-- ready job of priority 0 or '', the id of the next urgent job or ''}:
-- status is '0' when the queue is closed, else '1'.

--@include queue_keys
--@include totals

local PRIORITY_SPAN = 2 ^ 44

local reply = {redis.call('HGET', K.meta, 'status') == '0' and '0' or '1'}
-- Jobs of groups are scored in the same spans as urgent ones.
local function count_of_priority(key, priority)
  local low = (9 - priority) * PRIORITY_SPAN
  -- Formatted by hand: '..' writes numbers with 14 digits, which moved the
  -- bound (15 digits) into the next priority's scores.
  local high = string.format('(%d', low + PRIORITY_SPAN)
  return redis.call('ZCOUNT', key, string.format('%d', low), high)
end
local grouped = redis.call('ZCARD', K.grouped) > 0
reply[2] = redis.call('LLEN', K.ready) + (grouped and count_of_priority(K.grouped, 0) or 0)
for priority = 1, 9 do
  reply[#reply + 1] = count_of_priority(K.urgent, priority)
    + (grouped and count_of_priority(K.grouped, priority) or 0)
end
reply[#reply + 1] = redis.call('ZCARD', K.delayed)
reply[#reply + 1] = redis.call('ZCARD', K.leased)
reply[#reply + 1] = redis.call('ZCARD', K.dead)
reply[#reply + 1] = redis.call('ZCARD', K.waiting)
for _, total in ipairs(totals()) do
  reply[#reply + 1] = total
end
reply[#reply + 1] = redis.call('LINDEX', K.ready, 0) or ''
reply[#reply + 1] = redis.call('ZRANGE', K.urgent, 0, 0)[1] or ''
return reply
