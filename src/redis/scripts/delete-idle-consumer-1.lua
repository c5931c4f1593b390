-- Removes a consumer from a group only if it holds nothing pending and has been idle long enough.
-- XGROUP DELCONSUMER drops the consumer's pending entries, so the check and the delete must be
-- one atomic step: a consumer that just received entries is never removed.
-- KEYS[1]  the stream
-- ARGV[1]  group   ARGV[2]  consumer   ARGV[3]  minimum idle time (ms)
-- returns  1 when removed, 0 otherwise
local consumers = redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
for _, consumer in ipairs(consumers) do
  local info = {}
  for i = 1, #consumer, 2 do
    info[consumer[i]] = consumer[i + 1]
  end
  if info['name'] == ARGV[2] then
    if tonumber(info['pending']) == 0 and tonumber(info['idle']) >= tonumber(ARGV[3]) then
      redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
      return 1
    end
    return 0
  end
end
return 0
