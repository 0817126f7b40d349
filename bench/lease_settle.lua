-- Lease + ack end to end, in batches: GET /qb/<queue>?batch_size=N&lease=S
-- (the URL given to wrk), then one POST /qb/<queue>/settle that acks the
-- whole batch with the ids and receipts of its headers. wrk's connections
-- share this script's state (one thread): a batch fetched on one may be
-- settled on another, which the server does not mind.
local queue = string.match(wrk.path, "^/qb/([^?/]+)")
local settle_path = "/qb/" .. queue .. "/settle"
local json = {["Content-Type"] = "application/json"}
-- The requests owed, oldest first: owed[head] .. owed[tail].
local owed, head, tail = {}, 1, 0

local function split(text)
  local items = {}
  for item in string.gmatch(text, "[^,]+") do
    items[#items + 1] = item
  end
  return items
end

function request()
  if head <= tail then
    local body = owed[head]
    owed[head], head = nil, head + 1
    return wrk.format("POST", settle_path, json, body)
  end
  return wrk.format("GET", wrk.path)
end

function response(status, headers, body)
  local ids, receipts = headers["X-Presque-Job-Ids"], headers["X-Presque-Receipts"]
  if status ~= 200 or not ids or not receipts then
    return  -- a settle's answer, or no job
  end
  local receipt, entries = split(receipts), {}
  for i, id in ipairs(split(ids)) do
    entries[i] = '{"id":"' .. id .. '","receipt":"' .. receipt[i] .. '"}'
  end
  tail = tail + 1
  owed[tail] = '{"acks":[' .. table.concat(entries, ",") .. ']}'
end
