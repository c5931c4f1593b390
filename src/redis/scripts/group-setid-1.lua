-- Moves a group's last-delivered ID and sets its entries-read counter in one step, so that the lag
-- Redis reports (entries-added minus entries-read) is exact from the move on. Without ENTRIESREAD
-- Redis cannot tell the lag of a group set to the middle of a stream until it reads to the end.
-- The caller counted the entries after the new position, up to the entry ARGV[3]; those appended
-- since are counted here, atomically with reading entries-added and the SETID.
-- KEYS[1]  the stream
-- ARGV[1]  group   ARGV[2]  new last-delivered ID   ARGV[3]  counted through this ID
-- ARGV[4]  entries counted   ARGV[5]  most entries to count here
-- returns  {entries-read, lag}, or {-1} when more than ARGV[5] were appended since (count again)
local since = redis.call('XRANGE', KEYS[1], '(' .. ARGV[3], '+', 'COUNT', tonumber(ARGV[5]) + 1)
if #since > tonumber(ARGV[5]) then
  return {-1}
end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local added = 0
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then
    added = tonumber(info[i + 1])
  end
end
local lag = tonumber(ARGV[4]) + #since
local read = math.max(added - lag, 0)
redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], ARGV[2], 'ENTRIESREAD', read)
return {read, lag}
