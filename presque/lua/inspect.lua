-- Everything about one job (GET /q/Q/<id>). Changes nothing.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  job id
--
-- Returns {payload, info JSON, delayed due ms, lease deadline ms,
-- dead-lettered ms, waiting since ms} with false for the times that do not apply; for a job
-- acked whose outcome is still kept, {'done', time acked ms, result or
-- false}; {} for an unknown job (a job taken for good is gone at once, even
-- before its delivery is confirmed).

--@include queue_keys

local id = ARGV[1]
local payload = redis.call('HGET', K.jobs, id)
if not payload then
  local acked = redis.call('ZSCORE', K.acked, id)
  if acked then
    return {'done', acked, redis.call('HGET', K.results, id)}
  end
  return {}
end
return {
  payload,
  redis.call('HGET', K.info, id) or '{}',
  redis.call('ZSCORE', K.delayed, id),
  redis.call('ZSCORE', K.leased, id),
  redis.call('ZSCORE', K.dead, id),
  redis.call('ZSCORE', K.waiting, id),
}
