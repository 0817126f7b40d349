-- The worker holding a leased job tells how far it got (POST
-- /q/Q/<id>/progress): kept with the job, shown in its view, replaced by
-- the next report.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
-- ARGV[2]  the receipt of the current delivery
-- ARGV[3]  how far, a number (the worker's scale: a percentage, a count)
-- ARGV[4]  a message, or ''
--
-- Returns {'ok', time of the report in ms} or {'unknown'|'stale', 0}.

--@include queue_keys
--@include now_ms
--@include jobs
--@include settle

local id = ARGV[1]
local info, refusal = current_delivery(id, ARGV[2])
if not info then
  return {refusal, 0}
end
local now = now_ms()
info.progress = {value = tonumber(ARGV[3]), message = ARGV[4], at = now}
save_info(id, info)
return {'ok', now}
