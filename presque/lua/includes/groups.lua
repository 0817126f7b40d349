-- Fairness between the groups of a queue, and its limits (concurrency,
-- group_concurrency). Needs the includes queue_keys, settings and ready.
--
-- K.groups is a ring of the groups with ready jobs, each scored by its
-- turn: the lowest is served next and goes to the end. A group met at its
-- group_concurrency, or with no job left, leaves the ring; a lease of it
-- that ends brings it back. The queue's ungrouped jobs take their turn as
-- the group '' (no group has that name), which joins the ring when a fetch
-- finds groups there. K.group_leased counts each group's leased jobs.

local UNGROUPED = ''

local function pop_ungrouped()
  local urgent = redis.call('ZPOPMIN', K.urgent)
  if urgent[1] then
    return urgent[1]
  end
  return redis.call('LPOP', K.ready) or nil
end

local function group_is_full(group, most)
  return most > 0 and (tonumber(redis.call('HGET', K.group_leased, group)) or 0) >= most
end

-- Up to `count` ready jobs, one per turn of the ring; `leasing` counts
-- them against their groups' group_concurrency. Returns their ids.
local function pop_in_turn(count, leasing)
  local most = leasing and setting('group_concurrency') or 0
  if redis.call('LLEN', K.ready) + redis.call('ZCARD', K.urgent) > 0 then
    redis.call('ZADD', K.groups, 'NX', next_sequence(), UNGROUPED)
  end
  local ids = {}
  while #ids < count do
    local group = redis.call('ZRANGE', K.groups, 0, 0)[1]
    if not group then
      break
    end
    local id
    if group == UNGROUPED then
      id = pop_ungrouped()
    elseif not group_is_full(group, most) then
      id = redis.call('ZPOPMIN', GROUP_PREFIX .. group)[1]
      if id then
        redis.call('ZREM', K.grouped, id)
        if leasing then
          redis.call('HINCRBY', K.group_leased, group, 1)
        end
      end
    end
    if id then
      ids[#ids + 1] = id
      redis.call('ZADD', K.groups, 'XX', next_sequence(), group)
    else
      redis.call('ZREM', K.groups, group)
    end
  end
  return ids
end

-- The groups that left the ring at their limit and still have ready jobs
-- take their turn again: their limit changed, or a fetch that leases
-- nothing (for good) is not bound by it. Costs one call per such group.
local function rering_held_groups()
  for _, group in ipairs(redis.call('HKEYS', K.group_leased)) do
    if redis.call('EXISTS', GROUP_PREFIX .. group) == 1 then
      redis.call('ZADD', K.groups, 'NX', next_sequence(), group)
    end
  end
end

-- A leased job is leased no more (acked, failed, expired, given back,
-- removed): its group has a slot again, and the consumers that a limit
-- held back may try again.
local function lease_ended(info)
  local group = info and info.group
  local freed = setting('concurrency') > 0
  if group then
    if redis.call('HINCRBY', K.group_leased, group, -1) <= 0 then
      redis.call('HDEL', K.group_leased, group)
    end
    if redis.call('EXISTS', GROUP_PREFIX .. group) == 1 then
      redis.call('ZADD', K.groups, 'NX', next_sequence(), group)
      freed = freed or setting('group_concurrency') > 0
    end
  end
  if freed then
    wake_waiters()
  end
end

-- Removes the sets of the queue's groups (with its other keys, each group
-- is in the ring or, held by its limit, has leased jobs). Returns how many
-- there were.
local function unlink_groups()
  local found, gone = {}, 0
  local names = redis.call('ZRANGE', K.groups, 0, -1)
  for _, group in ipairs(redis.call('HKEYS', K.group_leased)) do
    names[#names + 1] = group
  end
  for _, group in ipairs(names) do
    if group ~= UNGROUPED and not found[group] then
      found[group] = true
      gone = gone + redis.call('UNLINK', GROUP_PREFIX .. group)
    end
  end
  return gone
end
