-- A token bucket shared by every worker of a consumer group: takes tokens (and gives back unused
-- ones) in one atomic step. The time is the server's (TIME), so the workers' clocks do not matter;
-- Redis 7 replicates a script's effects, not the script, which is what allows TIME here.
-- The bucket holds at most ARGV[1] tokens and refills ARGV[1] per ARGV[2] ms, continuously. A
-- missing bucket is a full one: idle for ARGV[2] ms, a bucket is full again anyway, so the key
-- expires then and an abandoned limiter leaves nothing behind.
-- KEYS[1]  the bucket, a hash {<stream>}:ratelimit:<group> with fields `tokens` and `at` (ms)
-- ARGV[1]  max (capacity, and tokens per period)   ARGV[2]  the period (ms)
-- ARGV[3]  tokens wanted (0 to only give back)     ARGV[4]  unused tokens given back
-- returns  { tokens granted, ms until the next token when none were granted (else 0) }
local max = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local back = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = max
elseif now > at then
  tokens = math.min(max, tokens + (now - at) * max / per)
end
-- A clock that went back (a failover to a replica) refills nothing until it moves on again, from now.
tokens = math.min(max, tokens + back)

local granted = math.min(wanted, math.floor(tokens))
tokens = tokens - granted
local wait = 0
if granted == 0 and wanted > 0 then
  wait = math.max(1, math.ceil((1 - tokens) * per / max))
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(per) + 1)
return { granted, wait }
