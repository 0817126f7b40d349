-- A worker gives a leased job back as failed (PUT /q/Q/<id>): it is retried
-- after a backoff, or parked in the dead letters.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the delivery that failed
-- ARGV[3]  the error, as the worker told it ('' for none)
-- ARGV[4]  retry after exactly this many ms (0: ready at once, at the end
--          of its priority), or '' for the backoff
-- ARGV[5]  '1' to dead-letter the job at once, else '0'
-- ARGV[6]  a random number in [0, 1) for the jitter
-- then the server's default settings (settings)
--
-- Returns {'retry', due time in ms, schedule_at}, {'dead', 0, 0}, or
-- {'unknown'|'stale', 0, 0}; schedule_at, when not 0, is a due time the
-- schedule must hear of. A settled job is announced on the queue's settled
-- channel, for streams. The backoff after attempt n is base * 2^(n-1)
-- capped, then "equal jitter": between half of it and all of it.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include settle
--@include ready
--@include groups
--@include schedule
--@include slices
--@include retention
--@include dependencies

local id = ARGV[1]
local info, refusal = current_delivery(id, ARGV[2])
if not info then
  return {refusal, 0, 0}
end

local now = now_ms()
redis.call('ZREM', K.leased, id)
lease_ended(info)
info.receipt = nil
push_error(info, ARGV[3] ~= '' and ARGV[3] or 'failed', now)
redis.call('HINCRBY', K.stats, 'failed', 1)
redis.call('PUBLISH', K.settled, '')

if ARGV[5] == '1' or info.attempts >= setting('max_attempts') then
  bury(id, info, now)
  save_info(id, info)
  local noted = after_burial(now)
  release_dependents(id, 'dead', now)
  return {'dead', 0, earliest(noted, outbox_noted)}
end

local delay = tonumber(ARGV[4])
if not delay then
  local base = setting('backoff_base') * 1000
  local cap = setting('backoff_cap') * 1000
  local full = math.min(cap, base * 2 ^ (info.attempts - 1))
  delay = math.floor(full / 2 + full / 2 * tonumber(ARGV[6]))
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
return {'retry', now + delay, schedule_at}
