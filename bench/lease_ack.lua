-- Lease + ack end to end, one ack per job: GET /qb/<queue>?batch_size=N&lease=S
-- (the URL given to wrk), then DELETE /q/<queue>/<id> with its receipt for
-- each job of the batch, as workers did before POST /qb/<queue>/settle.
-- wrk's connections share this script's state (one thread): the acks of a
-- batch are spread over them.
local queue = string.match(wrk.path, "^/qb/([^?/]+)")
-- The acks owed, oldest first: owed[head] .. owed[tail], each {path, receipt}.
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
    local ack = owed[head]
    owed[head], head = nil, head + 1
    return wrk.format("DELETE", ack[1], {["X-Presque-Receipt"] = ack[2]})
  end
  return wrk.format("GET", wrk.path)
end

function response(status, headers, body)
  local ids, receipts = headers["X-Presque-Job-Ids"], headers["X-Presque-Receipts"]
  if status ~= 200 or not ids or not receipts then
    return  -- an ack's answer, or no job
  end
  local receipt = split(receipts)
  for i, id in ipairs(split(ids)) do
    tail = tail + 1
    owed[tail] = {"/q/" .. queue .. "/" .. id, receipt[i]}
  end
end
