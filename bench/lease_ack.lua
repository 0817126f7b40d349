-- Lease + ack end to end, one ack per job: GET /qb/<queue>?batch_size=N&lease=S
-- (the URL given to wrk), then DELETE /q/<queue>/<id> with its receipt for
-- each job of the batch, as workers did before POST /qb/<queue>/settle.
-- wrk names a script by its path and gives it no module path: the shared
-- part is found beside this file.
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"

dofile(here .. "lease_batches.lua")(function(queue, ids, receipts)
  local acks = {}
  for i, id in ipairs(ids) do
    acks[i] = wrk.format("DELETE", "/q/" .. queue .. "/" .. id, {["X-Presque-Receipt"] = receipts[i]})
  end
  return acks
end)
