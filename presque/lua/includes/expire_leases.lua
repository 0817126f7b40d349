-- Leases that ran out: their worker is presumed dead. Each such job counts
-- a failure and is ready again at the head of the queue (in the order they
-- were handed out: the last goes first), or goes to the dead letters once
-- its attempts are used up. At most `limit` per call. Needs the include
-- retention and dependencies (the schedule hears of a dead letter's age,
-- and of outcomes for other queues, from the tick that the lease's
-- deadline brought).
-- The queue's max_attempts is read only when a lease did run out: every
-- fetch comes through here.
local function expire_leases(now, limit)
  local expired = redis.call('ZRANGEBYSCORE', K.leased, '-inf', now, 'LIMIT', 0, limit)
  if #expired == 0 then
    return 0
  end
  local max_attempts = setting('max_attempts')
  redis.call('HINCRBY', K.stats, 'expired', #expired)
  for i = #expired, 1, -1 do
    local id = expired[i]
    redis.call('ZREM', K.leased, id)
    redis.call('HINCRBY', K.stats, 'failed', 1)
    local info = load_info(id) or {attempts = max_attempts}
    lease_ended(info)
    info.receipt = nil
    push_error(info, 'lease expired', now)
    -- A job stored without metadata has made no attempt (includes/jobs.lua).
    if (info.attempts or 0) >= max_attempts then
      bury(id, info, now)
      after_burial(now)
      release_dependents(id, 'dead', now)
    else
      make_ready(id, info, true)
      redis.call('HINCRBY', K.stats, 'retried', 1)
    end
    save_info(id, info)
  end
  return #expired
end
