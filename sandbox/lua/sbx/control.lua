-- /__sandbox/*: reset, faults, request log, state, echo, bytes, sinks, sign. No auth: loopback only.
--
-- POST /__sandbox/faults {path, action, count?, method?}: the next `count` (default 1; for a
-- barrier, n) calls whose path without /vN prefix matches the Lua pattern `path` (and whose
-- method is `method`, any case) get `action`; the first matching fault wins. Actions:
--   {type="status", status, body?, content_type?, retry_after?, preset?}  body defaults per
--       status (429 {message}, 500 {err:"error"}, 502/504 HTML, 503 {success,msg}) and follows
--       content_type when one is given (text/plain: "503 Service Unavailable\n")
--   {type="maintenance", retry_after?} = {type="status", status=503, preset="maintenance"}:
--       a text/plain 503 maintenance page
--   {type="delay", ms}        wait (capped at 60 s), then answer normally
--   {type="hang", ms}         never answer; after ms (capped at 60 s) close without an answer
--   {type="reset"}            headers and half the body, then a TCP RST (sbx.tcp_reset, Linux; on HTTP/2
--                             a stream reset; where the socket cannot be found, a FIN)
--   {type="drop"}             headers and half the body, then a clean close (FIN)
--   {type="truncate"}         the real answer, its text cut in half, Content-Length to match
--   {type="non_json"}         200 text/html
--   {type="oversize", bytes}  200 JSON of exactly `bytes` bytes (capped at 256 MB, streamed)
--   {type="barrier", n, timeout_ms?}  holds each wave of n calls until the n-th arrives, then
--       releases the wave (X-Sandbox-Barrier: released, X-Sandbox-Barrier-Wave, X-Sandbox-Log-Seq
--       = the newest log seq at release); a wave not filled within timeout_ms (default 10 s,
--       capped at 60 s) is abandoned: each of its calls gets 504 and X-Sandbox-Barrier: timeout
-- GET /__sandbox/faults lists them (count left, used); DELETE clears them.
-- GET /__sandbox/log?since=SEQ&limit=N: {entries, last_seq}; entries (oldest first, the newest N
-- after SEQ) are {seq, method, uri (raw), path (no /vN), query, headers, body, connection,
-- status, fault?, barrier?, body_length?, body_truncated?}: bodies cut at 64 KiB, password
-- fields, credentials after the scheme word and cookie values redacted. DELETE clears it.
-- POST /__sandbox/reset: seed state back; faults, log and sinks cleared.
-- POST /__sandbox/conversations {count, project_id?}: count (1..CONVERSATIONS_MAX) more
-- conversations in the seeded project (or project_id), made as the widget's would be (routed,
-- numbered) but at once: one visitor's lead for all, no events, no activities. For exports and
-- pages of many rows; {created, total} (total: the project's conversations now).
local json = require("sbx.json")
local store = require("sbx.store")
local semaphore = require("ngx.semaphore")

local _M = {}

-- Bounds: the sandbox is one worker holding everything in Lua memory.
_M.LOG_MAX = 2000                   -- entries kept in the request log
_M.LOG_BODY_MAX = 64 * 1024         -- body bytes kept per entry
_M.LOG_BYTES_MAX = 32 * 1024 * 1024 -- body bytes kept over the whole log
_M.SINK_MAX = 1000                  -- deliveries kept per sink
_M.SINKS_MAX = 200                  -- sink names kept
_M.CONVERSATIONS_MAX = 200000       -- conversations one POST /__sandbox/conversations makes
_M.SINK_BODY_MAX = 64 * 1024        -- body bytes kept per delivery
_M.MAX_MS = 60000                   -- cap of delays, hangs and barrier timeouts
_M.BYTES_MAX = 256 * 1048576        -- cap of generated bodies (streamed, never built whole)
local CHUNK = string.rep("x", 65536)

local faults = {}
local fault_seq = 0
local sinks, sink_names = {}, {}

---------------------------------------------------------------------------------------------
-- the request log: a queue of entries (oldest first), bounded in count and body bytes

-- Entries first..last (numbered from 1 since the last clear) live in a ring of LOG_MAX slots: an
-- array that never grows past it, where entry i sits at slot (i - 1) % LOG_MAX + 1.
local RING = _M.LOG_MAX
local log = { first = 1, last = 0, bytes = 0 }

local function log_at(i)
  return log[(i - 1) % RING + 1]
end
local last_seq = 0

local function log_pop()
  local slot = (log.first - 1) % RING + 1
  local e = log[slot]
  log[slot] = nil
  log.first = log.first + 1
  log.bytes = log.bytes - #(e.body or "")
end

local function log_clear()
  log = { first = 1, last = 0, bytes = 0 }
end

-- "Basic [redacted]": the scheme word stays, the credentials go.
local function redact_auth(v)
  return (tostring(v):match("^(%S+)") or "") .. " [redacted]"
end

-- Cookie names stay, values go.
local function redact_cookie(v)
  return (tostring(v):gsub("([^;=%s]+)%s*=[^;]*", "%1=[redacted]"))
end

local REDACT_HEADER = { authorization = redact_auth, ["proxy-authorization"] = redact_auth,
  cookie = redact_cookie, ["set-cookie"] = redact_cookie }

local function redact_headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    local f = REDACT_HEADER[tostring(k):lower()]
    if f and type(v) == "table" then
      local list = json.arr()
      for i, x in ipairs(v) do list[i] = f(x) end
      out[k] = list
    elseif f then
      out[k] = f(v)
    else
      out[k] = v
    end
  end
  return out
end

local function secret_key(k)
  k = k:lower()
  return k:find("password", 1, true) ~= nil
end

-- JSON text with the values of password-like keys replaced, byte for byte elsewhere (the body
-- is not re-encoded, so what a client sent stays visible). Strings and scalars both go.
local function redact_json_text(s)
  local out, pos = {}, 1
  for _ = 1, 100000 do
    local ks, ke, key = s:find('"([^"\\]*)"%s*:%s*', pos)
    if not ks then break end
    if not secret_key(key) then
      out[#out + 1] = s:sub(pos, ke)
      pos = ke + 1
    else
      out[#out + 1] = s:sub(pos, ke)
      local i = ke + 1
      if s:sub(i, i) == '"' then
        i = i + 1
        while i <= #s do
          local c = s:sub(i, i)
          if c == "\\" then i = i + 2 elseif c == '"' then break else i = i + 1 end
        end
        out[#out + 1] = '"[redacted]"'
        pos = i + 1
      elseif s:find("^[%w%.%+%-]", i) then
        out[#out + 1] = '"[redacted]"'
        pos = s:find("[^%w%.%+%-]", i) or #s + 1
      else
        pos = i -- an object or array value: its own keys are looked at in turn
      end
    end
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

local function redact_form_text(s)
  return (s:gsub("([^&=]+)=([^&]*)", function(k, v)
    if secret_key(ngx.unescape_uri(k)) then return k .. "=[redacted]" end
    return k .. "=" .. v
  end))
end

local header_value = require("sbx.util").header_value

local function redact_body(body, headers)
  if type(body) ~= "string" or body == "" then return body end
  local ct = header_value(headers, "content-type"):lower()
  if ct:find("x-www-form-urlencoded", 1, true) then return redact_form_text(body) end
  if ct:find("json", 1, true) or body:find("^%s*[{%[]") then return redact_json_text(body) end
  return body
end

-- Called by app.lua for each non-control call: e = {seq, method, path, query, headers, body,
-- connection}. The entry is kept bounded and without secrets; the raw URI (before the /vN
-- prefix was stripped) is added. Returns the stored entry (app.lua sets its status).
function _M.log_request(e)
  local body = e.body
  if type(body) == "string" then
    -- cut first (bounds the redaction's work); a value cut short is still redacted
    if #body > _M.LOG_BODY_MAX then
      e.body_length = #body
      e.body_truncated = true
      body = body:sub(1, _M.LOG_BODY_MAX)
    end
    body = redact_body(body, e.headers)
  end
  e.body = body
  e.headers = redact_headers(e.headers)
  e.uri = e.uri or (ngx.var and ngx.var.request_uri)
  -- seq comes from app.lua (X-Sandbox-Request); it only grows
  if type(e.seq) ~= "number" or e.seq <= last_seq then e.seq = last_seq + 1 end
  last_seq = e.seq
  -- the oldest goes first when the ring is full (LOG_MAX, at most the ring's size)
  local max = math.min(_M.LOG_MAX, RING)
  if log.last - log.first + 1 >= max then log_pop() end
  log.last = log.last + 1
  log[(log.last - 1) % RING + 1] = e
  log.bytes = log.bytes + #(body or "")
  while log.last - log.first + 1 > max or (log.bytes > _M.LOG_BYTES_MAX and log.last > log.first) do
    log_pop()
  end
  ngx.ctx.sbx_log_entry = e
  return e
end

local function current_entry()
  return ngx.ctx.sbx_log_entry
end

function _M.clear()
  faults, sinks, sink_names = {}, {}, {}
  log_clear()
end

---------------------------------------------------------------------------------------------
-- faults

-- The first fault whose method and path pattern match; its count goes down by one.
function _M.take_fault(method, path)
  for i, f in ipairs(faults) do
    if (not f.method or f.method == method) and path:find(f.path) then
      f.count = f.count - 1
      f.used = (f.used or 0) + 1
      if f.count <= 0 then table.remove(faults, i) end
      return f
    end
  end
  return nil
end

local function clamp_ms(v, default)
  local ms = tonumber(v) or default
  return math.max(0, math.min(ms, _M.MAX_MS))
end

local function sleep_ms(ms)
  ngx.sleep(ms / 1000)
end

local REASONS = { [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [408] = "Request Timeout", [409] = "Conflict", [422] = "Unprocessable Entity",
  [429] = "Too Many Requests", [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Time-out" }

local function html_page(status)
  local title = status .. " " .. (REASONS[status] or "Error")
  return "<html><head><title>" .. title .. "</title></head><body><center><h1>" .. title
    .. "</h1></center></body></html>"
end

-- What the server (or the proxy in front of it) answers with each status when no body is given.
local DEFAULT_BODIES = {
  [429] = { message = "Rate limit exceeded" }, [500] = { err = "error" },
  [502] = html_page(502), [503] = { success = false, msg = "Service Unavailable" }, [504] = html_page(504),
}

_M.MAINTENANCE_PAGE = "Service temporarily unavailable for maintenance. Please try again later.\n"

-- The default body for a status in a given content type (nil: the status's usual one).
local function default_body(status, ctype)
  local ct = ctype and ctype:lower()
  if not ct then return DEFAULT_BODIES[status] or { success = false, msg = "injected fault" } end
  if ct:find("json", 1, true) then
    local b = DEFAULT_BODIES[status]
    return type(b) == "table" and b or { success = false, msg = REASONS[status] or "injected fault" }
  elseif ct:find("html", 1, true) then
    return html_page(status)
  end
  return status .. " " .. (REASONS[status] or "Error") .. "\n"
end

-- status, body text, content type, extra headers of a "status" (or "maintenance") action
local function status_response(a)
  local preset = a.type == "maintenance" and "maintenance" or a.preset
  local status = tonumber(a.status) or (preset == "maintenance" and 503) or 500
  local ctype, body = a.content_type, a.body
  if preset == "maintenance" then
    ctype = ctype or "text/plain; charset=utf-8"
    if body == nil then body = _M.MAINTENANCE_PAGE end
  end
  if body == nil then body = default_body(status, ctype) end
  if type(body) == "table" then
    body = json.encode(body)
    ctype = ctype or "application/json; charset=utf-8"
  else
    body = tostring(body)
    if not ctype then
      ctype = body:find("^%s*<") and "text/html; charset=utf-8" or "text/plain; charset=utf-8"
    end
  end
  local extra = {}
  if a.retry_after ~= nil then extra["Retry-After"] = tostring(a.retry_after) end
  return status, body, ctype, extra
end

-- Headers, then body in chunks of CHUNK (never one string of the whole size).
-- chunked: no Content-Length, so the body goes out chunked (HTTP/1.1)
local function stream_x(status, ctype, prefix, n, suffix, chunked)
  ngx.status = status
  ngx.header["Content-Type"] = ctype
  if not chunked then ngx.header["Content-Length"] = #prefix + n + #suffix end
  if prefix ~= "" then ngx.print(prefix) end
  local left = n
  for _ = 1, math.ceil(n / #CHUNK) do
    local k = math.min(left, #CHUNK)
    ngx.print(k == #CHUNK and CHUNK or CHUNK:sub(1, k))
    local ok = ngx.flush(true)
    if not ok then return false end -- the client went away
    left = left - k
  end
  if suffix ~= "" then ngx.print(suffix) end
  return true
end

-- Half of a JSON array, with a Content-Length for twice as much.
local function half_body()
  local item = '{"padding":"' .. string.rep("x", 64) .. '"}'
  local half = "[" .. string.rep(item .. ",", 64)
  ngx.status = 200
  ngx.header["Content-Type"] = "application/json; charset=utf-8"
  ngx.header["Content-Length"] = #half * 2
  ngx.print(half)
  ngx.flush(true)
end

---------------------------------------------------------------------------------------------
-- barriers: each wave of n matching calls is held until the n-th arrives, then all n go on.
-- A wave that does not fill within timeout_ms is abandoned: its calls get a 504.

local function new_wave(b)
  b.waves = b.waves + 1
  b.wave = { number = b.waves, arrived = 0, sema = semaphore.new(), state = "open" }
  return b.wave
end

local function barrier(f, a)
  local n = math.max(1, math.floor(tonumber(a.n) or 2))
  local timeout = clamp_ms(a.timeout_ms, 10000)
  f.barrier = f.barrier or { waves = 0 }
  local b = f.barrier
  local wave = b.wave or new_wave(b)
  wave.arrived = wave.arrived + 1
  local position = wave.arrived
  if wave.arrived >= n then
    wave.state = "released"
    wave.log_seq = last_seq
    new_wave(b)
    if n > 1 then wave.sema:post(n - 1) end
  else
    local ok = wave.sema:wait(timeout / 1000)
    if not ok and wave.state == "open" then
      -- the first waiter to time out abandons the whole wave and wakes the others
      wave.state = "timeout"
      wave.log_seq = last_seq
      if b.wave == wave then new_wave(b) end
      if wave.arrived > 1 then wave.sema:post(wave.arrived - 1) end
    end
  end
  ngx.header["X-Sandbox-Barrier"] = wave.state
  ngx.header["X-Sandbox-Barrier-Wave"] = wave.number
  ngx.header["X-Sandbox-Log-Seq"] = wave.log_seq
  local e = current_entry()
  if e then
    e.barrier = { wave = wave.number, position = position, outcome = wave.state, log_seq = wave.log_seq }
  end
  return wave.state == "released", wave, n
end

---------------------------------------------------------------------------------------------

-- the status a fault answered with, in its log entry (apply_fault has recorded the fault)
local function set_status(status)
  local e = current_entry()
  if e then e.status = status end
end

-- Returns handled, status. Not handled: go on with normal dispatch (after a delay or a barrier).
-- dispatch(ctx) -> status, body, ctype; send(status, body, ctype, extra) writes a response.
function _M.apply_fault(f, ctx, dispatch, send)
  local a = f.action
  local t = a.type or "status"
  local e = current_entry()
  if e then e.fault = { id = f.id, type = t } end
  if t == "delay" then
    sleep_ms(clamp_ms(a.ms, 0))
    return false
  elseif t == "status" or t == "maintenance" then
    local status, body, ctype, extra = status_response(a)
    send(status, body, ctype, extra)
    return true, status
  elseif t == "hang" then
    -- no answer at all; after the (capped) time the connection is closed without one
    set_status(444)
    sleep_ms(clamp_ms(a.ms, _M.MAX_MS))
    return ngx.exit(444)
  elseif t == "drop" or t == "reset" then
    -- "drop": headers and half the body, then a clean close (FIN). "reset": the same, then a
    -- TCP RST (on HTTP/2 a stream reset). Falls back to a drop where no RST can be made.
    local rst = t == "reset" and require("sbx.tcp_reset").arm()
    set_status(200)
    if e then e.fault.closed_with = rst and "rst" or "fin" end
    half_body()
    if rst then sleep_ms(50) end -- the client reads the half body before the RST arrives
    return ngx.exit(ngx.ERROR)
  elseif t == "truncate" then
    local ok, status, body = pcall(dispatch, ctx)
    if not ok then
      ngx.log(ngx.ERR, "sandbox handler error (truncate fault): ", status)
      status, body = 500, { err = "error" }
    end
    local text = type(body) == "table" and json.encode(body) or tostring(body or "")
    text = text:sub(1, math.floor(#text / 2))
    set_status(status)
    send(status, text, "application/json; charset=utf-8")
    return true, status
  elseif t == "non_json" then
    send(200, "<html><body><h1>Welcome</h1><p>This is not the API.</p></body></html>", "text/html; charset=utf-8")
    return true, 200
  elseif t == "oversize" then
    local n = math.max(11, math.min(tonumber(a.bytes) or 1048576, _M.BYTES_MAX))
    set_status(200)
    stream_x(200, "application/json; charset=utf-8", '{"data":"', n - 11, '"}')
    return ngx.exit(200)
  elseif t == "barrier" then
    local released, _, n = barrier(f, a)
    if released then return false end
    send(504, { error = "sandbox barrier timeout: fewer than " .. n .. " calls arrived" })
    return true, 504
  end
  send(400, { error = "unknown fault type " .. tostring(t) })
  return true, 400
end

local VALID = { status = true, maintenance = true, delay = true, hang = true, reset = true, drop = true,
  truncate = true, non_json = true, oversize = true, barrier = true }

---------------------------------------------------------------------------------------------
-- sinks: bounded lists of deliveries, a bounded number of names (the oldest name goes first)

local function sink_list(name)
  local list = sinks[name]
  if list then return list end
  list = json.arr()
  sinks[name] = list
  sink_names[#sink_names + 1] = name
  while #sink_names > _M.SINKS_MAX do
    sinks[table.remove(sink_names, 1)] = nil
  end
  return list
end

local function sink_drop(name)
  sinks[name] = nil
  for i, x in ipairs(sink_names) do
    if x == name then table.remove(sink_names, i) break end
  end
end

---------------------------------------------------------------------------------------------

local function log_entries(query)
  local since = tonumber(query.since) or 0
  local limit = tonumber(query.limit)
  local first = log.first
  -- entries are in seq order: skip to the first one after `since`
  while first <= log.last and log_at(first).seq <= since do first = first + 1 end
  if limit and limit >= 0 then first = math.max(first, log.last - math.floor(limit) + 1) end
  local out = json.arr()
  for i = first, log.last do out[#out + 1] = log_at(i) end
  return out
end

function _M.register(r)
  local open = { auth = false }
  r:add("POST", "/__sandbox/reset", open, function()
    _M.clear()
    store.reset()
    return 200, { success = true }
  end)
  r:add("POST", "/__sandbox/conversations", open, function(ctx)
    local b = ctx.body or {}
    local n = b.count
    if type(n) ~= "number" or n ~= math.floor(n) or n < 1 or n > _M.CONVERSATIONS_MAX then
      return 400, { success = false, msg = "count: a whole number from 1 to " .. _M.CONVERSATIONS_MAX }
    end
    local pid = b.project_id or (store.seeded.project and store.seeded.project._id)
    if type(pid) ~= "string" or not store.coll("projects"):get(pid) then
      return 400, { success = false, msg = "project_id: no such project" }
    end
    local conv = require("sbx.conv")
    local lead = conv.find_or_create_lead(pid, "sandbox-bulk-visitor", "Bulk Visitor", "bulk.visitor@example.com")
    local at = store.now_ms()
    for i = 1, n do
      conv.create(pid, { first_text = "Bulk conversation " .. i, lead_doc = lead, sender = lead.lead_id }, nil, at)
    end
    local total = 0
    for _, doc in ipairs(store.coll("requests"):all()) do
      if doc.id_project == pid then total = total + 1 end
    end
    return 200, { created = n, total = total }
  end)
  -- POST /__sandbox/clock {at = "<ISO 8601 UTC>"} moves the sandbox's clock (createdAt of new
  -- documents, "now" of date filters) to that instant, from where it runs on; {at = null}
  -- (or a reset) puts it back.
  r:add("POST", "/__sandbox/clock", open, function(ctx)
    local b = ctx.body
    if type(b) ~= "table" then return 400, { error = "need {at = <ISO 8601 UTC> | null}" } end
    if b.at == nil or b.at == json.null then
      store.set_clock(nil)
    else
      local ms = store.ms_of(b.at)
      if not ms then return 400, { error = "at must be ISO 8601 UTC (2026-03-29T01:30:00.000Z)" } end
      store.set_clock(ms)
    end
    return 200, { now = store.now() }
  end)
  r:add("POST", "/__sandbox/faults", open, function(ctx)
    local b = ctx.body
    if type(b) ~= "table" or type(b.path) ~= "string" or type(b.action) ~= "table" then
      return 400, { error = "need {path = <lua pattern>, action = {type = ...}, count?, method?}" }
    end
    local t = b.action.type or "status"
    if not VALID[t] then return 400, { error = "unknown fault type " .. tostring(t) } end
    if b.action.preset ~= nil and b.action.preset ~= "maintenance" then
      return 400, { error = "unknown preset " .. tostring(b.action.preset) }
    end
    if b.method ~= nil and type(b.method) ~= "string" then return 400, { error = "method must be a string" } end
    local ok = pcall(string.find, "", b.path)
    if not ok then return 400, { error = "bad Lua pattern" } end
    local count = tonumber(b.count) or (t == "barrier" and tonumber(b.action.n)) or 1
    if count < 1 then return 400, { error = "count must be at least 1" } end
    fault_seq = fault_seq + 1
    -- a barrier stays in place for all the calls it has to hold (count = n: one wave)
    faults[#faults + 1] = { id = fault_seq, method = b.method and b.method:upper(), path = b.path,
      count = math.floor(count), action = b.action }
    return 200, { id = fault_seq }
  end)
  r:add("DELETE", "/__sandbox/faults", open, function()
    faults = {}
    return 200, { success = true }
  end)
  r:add("GET", "/__sandbox/faults", open, function()
    local out = json.arr()
    for _, f in ipairs(faults) do
      local wave = f.barrier and f.barrier.wave
      out[#out + 1] = { id = f.id, method = f.method, path = f.path, count = f.count, used = f.used or 0,
        action = f.action, waiting = wave and wave.arrived or nil }
    end
    return 200, out
  end)
  r:add("GET", "/__sandbox/log", open, function(ctx)
    return 200, { entries = log_entries(ctx.query), last_seq = last_seq }
  end)
  r:add("DELETE", "/__sandbox/log", open, function()
    log_clear()
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
    local n = math.max(0, math.min(tonumber(ctx.query.n) or 1024, _M.BYTES_MAX))
    stream_x(200, "application/octet-stream", "", n, "", ctx.query.chunked ~= nil)
    return ngx.exit(200)
  end)
  -- a project route whose handler raises: the server's 500 path, and faults on top of it
  r:add("ANY", "/:pid/__sandbox/raise", open, function()
    error("deliberate error from /__sandbox/raise")
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
    local list = sink_list(ctx.params.name)
    local body = ctx.raw_body or ""
    local d = { headers = ctx.headers, body = body, json = ctx.body, at = store.now() }
    if #body > _M.SINK_BODY_MAX then
      d.body, d.json, d.body_length, d.body_truncated = body:sub(1, _M.SINK_BODY_MAX), nil, #body, true
    end
    list[#list + 1] = d
    while #list > _M.SINK_MAX do table.remove(list, 1) end
    local status = tonumber(ctx.query.status) or 200
    return status, { received = true }
  end)
  r:add("GET", "/__sandbox/sink/:name", open, function(ctx)
    return 200, { deliveries = sinks[ctx.params.name] or json.arr() }
  end)
  r:add("DELETE", "/__sandbox/sink/:name", open, function(ctx)
    sink_drop(ctx.params.name)
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
    pid = pid, http_url = cfg.http_url, https_url = cfg.https_url, wrong_host_url = cfg.wrong_host_url,
    ca_file = cfg.dir .. "/tls/ca.pem", other_ca_file = cfg.dir .. "/tls/other-ca.pem",
    project_id = seeded.project and seeded.project._id, control_url = cfg.http_url .. "/__sandbox",
    users = users, bot = seeded.bot and { _id = seeded.bot._id, name = seeded.bot.name } or nil,
  }
end

return _M
