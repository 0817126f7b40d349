-- Removes every job of a queue, in every state, its uniq index and its
-- counters (DELETE /q). The queue's status, settings, workers, remembered
-- Idempotency-Keys (their jobs were stored, then purged) and place in the
-- set of queues stay.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV: none but the server's default settings (settings)
--
-- Returns the number of keys removed. UNLINK frees the memory in the
-- background, so purging a huge queue does not stall Redis.

--@include queue_keys
--@include settings
--@include ready
--@include groups

local kept = {
  [K.meta] = true, [K.workers] = true, [K.seen] = true,
  [K.idempotency] = true, [K.remembered] = true,
}
local gone = unlink_groups()
local removed = {}
for _, key in ipairs(all_keys()) do
  if not kept[key] then
    removed[#removed + 1] = key
  end
end
-- Nothing is due any more: the next due job is noted afresh.
redis.call('HDEL', K.meta, 'indexed')
return gone + redis.call('UNLINK', unpack(removed))
