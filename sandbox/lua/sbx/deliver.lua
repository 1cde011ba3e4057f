-- Outbound HTTP/1.1 for webhook deliveries: one POST per connection over ngx.socket.tcp,
-- bounded in time (per-step timeouts) and in size (header count, body bytes). http and https
-- targets; https goes through the cosocket's sslhandshake with SNI and WITHOUT certificate
-- verification: targets of a local sandbox are test servers on the loopback or the LAN,
-- usually with self-signed certificates, and the sandbox has no trust store of its own.
local _M = {}

_M.CONNECT_MS = 2000
_M.SEND_MS = 5000
_M.READ_MS = 5000
_M.MAX_HEADERS = 100
_M.MAX_BODY = 64 * 1024

local DEFAULT_PORT = { http = 80, https = 443 }

-- http[s]://host[:port][/path[?query]] -> host, port, path, tls ; nil, err otherwise
function _M.parse_url(u)
  if type(u) ~= "string" then return nil, "target is not a string" end
  local scheme, rest = u:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then return nil, "target is not an absolute URL" end
  scheme = scheme:lower()
  if not DEFAULT_PORT[scheme] then return nil, "only http and https targets are supported" end
  local authority, path = rest:match("^([^/?#]*)(.*)$")
  path = path:gsub("#.*$", "")
  if path == "" then path = "/" elseif path:sub(1, 1) == "?" then path = "/" .. path end
  local host, port = authority:match("^%[([^%]]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:@]+):?(%d*)$") end
  if not host or host == "" then return nil, "target has no host" end
  port = tonumber(port) or DEFAULT_PORT[scheme]
  if port < 1 or port > 65535 then return nil, "target port out of range" end
  return host, port, path, scheme == "https"
end

-- nginx cosockets resolve names only through a `resolver` directive, which the sandbox does
-- not configure (no DNS offline): IP literals pass, other names come from /etc/hosts.
local hosts_cache
local function hosts()
  if hosts_cache then return hosts_cache end
  hosts_cache = { localhost = "127.0.0.1" }
  local f = io.open(_M.HOSTS_FILE or "/etc/hosts", "r")
  if f then
    for _ = 1, 10000 do
      local line = f:read("*l")
      if not line then break end
      line = line:gsub("#.*$", "")
      local addr, names = line:match("^%s*(%S+)%s+(.+)$")
      if addr and addr:match("^%d+%.%d+%.%d+%.%d+$") then
        for name in names:gmatch("%S+") do
          name = name:lower()
          if not hosts_cache[name] then hosts_cache[name] = addr end
        end
      end
    end
    f:close()
  end
  return hosts_cache
end

function _M.resolve(host)
  if host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true) then return host end
  local addr = hosts()[host:lower()]
  if addr then return addr end
  return nil, "cannot resolve " .. host .. " (the sandbox has no DNS resolver: use an IP address or an /etc/hosts name)"
end

local function read_headers(sock)
  local headers = {}
  for _ = 1, _M.MAX_HEADERS do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    if line == "" then return headers end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      if headers[name] then headers[name] = headers[name] .. ", " .. value else headers[name] = value end
    end
  end
  return nil, "too many response headers"
end

-- Reads at most MAX_BODY bytes of the body; the rest is dropped with the connection.
local function read_body(sock, headers)
  local te = headers["transfer-encoding"]
  if te and te:lower():find("chunked", 1, true) then
    local parts, total = {}, 0
    for _ = 1, 10000 do
      local line, err = sock:receive("*l")
      if not line then return nil, err end
      local size = tonumber(line:match("^%s*(%x+)"), 16)
      if not size then return nil, "bad chunk size" end
      if size == 0 then return table.concat(parts) end
      if total + size > _M.MAX_BODY then return table.concat(parts) end
      local data
      data, err = sock:receive(size)
      if not data then return nil, err end
      parts[#parts + 1] = data
      total = total + size
      local crlf
      crlf, err = sock:receive("*l")
      if not crlf then return nil, err end
    end
    return nil, "too many chunks"
  end
  local len = tonumber(headers["content-length"])
  if len then
    if len <= 0 then return "" end
    return sock:receive(math.min(len, _M.MAX_BODY))
  end
  -- no length: read until the peer closes, up to the cap
  local data, err, partial = sock:receive(_M.MAX_BODY)
  if data then return data end
  if err == "closed" then return partial end
  return nil, err
end

-- POST body to url with headers (name -> value). Returns { status, headers, body } or nil, err.
function _M.post(url, body, headers)
  local host, port, path, tls = _M.parse_url(url)
  if not host then return nil, port end
  local addr, rerr = _M.resolve(host)
  if not addr then return nil, rerr end
  local sock = ngx.socket.tcp()
  sock:settimeouts(_M.CONNECT_MS, _M.SEND_MS, _M.READ_MS)
  local ok, err = sock:connect(addr, port)
  if not ok then return nil, "connect: " .. tostring(err) end
  if tls then
    -- SNI for names only (not for IP literals); verify = false, see the top of this file
    local sni = not (host:match("^%d+%.%d+%.%d+%.%d+$") or host:find(":", 1, true)) and host or nil
    ok, err = sock:sslhandshake(nil, sni, false)
    if not ok then sock:close() return nil, "tls: " .. tostring(err) end
  end
  local default_port = tls and 443 or 80
  local hosthdr = host:find(":", 1, true) and ("[" .. host .. "]") or host
  local lines = { "POST " .. path .. " HTTP/1.1", "Host: " .. (port == default_port and hosthdr or (hosthdr .. ":" .. port)),
    "Connection: close", "Content-Length: " .. #body }
  for k, v in pairs(headers or {}) do
    local lk = k:lower()
    if lk ~= "host" and lk ~= "content-length" and lk ~= "connection" then
      lines[#lines + 1] = k .. ": " .. tostring(v):gsub("[\r\n]", " ")
    end
  end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not ok then sock:close() return nil, "send: " .. tostring(err) end
  local status_line
  status_line, err = sock:receive("*l")
  if not status_line then sock:close() return nil, "receive: " .. tostring(err) end
  local status = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then sock:close() return nil, "bad status line" end
  local rh
  rh, err = read_headers(sock)
  if not rh then sock:close() return nil, "headers: " .. tostring(err) end
  local rb = ""
  if status >= 200 and status ~= 204 and status ~= 304 then
    rb, err = read_body(sock, rh)
    if not rb then sock:close() return { status = status, headers = rh, body = "", body_error = err } end
  end
  sock:close()
  return { status = status, headers = rh, body = rb }
end

-- The server's retry rule (retry-request defaults): 1xx, 429 and 5xx and "no response" are
-- retried, at most `retries` times; 2xx/3xx/4xx are final.
function _M.retryable(res)
  if not res then return true end
  local s = res.status
  return s < 200 or s == 429 or s >= 500
end

return _M
