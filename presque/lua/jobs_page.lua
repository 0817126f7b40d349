-- A page of a queue's jobs in one state, in that state's order (GET
-- /queues/Q/jobs, GET /dead/Q): ready jobs in the order they will be handed
-- out, delayed ones by due time, leased ones by lease deadline, dead
-- letters by time of death. Changes nothing.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the state: ready, delayed, leased or dead
-- ARGV[2]  offset
-- ARGV[3]  limit (0: just the total)
-- ARGV[4]  the most bytes of payloads in the page: it stops before the job
--          that would pass them (but holds at least one job)
-- ARGV[5]  '1' to read the payloads, '0' to leave them out (and the bound)
--
-- Returns {total, id, time ms, payload, info JSON, ...}; the time is the
-- job's due time, lease deadline or time of death, and '' for a ready job;
-- the payload is '' when left out.

--@include queue_keys
--@include slices

local state, offset, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local ids, times = {}, {}
local total
if state == 'ready' then
  -- Urgent jobs, then the ready list, then the jobs of groups (which take
  -- turns with the others: this is their order within each kind).
  local urgent, plain = redis.call('ZCARD', K.urgent), redis.call('LLEN', K.ready)
  total = urgent + plain + redis.call('ZCARD', K.grouped)
  if limit > 0 and offset < urgent then
    ids = redis.call('ZRANGE', K.urgent, offset, offset + limit - 1)
  end
  if limit > #ids and offset + #ids < urgent + plain then
    local first = math.max(offset - urgent, 0)
    for _, id in ipairs(redis.call('LRANGE', K.ready, first, first + limit - #ids - 1)) do
      ids[#ids + 1] = id
    end
  end
  if limit > #ids then
    local first = math.max(offset - urgent - plain, 0)
    for _, id in ipairs(redis.call('ZRANGE', K.grouped, first, first + limit - #ids - 1)) do
      ids[#ids + 1] = id
    end
  end
else
  total = redis.call('ZCARD', K[state])
  if limit > 0 then
    local entries = redis.call('ZRANGE', K[state], offset, offset + limit - 1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      ids[#ids + 1] = entries[i]
      times[#ids] = entries[i + 1]
    end
  end
end

local with_payloads = ARGV[5] == '1'
if with_payloads then
  local budget, kept = tonumber(ARGV[4]), 0
  for i, id in ipairs(ids) do
    budget = budget - redis.call('HSTRLEN', K.jobs, id)
    if budget < 0 and i > 1 then
      break
    end
    kept = i
  end
  ids = {unpack(ids, 1, kept)}
end

local reply = {total}
if #ids == 0 then
  return reply
end
local payloads = with_payloads and gather_in_slices('HMGET', K.jobs, ids) or {}
local infos = gather_in_slices('HMGET', K.info, ids)
for i, id in ipairs(ids) do
  reply[#reply + 1] = id
  reply[#reply + 1] = times[i] or ''
  reply[#reply + 1] = payloads[i] or ''
  reply[#reply + 1] = infos[i] or '{}'
end
return reply
