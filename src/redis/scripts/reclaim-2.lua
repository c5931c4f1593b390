-- Takes over entries idle on other consumers (XAUTOCLAIM) and, in the same atomic step,
-- dead-letters those whose payload is gone: XAUTOCLAIM drops deleted entries from the pending
-- list and only reports their IDs, so a crash between it and a separate dead-letter write would
-- lose them silently. Also returns the delivery count of each entry claimed.
-- KEYS[1]  the stream
-- KEYS[2]  the dead-letter stream
-- ARGV[1]  group   ARGV[2]  consumer   ARGV[3]  min idle time (ms)   ARGV[4]  start cursor
-- ARGV[5]  count   ARGV[6]  time (epoch ms)
-- ARGV[7]  max length of the dead-letter stream (approximate; 0 = unbounded)
-- returns  { next cursor, entries claimed, their delivery counts, deleted IDs, their dead-letter IDs }
local reply = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local entries = reply[2]
local deleted = reply[3] or {}
local deadLetterIds = {}
for i, id in ipairs(deleted) do
  local args = { 'XADD', KEYS[2] }
  if tonumber(ARGV[7]) > 0 then
    args[#args + 1] = 'MAXLEN'
    args[#args + 1] = '~'
    args[#args + 1] = ARGV[7]
  end
  local meta = {
    '*', '$dlq_reason', 'missing', '$dlq_error', 'the entry was trimmed or deleted while pending',
    '$dlq_id', id, '$dlq_stream', KEYS[1], '$dlq_group', ARGV[1], '$dlq_deliveries', 'unknown',
    '$dlq_consumer', ARGV[2], '$dlq_time', ARGV[6],
  }
  for _, value in ipairs(meta) do args[#args + 1] = value end
  deadLetterIds[i] = redis.call(unpack(args))
end
local counts = {}
if #entries > 0 then
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], entries[1][1], entries[#entries][1], #entries * 2, ARGV[2])
  local byId = {}
  for _, p in ipairs(pending) do byId[p[1]] = p[4] end
  for i, entry in ipairs(entries) do counts[i] = byId[entry[1]] or 1 end
end
return { reply[1], entries, counts, deleted, deadLetterIds }
