-- POSTs Telegram updates (plain group messages, each with its own message_id) to the bot's webhook, in one group or
-- spread over several, from many senders, so that no sender writes often in one group (plain traffic, not a flood).
-- Usage: wrk -s telegram_updates.lua <url> -- <chat_id[,chat_id,...]> <secret> [<senders>] [<run>]
-- <run> (0, 1, ...) keeps each run's message ids apart: core counts a message id once.
-- Message n goes to chat n mod #chats, from sender (n div #chats) mod senders.
-- done() prints "BENCH_RESULT {json}" like post_json.lua.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   chats = {}
   for chat in string.gmatch(args[1], "[^,]+") do
      table.insert(chats, chat)
   end
   secret = args[2]
   senders = tonumber(args[3] or "5000")
   sequence = tonumber(args[4] or "0") * 100000000 + (id or 1) * 10000000
   headers = {["Content-Type"] = "application/json", ["X-Telegram-Bot-Api-Secret-Token"] = secret}
end

function request()
   sequence = sequence + 1
   local chat = chats[(sequence % #chats) + 1]
   local user = 3000000 + (math.floor(sequence / #chats) % senders)
   local body = string.format(
      '{"update_id":%d,"message":{"message_id":%d,"date":%d,"text":"benchmark message %d",' ..
      '"chat":{"id":%s,"type":"supergroup","title":"Bench"},' ..
      '"from":{"id":%d,"is_bot":false,"first_name":"Bench%d","username":"bench_%d"}}}',
      sequence, sequence, os.time(), sequence, chat, user, user, user)
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
