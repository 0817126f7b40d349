-- The answers of deliveries for good were written to their clients: their
-- jobs are gone for good (see includes/handoff.lua). Fetches carry such
-- confirmations too (fetch.lua); this one is for those no fetch carried.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV  the deliveries' tokens
--
-- Returns {deliveries confirmed, schedule_at}: schedule_at, when not 0, is
-- a due time the schedule must hear of (for the jobs waiting on them).

--@include queue_keys
--@include now_ms
--@include jobs
--@include ready
--@include schedule
--@include slices
--@include dependencies
--@include handoff

return {confirm_handoffs(1, #ARGV), outbox_noted}
