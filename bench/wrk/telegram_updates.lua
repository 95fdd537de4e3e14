-- POSTs Telegram updates (plain group messages, each with its own message_id) to the bot's webhook.
-- Usage: wrk -s telegram_updates.lua <url> -- <chat_id> <secret> [<users>]
-- done() prints "BENCH_RESULT {json}" like post_json.lua.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   chat_id = args[1]
   secret = args[2]
   users = tonumber(args[3] or "50")
   sequence = (id or 1) * 10000000
   headers = {["Content-Type"] = "application/json", ["X-Telegram-Bot-Api-Secret-Token"] = secret}
end

function request()
   sequence = sequence + 1
   local user = 3000000 + (sequence % users)
   local body = string.format(
      '{"update_id":%d,"message":{"message_id":%d,"date":%d,"text":"benchmark message %d",' ..
      '"chat":{"id":%s,"type":"supergroup","title":"Bench"},' ..
      '"from":{"id":%d,"is_bot":false,"first_name":"Bench%d","username":"bench_%d"}}}',
      sequence, sequence, os.time(), sequence, chat_id, user, user, user)
   return wrk.format("POST", "/telegram/webhook", headers, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   local p = function(q) return latency:percentile(q) / 1000.0 end
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latency_ms":{"p50":%.3f,"p99":%.3f}}\n',
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, p(50), p(99)))
end
