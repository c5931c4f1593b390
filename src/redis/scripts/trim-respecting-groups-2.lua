-- Trims a stream by length and/or age, but never past an entry that some consumer group has not
-- yet been delivered or has not acknowledged. Atomic, so a group created or moved back while the
-- bound is computed cannot be trimmed under.
-- KEYS[1]  the stream
-- KEYS[2]  where the outcome is kept for `info` ({stream}:retention, a hash): the group holding
--          retention back, its bound, the entries held and when; deleted when nothing is held
-- ARGV[1]  max length ('' for none)
-- ARGV[2]  oldest ID to keep by age, '<ms>-0' ('' for none)
-- ARGV[3]  '=' exact or '~' approximate (whole nodes only: may keep a few more)
-- ARGV[4]  now (epoch ms), recorded with the outcome
-- returns  { removed, holding group or false, its bound ID or false, entries it holds back }
--          the bound is the oldest ID the group still needs: its oldest pending entry, or the
--          entry after its last-delivered ID

local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return string.sub(id, 1, dash - 1), string.sub(id, dash + 1)
end

-- Compares decimal strings of any length without converting them (IDs exceed 2^53).
local function cmpDigits(a, b)
  a = string.gsub(a, '^0+(%d)', '%1')
  b = string.gsub(b, '^0+(%d)', '%1')
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

local function cmp(x, y)
  local xm, xs = parse(x)
  local ym, ys = parse(y)
  local c = cmpDigits(xm, ym)
  if c ~= 0 then return c end
  return cmpDigits(xs, ys)
end

local function nextId(id)
  local ms, seq = parse(id)
  if seq == '18446744073709551615' then
    return string.format('%.0f', tonumber(ms) + 1) .. '-0'
  end
  if #seq < 15 then
    return ms .. '-' .. string.format('%.0f', tonumber(seq) + 1)
  end
  -- Past 2^53 a double cannot add one exactly; the entry itself is kept (safe side).
  return id
end

local bound, holder = nil, nil
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
for _, group in ipairs(groups) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  local needed = nextId(info['last-delivered-id'])
  if tonumber(info['pending']) > 0 then
    local summary = redis.call('XPENDING', KEYS[1], info['name'])
    if cmp(summary[2], needed) < 0 then needed = summary[2] end
  end
  if bound == nil or cmp(needed, bound) < 0 then
    bound, holder = needed, info['name']
  end
end

-- The oldest ID the policy keeps: the later of the age cut and the length cut.
local target = nil
if ARGV[2] ~= '' then target = ARGV[2] end
if ARGV[1] ~= '' then
  local maxlen = tonumber(ARGV[1])
  if redis.call('XLEN', KEYS[1]) > maxlen then
    if maxlen == 0 then
      local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
      target = nextId(last[1][1])
    else
      local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', maxlen)
      local cut = newest[#newest][1]
      if target == nil or cmp(cut, target) > 0 then target = cut end
    end
  end
end
if target == nil then
  redis.call('DEL', KEYS[2])
  return { 0, false, false, 0 }
end

local threshold = target
local held = 0
if bound ~= nil and cmp(bound, target) < 0 then
  threshold = bound
  -- How many entries the group keeps that the policy would remove (counted up to 10000).
  held = #redis.call('XRANGE', KEYS[1], bound, '(' .. target, 'COUNT', 10000)
end
local removed = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3], threshold)
if held > 0 then
  redis.call('HSET', KEYS[2], 'group', holder, 'bound', bound, 'entries', held, 'time', ARGV[4])
  return { removed, holder, bound, held }
end
redis.call('DEL', KEYS[2])
return { removed, false, false, 0 }
