-- Deliveries for good (GET without a lease) that are not known to have been
-- written to their client. The fetch takes the job out of the ready jobs,
-- counts it as processed and frees its uniq key, as presque 1 did, but keeps
-- it here until the server confirms that the answer went out; a delivery
-- that was not (a server killed, a client gone, a Redis that did not answer
-- in time) comes back at the head of the queue and is counted again only
-- when it is delivered again.

-- Back to the ready jobs: uncounted, and holding its uniq key again if no
-- newer job took it meanwhile (else it runs without one).
local function give_back(id)
  redis.call('ZREM', K.handoff, id)
  redis.call('HINCRBY', K.stats, 'processed', -1)
  local info = load_info(id)
  if not info then
    return
  end
  if info.uniq and redis.call('HSETNX', K.uniq, info.uniq, id) == 0 then
    info.uniq = nil
    save_info(id, info)
  end
  make_ready(id, info, true)
end

-- Deliveries whose deadline passed without a confirmation, back at the head
-- in the order they were handed out (the last goes first). At most `limit`.
local function return_handoffs(now, limit)
  local lost = redis.call('ZRANGEBYSCORE', K.handoff, '-inf', now, 'LIMIT', 0, limit)
  for i = #lost, 1, -1 do
    give_back(lost[i])
  end
  return #lost
end
