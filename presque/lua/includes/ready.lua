-- Making jobs ready. Priority 0 jobs (all of presque 1's) live in the
-- ready list; jobs of priority 1-9 in the urgent sorted set, scored so that
-- higher priorities come first and, within one, the order of arrival:
-- (9 - priority) * 2^44 + a per-queue sequence. Fetches drain urgent first.

local PRIORITY_SPAN = 2 ^ 44

local function urgent_score(priority)
  return (9 - priority) * PRIORITY_SPAN + redis.call('HINCRBY', K.meta, 'seq', 1)
end

-- Ready again (lease expired, delivery given back, retried dead letter): at
-- the head of the ready list when `at_head`, and at the end of its priority
-- when urgent.
local function make_ready(id, info, at_head)
  local priority = info and info.priority or 0
  if priority > 0 then
    redis.call('ZADD', K.urgent, urgent_score(priority), id)
  elseif at_head then
    redis.call('LPUSH', K.ready, id)
  else
    redis.call('RPUSH', K.ready, id)
  end
end

-- Tells the waiting consumers of every server that jobs became ready.
local function wake_waiters()
  redis.call('PUBLISH', K.wake, '')
end
