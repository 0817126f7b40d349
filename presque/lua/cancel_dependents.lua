-- Before a queue is purged or deleted (DELETE /q/Q, DELETE /queues/Q): the
-- jobs waiting on any job of it learn that it is cancelled (they go to the
-- dead letters, with the reason); those of other queues through the outbox,
-- which the broker then delivers.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV: none
--
-- Returns how many jobs of the queue had jobs waiting on them.

--@include queue_keys
--@include now_ms
--@include jobs
--@include ready
--@include schedule
--@include dependencies

local now = now_ms()
local parents = redis.call('HKEYS', K.dependents)
for _, parent in ipairs(parents) do
  release_dependents(parent, 'cancelled', now)
end
return #parents
