-- Makes one job ready now (POST /queues/Q/jobs/<id>/ready): a delayed job
-- is promoted, a waiting one waits no more, a dead letter is retried with
-- fresh attempts. It joins the end
-- of its priority.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
--
-- Returns 'ok', announced on the queue's wake channel; 'unknown' when the
-- queue holds no such job; 'ready' or 'leased' when the job is in a state
-- it cannot leave this way (a leased job is settled by its holder).

--@include queue_keys
--@include settings
--@include jobs
--@include ready
--@include revive
--@include groups
--@include states

local id = ARGV[1]
local state = state_of(id)
if not state then
  return 'unknown'
end
if state == 'ready' or state == 'leased' then
  return state
end
local info = load_info(id)
unlist(id, state, info)
if state == 'dead' then
  revive_dead(id)
else
  -- A waiting job made ready waits no more.
  if info and info.blockers then
    info.blockers = nil
    save_info(id, info)
  end
  make_ready(id, info, false)
end
wake_waiters()
return 'ok'
