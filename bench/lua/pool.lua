-- One single-use credential per request (refresh with rotation): each wrk thread takes the
-- lines of BENCH_POOL whose number modulo BENCH_THREADS is its id, one per request; the body
-- is BENCH_BODY with "{token}" replaced by the line. When a thread's share runs out it stops
-- (wrk's elapsed time then ends there too); the few requests already queued by then go to
-- BENCH_FALLBACK_PATH (a cheap GET) and are subtracted from the count by bench/load.py.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local path = os.getenv("BENCH_PATH")
local template = os.getenv("BENCH_BODY")
local fallback_path = os.getenv("BENCH_FALLBACK_PATH") or "/health/live"
local headers
local tokens = {}
local next_index = 1

setup = common.setup
done = common.done

function init(args)
  headers = common.header_table()
  local nthreads = tonumber(os.getenv("BENCH_THREADS"))
  local line_no = 0
  for line in io.lines(os.getenv("BENCH_POOL")) do
    if line ~= "" then
      if line_no % nthreads == id then
        table.insert(tokens, line)
      end
      line_no = line_no + 1
    end
  end
end

function request()
  local token = tokens[next_index]
  if token == nil then
    fallback = (fallback or 0) + 1
    wrk.thread:stop()
    return wrk.format("GET", fallback_path)
  end
  next_index = next_index + 1
  local body = string.gsub(template, "{token}", function()
    return token
  end)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, resp_body)
  common.count(status, resp_body)
  if tokens[next_index] == nil then
    wrk.thread:stop()
  end
end
