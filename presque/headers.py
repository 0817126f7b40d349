"""The HTTP headers of presque's API, named once for the server and the clients."""

#: Names the worker making a request (presque 1): its counters and liveness follow.
WORKER = "X-presque-workerid"
#: The queue a job handed out belongs to (a member, when fetched from a virtual queue).
QUEUE = "X-Presque-Queue"
#: The id of the job posted or handed out.
JOB_ID = "X-Presque-Job-Id"
#: The ids of a batch's jobs, comma-separated, in order.
JOB_IDS = "X-Presque-Job-Ids"
#: Which delivery of a leased job this is (1 for the first).
ATTEMPT = "X-Presque-Attempt"
ATTEMPTS = "X-Presque-Attempts"
#: Names one delivery of a leased job; settling it needs it.
RECEIPT = "X-Presque-Receipt"
RECEIPTS = "X-Presque-Receipts"
#: When a lease runs out, in unix seconds.
LEASE_EXPIRES = "X-Presque-Lease-Expires"
#: A producer's key for a POST that may be repeated safely.
IDEMPOTENCY_KEY = "Idempotency-Key"
#: Answered "true" to a repeated POST: the jobs were stored by the first one.
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
#: Seconds a producer told to wait (429) should wait before it posts again.
RETRY_AFTER = "Retry-After"
#: Answered with a 404 "no job" that a limit of the queue held back: which
#: one (rate, concurrency, group).
HELD_BY = "X-Presque-Held-By"
#: How to authenticate, answered with a 401.
WWW_AUTHENTICATE = "WWW-Authenticate"
#: Carries a token: "Bearer <secret>".
AUTHORIZATION = "Authorization"
#: Sent by the page with every state change: a request that carries the
#: session cookie but not this header is a cross-site one, refused.
PAGE = "X-Presque-Page"
#: The environment variable the clients, presque-worker and presque read a token from.
TOKEN_VARIABLE = "PRESQUE_TOKEN"
