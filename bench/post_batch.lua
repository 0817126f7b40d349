-- POST /qb/<queue> with {"jobs": [...]}: JOBS_PER_BATCH jobs (default 100)
-- per request, each the same shape as the job of post_job.lua.
local count = tonumber(os.getenv("JOBS_PER_BATCH") or "100")
local jobs = {}
for i = 1, count do
  jobs[i] = string.format(
    '{"task":"resize","image_id":%d,"sizes":[64,128,256],"retries":0}', i)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"jobs":[' .. table.concat(jobs, ",") .. ']}'
