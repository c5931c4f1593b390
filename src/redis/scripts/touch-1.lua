-- Keeps entries this consumer is still working on from looking abandoned: resets their idle time
-- (XCLAIM … JUSTID, which leaves the delivery count alone) so other consumers don't reclaim
-- them. An entry that another consumer already reclaimed is left to it.
-- KEYS[1]  the stream
-- ARGV[1]  group   ARGV[2]  consumer   ARGV[3…]  entry IDs
-- returns  the number of entries refreshed
local refreshed = 0
for i = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #pending == 1 and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    refreshed = refreshed + 1
  end
end
return refreshed
