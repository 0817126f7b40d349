-- Every per-queue script takes the same KEYS, in this order (broker.keys):
-- KEYS[1]  presque:{Q}:meta     hash: status, listed, settings, prioritized, seq
-- KEYS[2]  presque:{Q}:ready    list of ready job ids of priority 0, head first out
-- KEYS[3]  presque:{Q}:delayed  sorted set: job id -> due time (ms)
-- KEYS[4]  presque:{Q}:jobs     hash: job id -> payload
-- KEYS[5]  presque:{Q}:info     hash: job id -> JSON {created, uniq, attempts, errors, receipt}
-- KEYS[6]  presque:{Q}:uniq     hash: uniq key -> job id
-- KEYS[7]  presque:{Q}:stats    hash: processed, failed, retried, dead
-- KEYS[8]  presque:{Q}:leased   sorted set: job id -> lease deadline (ms)
-- KEYS[9]  presque:{Q}:dead     sorted set: job id -> time dead-lettered (ms)
-- KEYS[10] presque:{Q}:acked    sorted set: job id -> time acked (ms), recent only
-- KEYS[11] presque:{Q}:urgent   sorted set: ready job ids of priority 1-9 (see ready.lua)
local K = {
  meta = KEYS[1], ready = KEYS[2], delayed = KEYS[3], jobs = KEYS[4], info = KEYS[5],
  uniq = KEYS[6], stats = KEYS[7], leased = KEYS[8], dead = KEYS[9], acked = KEYS[10],
  urgent = KEYS[11],
}

-- The pub/sub channel that tells waiting consumers on every server that
-- jobs became ready: presque:{Q}:wake (KEYS[1] is presque:{Q}:meta).
K.wake = string.sub(K.meta, 1, -5) .. 'wake'
-- And the one that tells streams a leased job was settled (acked or failed):
-- presque:{Q}:settled.
K.settled = string.sub(K.meta, 1, -5) .. 'settled'

local function wake_waiters()
  redis.call('PUBLISH', K.wake, '')
end
