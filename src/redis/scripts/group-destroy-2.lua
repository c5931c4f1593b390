-- Deletes a consumer group, unless it still has work or live workers (and ARGV[2] is not '1'):
-- XGROUP DESTROY forgets the group's pending entries, and a worker still running would only
-- create the group again. The check and the delete are one atomic step. The group's rate-limit
-- bucket goes with it.
-- KEYS[1]  the stream   KEYS[2]  the group's rate-limit key
-- ARGV[1]  group   ARGV[2]  '1' to delete whatever the state   ARGV[3]  a consumer idle for
--          less than this many ms counts as live
-- returns  {1, pending} when deleted; {0, pending, consumer, idle} when refused (the first live
--          consumer, or '' when only pending entries stood in the way)
local group
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #g, 2 do
    info[g[i]] = g[i + 1]
  end
  if info['name'] == ARGV[1] then
    group = info
  end
end
if group == nil then
  return redis.error_reply('NOGROUP No such consumer group ' .. ARGV[1] .. ' for key name ' .. KEYS[1])
end
local pending = tonumber(group['pending'])
if ARGV[2] ~= '1' then
  for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
    local info = {}
    for i = 1, #c, 2 do
      info[c[i]] = c[i + 1]
    end
    if tonumber(info['idle']) < tonumber(ARGV[3]) then
      return {0, pending, info['name'], tonumber(info['idle'])}
    end
  end
  if pending > 0 then
    return {0, pending, '', 0}
  end
end
redis.call('XGROUP', 'DESTROY', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return {1, pending}
