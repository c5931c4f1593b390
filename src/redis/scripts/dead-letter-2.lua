-- Moves one entry to the dead-letter stream and acknowledges it, atomically: a crash can never
-- leave it acknowledged but not dead-lettered, nor dead-lettered twice by two consumers racing.
-- KEYS[1]  the stream
-- KEYS[2]  the dead-letter stream
-- ARGV[1]  group          ARGV[2]  entry ID        ARGV[3]  reason
-- ARGV[4]  error message  ARGV[5]  delivery count  ARGV[6]  consumer
-- ARGV[7]  time (epoch ms)
-- ARGV[8]  max length of the dead-letter stream (approximate; 0 = unbounded)
-- returns  the dead-letter entry's ID, or false when the entry is no longer pending for the
--          group (another consumer already acknowledged or dead-lettered it)
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then
  return false
end
local args = { 'XADD', KEYS[2] }
local maxlen = tonumber(ARGV[8])
if maxlen and maxlen > 0 then
  args[#args + 1] = 'MAXLEN'
  args[#args + 1] = '~'
  args[#args + 1] = ARGV[8]
end
args[#args + 1] = '*'
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if entry[1] then
  for _, value in ipairs(entry[1][2]) do
    args[#args + 1] = value
  end
end
local meta = {
  '$dlq_reason', ARGV[3], '$dlq_error', ARGV[4], '$dlq_id', ARGV[2], '$dlq_stream', KEYS[1],
  '$dlq_group', ARGV[1], '$dlq_deliveries', ARGV[5], '$dlq_consumer', ARGV[6], '$dlq_time', ARGV[7],
}
for _, value in ipairs(meta) do
  args[#args + 1] = value
end
local id = redis.call(unpack(args))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
