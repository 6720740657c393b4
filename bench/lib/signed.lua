-- wrk script of bench/signed_token.sh: sends pre-signed token requests, one per request, in order.
-- Environment:
--   SIGNED_REQUESTS  file of lines "<form body>" or "<form body>\t<DPoP proof>"
--                    (bench/lib/signed_requests.py make); every line is used at most once
--   SIGNED_THREADS   wrk's -t: thread k of n sends lines k, k+n, k+2n, ...
--   BENCH_EXPECT     "marker|marker": plain substrings every response body must contain
-- A response is good when it is a 200 whose body has every marker; other 2xx count as
-- bad_body, the rest as non2xx. When a thread has sent all its lines it sends its last one
-- again (refused as a replay) and counts it in "exhausted": such a run is not valid.
-- done() prints one line: BENCHJSON {...}, the fields of the harness' lib/bench.lua (non2xx
-- counted here: any status outside 2xx) plus "used" (lines sent), "lines" (lines in the file)
-- and "exhausted".

local path = os.getenv("SIGNED_REQUESTS") or error("SIGNED_REQUESTS is not set")
local nthreads = tonumber(os.getenv("SIGNED_THREADS") or "1")
local markers = {}
for m in string.gmatch(os.getenv("BENCH_EXPECT") or "", "[^|]+") do
  table.insert(markers, m)
end

local threads = {}
local next_id = 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  non2xx = 0
  first_bad = ""
  used = 0
  exhausted = 0
  lines = 0
  reqs = {}
  local f = assert(io.open(path, "r"))
  local n = 0
  for line in f:lines() do
    if n % nthreads == id then
      local body, proof = string.match(line, "^([^\t]*)\t?(.*)$")
      local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
      if proof ~= "" then headers["DPoP"] = proof end
      table.insert(reqs, wrk.format("POST", nil, headers, body))
    end
    n = n + 1
  end
  f:close()
  lines = n
end

function request()
  if used < #reqs then
    used = used + 1
  else
    exhausted = exhausted + 1
  end
  return reqs[used]
end

function response(status, headers, rbody)
  if status ~= 200 then
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
    else
      bad = bad + 1
    end
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(rbody or "", 1, 200) end
    return
  end
  for _, m in ipairs(markers) do
    if not rbody or not string.find(rbody, m, 1, true) then
      bad = bad + 1
      if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(rbody or "", 1, 200) end
      return
    end
  end
end

local function esc(s)
  return (string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end))
end

function done(summary, latency, requests)
  local bad_total, non2xx_lua, used_total, exhausted_total, nlines, fb = 0, 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    non2xx_lua = non2xx_lua + (t:get("non2xx") or 0)
    used_total = used_total + (t:get("used") or 0)
    exhausted_total = exhausted_total + (t:get("exhausted") or 0)
    nlines = t:get("lines") or nlines
    local f = t:get("first_bad")
    if f and f ~= "" and fb == "" then fb = f end
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"non2xx":%d,"bad_body":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"bytes":%d,' ..
    '"used":%d,"lines":%d,"exhausted":%d,"first_bad":"%s"}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    non2xx_lua, bad_total, e.connect, e.read, e.write, e.timeout, summary.bytes,
    used_total, nlines, exhausted_total, esc(fb)))
end
