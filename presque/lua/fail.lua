-- A worker gives a leased job back as failed (PUT /q/Q/<id>): it is retried
-- after a backoff, or parked in the dead letters.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the delivery that failed
-- ARGV[3]  the error, as the worker told it ('' for none)
-- ARGV[4]  retry after exactly this many ms (0: ready at once, at the end
--          of its priority), or '' for the backoff
-- ARGV[5]  '1' to dead-letter the job at once, else '0'
-- ARGV[6]  a random number in [0, 1) for the jitter
-- then the server's default settings (settings)
--
-- Returns {'retry', due time in ms, schedule_at}, {'dead', 0, schedule_at},
-- or {'unknown'|'stale', 0, 0}; schedule_at, when not 0, is a due time the
-- schedule must hear of. What a failure does is fail_one's
-- (includes/settle_one.lua).

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
--@include settle_one

local outcome, due, schedule_at = fail_one(
  ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1', tonumber(ARGV[6]), now_ms()
)
return {outcome, due, earliest(schedule_at, outbox_noted)}
