-- Delivers a pending entry again to the consumer that holds it (a retry after backoff):
-- XCLAIM raises the delivery count in the pending entries list, so the retry budget lives in
-- Redis and survives restarts.
-- KEYS[1]  the stream
-- ARGV[1]  group   ARGV[2]  consumer   ARGV[3]  entry ID
-- returns  {0} when the entry is no longer pending on this consumer (acknowledged, or reclaimed
--          by another consumer: not ours to retry);
--          {1, deliveries} when it is pending but its payload was trimmed or deleted;
--          {2, deliveries, fields} after claiming it (deliveries already counts this delivery)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 0 or pending[1][2] ~= ARGV[2] then
  return { 0 }
end
local entry = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
if not entry[1] then
  return { 1, pending[1][4] }
end
local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3])
return { 2, pending[1][4] + 1, claimed[1][2] }
