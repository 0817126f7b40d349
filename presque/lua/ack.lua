-- A worker is done with a leased job (DELETE /q/Q/<id>): gone for good.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the delivery being acknowledged
-- ARGV[3]  the result (JSON text), or '' for none
-- then the server's default settings (settings)
--
-- Returns {'ok', ms since the delivery, schedule_at}, or 'unknown' (no
-- such job) or 'stale' (not the current delivery: the lease ran out, or
-- the job was settled already); schedule_at, when not 0, is a due time the
-- schedule must hear of. What an ack does is ack_one's
-- (includes/settle_one.lua).
--
-- The oldest outcomes are forgotten a few at a time, here and by the
-- scheduler (includes/retention.lua).

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
--@include settle_one

local FORGOTTEN_PER_CALL = 10

local now = now_ms()
local refusal, held, schedule_at = ack_one(ARGV[1], ARGV[2], ARGV[3], now)
if refusal then
  return refusal
end
trim_results(now, FORGOTTEN_PER_CALL)
return {'ok', held, earliest(schedule_at, outbox_noted)}
