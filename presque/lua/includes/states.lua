-- Finding a job's state and taking it out of it, for the operator's
-- actions on one job (job_ready, job_dead, job_remove).

-- The state of job `id`: 'dead', 'leased', 'delayed', 'waiting' or 'ready', or nil
-- when the queue holds no such job (a job taken for good is gone at once).
local function state_of(id)
  if redis.call('HEXISTS', K.jobs, id) == 0 then
    return nil
  end
  for _, state in ipairs({'dead', 'leased', 'delayed', 'waiting'}) do
    if redis.call('ZSCORE', K[state], id) then
      return state
    end
  end
  return 'ready'
end

-- Takes job `id` (whose metadata is `info`) out of `state`. A ready job
-- of priority 0 is found by scanning the ready list: these are an
-- operator's rare actions, not the job path. The end of a lease is
-- announced, for streams. Needs the includes settings, ready and groups.
local function unlist(id, state, info)
  if state == 'ready' then
    if info and info.group then
      unready_in_group(id, info.group)
    elseif redis.call('ZREM', K.urgent, id) == 0 then
      redis.call('LREM', K.ready, 1, id)
    end
  else
    redis.call('ZREM', K[state], id)
    if state == 'leased' then
      lease_ended(info)
      redis.call('PUBLISH', K.settled, '')
    end
  end
end
