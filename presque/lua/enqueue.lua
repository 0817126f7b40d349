-- Adds one or more jobs to a queue (POST /q, PUT /q, POST /qb).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  due time in ms, or '' to make the jobs ready now
-- ARGV[2]  uniq key, or '' (only with a single job)
-- ARGV[3]  '1' to count a failed job first (a worker gave it back), else '0'
-- ARGV[4]  priority, 0 to 9 (higher first)
-- ARGV[5]  the request's Idempotency-Key, or '' without one
-- ARGV[6]  digest of the request, kept with its Idempotency-Key
-- ARGV[7]  how long an Idempotency-Key is remembered, in ms
-- ARGV[8]  what the job waits for (a JSON array of blockers, see
--          includes/dependencies.lua), or '' (only with a single job, not
--          delayed: the job is then waiting, not ready)
-- ARGV[9]  '1' when each job comes with its group, '0' when none has one
-- ARGV[10..NARGV] job id, payload[, group ('' for none)], job id, ...
-- then the server's default settings (settings)
--
-- Returns {status, unlisted, schedule_at, id, ...}: status is 'ok' (the
-- jobs of ARGV were added), 'exists' when the uniq key is held by a job
-- still in the queue, 'replay' when the Idempotency-Key was seen with the
-- same request (with the ids it stored then), 'conflict' when it was
-- seen with another request, or 'full' when the jobs would take the queue
-- past its max_length (then with the limit); nothing is added but with 'ok'.
-- A job given back (ARGV[3]) is never refused as 'full': it was in the
-- queue already. unlisted is 1 when the queue is
-- not yet recorded in the set of queues; schedule_at, when not 0, is a due
-- time the schedule must hear of (includes/schedule.lua).
--
-- A job id already present is skipped, so a retried call adds nothing twice.
-- Jobs ready at once are announced on the queue's wake channel. Keys whose
-- time is over are forgotten a few at a time, on every call that brings one.

--@include queue_keys
--@include settings
--@include now_ms
--@include ready
--@include schedule
--@include slices

local FORGOTTEN_PER_CALL = 100

-- Batches without groups, the common case, send no group per job.
local FIRST_JOB = 10
local JOB_WIDTH = ARGV[9] == '1' and 3 or 2
local blockers = ARGV[8] ~= '' and cjson.decode(ARGV[8]) or nil
local due, uniq, key, digest = ARGV[1], ARGV[2], ARGV[5], ARGV[6]

if key ~= '' then
  local expired = redis.call('ZRANGEBYSCORE', K.remembered, '-inf', now_ms(), 'LIMIT', 0,
    FORGOTTEN_PER_CALL)
  if #expired > 0 then
    redis.call('ZREM', K.remembered, unpack(expired))
    redis.call('HDEL', K.idempotency, unpack(expired))
  end
  local seen = redis.call('HGET', K.idempotency, key)
  if seen then
    local seen_digest, ids = string.match(seen, '^([^ ]*) (.*)$')
    if seen_digest ~= digest then
      return {'conflict', 0, 0}
    end
    local reply = {'replay', 0, 0}
    for id in string.gmatch(ids, '[^,]+') do
      reply[#reply + 1] = id
    end
    return reply
  end
end

if uniq ~= '' then
  local holder = redis.call('HGET', K.uniq, uniq)
  if holder and holder ~= ARGV[FIRST_JOB] then
    return {'exists', 0, 0}
  end
end

local most = setting('max_length')
if most > 0 and ARGV[3] ~= '1' then
  local held = redis.call('LLEN', K.ready) + redis.call('ZCARD', K.urgent)
    + redis.call('ZCARD', K.grouped) + redis.call('ZCARD', K.delayed)
    + redis.call('ZCARD', K.leased) + redis.call('ZCARD', K.waiting)
  if held + (NARGV - FIRST_JOB + 1) / JOB_WIDTH > most then
    return {'full', 0, 0, most}
  end
end

if ARGV[3] == '1' then
  redis.call('HINCRBY', K.stats, 'failed', 1)
end

local now = now_ms()
local priority = tonumber(ARGV[4])
if priority > 0 then
  redis.call('HSET', K.meta, 'prioritized', '1')
end
local reply = {'ok', 0, 0}
-- Every job of the call starts with the same metadata, but for its group.
-- Only what differs from the defaults is stored (see includes/jobs.lua): a
-- plain job gets no entry in K.info at all, and none holds its creation
-- time, which its id tells.
local info = {}
if priority > 0 then
  info.priority = priority
end
if uniq ~= '' then
  info.uniq = uniq
end
if blockers then
  info.blockers = {}
  for _, blocker in ipairs(blockers) do
    info.blockers[blocker] = true
  end
end
local encoded, encoded_groups = {}, 0
-- The metadata of a job of `group` as stored, or false for none.
local function info_of(group)
  if encoded[group] == nil then
    info.group = group ~= '' and group or nil
    encoded_groups = encoded_groups + (info.group and 1 or 0)
    encoded[group] = next(info) ~= nil and cjson.encode(info)
  end
  return encoded[group]
end
local ids, added, grouped, infos = {}, {}, {}, {}
local stored = 0
for i = FIRST_JOB, NARGV, JOB_WIDTH do
  local id, group = ARGV[i], JOB_WIDTH == 3 and ARGV[i + 2] or ''
  ids[#ids + 1] = id
  if redis.call('HSETNX', K.jobs, id, ARGV[i + 1]) == 1 then
    stored = stored + 1
    local entry = info_of(group)
    if entry then
      infos[#infos + 1] = id
      infos[#infos + 1] = entry
    end
    if uniq ~= '' then
      redis.call('HSET', K.uniq, uniq, id)
    end
    if blockers then
      redis.call('ZADD', K.waiting, now, id)
    elseif due ~= '' then
      redis.call('ZADD', K.delayed, due, id)
    elseif group ~= '' then
      grouped[#grouped + 1] = id
      grouped[#grouped + 1] = group
    else
      added[#added + 1] = id
    end
  end
end
if encoded_groups > 0 then
  -- Delayed jobs of this queue now need their metadata read when due.
  redis.call('HSET', K.meta, 'grouping', '1')
end
call_in_slices('HSET', K.info, infos, 2)
if stored > 0 then
  redis.call('HINCRBY', K.stats, 'enqueued', stored)
end

for i = 1, #grouped, 2 do
  ready_in_group(grouped[i], grouped[i + 1], priority, false)
end
if priority > 0 then
  for _, id in ipairs(added) do
    redis.call('ZADD', K.urgent, urgent_score(priority), id)
  end
else
  call_in_slices('RPUSH', K.ready, added)
end
if #added + #grouped > 0 then
  wake_waiters()
end
if due ~= '' then
  reply[3] = note_due(tonumber(due))
end
if key ~= '' then
  redis.call('HSET', K.idempotency, key, digest .. ' ' .. table.concat(ids, ','))
  redis.call('ZADD', K.remembered, now + tonumber(ARGV[7]), key)
end

if redis.call('HEXISTS', K.meta, 'listed') == 0 then
  -- A queue being deleted (forget_queue.lua) learns that it lives on.
  redis.call('HDEL', K.meta, 'deleting')
  reply[2] = 1
end
return reply
