-- The blocking transport for scripts and CLIs: a thin wrapper over the C core (tiledesk.core),
-- which holds the credentials and the one reused libcurl handle. See docs/design.md.
local _M = { _VERSION = "0.1.0" }

local Transport = {}
Transport.__index = Transport
Transport.__name = "tiledesk.transport.curl"

local core -- loaded on first use, never at require time (keeps the .so out of nginx)
local core_send -- the core clients' send method

local function load_core()
  if not core then core = require("tiledesk.core") end
  return core
end

-- config: timeout, connect_timeout, ssl_verify, cafile, capath, proxy, max_body_size, user_agent
function _M.new(config)
  config = config or {}
  local c = load_core()
  local handle = c.new{
    timeout_ms = config.timeout,
    connect_timeout_ms = config.connect_timeout,
    ssl_verify = config.ssl_verify,
    cafile = config.cafile,
    capath = config.capath,
    proxy = config.proxy,
    max_body_size = config.max_body_size,
    user_agent = config.user_agent,
  }
  Transport.now_ms = c.now_ms -- the core's clock itself (it ignores the transport argument)
  core_send = core_send or handle.send -- (every client's send: found once, not per call)
  -- _req: the one table each request is handed to the core in (it reads it on the spot)
  return setmetatable({ handle = handle, _req = {} }, Transport)
end

-- The SDK and its version (libcurl's is left out: every byte of a header line costs on each request)
function _M.default_user_agent()
  return "tiledesk-lua/" .. load_core()._VERSION
end

-- A sink is a function(chunk), or an open file the chunks are written to.
local function sink_of(s)
  if s == nil or type(s) == "function" then return s end
  if io.type(s) == "file" then
    return function(chunk)
      local ok, err = s:write(chunk)
      if not ok then return nil, err end
    end
  end
  error("tiledesk.transport.curl: 'sink' must be a function or an open file (got " .. (io.type(s) or type(s)) .. ")", 3)
end

-- Methods a transport may send again when a reused connection dies under them.
local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

-- Whether the request goes at most once: as req.once says, else as req.retry says, else unless
-- the method is idempotent.
local function once_of(req)
  local once = req.once
  if once == true or once == false then return once end
  return once == nil and not (req.retry == true or (req.retry == nil and IDEMPOTENT[req.method or "GET"]))
end

-- The core's request: the transport's one table, filled for this request. The core reads it
-- before it returns (phase 1 of a call), so one table serves every request, nested ones too.
local function core_request(self, req)
  local r = self._req
  local method = req.method or "GET"
  r.method = method
  r.url = req.url
  r.headers = req.headers
  r.body = req.body
  r.timeout_ms = req.timeout_ms
  r.connect_timeout_ms = req.connect_timeout_ms
  r.auth = req.auth
  r.once = once_of(req)
  r.sink = req.sink ~= nil and sink_of(req.sink) or nil
  r.raw_headers = req.raw_headers
  return r
end

-- What the table must not keep alive once the core has read it.
local function release(r)
  r.body, r.sink, r.headers = nil, nil, nil
end

-- The request's fields go to the core as arguments (c:send), which reads no table.
function Transport:send(req)
  local sink = req.sink
  if sink ~= nil then sink = sink_of(sink) end
  return core_send(self.handle, req.method, req.url, req.headers, req.body, req.timeout_ms, req.connect_timeout_ms,
    req.auth, once_of(req), sink, req.raw_headers)
end

-- Many in flight (client:batch): start(req[, tag]) -> id; wait(ms?) -> id, status, headers, body[, ctype] |
-- id, nil, msg, err | nothing (none finished within ms), where id is the tag start was given, if
-- any; cancel(id). With req.raw_headers, headers is the raw block and ctype the Content-Type
-- (docs/design.md).
function Transport:start(req, tag)
  -- handed over as it is when the core may read it so (nothing streamed, once decided: the core
  -- skips the keys it does not read, as core_request's copy would)
  if req.sink == nil and type(req.once) == "boolean" then return self.handle:start(req, true, tag) end
  local r = core_request(self, req)
  local id = self.handle:start(r, false, tag)
  release(r)
  return id
end

function Transport:wait(ms)
  return self.handle:wait(ms)
end

-- run_many(req, urls, n) -> k, status, head, body, ctype, started (arrays of k) | nil when
-- transfers started with start are in flight: req made for each URL in turn, n in flight, in C
-- with no Lua between the transfers; it returns at once when one ends with no response or a
-- status outside 2xx, those still in flight (status nil, head their id) going on as transfers of
-- start whose tag is their index (client:batch's lane; docs/design.md). req as send takes it,
-- without a sink.
function Transport:run_many(req, urls, n)
  if req.sink ~= nil or type(req.once) ~= "boolean" then
    error("tiledesk.transport.curl: run_many takes a request without a sink, once decided", 2)
  end
  if self.handle:pending() > 0 then return nil end
  return self.handle:run_many(req, urls, n)
end

function Transport:cancel(id)
  self.handle:cancel(id)
end

-- auth_kind and can_signin are asked on every call: their answers are kept until the
-- credentials change (they change only through these methods) or the transport closes.
function Transport:set_credentials(c)
  self._kind, self._can = nil, nil
  self.handle:set_credentials(c)
end

function Transport:set_token(token)
  self._kind = nil
  self.handle:set_token(token)
end

local function kept(self, field, method)
  local v = self[field]
  if v == nil then
    local h = self.handle
    v = h[method](h)
    self[field] = v
  end
  return v
end

function Transport:auth_kind()
  local v = self._kind -- (asked on every call: the kept answer without a call of kept())
  if v == nil then v = kept(self, "_kind", "auth_kind") end
  return v
end

function Transport:can_signin()
  return kept(self, "_can", "can_signin")
end

function Transport.now_ms()
  return load_core().now_ms()
end

function Transport.sleep_ms(_, ms)
  if ms > 0 then load_core().sleep_ms(ms) end
end

function Transport:close()
  self._kind, self._can = nil, nil
  self.handle:close()
end

function Transport:__tostring()
  return "tiledesk.transport.curl (" .. tostring(self.handle) .. ")"
end

return _M
