-- The answers of deliveries for good were written to their clients: their
-- jobs are gone for good (see includes/handoff.lua). Fetches carry such
-- confirmations too (fetch.lua); this one is for those no fetch carried.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV  the deliveries' tokens
--
-- Returns the number of deliveries confirmed.

--@include queue_keys
--@include jobs
--@include ready
--@include slices
--@include handoff

return confirm_handoffs(1, #ARGV)
