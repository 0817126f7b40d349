-- Writes a minute's sample of a queue's counts and totals to its history
-- (GET /queues/Q/history), and forgets the samples past the retention.
-- A minute is written once: a later call for it, or for an earlier one,
-- writes nothing. Nor does a minute in which nothing changed, so an idle
-- queue's history costs nothing: its last sample still holds.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  the minute's start, in ms
-- ARGV[2]  the start of the oldest minute to keep, in ms
--
-- Returns {written, values...}: written is 1 when the sample was written,
-- else 0; the values are the sample's, written or not, which the history of
-- every queue together adds up. A sample's fields are ready, delayed,
-- leased, dead (the jobs in each state then), then the totals (TOTALS) in
-- their order.

--@include queue_keys
--@include totals

local minute = tonumber(ARGV[1])
local fields = {
  'ready', redis.call('LLEN', K.ready) + redis.call('ZCARD', K.urgent)
    + redis.call('ZCARD', K.grouped),
  'delayed', redis.call('ZCARD', K.delayed),
  'leased', redis.call('ZCARD', K.leased),
  'dead', redis.call('ZCARD', K.dead),
  'waiting', redis.call('ZCARD', K.waiting),
}
for i, total in ipairs(totals()) do
  fields[#fields + 1] = TOTALS[i]
  fields[#fields + 1] = total
end

local reply = {0}
for i = 2, #fields, 2 do
  reply[#reply + 1] = fields[i]
end

local last = redis.call('XREVRANGE', K.history, '+', '-', 'COUNT', 1)[1]
if last then
  if tonumber(string.match(last[1], '^(%d+)')) >= minute then
    return reply
  end
  local same = #last[2] == #fields
  for i = 2, #fields, 2 do
    same = same and tonumber(last[2][i]) == fields[i]
  end
  if same then
    return reply
  end
elseif redis.call('EXISTS', K.stats) == 0 and fields[2] + fields[4] + fields[6] + fields[8] == 0 then
  -- Nothing ever happened: no history to begin.
  return reply
end
redis.call('XADD', K.history, 'MINID', '~', ARGV[2], minute .. '-0', unpack(fields))
reply[1] = 1
return reply
