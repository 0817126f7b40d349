-- What lease_ack.lua and lease_settle.lua share, loaded by them with
-- dofile: GET /qb/<queue>?batch_size=N&lease=S (the URL given to wrk), then
-- the requests that settle each batch, oldest first, before the next GET.
-- wrk's connections share a script's state (one thread): the requests of a
-- batch fetched on one may go out on others, which the server does not mind.
--
-- Called with settle(queue, ids, receipts), which returns the requests
-- (wrk.format) that settle one batch, given the ids and receipts of the
-- jobs it holds, in the order of its headers.
return function(settle)
  local queue = string.match(wrk.path, "^/qb/([^?/]+)")
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
      local owing = owed[head]
      owed[head], head = nil, head + 1
      return owing
    end
    return wrk.format("GET", wrk.path)
  end

  function response(status, headers, body)
    local ids, receipts = headers["X-Presque-Job-Ids"], headers["X-Presque-Receipts"]
    if status ~= 200 or not ids or not receipts then
      return  -- a settling request's answer, or no job
    end
    for _, owing in ipairs(settle(queue, split(ids), split(receipts))) do
      tail = tail + 1
      owed[tail] = owing
    end
  end
end
