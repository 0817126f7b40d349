-- Reading and writing one job's metadata, and taking a job out for good.
--
-- A job's metadata (K.info) is stored only while it holds more than the
-- defaults (no attempt yet, no uniq key, priority 0, no group, nothing
-- waited for): a plain queued job costs its payload and its place in a
-- list, nothing more. Its creation time is read off its id
-- (presque.broker.keys.job_time); entries written before, each with its
-- "created", keep it and read as they always did.

local MAX_ERRORS = 10

-- The metadata of job `id`: {} (every default) for a job stored without
-- any, nil when the queue holds no such job.
local function load_info(id)
  local raw = redis.call('HGET', K.info, id)
  if raw then
    return cjson.decode(raw)
  end
  -- Only a job without metadata pays for this second look.
  if redis.call('HEXISTS', K.jobs, id) == 1 then
    return {}
  end
  return nil
end

-- Whether `info` holds nothing but defaults (then it is not stored).
local function holds_nothing(info)
  for name, value in pairs(info) do
    if name ~= 'attempts' or value ~= 0 then
      return false
    end
  end
  return true
end

local function save_info(id, info)
  if holds_nothing(info) then
    redis.call('HDEL', K.info, id)
  else
    redis.call('HSET', K.info, id, cjson.encode(info))
  end
end

-- The uniq key is held only while the job may still run.
local function free_uniq(id, info)
  if info and info.uniq and redis.call('HGET', K.uniq, info.uniq) == id then
    redis.call('HDEL', K.uniq, info.uniq)
  end
end

local function forget_job(id, info)
  free_uniq(id, info)
  redis.call('HDEL', K.jobs, id)
  redis.call('HDEL', K.info, id)
end

-- Remembers why an attempt failed; only the last MAX_ERRORS are kept.
local function push_error(info, message, now)
  local errors = info.errors or {}
  errors[#errors + 1] = {at = now, attempt = info.attempts or 0, error = message}
  while #errors > MAX_ERRORS do
    table.remove(errors, 1)
  end
  info.errors = errors
end

-- Parks a job in the dead letters: kept for inspection, its uniq key
-- freed, its id told to the producers waiting on it.
local function bury(id, info, now)
  redis.call('ZADD', K.dead, now, id)
  free_uniq(id, info)
  redis.call('HINCRBY', K.stats, 'dead', 1)
  redis.call('PUBLISH', K.finished, id)
end
