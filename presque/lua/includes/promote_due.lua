-- Moves up to `limit` delayed jobs whose time has come to the head of the
-- ready list (or of their priority), the earliest due first. Returns how
-- many moved. Bounded so that no single call holds Redis for long; the next
-- call moves the rest.
local function promote_due(now, limit)
  local due = redis.call('ZRANGEBYSCORE', K.delayed, '-inf', now, 'LIMIT', 0, limit)
  if #due == 0 then
    return 0
  end
  redis.call('ZREM', K.delayed, unpack(due))
  -- LPUSH puts its last argument at the head: push the earliest last.
  -- Jobs with a priority or a group go to theirs (only queues that ever
  -- had one pay for reading each job's metadata).
  local special = redis.call('HEXISTS', K.meta, 'prioritized') == 1
    or redis.call('HEXISTS', K.meta, 'grouping') == 1
  local reversed = {}
  for i = #due, 1, -1 do
    local info = special and load_info(due[i])
    if info and (info.priority or info.group) then
      make_ready(due[i], info, true)
    else
      reversed[#reversed + 1] = due[i]
    end
  end
  if #reversed > 0 then
    redis.call('LPUSH', K.ready, unpack(reversed))
  end
  return #due
end
