-- Deliveries whose answer could not be written (the client went away
-- first): each job is ready again at the head of its queue at once, as if
-- it had not been handed out (no attempt, no failure, no processed count).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]   'lease' or 'handoff': how the jobs were handed out
-- ARGV[2..] for a lease: job id, receipt, job id, receipt, ...;
--           for a handoff: the delivery's token (all its jobs come back)
-- then the server's default settings (settings)
--
-- Returns the number of jobs made ready again, announced on the queue's
-- wake channel, in their order at the head of the queue. A job no longer in
-- the delivery named is left alone.

--@include queue_keys
--@include settings
--@include jobs
--@include ready
--@include groups
--@include now_ms
--@include schedule
--@include slices
--@include dependencies
--@include handoff

local released = 0
if ARGV[1] == 'handoff' then
  released = give_back(ARGV[2])
else
  -- Each goes to the head in turn: the last first, so that the first ends first.
  for i = NARGV - 1, 2, -2 do
    local id, receipt = ARGV[i], ARGV[i + 1]
    local info = load_info(id)
    if info and info.receipt == receipt and redis.call('ZREM', K.leased, id) == 1 then
      lease_ended(info)
      info.attempts = math.max(0, (info.attempts or 1) - 1)
      info.receipt = nil
      save_info(id, info)
      make_ready(id, info, true)
      released = released + 1
    end
  end
end
if released > 0 then
  wake_waiters()
end
return released
