-- Reading and writing one job's metadata, and taking a job out for good.

local MAX_ERRORS = 10

local function load_info(id)
  local raw = redis.call('HGET', K.info, id)
  if not raw then
    return nil
  end
  return cjson.decode(raw)
end

local function save_info(id, info)
  redis.call('HSET', K.info, id, cjson.encode(info))
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
