-- An in-memory transport for unit specs: records every request, answers from a queue or a
-- handler, and keeps a fake clock that sleep_ms advances (no sockets, no real waiting).
local cjson = require("cjson")

local Fake = {}
Fake.__index = Fake
Fake.__name = "spec.fake_transport"

local M = {}

function M.new()
  return setmetatable({ requests = {}, pending = {}, sleeps = {}, clock = 0, mode = "none",
    email = nil, password = nil, token = nil, closed = false }, Fake)
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

function Fake:send(req)
  assert(not self.closed, "fake transport used after close")
  local rec = {}
  for k, v in pairs(req) do rec[k] = v end
  rec.auth_kind = (req.auth == nil or req.auth == "credentials") and self:auth_kind() or "none"
  if req.auth == "signin" then
    rec.body = cjson.encode({ email = self.email, password = self.password })
  end
  rec.at = self.clock
  self.requests[#self.requests + 1] = rec
  if self.handler then
    local status, headers, body = self.handler(rec, self)
    if status == nil then return nil, headers, body end
    return status, headers or {}, body or ""
  end
  local nxt = table.remove(self.pending, 1)
  assert(nxt, "fake transport: no response queued for " .. req.method .. " " .. req.url)
  if nxt.err then return nil, nxt.msg, nxt.err end
  return nxt.status, nxt.headers, nxt.body
end

function Fake:set_credentials(c)
  self.mode, self.email, self.password, self.token = c.mode, c.email, c.password, c.token
end

function Fake:set_token(t)
  self.token = t
  if t then self.mode = "jwt" end
end

function Fake:auth_kind()
  if self.mode == "basic" and self.email and self.password then return "basic" end
  if self.mode == "jwt" and self.token then return "jwt" end
  return "none"
end

function Fake:can_signin()
  return self.email ~= nil and self.password ~= nil
end

function Fake:now_ms()
  return self.clock
end

function Fake:sleep_ms(ms)
  self.sleeps[#self.sleeps + 1] = ms
  self.clock = self.clock + ms
end

function Fake:close()
  self.closed = true
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
