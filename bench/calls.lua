-- A loop run under callgrind by bench/bench.lua (row d): N calls of one kind, nothing else.
--   calls.lua get STATE PATH N       N client:get(PATH) over one keep-alive connection
--   calls.lua request STATE PATH N   N client:request{ method = "GET", path = PATH } (raw body)
--   calls.lua cjson STATE PATH N     N cjson decodes of the body that PATH answers with
--   calls.lua batch STATE PATH N     one client:batch of N GETs of PATH at 16 in flight (row b)
--   calls.lua list STATE - N         N requests:list{ limit = 5, status = "all" } (row c's listing)
-- With TD_BENCH_TLS=1 the calls go to the sandbox's HTTPS URL (for comparing TLS costs).
local tiledesk = require("tiledesk")
local mode, state_file, path, n = arg[1], arg[2], arg[3], tonumber(arg[4])
local f = assert(io.open(state_file, "rb"))
local state = tiledesk.json_decode(f:read("a"))
f:close()
local owner = state.users.owner
local tls = os.getenv("TD_BENCH_TLS") == "1"
local c = tiledesk.new{ base_url = tls and state.https_url or state.http_url, cafile = tls and state.ca_file or nil,
  project_id = state.project_id, email = owner.email, password = owner.password }
assert(c:signin())
if mode == "get" then
  for _ = 1, n do assert(c:get(path)) end
elseif mode == "request" then
  local spec = { method = "GET", path = path }
  for _ = 1, n do assert(c:request(spec).status == 200) end
elseif mode == "batch" then
  local calls = {}
  for i = 1, n do calls[i] = { method = "GET", path = path } end
  local results = c:batch(calls, { concurrency = 16 })
  assert(#results == n and results[n].res and results[n].res.status == 200)
elseif mode == "list" then
  local query = { limit = 5, status = "all" }
  for _ = 1, n do assert(c.requests:list(query)) end
elseif mode == "cjson" then
  local res = assert(c:request{ method = "GET", path = path })
  local body = res.body
  local cjson = require("cjson")
  for _ = 1, n do cjson.decode(body) end
else
  error("calls.lua: mode get, request, batch, list or cjson expected")
end
c:close()
