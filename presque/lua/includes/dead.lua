-- The dead letters a call names: the ids in ARGV[2..], or when there are
-- none, the oldest ARGV[1] of them.
local function chosen_dead_ids()
  local ids = {unpack(ARGV, 2)}
  if #ids == 0 then
    ids = redis.call('ZRANGE', K.dead, 0, tonumber(ARGV[1]) - 1)
  end
  return ids
end
