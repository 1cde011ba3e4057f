-- The client: configuration, auth policy, retries, rate limit, hooks, logging and request().
-- Secrets never live in this table: the transport holds them (see docs/design.md).
local json = require("tiledesk.json")
local url = require("tiledesk.url")
local E = require("tiledesk.error")

local _M = { _VERSION = "0.1.0" }

local Client = {}
Client.__index = Client
Client.__name = "tiledesk.Client"
_M.Client = Client

local DEFAULT_BASE_URL = "https://api.tiledesk.com/v3"

-- option name -> checker(value) returning true or an expectation string
local function is_ms(v) return type(v) == "number" and v >= 0 and v <= 2147483647 or "a number of ms >= 0" end
local function is_str(v) return type(v) == "string" or "a string" end
local function is_bool(v) return type(v) == "boolean" or "a boolean" end
local function is_fn(v) return type(v) == "function" or "a function" end
local function is_count(v)
  return type(v) == "number" and v >= 0 and v == math.floor(v) and v <= 100 or "an integer from 0 to 100"
end

local OPTIONS = {
  base_url = is_str, project_id = is_str, email = is_str, password = is_str, token = is_str,
  auth = function(v) return v == "jwt" or v == "basic" or '"jwt" or "basic"' end,
  timeout = is_ms, connect_timeout = is_ms, ssl_verify = is_bool,
  cafile = is_str, capath = is_str, proxy = is_str,
  max_body_size = function(v) return type(v) == "number" and v >= 0 or "a number of bytes" end,
  retries = is_count, retry_base_ms = is_ms, retry_max_ms = is_ms,
  rate_limit = function(v) return type(v) == "number" and v > 0 or "a number of requests per minute > 0" end,
  user_agent = is_str,
  transport = function(v)
    local t = type(v)
    if t ~= "table" and t ~= "userdata" then return "a transport object (see docs/design.md)" end
    for _, m in ipairs({ "send", "set_credentials", "set_token", "auth_kind", "can_signin", "now_ms", "sleep_ms",
      "close" }) do
      if type(v[m]) ~= "function" then return "a transport object with a '" .. m .. "' method" end
    end
    return true
  end,
  on_request = is_fn, on_response = is_fn,
  log = function(v) return v == true or v == false or type(v) == "function" or "a function or true" end,
}
_M.OPTIONS = OPTIONS

-- Validates and copies opts; raises (level 3: the caller of tiledesk.new) on misuse.
function _M.check_options(opts, what, extra)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error(what .. ": options must be a table", 3) end
  local copy = {}
  for k, v in pairs(opts) do
    local check = OPTIONS[k] or (extra and extra[k])
    if not check then error(what .. ": unknown option '" .. tostring(k) .. "'", 3) end
    local ok = check(v)
    if ok ~= true then error(what .. ": option '" .. k .. "' must be " .. ok .. " (got " .. type(v) .. ")", 3) end
    copy[k] = v
  end
  return copy
end

local RETRY_METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
local RETRY_STATUS = { [429] = true, [502] = true, [503] = true, [504] = true }
local RETRY_KINDS = { connect = true, timeout = true }
_M.RETRY_METHODS, _M.RETRY_STATUS, _M.RETRY_KINDS = RETRY_METHODS, RETRY_STATUS, RETRY_KINDS

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
  Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a civil date (proleptic Gregorian), without os.time's local zone.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Retry-After: delta seconds, or an HTTP date (IMF-fixdate, RFC 850, asctime). Returns seconds
-- from now (>= 0), or nil when absent or unreadable. now_s: current epoch seconds.
function _M.parse_retry_after(v, now_s)
  if type(v) == "table" then v = v[1] end
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") then return tonumber(v) end
  local d, mon, y, h, mi, s = v:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then
    d, mon, y, h, mi, s = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then
    mon, d, h, mi, s, y = v:match("^%a+ (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$")
  end
  if not d or not MONTHS[mon] then return nil end
  local t = days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  local delta = t - (now_s or os.time())
  if delta < 0 then delta = 0 end
  return delta
end

-- Full-jitter exponential backoff for retry number n (1-based).
function _M.backoff_ms(n, base, max, random)
  local cap = math.min(max, base * 2 ^ (n - 1))
  return math.floor((random or math.random)() * cap)
end

---------------------------------------------------------------------------------------------

local function default_transport(cfg)
  return require("tiledesk.transport.curl").new{
    timeout = cfg.timeout, connect_timeout = cfg.connect_timeout, ssl_verify = cfg.ssl_verify,
    cafile = cfg.cafile, capath = cfg.capath, proxy = cfg.proxy,
    max_body_size = cfg.max_body_size, user_agent = cfg.user_agent,
  }
