-- Appends an event unless an event with the same idempotency key was appended within the
-- window: check, XADD and remember in one atomic step, so a publish retried after a lost reply
-- cannot write twice. All keys share the stream's cluster slot.
-- KEYS[1]  the stream
-- KEYS[2]  {stream}:idmp       hash: idempotency key -> entry ID
-- KEYS[3]  {stream}:idmp:seen  sorted set: idempotency key scored by when it was first seen
-- ARGV[1]  idempotency key   ARGV[2]  window (ms)   ARGV[3]  most keys remembered
-- ARGV[4…] the XADD arguments after the key ([MAXLEN ~ n] * field value …)
-- returns  { entry ID, 1 when it was a duplicate (nothing written) else 0 }
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local window = tonumber(ARGV[2])

-- Forget keys older than the window, a bounded number per call.
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - window, 'LIMIT', 0, 100)
if #expired > 0 then
  redis.call('ZREM', KEYS[3], unpack(expired))
  redis.call('HDEL', KEYS[2], unpack(expired))
end

local seen = redis.call('ZSCORE', KEYS[3], ARGV[1])
if seen and tonumber(seen) > now - window then
  local existing = redis.call('HGET', KEYS[2], ARGV[1])
  if existing then
    return { existing, 1 }
  end
end

local args = { 'XADD', KEYS[1] }
for i = 4, #ARGV do
  args[#args + 1] = ARGV[i]
end
local id = redis.call(unpack(args))
redis.call('HSET', KEYS[2], ARGV[1], id)
-- Scores strictly increase: keys with equal scores would be popped below in key order, not in
-- the order they were seen, and a batch sees many keys within one millisecond. A score runs
-- ahead of the clock by 1/1024 ms per key seen in the same millisecond (exact in a double).
local score = now
local newest = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 1 / 1024 end
redis.call('ZADD', KEYS[3], score, ARGV[1])

-- Bounded by count too: the oldest keys go first.
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[3], excess)
  for i = 1, #oldest, 2 do
    redis.call('HDEL', KEYS[2], oldest[i])
  end
end
-- A stream nobody publishes to any more does not keep its dedupe state forever.
redis.call('PEXPIRE', KEYS[2], window)
redis.call('PEXPIRE', KEYS[3], window)
return { id, 0 }
