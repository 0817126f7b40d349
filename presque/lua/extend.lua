-- A worker needs more time for a leased job (POST /q/Q/<id>/lease).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the current delivery
-- ARGV[3]  the new lease, in ms from now
--
-- Returns {'ok', new deadline in ms} or {'unknown'|'stale', 0}.

--@include queue_keys
--@include now_ms
--@include jobs
--@include settle

local id = ARGV[1]
local info, refusal = current_delivery(id, ARGV[2])
if not info then
  return {refusal, 0}
end
local deadline = now_ms() + tonumber(ARGV[3])
redis.call('ZADD', K.leased, 'XX', deadline, id)
return {'ok', deadline}
