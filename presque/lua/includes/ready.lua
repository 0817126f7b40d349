-- Making jobs ready. Priority 0 jobs (all of presque 1's) live in the
-- ready list; jobs of priority 1-9 in the urgent sorted set, scored so that
-- higher priorities come first and, within one, the order of arrival:
-- (9 - priority) * 2^44 + a per-queue sequence. Fetches drain urgent first.
--
-- A job posted with a group waits in its group's own sorted set instead
-- (GROUP_PREFIX .. group), scored the same way but around the middle of
-- its priority's span, so that a job given back can go ahead of the others
-- of its priority. K.grouped indexes every ready job of every group (for
-- counts and listings) and K.groups is the ring of groups that fetches
-- serve in turn (includes/groups.lua).

local PRIORITY_SPAN = 2 ^ 44
local GROUP_PREFIX = PREFIX .. 'group:'

local function next_sequence()
  return redis.call('HINCRBY', K.meta, 'seq', 1)
end

local function urgent_score(priority)
  return (9 - priority) * PRIORITY_SPAN + next_sequence()
end

local function group_score(priority, at_head)
  local middle = (9 - priority) * PRIORITY_SPAN + PRIORITY_SPAN / 2
  return at_head and middle - next_sequence() or middle + next_sequence()
end

-- A job of `group` is ready: in its group, whose turn comes when the ring
-- reaches it (a group new to the ring joins at its end).
local function ready_in_group(id, group, priority, at_head)
  local score = group_score(priority, at_head)
  redis.call('ZADD', GROUP_PREFIX .. group, score, id)
  redis.call('ZADD', K.grouped, score, id)
  redis.call('ZADD', K.groups, 'NX', next_sequence(), group)
end

-- Ready again (lease expired, delivery given back, retried dead letter): at
-- the head of the ready list when `at_head`, and at the end of its priority
-- when urgent.
local function make_ready(id, info, at_head)
  local priority = info and info.priority or 0
  if info and info.group then
    ready_in_group(id, info.group, priority, at_head)
  elseif priority > 0 then
    redis.call('ZADD', K.urgent, urgent_score(priority), id)
  elseif at_head then
    redis.call('LPUSH', K.ready, id)
  else
    redis.call('RPUSH', K.ready, id)
  end
end

-- Takes a ready job of `group` out of it (an operator's action on one job).
local function unready_in_group(id, group)
  redis.call('ZREM', GROUP_PREFIX .. group, id)
  redis.call('ZREM', K.grouped, id)
end

-- An announcement that names no job (a wake-up, a job settled) says as
-- much once as many times: a script that settles a batch holds them back
-- while it works (held) and sends the one it owes at its end
-- (includes/settle_one.lua).
local function announcement(channel)
  return {channel = channel, held = false, owed = false}
end

local function announce(news)
  if news.held then
    news.owed = true
    return
  end
  redis.call('PUBLISH', news.channel, '')
end

-- Stops holding `news` back, and sends it if it was owed meanwhile.
local function send_held(news)
  news.held = false
  if news.owed then
    news.owed = false
    announce(news)
  end
end

local wakes = announcement(K.wake)

-- Tells the waiting consumers of every server that jobs became ready.
local function wake_waiters()
  announce(wakes)
end
