-- Jobs that wait for others (POST /q/Q?after=ID or ?depends=KEY). A
-- waiting job is in K.waiting and its metadata's `blockers` names what it
-- waits for, each a blocker (presque.broker.model.Blocker.key: queue, then
-- "id:" or "uniq:" and the reference) -> true. The job waited on lists it
-- in K.dependents. When that job is done, dead or cancelled, its dependents
-- in this queue learn it at once; those of other queues through K.outbox,
-- which the scheduler delivers (unblock.lua on their queue): a script that
-- calls these returns `outbox_noted` among its schedule_at. Needs the
-- includes queue_keys, now_ms, jobs, ready and schedule.

local WHAT_BECAME = {dead = 'went to the dead letters', cancelled = 'was cancelled'}

local release_dependents
-- A due time the schedule must hear of, for the outbox, or 0.
local outbox_noted = 0

-- The waiting job `id` learns that `blocker` finished with `outcome`
-- ('done', 'dead' or 'cancelled'): ready once nothing blocks it, dead with
-- the reason when a blocker is dead or cancelled. Told twice, it does
-- nothing more.
local function resolve_blocker(id, blocker, outcome, now)
  if not redis.call('ZSCORE', K.waiting, id) then
    return
  end
  local info = load_info(id)
  if not info or not info.blockers or not info.blockers[blocker] then
    return
  end
  info.blockers[blocker] = nil
  if outcome ~= 'done' then
    redis.call('ZREM', K.waiting, id)
    local named = string.gsub(blocker, '\t', ' ')
    push_error(info, 'dependency ' .. named .. ' ' .. WHAT_BECAME[outcome], now)
    info.blockers = nil
    save_info(id, info)
    bury(id, info, now)
    release_dependents(id, 'dead', now)
  elseif next(info.blockers) == nil then
    redis.call('ZREM', K.waiting, id)
    info.blockers = nil
    save_info(id, info)
    make_ready(id, info, false)
    wake_waiters()
  else
    save_info(id, info)
  end
end

-- Job `id` of this queue finished with `outcome`: the jobs waiting on it
-- learn it (those of other queues through the outbox). Returns how many
-- went to the outbox.
release_dependents = function(id, outcome, now)
  local raw = redis.call('HGET', K.dependents, id)
  if not raw then
    return 0
  end
  redis.call('HDEL', K.dependents, id)
  local sent = 0
  for _, entry in ipairs(cjson.decode(raw)) do
    local queue, dependent, blocker = entry[1], entry[2], entry[3]
    if queue == QUEUE then
      resolve_blocker(dependent, blocker, outcome, now)
    else
      redis.call('ZADD', K.outbox, now, cjson.encode({queue, dependent, blocker, outcome}))
      outbox_noted = earliest(outbox_noted, note_due(now))
      sent = sent + 1
    end
  end
  return sent
end