end

local function stderr_log(line)
  io.stderr:write(line, "\n")
end

-- Builds a client from checked options. The password and token go to the transport only.
function _M.new(opts, what)
  what = what or "tiledesk.new()"
  local cfg = _M.check_options(opts, what)
  local base = url.base(cfg.base_url or DEFAULT_BASE_URL)
  if not base then error(what .. ": option 'base_url' must be an http(s) URL without query", 2) end
  if cfg.project_id ~= nil and cfg.project_id == "" then error(what .. ": option 'project_id' is empty", 2) end
  if (cfg.email == nil) ~= (cfg.password == nil) then
    error(what .. ": options 'email' and 'password' go together", 2)
  end
  local mode = cfg.auth or "jwt"
  if mode == "basic" and not cfg.email then error(what .. ": auth 'basic' needs email and password", 2) end
  if mode == "basic" and cfg.token then error(what .. ": auth 'basic' does not use a token", 2) end

  local transport = cfg.transport or default_transport(cfg)
  transport:set_credentials{ mode = mode, email = cfg.email, password = cfg.password, token = cfg.token }

  local log = cfg.log
  if log == true then log = stderr_log elseif log == false then log = nil end

  local self = setmetatable({
    base_url = base,
    project_id = cfg.project_id,
    auth = mode,
    _transport = transport,
    _timeout = cfg.timeout or 15000,
    _connect_timeout = cfg.connect_timeout or 5000,
    _retries = cfg.retries or 3,
    _retry_base = cfg.retry_base_ms or 200,
    _retry_max = cfg.retry_max_ms or 10000,
    _rate = cfg.rate_limit,
    _on_request = cfg.on_request,
    _on_response = cfg.on_response,
    _log = log,
  }, Client)
  if cfg.rate_limit then
    self._bucket_cap = math.max(1, cfg.rate_limit / 60)
    self._bucket = self._bucket_cap
    self._bucket_at = nil
  end
  return self
end

function Client:__tostring()
  return string.format("tiledesk.Client(base_url=%s, project=%s, auth=%s)", self.base_url,
    tostring(self.project_id), self._transport:auth_kind())
end

function Client:auth_kind()
  return self._transport:auth_kind()
end

function Client:close()
  if self._transport then self._transport:close() end
end

---------------------------------------------------------------------------------------------
-- request()

local REQUEST_KEYS = { method = true, path = true, query = true, body = true, headers = true,
  project = true, timeout = true, retries = true, retry = true, auth = true, op = true, raw = true }

local function copy_headers(h, redact)
  local out = {}
  for k, v in pairs(h or {}) do
    if redact and k:lower() == "authorization" then
      out[k] = (tostring(v):match("^(%S+)") or "") .. " [redacted]"
    else
      out[k] = v
    end
  end
  return out
end

-- Waits for a rate-limit token (client-side bucket refilled at rate/min).
function Client:_take_token()
  if not self._rate then return end
  local t = self._transport
  local now = t:now_ms()
  local per_ms = self._rate / 60000
  if self._bucket_at then
    self._bucket = math.min(self._bucket_cap, self._bucket + (now - self._bucket_at) * per_ms)
  end
  self._bucket_at = now
  if self._bucket < 1 then
    local wait = math.ceil((1 - self._bucket) / per_ms)
    t:sleep_ms(wait)
    local after = t:now_ms()
    self._bucket = math.min(self._bucket_cap, self._bucket + (after - now) * per_ms)
    self._bucket_at = after
  end
  self._bucket = self._bucket - 1
end

function Client:_build_url(path, query, project)
  local u = self.base_url
  if project ~= false then
    if not self.project_id then return nil, "a project-scoped call needs the 'project_id' option" end
    u = u .. "/" .. url.escape(self.project_id)
  end
  u = u .. path
  local ok, qs = pcall(url.query, query)
  if not ok then return nil, qs end
  if qs ~= "" then u = u .. (u:find("?", 1, true) and "&" or "?") .. qs end
  return u
end

local function is_json_type(headers)
  local ct = headers and headers["content-type"]
  if type(ct) == "table" then ct = ct[1] end
  return type(ct) == "string" and ct:lower():find("json", 1, true) ~= nil
end

local function log_line(self, method, shown_url, status, elapsed, attempt, note)
  if not self._log then return end
  local line = string.format("tiledesk: %s %s -> %s in %d ms (attempt %d%s)", method, shown_url,
    tostring(status), math.floor(elapsed + 0.5), attempt, note and (", " .. note) or "")
  self._log(line)
