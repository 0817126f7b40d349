-- Moves up to `limit` delayed jobs whose time has come to the head of the
-- ready list, the earliest due first. Returns how many moved. Bounded so that
-- no single call holds Redis for long; the next call moves the rest.
local function promote_due(now, limit)
  local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', now, 'LIMIT', 0, limit)
  if #due == 0 then
    return 0
  end
  redis.call('ZREM', K.delayed, unpack(due))
  -- LPUSH puts its last argument at the head: push the earliest last.
  local reversed = {}
  for i = #due, 1, -1 do
    reversed[#reversed + 1] = due[i]
  end
  redis.call('LPUSH', K.ready, unpack(reversed))
  return #due
end
