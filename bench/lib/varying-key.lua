-- wrk script (wrk -s): every request carries a new `x-key` header (key-1, key-2, ...), so that
-- ring-hash and maglev with `signalbox.dev/hash-on: header:x-key` hash a different key each time
-- and spread the load over every endpoint. Used for every policy alike, so wrk does the same work
-- (one formatted request per call) whatever the policy.
local counter = 0

request = function()
  counter = counter + 1
  wrk.headers["x-key"] = "key-" .. counter
  return wrk.format()
end
