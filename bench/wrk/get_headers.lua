-- GETs one path with the given headers (bench/web.py: web's groups list with a bearer token, core's with an
-- API key). Usage: wrk -s get_headers.lua <url> -- <path> "Name: value" ...
-- done() prints one line, "BENCH_RESULT {json}", as post_json.lua does.

function init(args)
   local headers = {["Accept"] = "application/json"}
   for i = 2, #args do
      local name, value = args[i]:match("^([^:]+):%s*(.*)$")
      headers[name] = value
   end
   req = wrk.format("GET", args[1], headers)
end

function request()
   return req
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
