-- Everything about one job (GET /q/Q/<id>). Changes nothing.
--
-- KEYS: the queue's keys (queue_keys)
-- ARGV[1]  job id
--
-- Returns {} for an unknown job (a job taken for good is gone at once, even
-- before its delivery is confirmed), else {payload, info JSON, delayed due
-- ms, lease deadline ms, dead-lettered ms} with false for the times that do
-- not apply.

--@include queue_keys

local id = ARGV[1]
local payload = redis.call('HGET', K.jobs, id)
if not payload then
  return {}
end
return {
  payload,
  redis.call('HGET', K.info, id) or '{}',
  redis.call('ZSCORE', K.delayed, id),
  redis.call('ZSCORE', K.leased, id),
  redis.call('ZSCORE', K.dead, id),
}
