-- Sends dead-lettered entries back to their stream as new events, and removes them from the
-- dead-letter stream, atomically per call.
-- KEYS[1]  the dead-letter stream
-- KEYS[2]  the stream to send them to
-- ARGV     the dead-letter entry IDs
-- returns  a flat list: dead-letter ID, new ID, … for each entry redriven (missing IDs skipped)
local out = {}
for _, dlqId in ipairs(ARGV) do
  local entry = redis.call('XRANGE', KEYS[1], dlqId, dlqId)
  if entry[1] then
    local args = { 'XADD', KEYS[2], '*' }
    local fields = entry[1][2]
    local original = ''
    for i = 1, #fields, 2 do
      local name = fields[i]
      if name == '$dlq_id' then original = fields[i + 1] end
      -- Drop the dead-letter metadata and any earlier redrive mark; keep the event's own fields.
      if string.sub(name, 1, 5) ~= '$dlq_' and name ~= '$redriven' then
        args[#args + 1] = name
        args[#args + 1] = fields[i + 1]
      end
    end
    args[#args + 1] = '$redriven'
    args[#args + 1] = original
    local id = redis.call(unpack(args))
    redis.call('XDEL', KEYS[1], dlqId)
    out[#out + 1] = dlqId
    out[#out + 1] = id
  end
end
return out
