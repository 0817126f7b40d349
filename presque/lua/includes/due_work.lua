-- Whatever fell due in a queue: delayed jobs whose time came, leases that
-- ran out, deliveries never confirmed. At most `limit` of each per call.
-- Wakes the waiting consumers when any job became ready. Needs the
-- includes promote_due, expire_leases and handoff.
local function handle_due_work(now, limit)
  local promoted = promote_due(now, limit)
  local expired = expire_leases(now, limit)
  local returned = return_handoffs(now, limit)
  if promoted + expired + returned > 0 then
    wake_waiters()
  end
  return promoted, expired, returned
end
