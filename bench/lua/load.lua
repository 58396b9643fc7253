-- wrk script for the benchmark: cycles through a file of requests, checks every response.
--
--   wrk -t THREADS ... -s load.lua URL -- REQUESTS_FILE EXPECT THREADS [once]
--
-- REQUESTS_FILE has one request per line: "METHOD<TAB>PATH<TAB>BODY" (BODY may be empty).
-- Thread i of n takes lines i, i+n, i+2n, ... With "once", each line is sent at most once
-- (first connects: every request a new device) and a thread stops when its lines run out;
-- otherwise lines are reused in a cycle. A response counts as good when its status is 2xx and
-- its body contains EXPECT ("-" expects nothing).

local threads = {}

function setup(thread)
   thread:set("index", #threads)
   table.insert(threads, thread)
end

function init(args)
   local path, once = args[1], args[4] == "once"
   expect = args[2] ~= "-" and args[2] or nil
   local thread_count = tonumber(args[3])
   requests, good, bad, exhausted = {}, 0, 0, 0
   local n, mine = 0, 0
   for line in io.lines(path) do
      if n % thread_count == index then
         local method, p, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
         local headers = {}
         if body ~= "" then headers["Content-Type"] = "application/json" end
         for k, v in pairs(wrk.headers) do headers[k] = v end
         table.insert(requests, wrk.format(method, p, headers, body ~= "" and body or nil))
         mine = mine + 1
      end
      n = n + 1
   end
   cycle = not once
   position = 0
end

function request()
   position = position + 1
   if position > #requests then
      if not cycle then
         exhausted = 1
         wrk.thread:stop()
         -- wrk still needs a request from us; resend the last (its answer is not counted).
         return requests[#requests]
      end
      position = 1
   end
   return requests[position]
end

function response(status, headers, body)
   if exhausted == 1 then return end
   if status >= 200 and status < 300 and (expect == nil or body:find(expect, 1, true)) then
      good = good + 1
   else
      bad = bad + 1
      if bad <= 3 then io.stderr:write("unexpected response " .. status .. ": " .. body:sub(1, 300) .. "\n") end
   end
end

function done(summary, latency, requests)
   local g, b, e = 0, 0, 0
   for _, t in ipairs(threads) do
      g = g + (t:get("good") or 0)
      b = b + (t:get("bad") or 0)
      e = e + (t:get("exhausted") or 0)
   end
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"good":%d,"bad":%d,"exhausted":%d,' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,' ..
      '"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, g, b, e,
      summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
      latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
