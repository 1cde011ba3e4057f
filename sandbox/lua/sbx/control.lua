-- /__sandbox/*: reset, faults, request log, state, echo, bytes, sinks, sign. No auth: loopback only.
local json = require("sbx.json")
local store = require("sbx.store")
local semaphore = require("ngx.semaphore")

local _M = {}

local faults = {}
local fault_seq = 0
local log = {}
local LOG_MAX = 5000
local sinks = {}

function _M.log_request(e)
  log[#log + 1] = e
  if #log > LOG_MAX then table.remove(log, 1) end
  return e
end

function _M.clear()
  faults, log, sinks = {}, {}, {}
end

-- The first fault whose method and path pattern match; its count goes down by one.
function _M.take_fault(method, path)
  for i, f in ipairs(faults) do
    if (not f.method or f.method == method) and path:find(f.path) then
      f.count = f.count - 1
      if f.count <= 0 then table.remove(faults, i) end
      return f
    end
  end
  return nil
end

local function sleep_ms(ms)
  ngx.sleep(math.max(0, ms) / 1000)
end

local DEFAULT_BODIES = {
  [429] = { message = "Rate limit exceeded" }, [500] = { err = "error" },
  [502] = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
  [503] = { success = false, msg = "Service Unavailable" },
  [504] = "<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1></center></body></html>",
}

-- Returns handled, status. Not handled: go on with normal dispatch (after a delay).
function _M.apply_fault(f, ctx, dispatch, send)
  local a = f.action
  local t = a.type or "status"
  if t == "delay" then
    sleep_ms(math.min(tonumber(a.ms) or 0, 60000))
    return false
  elseif t == "status" then
    local status = tonumber(a.status) or 500
    local body = a.body
    if body == nil then body = DEFAULT_BODIES[status] or { success = false, msg = "injected fault" } end
    local ctype = a.content_type
    if type(body) == "string" and not ctype then
      ctype = body:find("^%s*<") and "text/html; charset=utf-8" or "text/plain; charset=utf-8"
    end
    local extra = {}
    if a.retry_after ~= nil then extra["Retry-After"] = tostring(a.retry_after) end
    send(status, body, ctype, extra)
    return true, status
  elseif t == "hang" then
    sleep_ms(math.min(tonumber(a.ms) or 60000, 60000))
    ngx.exit(444)
    return true, 444
  elseif t == "reset" then
    local body = string.rep('{"padding":"' .. string.rep("x", 64) .. '"},', 64)
    ngx.status = 200
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Content-Length"] = #body * 2
    ngx.print(body)
    ngx.flush(true)
    ngx.exit(ngx.ERROR)
    return true, 200
  elseif t == "truncate" then
    local status, body = dispatch(ctx)
    local text = type(body) == "table" and json.encode(body) or tostring(body or "")
    text = text:sub(1, math.floor(#text / 2))
    send(status, text, "application/json; charset=utf-8")
    return true, status
  elseif t == "non_json" then
    send(200, "<html><body><h1>Welcome</h1><p>This is not the API.</p></body></html>", "text/html; charset=utf-8")
    return true, 200
  elseif t == "oversize" then
    local n = math.min(tonumber(a.bytes) or 1048576, 256 * 1048576)
    local body = '{"data":"' .. string.rep("x", math.max(0, n - 11)) .. '"}'
    send(200, body, "application/json; charset=utf-8")
    return true, 200
  elseif t == "barrier" then
    local n = tonumber(a.n) or 2
    f.barrier = f.barrier or { sema = semaphore.new(), arrived = 0 }
    local b = f.barrier
    b.arrived = b.arrived + 1
    if b.arrived >= n then
      b.sema:post(n - 1)
    else
      b.sema:wait(10)
    end
    return false
  end
  send(400, { error = "unknown fault type " .. tostring(t) })
  return true, 400
end

local VALID = { status = true, delay = true, hang = true, reset = true, truncate = true, non_json = true,
  oversize = true, barrier = true }

function _M.register(r)
  local open = { auth = false }
  r:add("POST", "/__sandbox/reset", open, function()
    _M.clear()
    store.reset()
    return 200, { success = true }
  end)
  r:add("POST", "/__sandbox/faults", open, function(ctx)
    local b = ctx.body
    if type(b) ~= "table" or type(b.path) ~= "string" or type(b.action) ~= "table" then
      return 400, { error = "need {path = <lua pattern>, action = {type = ...}, count?, method?}" }
    end
    local t = b.action.type or "status"
    if not VALID[t] then return 400, { error = "unknown fault type " .. tostring(t) } end
    local ok = pcall(string.find, "", b.path)
    if not ok then return 400, { error = "bad Lua pattern" } end
    fault_seq = fault_seq + 1
    local count = tonumber(b.count) or (t == "barrier" and tonumber(b.action.n)) or 1
    -- a barrier stays in place for all the calls it has to hold
    faults[#faults + 1] = { id = fault_seq, method = b.method, path = b.path, count = count, action = b.action }
    return 200, { id = fault_seq }
  end)
  r:add("DELETE", "/__sandbox/faults", open, function()
    faults = {}
    return 200, { success = true }
  end)
  r:add("GET", "/__sandbox/faults", open, function()
    local out = json.arr()
    for _, f in ipairs(faults) do
      out[#out + 1] = { id = f.id, method = f.method, path = f.path, count = f.count, action = f.action }
    end
    return 200, out
  end)
  r:add("GET", "/__sandbox/log", open, function(ctx)
    local since = tonumber(ctx.query.since) or 0
    local out = json.arr()
    for _, e in ipairs(log) do
      if e.seq > since then out[#out + 1] = e end
    end
    return 200, { entries = out }
  end)
  r:add("DELETE", "/__sandbox/log", open, function()
    log = {}
    return 200, { success = true }
  end)
  r:add("GET", "/__sandbox/state", open, function()
    return 200, _M.state()
  end)
  r:add("ANY", "/__sandbox/echo", open, function(ctx)
    return 200, { method = ctx.method, path = ctx.path, query = ctx.raw_query, headers = ctx.headers,
      body = ctx.raw_body or "", connection = tonumber(ngx.var.connection), protocol = ngx.var.server_protocol }
  end)
  r:add("GET", "/__sandbox/bytes", open, function(ctx)
    local n = math.min(tonumber(ctx.query.n) or 1024, 256 * 1048576)
    if ctx.query.chunked then
      ngx.status = 200
      ngx.header["Content-Type"] = "application/octet-stream"
      local chunk = string.rep("x", 65536)
      local left = n
      while left > 0 do
        local k = math.min(left, #chunk)
        ngx.print(k == #chunk and chunk or chunk:sub(1, k))
        ngx.flush(true)
        left = left - k
      end
      return ngx.exit(200)
    end
    return 200, string.rep("x", n), "application/octet-stream"
  end)
  r:add("GET", "/__sandbox/redirect", open, function()
    return 302, "", "text/plain", { Location = "/__sandbox/echo" }
  end)
  r:add("GET", "/__sandbox/headers", open, function()
    -- repeated response headers, for the client's header parsing
    ngx.header["X-Repeat"] = { "one", "two", "three" }
    return 200, { ok = true }
  end)
  r:add("POST", "/__sandbox/sink/:name", open, function(ctx)
    local list = sinks[ctx.params.name] or json.arr()
    sinks[ctx.params.name] = list
    list[#list + 1] = { headers = ctx.headers, body = ctx.raw_body, json = ctx.body, at = store.now() }
    if #list > 1000 then table.remove(list, 1) end
    local status = tonumber(ctx.query.status) or 200
    return status, { received = true }
  end)
  r:add("GET", "/__sandbox/sink/:name", open, function(ctx)
    return 200, { deliveries = sinks[ctx.params.name] or json.arr() }
  end)
  r:add("DELETE", "/__sandbox/sink/:name", open, function(ctx)
    sinks[ctx.params.name] = nil
    return 200, { success = true }
  end)
  r:add("POST", "/__sandbox/sign", open, function(ctx)
    -- test helper: sign a payload with a secret (custom-token and forged-token specs)
    local b = ctx.body
    if type(b) ~= "table" or type(b.payload) ~= "table" or type(b.secret) ~= "string" then
      return 400, { error = "need {payload = {...}, secret = '...'}" }
    end
    return 200, { token = require("sbx.jwt").sign(b.payload, b.secret) }
  end)
end

function _M.state()
  local app = require("sbx.app")
  local cfg = app.config()
  local seeded = store.seeded
  local users = {}
  for role, u in pairs(seeded.users or {}) do
    users[role] = { _id = u._id, email = u.email, password = u.password }
  end
  local pidf = io.open(cfg.dir .. "/nginx.pid", "r")
  local pid = pidf and tonumber(pidf:read("*l"))
  if pidf then pidf:close() end
  return {
    pid = pid, http_url = cfg.http_url, https_url = cfg.https_url,
    ca_file = cfg.dir .. "/tls/ca.pem", other_ca_file = cfg.dir .. "/tls/other-ca.pem",
    project_id = seeded.project and seeded.project._id, control_url = cfg.http_url .. "/__sandbox",
    users = users, bot = seeded.bot and { _id = seeded.bot._id, name = seeded.bot.name } or nil,
  }
end

return _M
