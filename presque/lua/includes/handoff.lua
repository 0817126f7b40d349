-- Deliveries for good (GET without a lease) not known to have been written
-- to their client. The fetch takes the jobs out of the queue for good, as
-- presque 1 did (counted as processed, uniq keys freed), but keeps them,
-- packed together under the delivery's token, until the server confirms
-- that the answer went out (confirm_handoffs) or gives them back: a
-- delivery that was not written (a server killed, a client gone, a Redis
-- that did not answer in time) comes back at the head of the queue and is
-- counted again only when it is delivered again. One entry per delivery,
-- not per job: confirming a batch costs as little as confirming one job.
-- A job taken for good is done once its delivery is confirmed: the jobs
-- waiting on it are told then. Needs the includes now_ms, jobs, ready,
-- slices and dependencies.

-- Takes the jobs `ids` (with their `payloads` and `infos`, the raw texts
-- of K.jobs and K.info, false for a job stored without metadata) out of
-- the queue, kept under `token` until `deadline` (ms).
local function hand_off(token, deadline, ids, payloads, infos)
  redis.call('HSET', K.handed, token, cmsgpack.pack({ids, payloads, infos}))
  redis.call('ZADD', K.handoff, deadline, token)
  call_in_slices('HDEL', K.jobs, ids)
  call_in_slices('HDEL', K.info, ids)
end

-- The answers of the deliveries ARGV[first..last] (their tokens) were
-- written: their jobs are gone for good. A delivery already confirmed or
-- given back is left alone. Returns the number of deliveries confirmed.
local function confirm_handoffs(first, last)
  local confirmed = 0
  -- Only a queue with jobs waited on pays for unpacking the deliveries.
  local waited_on = first <= last and redis.call('HLEN', K.dependents) > 0
  for i = first, last do
    local packed = waited_on and redis.call('HGET', K.handed, ARGV[i])
    if redis.call('HDEL', K.handed, ARGV[i]) == 1 then
      redis.call('ZREM', K.handoff, ARGV[i])
      confirmed = confirmed + 1
      for _, id in ipairs(packed and cmsgpack.unpack(packed)[1] or {}) do
        release_dependents(id, 'done', now_ms())
      end
    end
  end
  return confirmed
end

-- The jobs of the delivery `token` back to the ready jobs, at the head in
-- the order they were handed out: uncounted, and holding their uniq keys
-- again if no newer job took them meanwhile (else they run without).
-- Returns the number of jobs given back (0 for a delivery already settled).
local function give_back(token)
  local packed = redis.call('HGET', K.handed, token)
  if not packed then
    return 0
  end
  redis.call('HDEL', K.handed, token)
  redis.call('ZREM', K.handoff, token)
  local delivery = cmsgpack.unpack(packed)
  local ids, payloads, infos = delivery[1], delivery[2], delivery[3]
  -- Each goes to the head in turn: the last first, so that the first ends first.
  for i = #ids, 1, -1 do
    local id = ids[i]
    redis.call('HSET', K.jobs, id, payloads[i])
    local info = infos[i] and cjson.decode(infos[i]) or nil
    if info and info.uniq and redis.call('HSETNX', K.uniq, info.uniq, id) == 0 then
      info.uniq = nil
    end
    if info then
      save_info(id, info)
    end
    make_ready(id, info, true)
  end
  redis.call('HINCRBY', K.stats, 'processed', -#ids)
  return #ids
end

-- Deliveries whose deadline passed without a confirmation, back at the head
-- in the order they were handed out (the last delivery goes first). Stops
-- after the delivery that brings the jobs given back to `limit`.
local function return_handoffs(now, limit)
  local lost = redis.call('ZRANGEBYSCORE', K.handoff, '-inf', now, 'LIMIT', 0, limit)
  local returned = 0
  for i = #lost, 1, -1 do
    returned = returned + give_back(lost[i])
    if returned >= limit then
      break
    end
  end
  return returned
end
