-- A worker is done with a leased job (DELETE /q/Q/<id>): gone for good.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the delivery being acknowledged
-- ARGV[3]  the result (JSON text), or '' for none
-- then the server's default settings (settings)
--
-- Returns {'ok', ms since the delivery, schedule_at}, or 'unknown' (no
-- such job) or 'stale' (not the current delivery: the lease ran out, or
-- the job was settled already); schedule_at, when not 0, is a due time the
-- schedule must hear of. A settled job is announced on the queue's settled channel, for streams, and its id
-- on the finished channel, for producers waiting on it.
--
-- The outcome of recent acks, with their results, is kept within the
-- queue's result_ttl and max_results (includes/retention.lua): so that a
-- producer can read it, and a second ack is 'stale' rather than 'unknown'.
-- The oldest are forgotten a few at a time, here and by the scheduler.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include settle
--@include schedule
--@include ready
--@include groups
--@include slices
--@include retention
--@include dependencies

local FORGOTTEN_PER_CALL = 10

local id = ARGV[1]
local info, refusal = current_delivery(id, ARGV[2])
if not info then
  return refusal
end

local now = now_ms()
redis.call('ZREM', K.leased, id)
lease_ended(info)
forget_job(id, info)
redis.call('HINCRBY', K.stats, 'processed', 1)
redis.call('HINCRBY', K.stats, 'acked', 1)
redis.call('PUBLISH', K.settled, '')
-- The first outcome kept tells the schedule when it runs out; the
-- scheduler then keeps an eye on the next one.
local schedule_at = 0
if redis.call('ZCARD', K.acked) == 0 then
  schedule_at = note_due(now + setting('result_ttl') * 1000)
end
redis.call('ZADD', K.acked, now, id)
if ARGV[3] ~= '' then
  redis.call('HSET', K.results, id, ARGV[3])
end
trim_results(now, FORGOTTEN_PER_CALL)
redis.call('PUBLISH', K.finished, id)
release_dependents(id, 'done', now)
return {'ok', now - (info.delivered or now), earliest(schedule_at, outbox_noted)}
