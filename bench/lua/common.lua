-- Shared by every scenario script: counting of non-2xx answers per thread and a `done` hook
-- that prints one machine-readable line for the harness (bench/load.py):
--   BENCH_JSON {"requests":..,"duration_us":..,"p50_us":..,"p99_us":..,"non2xx":..,...}
-- Parameters come from the environment (set by bench/load.py):
--   BENCH_METHOD, BENCH_PATH, BENCH_BODY, BENCH_AUTH (a full Authorization header value).

local M = {}
local threads = {}
local counter = 0

function M.header_table()
  local headers = {}
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then
    headers["Authorization"] = auth
  end
  local body = os.getenv("BENCH_BODY")
  if body and body ~= "" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return headers
end

-- wrk calls setup() in the main Lua state once per thread: keep the threads so that done()
-- can read the counters each thread kept in its own Lua state.
function M.setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function M.count(status, body)
  if status < 200 or status > 299 then
    non2xx = (non2xx or 0) + 1
    if not sample then
      sample = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function M.done(summary, latency, requests)
  local non2xx, fallback, sample_text = 0, 0, ""
  for _, thread in ipairs(threads) do
    non2xx = non2xx + (thread:get("non2xx") or 0)
    fallback = fallback + (thread:get("fallback") or 0)
    local s = thread:get("sample")
    if s and sample_text == "" then
      sample_text = s
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non2xx":%d,"fallback":%d,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,"sample":%s}\n',
    summary.requests, summary.duration, summary.bytes, non2xx, fallback,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    json_string(sample_text)
  ))
end

return M
