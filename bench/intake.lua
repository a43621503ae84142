-- wrk script for bench/intake.sh: replays a pool of pre-signed Stripe webhook requests.
--
--   wrk ... -s intake.lua URL -- POOL
--     POOL  prefix of the files written by `Gen pool` (POOL.0, POOL.1, …: one per wrk thread, each
--           a disjoint share of event ids), records "<8-digit length>\n<whole HTTP request>"
--
-- init() reads the thread's share into a table (fixed-size reads: ~2 µs a request), so request()
-- costs a table lookup. A thread that reaches the end of its share starts it again and counts a
-- wrap (its event ids then repeat). response() counts 200s, 200s that say "duplicate":true, and the
-- rest. done() prints one machine-readable line, "RESULT key=value …", that intake.sh parses.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local file = assert(io.open(args[1] .. "." .. id, "rb"))
   pool = {}
   local n = 0
   while true do
      local len = file:read(9)
      if not len then break end
      n = n + 1
      pool[n] = file:read(tonumber(len))
   end
   file:close()
   size = n
   next_index = 0
   wraps = 0
   ok = 0          -- 200s
   duplicates = 0  -- 200s whose body says "duplicate":true
   other = 0       -- anything but 200
   statuses = ""   -- the first few non-200 statuses seen, for the report
end

function request()
   next_index = next_index + 1
   if next_index > size then
      next_index = 1
      wraps = wraps + 1
   end
   return pool[next_index]
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
      if body and body:find('"duplicate":true', 1, true) then duplicates = duplicates + 1 end
   else
      other = other + 1
      if other <= 3 then statuses = statuses .. status .. "," end
   end
end

function done(summary, latency, requests)
   local ok_sum, dup_sum, other_sum, wrap_sum, pool_sum, seen = 0, 0, 0, 0, 0, ""
   for _, t in ipairs(threads) do
      ok_sum = ok_sum + t:get("ok")
      dup_sum = dup_sum + t:get("duplicates")
      other_sum = other_sum + t:get("other")
      wrap_sum = wrap_sum + t:get("wraps")
      pool_sum = pool_sum + t:get("size")
      seen = seen .. t:get("statuses")
   end
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d ok200=%d duplicates=%d non200=%d statuses=%s wraps=%d pool=%d " ..
      "p50_us=%d p90_us=%d p99_us=%d max_us=%d connect_err=%d read_err=%d write_err=%d timeouts=%d http_err=%d\n",
      summary.requests, summary.duration, ok_sum, dup_sum, other_sum, seen == "" and "-" or seen, wrap_sum, pool_sum,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.timeout, e.status))
end
