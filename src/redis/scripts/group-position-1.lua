-- Creates a group at a position, or moves it there, together with its entries-read counter, so
-- that the lag Redis reports (entries-added minus entries-read) is exact from then on. Without
-- ENTRIESREAD, Redis cannot tell the lag of a group in the middle of a stream until it has read to
-- the end. The caller counted the entries after the position, up to the entry ARGV[3]; those
-- appended since are counted here, atomically with reading entries-added and the XGROUP call.
-- KEYS[1]  the stream
-- ARGV[1]  group   ARGV[2]  the position (the group's new last-delivered ID)
-- ARGV[3]  counted through this ID   ARGV[4]  entries counted   ARGV[5]  most entries to count here
-- ARGV[6]  'create' (XGROUP CREATE, MKSTREAM) or 'setid' (XGROUP SETID)
-- returns  {entries-read, lag}; {-1} when more than ARGV[5] were appended since (count again);
--          {-2} when creating and the group exists already (it is left as it is)
local since = {}
if redis.call('EXISTS', KEYS[1]) == 1 then
  since = redis.call('XRANGE', KEYS[1], '(' .. ARGV[3], '+', 'COUNT', tonumber(ARGV[5]) + 1)
end
if #since > tonumber(ARGV[5]) then
  return {-1}
end
local added = 0
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then
      added = tonumber(info[i + 1])
    end
  end
end
local lag = tonumber(ARGV[4]) + #since
local read = math.max(added - lag, 0)
if ARGV[6] == 'create' then
  local created = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], ARGV[2], 'MKSTREAM', 'ENTRIESREAD', read)
  if type(created) == 'table' and created.err then
    if string.sub(created.err, 1, 9) == 'BUSYGROUP' then
      return {-2}
    end
    return created
  end
else
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], ARGV[2], 'ENTRIESREAD', read)
end
return {read, lag}
