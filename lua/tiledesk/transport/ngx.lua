-- The non-blocking transport for OpenResty / nginx with ngx_lua: HTTP/1.1 over ngx.socket.tcp
-- (cosockets), TLS through sslhandshake (verification on by default, SNI), a keepalive pool per
-- host, port and TLS settings. Credentials live in closures (tiledesk.credentials). It loads no
-- C module. See docs/design.md ("Transport interface") and README.md ("OpenResty").
--
--   local t = require("tiledesk.transport.ngx").new{ pool_size = 32, keepalive_timeout = 10000 }
--   local client = tiledesk.new{ ..., transport = t }     -- or let tiledesk.new choose it
local credentials = require("tiledesk.credentials")

local tonumber, tostring, type, concat = tonumber, tostring, type, table.concat
local floor, min = math.floor, math.min

local NAME = "tiledesk.transport.ngx"
local _M = {}

local Transport = {}
Transport.__index = Transport
Transport.__name = NAME

-- Phases where cosockets work, and those where they do not (the call then fails with kind
-- "config" and points at ngx.timer.at).
local COSOCKET_PHASES = { rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true }
_M.COSOCKET_PHASES = COSOCKET_PHASES

local DEFAULTS = { timeout = 15000, connect_timeout = 5000, max_body_size = 64 * 1024 * 1024,
  pool_size = 32, keepalive_timeout = 10000, ssl_verify = true }
_M.DEFAULTS = DEFAULTS

-- methods a lost reused connection may repeat by itself (the request changes nothing twice)
local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

-- The kind of a write whose fate is unknown (sent on a connection that then died, never repeated).
_M.UNKNOWN_OUTCOME = "unknown_outcome"

local CONFIG_KEYS = { timeout = "ms", connect_timeout = "ms", max_body_size = "bytes", pool_size = "count",
  keepalive_timeout = "ms", ssl_verify = "boolean", user_agent = "string", pool = "string", cafile = "nginx", capath = "nginx",
  proxy = "proxy" }