end

-- Sends one logical request with retries; returns res | nil, msg, err.
function Client:_send(spec, op)
  local t = self._transport
  local method = spec.method
  local full_url, uerr = self:_build_url(spec.path, spec.query, spec.project)
  if not full_url then error(op .. ": " .. uerr, 3) end
  local shown_url = url.redact(full_url)

  local headers = { accept = "application/json" }
  for k, v in pairs(spec.headers or {}) do headers[k:lower()] = v end
  local body = spec.body
  if type(body) == "table" then
    local text, jerr = json.encode(body)
    if not text then error(op .. ": body cannot be encoded as JSON: " .. tostring(jerr), 3) end
    body = text
  end
  if body ~= nil and not headers["content-type"] then headers["content-type"] = "application/json" end
  local auth = spec.auth or "credentials"
  if auth == "header" and not headers.authorization then
    error(op .. ": auth 'header' needs an authorization header", 3)
  end

  local max_attempts = 1 + (spec.retries or self._retries)
  local may_retry = RETRY_METHODS[method] or spec.retry == true
  local timeout = spec.timeout or self._timeout
  local reauthed = false
  local attempt = 0
  local req = {
    method = method, url = full_url, headers = headers, body = body,
    timeout_ms = timeout, connect_timeout_ms = self._connect_timeout, auth = auth,
  }
  -- sign-in calls: the request (password) or the response (token) must not reach hooks
  local secret_body = auth == "signin" or spec.secret_response == true

  while true do
    attempt = attempt + 1
    self:_take_token()
    if self._on_request then
      self._on_request{ method = method, url = shown_url, headers = copy_headers(headers, true),
        body = auth == "signin" and "[redacted]" or body, attempt = attempt, op = op }
    end
    local started = t:now_ms()
    local status, rheaders, rbody = t:send(req)
    local elapsed = t:now_ms() - started
    local err
    if not status then
      -- the transport said nil, msg, err: no response came
      local tmsg, terr = rheaders, rbody
      if type(terr) ~= "table" then terr = {} end
      err = E.new{ kind = terr.kind or "transport", code = terr.code, method = method, url = shown_url,
        attempts = attempt }
      err.msg = op .. ": " .. url.redact(tostring(tmsg))
    end
    if self._on_response then
      local shown_body = rbody
      if secret_body and type(rbody) == "string" then shown_body = "[redacted]" end
      self._on_response{ method = method, url = shown_url, status = status, headers = status and rheaders,
        body = status and shown_body or nil, elapsed_ms = elapsed, attempt = attempt, op = op,
        err = err }
    end

    -- decide what comes next
    local retry_ms, retry_after
    if err then
      if may_retry and RETRY_KINDS[err.kind] and attempt < max_attempts then
        retry_ms = _M.backoff_ms(attempt, self._retry_base, self._retry_max)
      end
      log_line(self, method, shown_url, err.kind, elapsed, attempt,
        retry_ms and ("retrying in " .. retry_ms .. " ms") or nil)
      if not retry_ms then
        if attempt > 1 then err.msg = err.msg .. " (after " .. attempt .. " attempts)" end
        return nil, err.msg, err
      end
    else
      if status == 401 and not reauthed and self.auth == "jwt" and auth == "credentials"
        and t:can_signin() then
        log_line(self, method, shown_url, status, elapsed, attempt, "signing in again")
        reauthed = true
        local user, smsg, serr = self:signin()
        if not user then return nil, smsg, serr end
        attempt = attempt - 1 -- the repeat after a new sign-in is not a retry
        retry_ms = -1
      elseif RETRY_STATUS[status] and may_retry and attempt < max_attempts then
        retry_after = _M.parse_retry_after(rheaders and rheaders["retry-after"])
        if retry_after then
          if retry_after * 1000 <= self._retry_max then retry_ms = math.floor(retry_after * 1000) end
        else
          retry_ms = _M.backoff_ms(attempt, self._retry_base, self._retry_max)
        end
      end
      if retry_ms == nil then
        log_line(self, method, shown_url, status, elapsed, attempt)
        local res = { status = status, headers = rheaders or {}, body = rbody, attempts = attempt }
        if RETRY_STATUS[status] then
          res.retry_after = _M.parse_retry_after(rheaders and rheaders["retry-after"])
        end
        if is_json_type(rheaders) and type(rbody) == "string" and rbody ~= "" then
          local v, derr = json.decode(rbody)
          if v == nil and derr then
            res.decode_error = derr
          else
            res.json = v
          end
        end
        return res
      end
      if retry_ms >= 0 then
        log_line(self, method, shown_url, status, elapsed, attempt, "retrying in " .. retry_ms .. " ms")
      end
    end
    if retry_ms >= 0 then t:sleep_ms(retry_ms) end
  end
