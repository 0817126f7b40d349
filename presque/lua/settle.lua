-- A worker settles many leased jobs at once (POST /qb/Q/settle): acks,
-- then failures, each job as ack.lua or fail.lua settles one
-- (includes/settle_one.lua), and each on its own: a refused one (unknown,
-- or its receipt stale) leaves the others settled.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  how many acks, A
-- ARGV[2]  how many failures, F
-- then A times: job id, receipt, result (JSON text, '' for none)
-- then F times: job id, receipt, error ('' for none), retry after exactly
--          this many ms or '' for the backoff, '1' to dead-letter the job
--          at once else '0', a random number in [0, 1) for the jitter
-- then the server's default settings (settings)
--
-- Returns {schedule_at, then two values per job, in the order given}:
-- 'ok' and the ms it was held (acked), 'retry' and its due time in ms,
-- 'dead' and 0, or 'unknown'|'stale' and 0; schedule_at, when not 0, is a
-- due time the schedule must hear of. Wake-ups and the settled
-- announcement go out once for the whole batch; each job done or dead is
-- told on finished, as one at a time.

--@include queue_keys
--@include settings
--@include now_ms
--@include jobs
--@include settle
--@include schedule
--@include ready
--@include groups
--@include slices
--@include retention
--@include dependencies
--@include settle_one

-- As ack.lua forgets at most this many of the oldest outcomes per ack.
local FORGOTTEN_PER_ACK = 10
local ACK_WIDTH, FAIL_WIDTH = 3, 6

local acks, fails = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
local reply = {0}
local schedule_at, acked = 0, 0
hold_announcements()

for i = 0, acks - 1 do
  local at = 3 + i * ACK_WIDTH
  local refusal, held, noted = ack_one(ARGV[at], ARGV[at + 1], ARGV[at + 2], now)
  if refusal then
    reply[#reply + 1] = refusal
    reply[#reply + 1] = 0
  else
    acked = acked + 1
    schedule_at = earliest(schedule_at, noted)
    reply[#reply + 1] = 'ok'
    reply[#reply + 1] = held
  end
end

local first_fail = 3 + acks * ACK_WIDTH
for i = 0, fails - 1 do
  local at = first_fail + i * FAIL_WIDTH
  local outcome, due, noted = fail_one(
    ARGV[at], ARGV[at + 1], ARGV[at + 2], tonumber(ARGV[at + 3]), ARGV[at + 4] == '1',
    tonumber(ARGV[at + 5]), now
  )
  schedule_at = earliest(schedule_at, noted)
  reply[#reply + 1] = outcome
  reply[#reply + 1] = due
end

if acked > 0 then
  trim_results(now, FORGOTTEN_PER_ACK * acked)
end
send_held_announcements()
reply[1] = earliest(schedule_at, outbox_noted)
return reply
