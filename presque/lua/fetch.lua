-- Hands out up to `count` jobs (GET /q, GET /qb, GET /sse): under a lease,
-- or for good. A delivery for good is kept under its token until the
-- server confirms that its answer was written (confirm.lua, or the next
-- fetch) or gives it back (release.lua); see includes/handoff.lua.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the most jobs to hand out
-- ARGV[2]  the most due delayed jobs, expired leases and lost deliveries
--          to handle first
-- ARGV[3]  lease in ms asked for by the client, or '' for the queue's setting
-- ARGV[4]  a fresh random nonce: the token of a delivery for good, from
--          which each leased job's receipt is made otherwise
-- ARGV[5]  the most jobs to hand out under a lease (their receipts travel
--          in one response header, which clients limit)
-- ARGV[6]  how long a delivery for good may stay unconfirmed, in ms
-- ARGV[7]  the worker asking, kept with each job it leases; '' for none
-- ARGV[8..NARGV] tokens of deliveries for good of this queue to confirm
--          first, as confirm.lua takes them
-- then the server's default settings (settings)
--
-- Returns {'closed', schedule_at} when the queue is closed; otherwise {'ok', kind,
-- deadline, schedule_at, jobs...}: kind is 'lease' or 'handoff'; deadline
-- the lease's or the delivery's deadline in ms; schedule_at a due time the
-- schedule must hear of, or 0. Each job is id, payload, attempt, receipt
-- under a lease, and id, payload for good. When no job was handed out:
-- {'ok', '', retry_in, schedule_at, held}: held names the limit that held the fetch
-- back ('rate', 'concurrency', 'group') or is ''; retry_in is the ms until
-- the rate lets a job out, 0 when unknown (a lease must end first).
--
-- The limits (rate, concurrency, group_concurrency) are counted here, so
-- every server sharing the Redis obeys one limit. Jobs taken for good are
-- counted by the rate only: nothing tells when they are done.
--
-- Due work is handled first, so a fetch never misses a job whose time has
-- come even if no scheduler has run since.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include ready
--@include groups
--@include rate
--@include schedule
--@include promote_due
--@include slices
--@include retention
--@include dependencies
--@include expire_leases
--@include handoff
--@include due_work

confirm_handoffs(8, NARGV)

if redis.call('HGET', K.meta, 'status') == '0' then
  return {'closed', outbox_noted}
end

local now = now_ms()
handle_due_work(now, tonumber(ARGV[2]))

local lease = tonumber(ARGV[3])
if not lease then
  lease = math.floor(setting('lease') * 1000 + 0.5)
end

local count = tonumber(ARGV[1])
if lease > 0 then
  count = math.min(count, tonumber(ARGV[5]))
end
-- What a fetch that hands out nothing answers (see above).
local function nothing(retry_in, held)
  return {'ok', '', retry_in, outbox_noted, held}
end

-- The limits, before anything is taken; they hold back only a queue with
-- ready jobs.
local function nothing_ready()
  return redis.call('LLEN', K.ready) + redis.call('ZCARD', K.urgent)
    + redis.call('ZCARD', K.grouped) == 0
end
local most = lease > 0 and setting('concurrency') or 0
if most > 0 then
  count = math.min(count, most - redis.call('ZCARD', K.leased))
  if count <= 0 then
    return nothing(0, nothing_ready() and '' or 'concurrency')
  end
end
local bucket = rate_bucket(now)
if bucket then
  count = math.min(count, math.floor(bucket.tokens))
  if count <= 0 then
    if nothing_ready() then
      return nothing(0, '')
    end
    return nothing(bucket_wait(bucket), 'rate')
  end
end

local ids = {}
if lease == 0 and redis.call('ZCARD', K.grouped) > 0 then
  rering_held_groups()
end
if redis.call('ZCARD', K.groups) > 0 then
  ids = pop_in_turn(count, lease > 0)
else
  -- The highest priorities first, then the ready list.
  local urgent = redis.call('ZPOPMIN', K.urgent, count)
  for i = 1, #urgent, 2 do
    ids[#ids + 1] = urgent[i]
  end
  if #ids < count then
    for _, id in ipairs(redis.call('LPOP', K.ready, count - #ids) or {}) do
      ids[#ids + 1] = id
    end
  end
end
if #ids == 0 then
  -- Jobs of groups still ready are those whose groups are at their limit.
  return nothing(0, redis.call('ZCARD', K.grouped) > 0 and 'group' or '')
end
if bucket then
  spend_tokens(bucket, #ids)
end

local kind = lease > 0 and 'lease' or 'handoff'
local deadline = now + (lease > 0 and lease or tonumber(ARGV[6]))
local reply = {'ok', kind, deadline, 0}
-- A call per key for the whole batch, not one per job: a redis.call costs
-- more than the work it asks for.
local payloads = gather_in_slices('HMGET', K.jobs, ids)
local infos = gather_in_slices('HMGET', K.info, ids)
local taken, taken_payloads, taken_infos = {}, {}, {}
for i, id in ipairs(ids) do
  if payloads[i] then
    taken[#taken + 1] = id
    taken_payloads[#taken_payloads + 1] = payloads[i]
    taken_infos[#taken] = infos[i]
  end
end
if #taken == 0 then
  return nothing(0, '')
end
redis.call('HINCRBY', K.stats, 'delivered', #taken)

if lease > 0 then
  local worker = ARGV[7] ~= '' and ARGV[7] or nil
  local scored, saved = {}, {}
  for i, id in ipairs(taken) do
    -- A job stored without metadata has every default (includes/jobs.lua).
    local info = taken_infos[i] and cjson.decode(taken_infos[i]) or {}
    info.attempts = (info.attempts or 0) + 1
    info.receipt = ARGV[4] .. '.' .. i
    info.delivered = now
    info.worker = worker
    scored[#scored + 1] = deadline
    scored[#scored + 1] = id
    saved[#saved + 1] = id
    saved[#saved + 1] = cjson.encode(info)
    reply[#reply + 1] = id
    reply[#reply + 1] = taken_payloads[i]
    reply[#reply + 1] = info.attempts
    reply[#reply + 1] = info.receipt
  end
  call_in_slices('ZADD', K.leased, scored, 2)
  call_in_slices('HSET', K.info, saved, 2)
else
  for i, id in ipairs(taken) do
    -- Only a job posted with a uniq key needs its metadata read.
    local raw = taken_infos[i]
    if raw and string.find(raw, '"uniq"', 1, true) then
      free_uniq(id, cjson.decode(raw))
    end
    reply[#reply + 1] = id
    reply[#reply + 1] = taken_payloads[i]
  end
  hand_off(ARGV[4], deadline, taken, taken_payloads, taken_infos)
  redis.call('HINCRBY', K.stats, 'processed', #taken)
end
reply[4] = earliest(note_due(deadline), outbox_noted)
return reply