end

local function check_request_spec(spec, what)
  if type(spec) ~= "table" then error(what .. ": table expected, got " .. type(spec), 3) end
  for k in pairs(spec) do
    if not REQUEST_KEYS[k] then error(what .. ": unknown field '" .. tostring(k) .. "'", 3) end
  end
  if type(spec.method) ~= "string" or not spec.method:match("^%u+$") then
    error(what .. ": 'method' must be an upper-case HTTP method", 3)
  end
  if type(spec.path) ~= "string" or spec.path:sub(1, 1) ~= "/" then
    error(what .. ": 'path' must be a string starting with /", 3)
  end
  if spec.path:find("[%s%c]") then error(what .. ": 'path' contains spaces or control characters", 3) end
  local qt = type(spec.query)
  if qt ~= "nil" and qt ~= "table" then error(what .. ": 'query' must be a table", 3) end
  local bt = type(spec.body)
  if bt ~= "nil" and bt ~= "table" and bt ~= "string" then error(what .. ": 'body' must be a table or string", 3) end
  if spec.headers ~= nil and type(spec.headers) ~= "table" then error(what .. ": 'headers' must be a table", 3) end
  if spec.project ~= nil and type(spec.project) ~= "boolean" then error(what .. ": 'project' must be a boolean", 3) end
  if spec.timeout ~= nil and is_ms(spec.timeout) ~= true then error(what .. ": 'timeout' must be a number of ms", 3) end
  if spec.retries ~= nil and is_count(spec.retries) ~= true then error(what .. ": 'retries' must be an integer", 3) end
  if spec.retry ~= nil and type(spec.retry) ~= "boolean" then error(what .. ": 'retry' must be a boolean", 3) end
  if spec.auth ~= nil and spec.auth ~= "none" and spec.auth ~= "credentials" then
    error(what .. ": 'auth' must be \"none\" or \"credentials\"", 3)
  end
end

-- Signs in first when the client holds email+password for JWT and has no token yet.
function Client:_ensure_auth(spec)
  if spec.auth == "none" or self.auth ~= "jwt" then return true end
  local t = self._transport
  if t:auth_kind() == "none" and t:can_signin() then
    local user, msg, err = self:signin()
    if not user then return nil, msg, err end
  end
  return true
end

-- res = { status, headers, body, json } for any HTTP status; nil, msg, err when no response.
function Client:request(spec)
  check_request_spec(spec, "client:request()")
  local op = spec.op or (spec.method .. " " .. spec.path)
  local ok, msg, err = self:_ensure_auth(spec)
  if not ok then return nil, msg, err end
  return self:_send(spec, op)
end

-- Decoded JSON on 2xx; nil, msg, err otherwise (kind "http" for 4xx/5xx).
function Client:call(op, spec)
  check_request_spec(spec, op)
  local ok, amsg, aerr = self:_ensure_auth(spec)
  if not ok then return nil, amsg, aerr end
  local res, msg, err = self:_send(spec, op)
  if not res then return nil, msg, err end
  local function fail(kind, m)
    local shown_url = url.redact((self:_build_url(spec.path, spec.query, spec.project)))
    local e = E.new{ kind = kind, status = res.status, body = res.json ~= nil and res.json or res.body,
      method = spec.method, url = shown_url, retry_after = res.retry_after, attempts = res.attempts, msg = m }
    return nil, m, e
  end
  if res.status >= 400 then
    return fail("http", E.http_message(op, res.status, res.json, res.body))
  end
  if res.status < 200 or res.status >= 300 then
    return fail("http", op .. ": unexpected HTTP " .. res.status)
  end
  if spec.raw then return res.body end
  if res.body == nil or res.body == "" then return true end
  if res.json ~= nil then return res.json end
  local v, derr = json.decode(res.body)
  if v == nil then
    return fail("decode", op .. ": response is not JSON (" .. tostring(res.decode_error or derr) .. "): "
      .. E.preview(res.body))
  end
  return v
end

