-- Hands out up to `count` jobs (GET /q, GET /qb, GET /sse): under a lease,
-- or for good. A delivery for good stays in the handoff set until the
-- server confirms that its answer was written (confirm.lua) or gives it
-- back (release.lua); see includes/handoff.lua.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  the most jobs to hand out
-- ARGV[2]  the most due delayed jobs, expired leases and lost deliveries
--          to handle first
-- ARGV[3]  lease in ms asked for by the client, or '' for the queue's setting
-- ARGV[4]  a fresh random nonce, from which each delivery's receipt is made
-- ARGV[5]  the most jobs to hand out under a lease (their receipts travel
--          in one response header, which clients limit)
-- ARGV[6]  how long a delivery for good may stay unconfirmed, in ms
-- then the server's default settings (settings)
--
-- Returns {'closed'} when the queue is closed; otherwise {'ok', kind,
-- deadline, schedule_at, id, payload, attempt, receipt, ...}: kind is
-- 'lease' or 'handoff' ('' when no job was handed out), deadline the lease
-- or handoff deadline in ms (which names the handoff to confirm.lua),
-- attempt and receipt '' for a delivery for good, and schedule_at a due
-- time the schedule must hear of, or 0.
--
-- Due work is handled first, so a fetch never misses a job whose time has
-- come even if no scheduler has run since.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include ready
--@include schedule
--@include promote_due
--@include expire_leases
--@include handoff
--@include due_work

if redis.call('HGET', K.meta, 'status') == '0' then
  return {'closed'}
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
-- The highest priorities first, then the ready list.
local ids = {}
local urgent = redis.call('ZPOPMIN', K.urgent, count)
for i = 1, #urgent, 2 do
  ids[#ids + 1] = urgent[i]
end
if #ids < count then
  for _, id in ipairs(redis.call('LPOP', K.ready, count - #ids) or {}) do
    ids[#ids + 1] = id
  end
end
if #ids == 0 then
  return {'ok', '', 0, 0}
end

local kind = lease > 0 and 'lease' or 'handoff'
local deadline = now + (lease > 0 and lease or tonumber(ARGV[6]))
local reply = {'ok', kind, deadline, 0}
for i, id in ipairs(ids) do
  local payload = redis.call('HGET', K.jobs, id)
  if payload then
    local info = load_info(id) or {created = now, attempts = 0}
    reply[#reply + 1] = id
    reply[#reply + 1] = payload
    if lease > 0 then
      info.attempts = (info.attempts or 0) + 1
      info.receipt = ARGV[4] .. '.' .. i
      save_info(id, info)
      redis.call('ZADD', K.leased, deadline, id)
      reply[#reply + 1] = info.attempts
      reply[#reply + 1] = info.receipt
    else
      free_uniq(id, info)
      redis.call('ZADD', K.handoff, deadline, id)
      reply[#reply + 1] = ''
      reply[#reply + 1] = ''
    end
  end
end

local delivered = (#reply - 4) / 4
if lease <= 0 and delivered > 0 then
  redis.call('HINCRBY', K.stats, 'processed', delivered)
end
if delivered > 0 then
  reply[4] = note_due(deadline)
end
return reply
