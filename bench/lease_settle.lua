-- Lease + ack end to end, in batches: GET /qb/<queue>?batch_size=N&lease=S
-- (the URL given to wrk), then one POST /qb/<queue>/settle that acks the
-- whole batch with the ids and receipts of its headers.
-- wrk names a script by its path and gives it no module path: the shared
-- part is found beside this file.
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local json = {["Content-Type"] = "application/json"}

dofile(here .. "lease_batches.lua")(function(queue, ids, receipts)
  local entries = {}
  for i, id in ipairs(ids) do
    entries[i] = '{"id":"' .. id .. '","receipt":"' .. receipts[i] .. '"}'
  end
  local body = '{"acks":[' .. table.concat(entries, ",") .. ']}'
  return {wrk.format("POST", "/qb/" .. queue .. "/settle", json, body)}
end)
