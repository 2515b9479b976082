-- wrk script: POST /v1/collect with unique event ids, LP_BATCH events per request, from
-- LP_VISITORS visitors in turn (each with one session).
local batch = tonumber(os.getenv("LP_BATCH") or "1")
local write_key = os.getenv("LP_WRITE_KEY") or "none"
local run = os.getenv("LP_RUN") or "r"
local visitors = tonumber(os.getenv("LP_VISITORS") or "5000")
local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

request = function()
  counter = counter + 1
  local events = {}
  for i = 1, batch do
    events[i] = string.format(
      '{"id":"%s-%d-%d-%d","type":"page_view","anonymous_id":"v%d-%d","session_id":"s%d",' ..
      '"url":"https://shop.example/windows?utm_source=google&utm_medium=cpc&utm_term=windows+on+credit",' ..
      '"referrer":"https://www.google.com/","properties":{"n":%d}}',
      run, tid, counter, i, tid, counter % visitors, counter % visitors, i)
  end
  local body = '{"write_key":"' .. write_key .. '","events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format(nil, "/v1/collect", nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