-- client:get(path, query, opts) / :delete(path, query, opts) / :post|put|patch(path, body, opts)
local function verb(method, with_body)
  return function(self, path, arg, opts)
    if type(path) ~= "string" then error("client:" .. method:lower() .. "(): path must be a string", 2) end
    local spec = { method = method, path = path }
    if with_body then spec.body = arg else spec.query = arg end
    if opts ~= nil then
      if type(opts) ~= "table" then error("client:" .. method:lower() .. "(): opts must be a table", 2) end
      for k, v in pairs(opts) do
        if k == "method" or k == "path" then error("client:" .. method:lower() .. "(): opts cannot set " .. k, 2) end
        spec[k] = v
      end
    end
    return self:call(method .. " " .. path, spec)
  end
end
Client.get = verb("GET", false)
Client.delete = verb("DELETE", false)
Client.post = verb("POST", true)
Client.put = verb("PUT", true)
Client.patch = verb("PATCH", true)

---------------------------------------------------------------------------------------------
-- auth

local function token_of(res)
  local j = res.json
  if type(j) == "table" and type(j.token) == "string" and j.token ~= "" then
    local tok = j.token
    j.token = nil
    res.body = nil -- the raw body carries the token too
    return tok, j
  end
  return nil
end

-- Finishes a sign-in style call: keeps the token in the transport, returns the user.
function Client:_adopt(op, res)
  if res.status ~= 200 then
    local body = res.json
    if type(body) == "table" then body.token = nil end
    local m = E.http_message(op, res.status, body, res.json == nil and res.body or nil)
    return nil, m, E.new{ kind = "http", status = res.status, body = body, method = "POST",
      url = self.base_url, attempts = res.attempts, msg = m }
  end
  local tok, j = token_of(res)
  if not tok then
    local m = op .. ": no token in the response"
    return nil, m, E.new{ kind = "decode", status = res.status, method = "POST", url = self.base_url,
      attempts = res.attempts, msg = m }
  end
  self._transport:set_token(tok)
  return j.user or j
end

-- Signs in with the email and password given to tiledesk.new; returns the user.
function Client:signin()
  if not self._transport:can_signin() then
    error("client:signin(): the client was created without email and password", 2)
  end
  if self.auth ~= "jwt" then error("client:signin(): auth 'basic' sends credentials on every call", 2) end
  local res, msg, err = self:_send({ method = "POST", path = "/auth/signin", project = false,
    auth = "signin", retry = true }, "signin()")
  if not res then return nil, msg, err end
  res.body = nil
  return self:_adopt("signin()", res)
end

-- Exchanges an externally signed JWT (sub "userexternal") for a Tiledesk token; returns the user.
function Client:signin_with_custom_token(jwt)
  if type(jwt) ~= "string" or jwt == "" then
    error("client:signin_with_custom_token(): jwt must be a non-empty string", 2)
  end
  if jwt:find("[%c]") then error("client:signin_with_custom_token(): jwt contains control characters", 2) end
  local header = jwt:match("^[Jj][Ww][Tt] ") and jwt or ("JWT " .. jwt)
  local res, msg, err = self:_send({ method = "POST", path = "/auth/signinWithCustomToken", project = false,
    auth = "header", headers = { authorization = header }, secret_response = true,
    body = self.project_id and { id_project = self.project_id } or nil }, "signin_with_custom_token()")
  if not res then return nil, msg, err end
  return self:_adopt("signin_with_custom_token()", res)
end

local ANON_FIELDS = { firstname = is_str, lastname = is_str, email = is_str,
  attributes = function(v) return type(v) == "table" or "a table" end }

-- tiledesk.signin_anonymously{ base_url, project_id, firstname, lastname, email, attributes, ... }
-- Returns a guest client and its user, or nil, msg, err.
function _M.signin_anonymously(opts)
  local what = "tiledesk.signin_anonymously()"
  local cfg = _M.check_options(opts, what, ANON_FIELDS)
  if not cfg.project_id then error(what .. ": option 'project_id' is required", 2) end
  if cfg.password or cfg.token then error(what .. ": a guest has no password or token", 2) end
  local body = { id_project = cfg.project_id, firstname = cfg.firstname, lastname = cfg.lastname,
    email = cfg.email, attributes = cfg.attributes }
  local copts = {}
  for k, v in pairs(cfg) do if OPTIONS[k] and k ~= "email" then copts[k] = v end end
  local client = _M.new(copts, what)
  local res, msg, err = client:_send({ method = "POST", path = "/auth/signinAnonymously", project = false,
    auth = "none", body = body, retry = true, secret_response = true }, "signin_anonymously()")
  if not res then return nil, msg, err end
  local user, m2, e2 = client:_adopt("signin_anonymously()", res)
  if not user then return nil, m2, e2 end
  return client, user
end

return _M
