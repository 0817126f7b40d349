-- A job of any queue waits on a job of this one (POST /q/Q?after=ID or
-- ?depends=KEY, after the waiting job was stored): registers it among the
-- dependents of that job if it may still run.
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]  'id' or 'uniq': how the job waited on is named
-- ARGV[2]  its id, or the uniq key it holds
-- ARGV[3]  the waiting job's queue
-- ARGV[4]  the waiting job's id
-- ARGV[5]  the blocker, as the waiting job names it
-- ARGV[6]  the most jobs that may wait on one job
--
-- Returns 'pending' (registered), 'dead' (the job waited on is a dead
-- letter), 'done' (it is gone: acked, taken, or never was; a uniq key no
-- job holds; the waiting job itself) or 'full' (as many jobs wait on it as may).

--@include queue_keys

local parent = ARGV[2]
if ARGV[1] == 'uniq' then
  parent = redis.call('HGET', K.uniq, ARGV[2])
end
-- A job does not wait for itself (its own uniq key, say).
local itself = parent == ARGV[4] and ARGV[3] == QUEUE
if itself or not parent or redis.call('HEXISTS', K.jobs, parent) == 0 then
  return 'done'
end
if redis.call('ZSCORE', K.dead, parent) then
  return 'dead'
end
local dependents = cjson.decode(redis.call('HGET', K.dependents, parent) or '[]')
if #dependents >= tonumber(ARGV[6]) then
  return 'full'
end
dependents[#dependents + 1] = {ARGV[3], ARGV[4], ARGV[5]}
redis.call('HSET', K.dependents, parent, cjson.encode(dependents))
return 'pending'
