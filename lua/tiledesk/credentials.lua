-- Credentials for transports written in Lua (transport/ngx.lua, the specs' fake). The email,
-- password and token live in the closures of one object, never in a table field, and this
-- module does what the C core does for the curl transport: the Authorization value, the sign-in
-- body and the token hand-over (see docs/design.md, "Credentials in Lua transports").
--
--   local creds = require("tiledesk.credentials").new("tiledesk.transport.ngx")
--   creds.set{ mode = "jwt", email = e, password = p, token = t }
--   local lines, body = creds.wire(req)   -- header pairs and body as they go out
local _M = {}

local byte, concat, floor = string.byte, table.concat, math.floor

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local B64C = {}
for i = 1, 64 do B64C[i - 1] = B64:sub(i, i) end

-- Standard base64 with padding (RFC 4648), in arithmetic only: the same under Lua 5.1, 5.4, LuaJIT.
local function base64(s)
  local out, n = {}, #s
  for i = 1, n - 2, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a * 65536 + b * 256 + c
    out[#out + 1] = B64C[floor(v / 262144)] .. B64C[floor(v / 4096) % 64] .. B64C[floor(v / 64) % 64] .. B64C[v % 64]
  end
  local rest = n % 3
  if rest == 1 then
    local a = byte(s, n)
    out[#out + 1] = B64C[floor(a / 4)] .. B64C[(a % 4) * 16] .. "=="
  elseif rest == 2 then
    local a, b = byte(s, n - 1, n)
    out[#out + 1] = B64C[floor(a / 4)] .. B64C[(a % 4) * 16 + floor(b / 16)] .. B64C[(b % 16) * 4] .. "="
  end
  return concat(out)
end
_M.base64 = base64

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

-- A JSON string literal escaped as the C core does: quote, backslash, \n \r \t, other control
-- bytes and DEL as \u00XX; every other byte (UTF-8 included) as it is.
local function json_string(s)
  return '"' .. s:gsub('[%c"\\\127]', function(c)
    return ESC[c] or string.format("\\u%04x", byte(c))
  end) .. '"'
end
_M.json_string = json_string

-- CR, LF or NUL: what would split a line (email, password)
local function has_ctl(s)
  return s:find("[\r\n%z]") ~= nil
end

-- a field value (RFC 9110 5.5): no control byte but HTAB, no DEL (tokens, header values)
local function bad_field_value(s)
  return s:find("[%z\1-\8\10-\31\127]") ~= nil
end

-- an HTTP token (method, header name): visible ASCII without separators
local function is_token(s)
  return type(s) == "string" and s ~= "" and not s:find("[%z\1-\32\127-\255%(%)<>@,;:\\\"/%[%]%?={}]")
end
_M.is_token = is_token

-- headers the transport frames itself: a caller's copy would break the framing
local MANAGED = { ["content-length"] = true, ["transfer-encoding"] = true, expect = true, connection = true,
  host = true }
_M.MANAGED = MANAGED

local MODES = { none = true, basic = true, jwt = true }
local SEND_MODES = { credentials = true, none = true, signin = true, header = true }
local CRED_KEYS = { mode = true, email = true, password = true, token = true }

local Creds = {}
Creds.__name = "tiledesk.credentials"

-- new(what): `what` names the owner in misuse messages ("tiledesk.transport.ngx").
function _M.new(what)
  what = what or "tiledesk.credentials"
  local mode, email, password, token = "none", nil, nil, nil
  local self = {}

  local function kind()
    if mode == "basic" and email and password then return "basic" end
    if mode == "jwt" and token then return "jwt" end
    return "none"
  end

  -- All or nothing: every value is checked before the old ones are dropped.
  function self.set(c)
    if type(c) ~= "table" then error(what .. ":set_credentials(): table expected, got " .. type(c), 3) end
    for k in pairs(c) do
      if not CRED_KEYS[k] then error(what .. ":set_credentials(): unknown option '" .. tostring(k) .. "'", 3) end
    end
    local m = c.mode == nil and "none" or c.mode
    if not MODES[m] then error(what .. ":set_credentials(): mode must be \"none\", \"basic\" or \"jwt\"", 3) end
    for _, f in ipairs({ "email", "password", "token" }) do
      if c[f] ~= nil and type(c[f]) ~= "string" then
        error(what .. ":set_credentials(): option '" .. f .. "' must be a string (got " .. type(c[f]) .. ")", 3)
      end
    end
    for _, f in ipairs({ "email", "password" }) do
      if c[f] and has_ctl(c[f]) then error(what .. ":set_credentials(): option '" .. f .. "' contains CR, LF or NUL", 3) end
    end
    if c.token and bad_field_value(c.token) then
      error(what .. ":set_credentials(): option 'token' contains a control character", 3)
    end
    if m == "basic" and not (c.email and c.password) then
      error(what .. ":set_credentials(): mode 'basic' needs email and password", 3)
    end
    mode, email, password, token = m, c.email, c.password, c.token
  end

  -- Replaces (or with nil drops) the JWT; the old one stays when the new one is refused.
  function self.set_token(t)
    if t ~= nil and type(t) ~= "string" then error(what .. ":set_token(): string or nil expected", 3) end
    if t and bad_field_value(t) then error(what .. ":set_token(): the token contains a control character", 3) end
    token = t
    if t then mode = "jwt" end
  end

  self.auth_kind = kind

  function self.can_signin()
    return email ~= nil and password ~= nil
  end

  -- The Authorization value for auth = "credentials" (nil when there is nothing to send).
  function self.authorization()
    local k = kind()
    if k == "basic" then return "Basic " .. base64(email .. ":" .. password) end
    if k == "jwt" then
      local p = token:sub(1, 4)
      if p == "JWT " or p == "jwt " then return token end
      return "JWT " .. token
    end
    return nil
  end

  -- {"email":...,"password":...} with the C core's escaping; raises without both.
  function self.signin_body()
    if not (email and password) then
      error(what .. ":send(): auth='signin' needs email and password credentials", 3)
    end
    return '{"email":' .. json_string(email) .. ',"password":' .. json_string(password) .. "}"
  end

  function self.clear()
    mode, email, password, token = "none", nil, nil, nil
  end

  -- The header lines and body of req as they go on the wire (after checking them as the C core
  -- does): an array of { name, value } and the body string or nil. The caller's authorization
  -- header is dropped unless req.auth == "header"; managed headers (framing) raise.
  function self.wire(req)
    local send_mode = req.auth == nil and "credentials" or req.auth
    if not SEND_MODES[send_mode] then
      error(what .. ":send(): auth must be \"credentials\", \"none\", \"signin\" or \"header\"", 3)
    end
    local lines = {}
    if req.headers ~= nil then
      if type(req.headers) ~= "table" then error(what .. ":send(): headers must be a table", 3) end
      for n, v in pairs(req.headers) do
        if type(n) ~= "string" then error(what .. ":send(): header names must be strings", 3) end
        if type(v) ~= "string" and type(v) ~= "number" then error(what .. ":send(): header values must be strings", 3) end
        if not is_token(n) then error(what .. ":send(): invalid header name", 3) end
        local ln = n:lower()
        if MANAGED[ln] then error(what .. ":send(): header '" .. n .. "' is set by the transport", 3) end
        v = tostring(v)
        if bad_field_value(v) then
          error(what .. ":send(): header '" .. n .. "' contains a control character (only tab is allowed)", 3)
        end
        if send_mode == "header" or ln ~= "authorization" then lines[#lines + 1] = { n, v } end
      end
      table.sort(lines, function(a, b) return a[1] < b[1] end)
    end
    local body = req.body
    if body ~= nil and type(body) ~= "string" then error(what .. ":send(): option 'body' must be a string", 3) end
    if send_mode == "credentials" then
      local a = self.authorization()
      if a then lines[#lines + 1] = { "Authorization", a } end
    elseif send_mode == "signin" then
      body = self.signin_body()
      lines[#lines + 1] = { "Content-Type", "application/json" }
    end
    return lines, body
  end

  return setmetatable(self, Creds)
end

function Creds:__tostring()
  return "tiledesk.credentials (" .. self.auth_kind() .. ")"
end

-- The checks of a request shared by Lua transports: method token, URL without spaces or
-- control characters. Raises like the C core.
function _M.check_request(req, what)
  if type(req) ~= "table" then error(what .. ":send(): table expected", 3) end
  local m = req.method == nil and "GET" or req.method
  if not is_token(m) then error(what .. ":send(): invalid method", 3) end
  if type(req.url) ~= "string" then error(what .. ":send(): option 'url' is required (a string)", 3) end
  if req.url:find("[%z\1-\32\127]") then error(what .. ":send(): url contains a control character or space", 3) end
  return m
end

return _M
