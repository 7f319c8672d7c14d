-- The same request over and over: client credentials, introspection, /api/me, JWKS, discovery.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body = os.getenv("BENCH_BODY")
if body == "" then
  body = nil
end
local prepared

setup = common.setup
done = common.done

function init(args)
  prepared = wrk.format(method, path, common.header_table(), body)
end

function request()
  return prepared
end

function response(status, headers, resp_body)
  common.count(status, resp_body)
end
