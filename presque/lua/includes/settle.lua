-- The job a settling call (ack, fail, extend) names, if its receipt is the
-- current one: returns info, or nil and 'unknown' / 'stale'.
local function current_delivery(id, receipt)
  local info = load_info(id)
  if not info then
    if redis.call('ZSCORE', K.acked, id) then
      return nil, 'stale'
    end
    return nil, 'unknown'
  end
  if info.receipt ~= receipt or not redis.call('ZSCORE', K.leased, id) then
    return nil, 'stale'
  end
  return info
end
