-- Removes dead letters for good (DELETE /dead/Q, DELETE /dead/Q/<id>).
--
-- KEYS[1]: the queue's meta key; the others are named from it (queue_keys)
-- ARGV[1]   the most jobs to remove when no ids are given
-- ARGV[2..] the ids to remove; none: the oldest dead letters
--
-- Returns {removed}: the number of jobs removed; ids that are not dead
-- letters are skipped.

--@include queue_keys
--@include jobs
--@include dead

local ids = chosen_dead_ids()
local removed = 0
for _, id in ipairs(ids) do
  if redis.call('ZREM', K.dead, id) == 1 then
    forget_job(id, load_info(id))
    removed = removed + 1
  end
end
return {removed}
