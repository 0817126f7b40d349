-- bench.cluster: each request goes to the next of many queues, in turn, so
-- that the load spreads over the masters of a Redis Cluster.
--   QUEUES      the queue names, comma-separated
--   QUEUE_PATH  the request's path, %s standing for the queue
--   BODY        "job" (post_job.lua's request), "batch" (post_batch.lua's),
--               or empty: a GET
-- wrk names a script by its path and gives it no module path: the scripts
-- of the bodies are found beside this file.
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local body = os.getenv("BODY") or ""
if body == "job" then
  dofile(here .. "post_job.lua")
elseif body == "batch" then
  dofile(here .. "post_batch.lua")
end

local requests = {}
local turn = 0

-- After wrk.init, which sets the Host header: each request is formatted
-- once, here, and sent as is.
function init(args)
  local path = os.getenv("QUEUE_PATH")
  for queue in string.gmatch(os.getenv("QUEUES") or "", "[^,]+") do
    requests[#requests + 1] = wrk.format(nil, string.format(path, queue))
  end
  if #requests == 0 then
    error("QUEUES names no queue")
  end
end

function request()
  turn = turn % #requests + 1
  return requests[turn]
end
