-- POSTs pre-built JSON bodies in rotation; each thread starts at its own offset.
-- Usage: wrk -s post_json.lua <url> -- <data.lua>
-- data.lua returns {path = "/api/...", api_key = "...", bodies = {"{...}", ...}}.
-- done() prints one line, "BENCH_RESULT {json}", that bench/run.py reads.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   local data = dofile(args[1])
   local headers = {
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
      ["X-API-Key"] = data.api_key,
   }
   requests = {}
   for i, body in ipairs(data.bodies) do
      requests[i] = wrk.format("POST", data.path, headers, body)
   end
   counter = ((id or 1) * 7919) % #requests + 1
end

function request()
   local r = requests[counter]
   counter = counter + 1
   if counter > #requests then
      counter = 1
   end
   return r
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = function(q) return latency:percentile(q) / 1000.0 end
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_ms":{"mean":%.3f,"stdev":%.3f,"max":%.3f,"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean / 1000.0, latency.stdev / 1000.0, latency.max / 1000.0,
      p(50), p(90), p(99), p(99.9)))
end
