-- Deletes a (dead-letter) stream and returns how many entries it held, in one step: nothing
-- added between the count and the delete goes uncounted.
-- KEYS[1]  the stream
-- returns  the number of entries removed
local length = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return length
