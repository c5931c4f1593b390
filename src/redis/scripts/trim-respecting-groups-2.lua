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
--          the bound is the oldest entry the group still needs: its oldest pending entry, or
--          the first entry after its last-delivered ID

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

-- A stream that does not exist (yet: a producer's first pass may run before its first XADD)
-- has nothing to trim; XINFO GROUPS would fail on it.
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  return { 0, false, false, 0 }
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

if bound == nil then
  -- No group needs anything: the plain policy.
  local removed = 0
  if ARGV[1] ~= '' then removed = removed + redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[3], ARGV[1]) end
  if ARGV[2] ~= '' then removed = removed + redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3], ARGV[2]) end
  redis.call('DEL', KEYS[2])
  return { removed, false, false, 0 }
end

-- Trim below `threshold` (MINID): the later of the length and age cuts, neither past the bound.
-- `held` counts the entries the policy would remove that the holding group keeps.
local threshold, held = nil, 0

if ARGV[1] ~= '' then
  local excess = redis.call('XLEN', KEYS[1]) - tonumber(ARGV[1])
  if excess > 0 then
    -- The `excess` oldest entries go, but none from the bound on. Only those entries are read,
    -- never the maxLen kept ones, and in pages: a pass costs about what it removes, whatever
    -- maxLen is, and never copies a long backlog into the script at once.
    local removable, last, start = 0, nil, '-'
    while removable < excess do
      local want = math.min(1000, excess - removable)
      local page = redis.call('XRANGE', KEYS[1], start, '(' .. bound, 'COUNT', want)
      if #page > 0 then
        removable = removable + #page
        last = page[#page][1]
        start = '(' .. last
      end
      if #page < want then break end
    end
    held = excess - removable
    if last ~= nil then threshold = nextId(last) end
  end
end

if ARGV[2] ~= '' then
  local cut = ARGV[2]
  if cmp(bound, cut) < 0 then
    -- Counted up to 10000.
    local kept = #redis.call('XRANGE', KEYS[1], bound, '(' .. cut, 'COUNT', 10000)
    if kept > held then held = kept end
    cut = bound
  end
  if threshold == nil or cmp(cut, threshold) > 0 then threshold = cut end
end

local removed = 0
if threshold ~= nil then removed = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[3], threshold) end
if held > 0 then
  -- Reported as the oldest entry the group needs: the bound itself may be no entry at all
  -- (`0-1` for a group created at 0 that has read nothing), whose "age" would be the epoch's.
  local first = redis.call('XRANGE', KEYS[1], bound, '+', 'COUNT', 1)
  local oldest = first[1] and first[1][1] or bound
  redis.call('HSET', KEYS[2], 'group', holder, 'bound', oldest, 'entries', held, 'time', ARGV[4])
  return { removed, holder, oldest, held }
end
redis.call('DEL', KEYS[2])
return { removed, false, false, 0 }