local function check_config(config)
  if config == nil then return {} end
  if type(config) ~= "table" then error(NAME .. ".new(): options must be a table", 3) end
  local out = {}
  for k, v in pairs(config) do
    local want = CONFIG_KEYS[k]
    if not want then error(NAME .. ".new(): unknown option '" .. tostring(k) .. "'", 3) end
    if want == "ms" or want == "bytes" then
      if type(v) ~= "number" or v < 0 then error(NAME .. ".new(): option '" .. k .. "' must be a number >= 0", 3) end
    elseif want == "count" then
      if type(v) ~= "number" or v < 1 or v ~= floor(v) then
        error(NAME .. ".new(): option '" .. k .. "' must be an integer >= 1", 3)
      end
    elseif want == "boolean" then
      if type(v) ~= "boolean" then error(NAME .. ".new(): option '" .. k .. "' must be a boolean", 3) end
    elseif want == "string" then
      if type(v) ~= "string" or v:find("[%c]") then
        error(NAME .. ".new(): option '" .. k .. "' must be a string without control characters", 3)
      end
    elseif want == "nginx" then
      error(NAME .. ".new(): option '" .. k .. "' is not available inside nginx: trust the CA with the "
        .. "lua_ssl_trusted_certificate directive (and lua_ssl_verify_depth)", 3)
    elseif v ~= false then -- proxy = false (ignore the environment's proxy) is what cosockets do anyway
      error(NAME .. ".new(): option 'proxy' is not available inside nginx (cosockets connect directly)", 3)
    end
    out[k] = v
  end
  return out
end

local function default_user_agent()
  local v = ngx and ngx.config and ngx.config.ngx_lua_version
  local lua_v = v and (floor(v / 1000000) .. "." .. floor(v / 1000) % 1000 .. "." .. v % 1000) or "?"
  local sdk = package.loaded["tiledesk"] -- loaded by now when tiledesk.new makes the transport
  return "tiledesk-lua/" .. (type(sdk) == "table" and sdk._VERSION or "?") .. " ngx_lua/" .. lua_v
end
_M.default_user_agent = default_user_agent

-- new(config): timeout, connect_timeout (ms), max_body_size (bytes), ssl_verify (default true),
-- user_agent, pool_size (connections kept per pool, default 32), keepalive_timeout (idle ms, 10000),
-- pool (a name added to the pool's: the pool of a worker is shared by every location, so a location
-- that trusts other CAs (lua_ssl_trusted_certificate) than the others needs a pool of its own).
function _M.new(config)
  local cfg = check_config(config)
  local self = { _creds = credentials.new(NAME), closed = false }
  for k, v in pairs(DEFAULTS) do self[k] = v end
  for k, v in pairs(cfg) do self[k] = v end
  self.user_agent = cfg.user_agent or default_user_agent()
  return setmetatable(self, Transport)
end

local function check_open(self)
  if self.closed then error(NAME .. " is closed", 3) end
end

---------------------------------------------------------------------------------------------
-- URL and failures

-- scheme, host, port, target (path and query) of an absolute http(s) URL; nil, why otherwise
local function parse_url(u)
  local scheme, rest = u:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "not an absolute URL" end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then return nil, "unsupported scheme '" .. scheme .. "'" end
  local authority, target = rest:match("^([^/?#]*)(.*)$")
  if authority:find("@", 1, true) then return nil, "user information in the URL is not supported" end
  local host, port = authority:match("^%[([%x:.]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host or host == "" then return nil, "no host in the URL" end
  port = port ~= "" and tonumber(port) or (scheme == "https" and 443 or 80)
  if port < 1 or port > 65535 then return nil, "bad port" end
  target = target:gsub("#.*$", "")
  if target == "" then target = "/" elseif target:sub(1, 1) == "?" then target = "/" .. target end
  local default_port = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
  local host_header = (host:find(":", 1, true) and ("[" .. host .. "]") or host) .. (default_port and "" or (":" .. port))
  return { scheme = scheme, tls = scheme == "https", host = host, port = port, target = target,
    host_header = host_header, ip = host:match("^%d+%.%d+%.%d+%.%d+$") ~= nil or host:find(":", 1, true) ~= nil }
end
_M.parse_url = parse_url

-- nil, msg, err as the curl transport gives them: "METHOD URL: kind (detail)", the URL without
-- its query (it may carry a secret)
local function fail(method, url, kind, detail)
  local shown = url:match("^[^?#]*")
  return nil, method .. " " .. shown .. ": " .. kind .. (detail and detail ~= "" and (" (" .. detail .. ")") or ""),
    { kind = kind }
end

-- Monotonic ms (the same clock in every worker of a host: CLOCK_MONOTONIC) where resty.core
-- offers it, else nginx's wall clock, refreshed.
local monotonic_msec
local function now_ms()
  if monotonic_msec == nil then
    local ok, t = pcall(require, "resty.core.time")
    monotonic_msec = ok and type(t) == "table" and t.monotonic_msec or false
  end
  if monotonic_msec then return monotonic_msec() end
  ngx.update_time()
  return ngx.now() * 1000
end

-- the kind of a cosocket error during a step ("connect", "tls", "send", "read")
local function kind_of(step, err)
  err = tostring(err)
  -- "<host> could not be resolved (110: Operation timed out)": the name, not the call, failed
  if step == "connect" and err:find("resolve", 1, true) then return "resolve" end
  if err == "timeout" or err:find("timed out", 1, true) then return "timeout" end
  if step == "connect" then return "connect" end
  if step == "tls" then return "tls" end
  return "transport"
end

local function explain(kind, err, u)
  err = tostring(err)
  if kind == "resolve" and err:find("no resolver defined", 1, true) then
    return "nginx cannot resolve '" .. u.host .. "' without a resolver: add a `resolver` directive to nginx.conf "
      .. "(for example `resolver 127.0.0.53 ipv6=off;`, or your DNS server)"
  end
  if kind == "tls" then
    return err .. "; nginx trusts the CAs of lua_ssl_trusted_certificate (lua_ssl_verify_depth limits the chain)"
  end
  return err
end

---------------------------------------------------------------------------------------------
-- the exchange

-- Reads one line within the deadline; nil, err (err "timeout" past the deadline).
local function settimeouts(sock, connect_ms, deadline)
  local left = deadline - now_ms()
  if left <= 0 then return nil, "timeout" end
  left = floor(left) + 1
  sock:settimeouts(connect_ms, left, left)
  return true
end

local function read_line(sock, deadline)
  local ok, err = settimeouts(sock, 1000, deadline)
  if not ok then return nil, err end
  return sock:receive("*l")
end

local function read_n(sock, n, deadline)
  local ok, err = settimeouts(sock, 1000, deadline)
  if not ok then return nil, err end
  return sock:receive(n)
end

-- Header lines until the empty line: lower-case names, repeated headers as arrays.
local function read_headers(sock, deadline)
  local h = {}
  for _ = 1, 1000 do
    local line, err = read_line(sock, deadline)
    if not line then return nil, err end
    if line == "" then return h end
    local name, value = line:match("^([^:%s]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      local old = h[name]
      if old == nil then h[name] = value
      elseif type(old) == "table" then old[#old + 1] = value
      else h[name] = { old, value } end
    elseif not line:match("^[ \t]") then
      return nil, "malformed header line"
    end
  end
  return nil, "too many header lines"
end

local function has_token(v, token)
  if v == nil then return false end
  if type(v) == "table" then v = concat(v, ",") end
  for part in v:lower():gmatch("[^,]+") do
    if part:match("^%s*(.-)%s*$") == token then return true end
  end
  return false
end

local function too_large(max)
  return "response larger than max_body_size " .. max .. " bytes"
end

local CHUNK = 65536

-- Reads the body; returns body, reusable | nil, err, flag ("too_large" or "sink").
-- deliver(chunk) (a sink, for 2xx answers): each piece of at most 64 KiB goes there instead.
local function read_body(sock, status, method, h, max, deadline, deliver)
  if method == "HEAD" or status == 204 or status == 304 or (status >= 100 and status < 200) then
    return "", true
  end
  local te = h["transfer-encoding"]
  if te ~= nil then
    if not has_token(te, "chunked") then return nil, "unsupported transfer-encoding" end
    local parts, total = {}, 0
    for _ = 1, 10000000 do
      local line, err = read_line(sock, deadline)
      if not line then return nil, err end
      local size = tonumber(line:match("^%s*(%x+)"), 16)
      if not size then return nil, "bad chunk size line" end
      if size == 0 then
        -- trailers until the empty line
        for _ = 1, 1000 do
          local t, terr = read_line(sock, deadline)
          if not t then return nil, terr end
          if t == "" then return concat(parts), true end
        end
        return nil, "too many trailer lines"
      end
      total = total + size
      if max > 0 and total > max then return nil, too_large(max), "too_large" end
      local left = size
      while left > 0 do
        local data, derr = read_n(sock, deliver and min(left, CHUNK) or left, deadline)
        if not data then return nil, derr end
        left = left - #data
        if deliver then
          local ok, serr = deliver(data)
          if not ok then return nil, serr, "sink" end
        else
          parts[#parts + 1] = data
        end
      end
      local crlf, cerr = read_line(sock, deadline)
      if not crlf then return nil, cerr end
      if crlf ~= "" then return nil, "bad chunk end" end
    end
    return nil, "too many chunks"
  end
  local cl = h["content-length"]
  if cl ~= nil then
    if type(cl) == "table" then
      for i = 2, #cl do if cl[i] ~= cl[1] then return nil, "conflicting content-length headers" end end
      cl = cl[1]
    end
    local n = cl:match("^%d+$") and tonumber(cl)
    if not n then return nil, "bad content-length" end
    if max > 0 and n > max then return nil, too_large(max), "too_large" end
    if n == 0 then return "", true end
    if not deliver then
      local data, err = read_n(sock, n, deadline)
      if not data then return nil, err end
      return data, true
    end
    while n > 0 do
      local data, err = read_n(sock, min(n, CHUNK), deadline)
      if not data then return nil, err end
      n = n - #data
      local ok, serr = deliver(data)
      if not ok then return nil, serr, "sink" end
    end
    return "", true
  end
  -- no length: the body ends when the server closes
  local parts, total = {}, 0
  while true do
    local data, err, partial = read_n(sock, CHUNK, deadline)
    local chunk = data or partial
    if chunk and chunk ~= "" then
      total = total + #chunk
      if max > 0 and total > max then return nil, too_large(max), "too_large" end
      if deliver then
        local ok, serr = deliver(chunk)
        if not ok then return nil, serr, "sink" end
      else
        parts[#parts + 1] = chunk
      end
    end
    if not data then
      if err == "closed" then return concat(parts), false end
      return nil, err
    end
  end
end

-- A pooled connection the peer may have closed while it idled: peeks without blocking (1 ms).
-- True when it still looks usable.
local function alive(sock)
  sock:settimeouts(1000, 1000, 1)
  local data, err = sock:receive(1)
  if data then return false end -- nothing should arrive on an idle connection
  return err == "timeout"
end

local function pool_name(self, u)
  return "tiledesk:" .. u.scheme .. ":" .. u.host .. ":" .. u.port
    .. (u.tls and (":tls:" .. (self.ssl_verify and "verify" or "noverify")) or "")
    .. (self.pool and (":" .. self.pool) or "")
end

-- Connects (or takes a pooled connection); returns sock, reused | nil, kind, detail
local function connect(self, u, connect_ms, deadline, probe)
  local sock = ngx.socket.tcp()
  sock:settimeouts(min(connect_ms, math.max(1, floor(deadline - now_ms()))), 1000, 1000)
  local name = pool_name(self, u)
  -- "localhost" is the loopback address (RFC 6761): nginx's resolver does not read /etc/hosts
  local addr = u.host
  local lower = addr:lower()
  if lower == "localhost" or lower:sub(-10) == ".localhost" then addr = "127.0.0.1" end
  local ok, err = sock:connect(addr, u.port, { pool = name, pool_size = self.pool_size })
  if not ok then return nil, kind_of("connect", err), explain(kind_of("connect", err), err, u) end
  local reused = sock:getreusedtimes() or 0
  if reused > 0 and probe then
    if not alive(sock) then
      sock:close()
      return connect(self, u, connect_ms, deadline, probe)
    end
  end
  if u.tls and reused == 0 then
    local ok2, left = settimeouts(sock, connect_ms, deadline)
    if not ok2 then sock:close() return nil, "timeout", left end
    -- Success is "no error" (the session it answers may be nil). lua-resty-core 0.1.25 raises
    -- "assertion failed" when a handshake that ended at once failed verification: caught here.
    -- (Passing false for the session would skip that check and take a failed handshake for done.)
    local okp, _, herr = pcall(sock.sslhandshake, sock, nil, not u.ip and u.host or nil, self.ssl_verify)
    if not okp then herr = "handshake failed" end
    if herr ~= nil then
      sock:close()
      local k = kind_of("tls", herr)
      return nil, k, explain(k, herr, u)
    end
  end
  return sock, reused
end

local function build_request(self, method, u, lines, body)
  local out = { method, " ", u.target, " HTTP/1.1\r\nHost: ", u.host_header, "\r\nUser-Agent: ", self.user_agent,
    "\r\nAccept: */*\r\n" }
  for _, l in ipairs(lines) do
    out[#out + 1] = l[1] .. ": " .. l[2] .. "\r\n"
  end
  if body or method == "POST" or method == "PUT" or method == "PATCH" then
    out[#out + 1] = "Content-Length: " .. #(body or "") .. "\r\n"
  end
  out[#out + 1] = "\r\n"
  if body then out[#out + 1] = body end
  return concat(out)
end

-- One exchange on one connection. Returns status, headers, body | nil, kind, detail, stage
-- (stage "before_response": nothing of the answer arrived).
local function exchange(self, sock, method, request, deadline, deliver)
  local ok, terr = settimeouts(sock, 1000, deadline)
  if not ok then return nil, "timeout", terr, "before_response" end
  local sent, serr = sock:send(request)
  if not sent then return nil, kind_of("send", serr), serr, "before_response" end
  local status, line, h
  while true do
    local err
    line, err = read_line(sock, deadline)
    if not line then return nil, kind_of("read", err), err, status and "headers" or "before_response" end
    status = tonumber(line:match("^HTTP/1%.%d (%d%d%d)"))
    if not status then return nil, "transport", "not an HTTP/1.x response", "headers" end
    h, err = read_headers(sock, deadline)
    if not h then return nil, kind_of("read", err), err, "headers" end
    if status >= 200 or status == 101 then break end
  end
  local body, berr, flag = read_body(sock, status, method, h, self.max_body_size, deadline,
    status >= 200 and status < 300 and deliver or nil)
  if not body then
    if flag then return nil, flag, berr, "body" end
    return nil, kind_of("read", berr), berr, "body"
  end
  local reusable = berr -- on success read_body's second value says whether the framing allows reuse
  if reusable and (has_token(h.connection, "close") or (line:match("^HTTP/1%.0") and not has_token(h.connection, "keep-alive"))) then
    reusable = false
  end
  if reusable then
    sock:setkeepalive(self.keepalive_timeout, self.pool_size)
  else
    sock:close()
  end
  return status, h, body
end

-- A sink (req.sink): a function(chunk) or an open file; returns deliver(chunk) -> true | nil, why.
-- The function returning false, or nil and a message, or raising, stops the transfer (kind "sink").
local function sink_of(s)
  if s == nil then return nil end
  local write
  if type(s) == "function" then
    write = s
  elseif io.type(s) == "file" then
    write = function(chunk)
      local ok, err = s:write(chunk)
      if not ok then return nil, err end
    end
  else
    error(NAME .. ": 'sink' must be a function or an open file (got " .. (io.type(s) or type(s)) .. ")", 3)
  end
  return function(chunk)
    local ok, r, why = pcall(write, chunk)
    if not ok then return nil, "the sink raised: " .. tostring(r) end
    if r == false or (r == nil and why ~= nil) then return nil, "the sink stopped the transfer: " .. tostring(why) end
    return true
  end
end

-- t:send(req) -> status, headers, body | nil, msg, err (see docs/design.md)
function Transport:send(req)
  check_open(self)
  local method = credentials.check_request(req, NAME)
  local lines, body = self._creds.wire(req)
  local deliver = sink_of(req.sink)
  local url = req.url
  local phase = ngx and ngx.get_phase and ngx.get_phase()
  if not phase or not COSOCKET_PHASES[phase] then
    return fail(method, url, "config", "cosockets are not available in the '" .. tostring(phase) .. "' phase of nginx: "
      .. "make the call from a timer, ngx.timer.at(0, function(premature) ... end), or a rewrite/access/content handler")
  end
  local u, why = parse_url(url)
  if not u then return fail(method, url, "transport", "bad URL: " .. why) end
  local timeout = tonumber(req.timeout_ms) or self.timeout
  local connect_ms = tonumber(req.connect_timeout_ms) or self.connect_timeout
  if connect_ms <= 0 then connect_ms = DEFAULTS.connect_timeout end
  local deadline = now_ms() + (timeout > 0 and timeout or 2147483647)
  local request = build_request(self, method, u, lines, body)
  -- may the transport repeat this request on a new connection when a reused one died under it?
  -- retry = true: yes; retry = false or once = true: never; neither given: idempotent methods only
  local repeatable = req.retry == true or (req.retry == nil and IDEMPOTENT[method] == true)
  if req.once == true then repeatable = false elseif req.once == false and req.retry == nil then repeatable = true end
  for _ = 1, 3 do
    local sock, reused, detail = connect(self, u, connect_ms, deadline, not repeatable)
    if not sock then return fail(method, url, reused, detail) end
    local status, h, rbody, stage = exchange(self, sock, method, request, deadline, deliver)
    if status then return status, h, rbody end
    local kind, err = h, rbody
    sock:close()
    local stale = reused > 0 and stage == "before_response" and (err == "closed" or tostring(err):find("reset", 1, true))
    if not stale then
      if kind == "too_large" or kind == "sink" then return fail(method, url, kind, err) end
      return fail(method, url, kind, explain(kind, err, u))
    end
    if not repeatable then
      return fail(method, url, _M.UNKNOWN_OUTCOME, "the reused connection closed before any answer: the request "
        .. "may or may not have reached the server, and it is sent at most once (once = true)")
    end
    -- idempotent: go again on another connection
  end
  return fail(method, url, "transport", "the pooled connections kept closing")
end

function Transport:set_credentials(c)
  check_open(self)
  self._creds.set(c)
end

function Transport:set_token(token)
  check_open(self)
  self._creds.set_token(token)
end

function Transport:auth_kind()
  check_open(self)
  return self._creds.auth_kind()
end

function Transport:can_signin()
  check_open(self)
  return self._creds.can_signin()
end

function Transport.now_ms()
  return now_ms()
end

-- Yields to nginx (other requests run meanwhile). In a phase without ngx.sleep it returns at
-- once: the call that follows fails there with kind "config".
function Transport.sleep_ms(_, ms)
  if ms <= 0 then return end
  local phase = ngx.get_phase()
  if COSOCKET_PHASES[phase] then ngx.sleep(ms / 1000) end
end

-- Can client:batch run its calls in light threads here (tiledesk.batch_ngx)?
function Transport.spawns()
  return ngx ~= nil and ngx.thread ~= nil and COSOCKET_PHASES[ngx.get_phase()] == true
end

function Transport:close()
  if self.closed then return end
  self.closed = true
  self._creds.clear()
end

function Transport:__tostring()
  return NAME .. " (" .. (self.closed and "closed" or self._creds.auth_kind()) .. ")"
end

return _M
