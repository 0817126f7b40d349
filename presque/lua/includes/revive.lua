-- Making a dead letter ready again, with fresh attempts. Its uniq key is
-- not taken again: a new job may hold it.
local function revive_dead(id)
  local info = load_info(id) or {}
  info.attempts = 0
  info.uniq = nil
  save_info(id, info)
  make_ready(id, info, false)
end
