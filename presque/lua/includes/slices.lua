-- Lua's unpack() hands at most ~8,000 values to one call: a command over a
-- list of any length goes in slices of SLICE items.

local SLICE = 1000

-- redis.call(command, key, <the values of list>) in slices; an item is
-- `width` values (2 for the pairs of ZADD or HSET), 1 by default.
local function call_in_slices(command, key, list, width)
  local step = SLICE * (width or 1)
  for first = 1, #list, step do
    redis.call(command, key, unpack(list, first, math.min(first + step - 1, #list)))
  end
end

-- The replies of redis.call(command, key, <the fields>) (HMGET, ZMSCORE)
-- in slices, as one list in the order of the fields (false for a missing one).
local function gather_in_slices(command, key, fields)
  local values = {}
  for first = 1, #fields, SLICE do
    local slice = redis.call(command, key, unpack(fields, first, math.min(first + SLICE - 1, #fields)))
    for i = 1, #slice do
      values[#values + 1] = slice[i]
    end
  end
  return values
end
