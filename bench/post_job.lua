-- One small JSON job per request: POST /q/<queue> on presque, and the same
-- request against the bare server (which answers any path).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"task":"resize","image_id":123456,"sizes":[64,128,256],"retries":0}'
