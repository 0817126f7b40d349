-- Opens or closes a queue (POST /control/Q). A closed queue accepts jobs
-- but hands none out.
--
-- KEYS[1] presque:{Q}:meta     hash: status, listed
--
-- ARGV[1] '1' to open, '0' to close
--
-- Returns the previous status ('1' when it was never set).

local previous = redis.call('HGET', KEYS[1], 'status') or '1'
redis.call('HSET', KEYS[1], 'status', ARGV[1])
return previous
