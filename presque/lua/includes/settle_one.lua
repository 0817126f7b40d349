-- Settling one leased job: acking it (ack.lua) or failing it (fail.lua);
-- settle.lua does either for each job of a batch. Needs the includes
-- queue_keys, settings, now_ms, jobs, settle, schedule, ready, groups,
-- slices, retention and dependencies.
--
-- A settled job is announced on the queue's settled channel, for streams;
-- a job done or dead has its id told on the finished channel, for the
-- producers waiting on it. The settled announcement, like a wake-up, names
-- no job: a batch holds both back and sends each once, at its end
-- (hold_announcements, send_held_announcements).

local settled = announcement(K.settled)

-- From now on, wake-ups and settled announcements wait for
-- send_held_announcements.
local function hold_announcements()
  wakes.held, settled.held = true, true
end

local function send_held_announcements()
  send_held(wakes)
  send_held(settled)
end

-- Acks job `id` if `receipt` names its current delivery: gone for good,
-- but for its outcome and its `result` (JSON text, '' for none), kept
-- within the queue's result_ttl and max_results, so that a producer can
-- read it and a second ack is 'stale' rather than 'unknown'. Returns nil,
-- the ms it was held and a due time the schedule must hear of (0: none);
-- or the refusal, 'unknown' or 'stale'. Forgetting the oldest outcomes is
-- the caller's (trim_results): a batch does it once.
local function ack_one(id, receipt, result, now)
  local info, refusal = current_delivery(id, receipt)
  if not info then
    return refusal
  end
  redis.call('ZREM', K.leased, id)
  lease_ended(info)
  forget_job(id, info)
  redis.call('HINCRBY', K.stats, 'processed', 1)
  redis.call('HINCRBY', K.stats, 'acked', 1)
  announce(settled)
  -- The first outcome kept tells the schedule when it runs out; the
  -- scheduler then keeps an eye on the next one.
  local schedule_at = 0
  if redis.call('ZCARD', K.acked) == 0 then
    schedule_at = note_due(now + setting('result_ttl') * 1000)
  end
  redis.call('ZADD', K.acked, now, id)
  if result ~= '' then
    redis.call('HSET', K.results, id, result)
  end
  redis.call('PUBLISH', K.finished, id)
  release_dependents(id, 'done', now)
  return nil, now - (info.delivered or now), schedule_at
end

-- Fails job `id` if `receipt` names its current delivery, remembering
-- `error` ('' for none): it is retried after `delay` ms (nil for the
-- backoff; 0: ready at once, at the end of its priority) or, when `dead`
-- or its attempts are used up, parked in the dead letters. `jitter`, in
-- [0, 1), places the backoff after attempt n: base * 2^(n-1) capped, then
-- "equal jitter", between half of it and all of it.
--
-- Returns 'retry', its due time in ms and a due time the schedule must
-- hear of (0: none); 'dead', 0 and such a due time; or the refusal
-- ('unknown' or 'stale'), 0, 0. A caller adds outbox_noted to the due
-- times (a dead job's dependents in other queues learn it through the
-- outbox).
local function fail_one(id, receipt, error, delay, dead, jitter, now)
  local info, refusal = current_delivery(id, receipt)
  if not info then
    return refusal, 0, 0
  end
  redis.call('ZREM', K.leased, id)
  lease_ended(info)
  info.receipt = nil
  push_error(info, error ~= '' and error or 'failed', now)
  redis.call('HINCRBY', K.stats, 'failed', 1)
  announce(settled)

  if dead or info.attempts >= setting('max_attempts') then
    bury(id, info, now)
    save_info(id, info)
    local noted = after_burial(now)
    release_dependents(id, 'dead', now)
    return 'dead', 0, noted
  end

  if not delay then
    local base = setting('backoff_base') * 1000
    local cap = setting('backoff_cap') * 1000
    local full = math.min(cap, base * 2 ^ (info.attempts - 1))
    delay = math.floor(full / 2 + full / 2 * jitter)
  end
  local schedule_at = 0
  if delay <= 0 then
    make_ready(id, info, false)
    wake_waiters()
  else
    redis.call('ZADD', K.delayed, now + delay, id)
    schedule_at = note_due(now + delay)
  end
  redis.call('HINCRBY', K.stats, 'retried', 1)
  save_info(id, info)
  return 'retry', now + delay, schedule_at
end
