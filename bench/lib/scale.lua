-- wrk script of bench/scale.sh: every request takes the next line of a file, so that the load
-- spreads over many API keys or OAuth clients instead of one.
-- Environment:
--   SCALE_LINES    file with one value a line
--   SCALE_MODE     body: the body is SCALE_PREFIX .. line .. SCALE_SUFFIX
--                  basic: the header is "Authorization: Basic " .. line (line = base64 id:secret)
--   SCALE_PREFIX, SCALE_SUFFIX   see body
--   BENCH_METHOD, BENCH_BODY, BENCH_HEADERS, BENCH_EXPECT   as in the bench-peers bench.lua
-- Each wrk thread starts at its own offset in the file. done() prints one line,
-- BENCHJSON {...}, in the format of bench.lua, plus "lines" (how many lines the file had).

local mode = os.getenv("SCALE_MODE") or "body"
local prefix = os.getenv("SCALE_PREFIX") or ""
local suffix = os.getenv("SCALE_SUFFIX") or ""
local expect = os.getenv("BENCH_EXPECT")
if expect == "" then expect = nil end

wrk.method = os.getenv("BENCH_METHOD") or "POST"
for h in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local k, v = string.match(h, "^%s*([^:]+):%s*(.*)$")
  if k then wrk.headers[k] = v end
end
local fixed_body = os.getenv("BENCH_BODY")

local threads = {}
local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(os.getenv("SCALE_LINES")) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  n = #lines
  pos = math.floor(index * n / math.max(counter, 1))
  bad, non2xx, first_bad = 0, 0, ""
end

function request()
  pos = pos % n + 1
  local line = lines[pos]
  if mode == "basic" then
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers["Authorization"] = "Basic " .. line
    return wrk.format(nil, nil, headers, fixed_body)
  end
  return wrk.format(nil, nil, nil, prefix .. line .. suffix)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
  elseif expect and not string.find(body or "", expect, 1, true) then
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
  end
end

local function esc(s)
  return (string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end))
end

function done(summary, latency, requests)
  local bad_total, fb, lines_n = 0, "", 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + (t:get("bad") or 0)
    lines_n = t:get("n") or lines_n
    local f = t:get("first_bad")
    if f and f ~= "" and fb == "" then fb = f end
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_s":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,' ..
    '"non2xx":%d,"bad_body":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"bytes":%d,"lines":%d,"first_bad":"%s"}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000,
    e.status, bad_total, e.connect, e.read, e.write, e.timeout, summary.bytes, lines_n, esc(fb)))
end
