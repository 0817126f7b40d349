-- Hands out up to `count` jobs (GET /q, GET /qb): for good, or under a lease.
--
-- KEYS: the queue's keys (includes/queue_keys.lua)
-- ARGV[1]  the most jobs to hand out
-- ARGV[2]  the most due delayed jobs and expired leases to handle first
-- ARGV[3]  lease in ms asked for by the client, or '' for the queue's own
-- ARGV[4]  the server's default lease in ms (0: take jobs out for good)
-- ARGV[5]  the server's default maximum number of attempts
-- ARGV[6]  a fresh random nonce, from which each delivery's receipt is made
-- ARGV[7]  the most jobs to hand out under a lease (their receipts travel
--          in one response header, which clients limit)
--
-- Returns {'closed'} when the queue is closed; otherwise {'ok', deadline,
-- id, payload, attempt, receipt, ...} where deadline is the lease deadline
-- in ms (0 when the jobs were taken for good, with attempt and receipt '').
--
-- Due delayed jobs and expired leases are handled first, so a fetch never
-- misses a job whose time has come even if no scheduler has run since.

--@include queue_keys
--@include now_ms
--@include jobs
--@include ready
--@include promote_due
--@include expire_leases

if redis.call('HGET', K.meta, 'status') == '0' then
  return {'closed'}
end

local now = now_ms()
local limit = tonumber(ARGV[2])
promote_due(now, limit)
expire_leases(now, limit, ARGV[5])

local lease = tonumber(ARGV[3])
if not lease then
  lease = math.floor(setting('lease', ARGV[4] / 1000) * 1000)
end

local count = tonumber(ARGV[1])
if lease > 0 then
  count = math.min(count, tonumber(ARGV[7]))
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
  return {'ok', 0}
end

local reply = {'ok', lease > 0 and now + lease or 0}
for i, id in ipairs(ids) do
  local payload = redis.call('HGET', K.jobs, id)
  local info = load_info(id) or {created = now, attempts = 0}
  if payload and lease > 0 then
    info.attempts = (info.attempts or 0) + 1
    info.receipt = ARGV[6] .. '.' .. i
    save_info(id, info)
    redis.call('ZADD', K.leased, now + lease, id)
    reply[#reply + 1] = id
    reply[#reply + 1] = payload
    reply[#reply + 1] = info.attempts
    reply[#reply + 1] = info.receipt
  else
    forget_job(id, info)
    if payload then
      reply[#reply + 1] = id
      reply[#reply + 1] = payload
      reply[#reply + 1] = ''
      reply[#reply + 1] = ''
    end
  end
end

if lease <= 0 and #reply > 2 then
  redis.call('HINCRBY', K.stats, 'processed', (#reply - 2) / 4)
end
return reply
