-- An in-memory transport for unit specs: records every request, answers from a queue or a
-- handler, and keeps a fake clock that sleep_ms advances (no sockets, no real waiting).
-- Its credentials are held and put on the wire by tiledesk.credentials, the module the ngx
-- transport uses: what a record shows is what a Lua transport sends.
local cjson = require("cjson")
local credentials = require("tiledesk.credentials")

local Fake = {}
Fake.__name = "spec.fake_transport"

-- Specs may read fake.token, fake.email, fake.password and fake.mode: computed on each read from
-- the credentials' closures (nothing is stored in a field; pairs() never sees them).
local HELD = { token = true, email = true, password = true, mode = true }
Fake.__index = function(self, k)
  if HELD[k] then
    local creds = rawget(self, "_creds")
    return creds and creds.peek(k)
  end
  return Fake[k]
end

local M = {}

-- A credentials object with a test-only peek at what it holds (through a second closure over
-- the same values: set and set_token are wrapped to keep it current).
local function spec_credentials()
  local c = credentials.new("spec.fake_transport")
  local held = {}
  local set, set_token, clear = c.set, c.set_token, c.clear
  local function snapshot(x) return function() return x end end
  local last = snapshot(held)
  c.set = function(x)
    set(x)
    local copy = { mode = x.mode or "none", email = x.email, password = x.password, token = x.token }
    last = snapshot(copy)
  end
  c.set_token = function(t)
    set_token(t)
    local copy = {}
    for k, v in pairs(last()) do copy[k] = v end
    copy.token = t
    if t then copy.mode = "jwt" end
    last = snapshot(copy)
  end
  c.clear = function()
    clear()
    last = snapshot({ mode = "none" })
  end
  c.peek = function(k) return last()[k] end
  return c
end

function M.new()
  return setmetatable({ requests = {}, pending = {}, sleeps = {}, clock = 0, closed = false,
    _creds = spec_credentials() }, Fake)
end

-- queue(status, body, headers): body tables become JSON with a JSON content-type.
function Fake:queue(status, body, headers)
  local h = {}
  for k, v in pairs(headers or {}) do h[k:lower()] = v end
  if type(body) == "table" then
    body = cjson.encode(body)
    h["content-type"] = h["content-type"] or "application/json; charset=utf-8"
  end
  self.pending[#self.pending + 1] = { status = status, headers = h, body = body or "" }
  return self
end

-- queue_error(kind, msg): the next send fails with no response.
function Fake:queue_error(kind, msg)
  self.pending[#self.pending + 1] = { err = { kind = kind, code = 0 }, msg = msg or ("GET x: " .. kind) }
  return self
end

-- Each record: the request's fields, plus auth_kind (what the credentials sent), body (the bytes
-- sent: the composed sign-in body for auth = "signin") and wire_headers (lower-case name ->
-- value, as sent: Authorization and the sign-in Content-Type included).
function Fake:send(req)
  if self.closed then error("spec.fake_transport is closed", 2) end
  credentials.check_request(req, "spec.fake_transport")
  local lines, body = self._creds.wire(req)
  local rec = {}
  for k, v in pairs(req) do rec[k] = v end
  local wire = {}
  for _, l in ipairs(lines) do wire[l[1]:lower()] = l[2] end
  rec.wire_headers = wire
  rec.auth_kind = (req.auth == nil or req.auth == "credentials") and self:auth_kind() or "none"
  rec.body = body
  rec.at = self.clock
  self.requests[#self.requests + 1] = rec
  if self.handler then
    local status, headers, rbody = self.handler(rec, self)
    if status == nil then return nil, headers, rbody end
    return status, headers or {}, rbody or ""
  end
  local nxt = table.remove(self.pending, 1)
  assert(nxt, "fake transport: no response queued for " .. req.method .. " " .. req.url)
  if nxt.err then return nil, nxt.msg, nxt.err end
  return nxt.status, nxt.headers, nxt.body
end

local function check_open(self)
  if self.closed then error("spec.fake_transport is closed", 3) end
end

function Fake:set_credentials(c)
  check_open(self)
  self._creds.set(c)
end

function Fake:set_token(t)
  check_open(self)
  self._creds.set_token(t)
end

function Fake:auth_kind()
  check_open(self)
  return self._creds.auth_kind()
end

function Fake:can_signin()
  check_open(self)
  return self._creds.can_signin()
end

function Fake:now_ms()
  return self.clock
end

function Fake:sleep_ms(ms)
  self.sleeps[#self.sleeps + 1] = ms
  self.clock = self.clock + ms
end

function Fake:close()
  if not self.closed then self._creds.clear() end
  self.closed = true
end

function Fake:__tostring()
  return "spec.fake_transport (" .. (self.closed and "closed" or self._creds.auth_kind()) .. ")"
end

-- The last request sent, with its body decoded when JSON.
function Fake:last()
  local r = self.requests[#self.requests]
  if r and type(r.body) == "string" and r.body ~= "" then
    local ok, v = pcall(cjson.decode, r.body)
    if ok then r.json = v end
  end
  return r
end

return M
