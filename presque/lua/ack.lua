-- A worker is done with a leased job (DELETE /q/Q/<id>): gone for good.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the delivery being acknowledged
-- then the server's default settings (settings)
--
-- Returns {'ok', ms since the delivery}, or 'unknown' (no such job) or
-- 'stale' (not the current delivery: the lease ran out, or the job was
-- settled already). A settled
-- job is announced on the queue's settled channel, for streams.
--
-- The most recent acks (at most an hour old, at most 10,000 of them) are
-- remembered, so that a second ack is 'stale' rather than 'unknown'; the
-- bounds keep that memory small whatever the throughput.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include settle
--@include ready
--@include groups

local ACKED_MEMORY_MS = 3600 * 1000
local ACKED_MEMORY_COUNT = 10000

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
redis.call('ZADD', K.acked, now, id)
redis.call('ZREMRANGEBYSCORE', K.acked, '-inf', now - ACKED_MEMORY_MS)
redis.call('ZREMRANGEBYRANK', K.acked, 0, -ACKED_MEMORY_COUNT - 1)
return {'ok', now - (info.delivered or now)}
