-- The queue's side of the schedule of due work (broker/schedule.py). The
-- meta field `indexed` is the earliest due time (ms) this queue has asked
-- the schedule to hold for it; a script that adds due work earlier than
-- that (or when there is none) returns the new time, which the broker then
-- writes into the schedule. Later due work needs no write: the scheduler
-- looks at the queue at the earlier time and finds it then.

-- Returns `at` when the schedule must hear of it, else 0. (A time of 0,
-- long past, is noted as 1: 0 says there is nothing to note.)
local function note_due(at)
  at = math.max(at, 1)
  local indexed = tonumber(redis.call('HGET', K.meta, 'indexed'))
  if indexed and indexed <= at then
    return 0
  end
  redis.call('HSET', K.meta, 'indexed', at)
  return at
end

-- The earlier of two results of note_due (0: nothing to note).
local function earliest(a, b)
  if a == 0 or (b ~= 0 and b < a) then
    return b
  end
  return a
end

-- The earliest due time of the queue's delayed jobs, leases, deliveries
-- not yet written and outcomes not yet told to other queues, or nil when it
-- has none.
local function next_due()
  local earliest
  for _, key in ipairs({K.delayed, K.leased, K.handoff, K.outbox}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2]
    if first and (not earliest or tonumber(first) < earliest) then
      earliest = tonumber(first)
    end
  end
  return earliest
end
