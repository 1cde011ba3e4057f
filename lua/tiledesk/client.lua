-- The client, read as the story of one call:
--   client:get(path) / client:request{} -> options checked (tiledesk.options) -> signed in if
--   needed (tiledesk.auth) -> the send loop (tiledesk.send: rate limiter, hooks, transport,
--   retry policy, log line, one repeat after a new sign-in) -> the answer shaped (call()).
-- Secrets never live in this table: the transport holds them (see docs/design.md).
local json = require("tiledesk.json")
local url = require("tiledesk.url")
local E = require("tiledesk.error")
local options = require("tiledesk.options")
local auth = require("tiledesk.auth")
local send = require("tiledesk.send")
local ratelimit = require("tiledesk.ratelimit")
local redact = require("tiledesk.redact")
local log = require("tiledesk.log")
local resources = require("tiledesk.resources")
local response = require("tiledesk.response")

local _M = { _VERSION = "0.1.0" }

local Client = {}
Client.__index = Client
Client.__name = "tiledesk.Client"
_M.Client = Client
_M.OPTIONS = options.CLIENT

local DEFAULT_BASE_URL = "https://api.tiledesk.com/v3"

-- Inside nginx with ngx_lua (cosockets): the ngx transport; elsewhere the curl one (C core).
-- A name ("curl", "ngx") picks one; tiledesk.core is loaded only when curl is chosen.
local function in_nginx()
  local n = rawget(_G, "ngx")
  return type(n) == "table" and type(n.get_phase) == "function" and type(n.socket) == "table"
end
_M.in_nginx = in_nginx

local function default_transport(cfg)
  local name = type(cfg.transport) == "string" and cfg.transport or (in_nginx() and "ngx" or "curl")
  return require("tiledesk.transport." .. name).new{
    timeout = cfg.timeout, connect_timeout = cfg.connect_timeout, ssl_verify = cfg.ssl_verify,
    cafile = cfg.cafile, capath = cfg.capath, proxy = cfg.proxy,
    max_body_size = cfg.max_body_size, user_agent = cfg.user_agent,
  }
end

-- Builds a client from checked options. The password and token go to the transport only.
-- level: where misuse errors point (2 = the caller of this function).
function _M.new(opts, what, level)
  what = what or "tiledesk.new()"
  level = level or 2
  local cfg = options.client(opts, what, nil, level)
  local base, why = url.base(cfg.base_url or DEFAULT_BASE_URL)
  if not base then error(what .. ": option 'base_url' must be " .. why, level) end
  if cfg.project_id ~= nil then
    local _, perr = url.segment(cfg.project_id)
    if perr then error(what .. ": option 'project_id' " .. perr, level) end
  end
  if (cfg.email == nil) ~= (cfg.password == nil) then
    error(what .. ": options 'email' and 'password' go together", level)
  end
  if cfg.token ~= nil then
    if cfg.token:match("^%s*$") then error(what .. ": option 'token' is empty", level) end
    if cfg.token:match("^[Bb][Ee][Aa][Rr][Ee][Rr] ") then
      error(what .. ": option 'token': Tiledesk refuses 'Bearer'; give the token as the server sent it ('JWT ...')",
        level)
    end
  end
  local mode = cfg.auth or "jwt"
  if mode == "basic" and not cfg.email then error(what .. ": auth 'basic' needs email and password", level) end
  if mode == "basic" and cfg.token then error(what .. ": auth 'basic' does not use a token", level) end
  if (cfg.rate_limit_store or cfg.rate_limit_key) and not cfg.rate_limit then
    error(what .. ": options 'rate_limit_store' and 'rate_limit_key' need 'rate_limit'", level)
  end

  if url.plain_remote(base) and (cfg.email or cfg.token) and not cfg.allow_insecure_http then
    error(what .. ": credentials would cross the network in plain text to " .. base
      .. ": use https, or allow_insecure_http = true", level)
  end

  local transport = cfg.transport
  if transport == nil or type(transport) == "string" then transport = default_transport(cfg) end
  transport:set_credentials{ mode = mode, email = cfg.email, password = cfg.password, token = cfg.token }
  -- secret values the client holds, hidden by value wherever text is shown (a closure: never a field)
  local ops = { n = 0 }  -- method -> path -> the call's name in messages (see op_of)
  local urls = { n = 0 } -- path -> { URL, URL as shown } of calls without a query (tiledesk.send)
  local scrub, remember = redact.scrubber(function()
    for _, memo in ipairs{ ops, urls } do
      for k in pairs(memo) do memo[k] = nil end
      memo.n = 0
    end
  end)
  remember(cfg.password)
  remember(cfg.token)

  return setmetatable({
    base_url = base,
    project_id = cfg.project_id,
    timezone = cfg.timezone or "UTC", -- date filters are read in it (tiledesk.filters)
    auth = mode,
    _transport = transport,
    _timeout = cfg.timeout or 15000,
    _attempt_timeout = cfg.attempt_timeout,
    _insecure_ok = cfg.allow_insecure_http,
    _scrub = scrub,
    _remember = remember,
    _ops = ops,
    _urls = urls,
    _connect_timeout = cfg.connect_timeout or 5000,
    _retries = cfg.retries or 3,
    _retry_base = cfg.retry_base_ms or 200,
    _retry_max = cfg.retry_max_ms or 10000,
    _limiter = cfg.rate_limit and ratelimit.new{ per_minute = cfg.rate_limit, store = cfg.rate_limit_store,
      key = cfg.rate_limit_key },
    _on_request = cfg.on_request,
    _on_response = cfg.on_response,
    _log = log.sink(cfg.log),
    -- nothing to do around a call but send it: plain calls may take tiledesk.send's quick path
    -- (false on a with{} view and once closed)
    _plain = not (cfg.rate_limit or cfg.on_request or cfg.on_response or log.sink(cfg.log)),
  }, Client)
end

function Client:__tostring()
  return string.format("tiledesk.Client(base_url=%s, project=%s, auth=%s)", self.base_url,
    tostring(self.project_id), self._closed and "closed" or self._transport:auth_kind())
end

function Client:auth_kind()
  return self._transport:auth_kind()
end

-- client:with{ retry = true, retries = n, timeout = ms }: the same client (one connection, the
-- same credentials, hooks, log and rate limit) whose calls, resource methods included, carry
-- these options unless a call gives its own. retry = true lets a POST or PATCH be repeated.
function Client:with(opts)
  local given = options.with(opts, 2)
  local base = rawget(self, "_base") or self
  local merged = {}
  for k, v in pairs(rawget(self, "_call_opts") or {}) do merged[k] = v end
  for k, v in pairs(given) do merged[k] = v end
  -- reads fall through to the client, writes (state such as the closed flag) go to it
  local view = setmetatable({}, { __index = base, __newindex = base, __name = Client.__name,
    __tostring = function() return tostring(base) end, __close = function() base:close() end })
  rawset(view, "_base", base)
  rawset(view, "_call_opts", merged)
  rawset(view, "_plain", false) -- its calls carry options: never tiledesk.send's quick path
  resources.attach(view) -- resources of its own, carrying its options
  return view
end

-- Fills the call options of a with{} view into a request spec (the call's own win).
local function apply_call_opts(self, spec)
  local o = rawget(self, "_call_opts")
  if not o then return spec end
  local s = {}
  for k, v in pairs(spec) do s[k] = v end
  for k, v in pairs(o) do if s[k] == nil then s[k] = v end end
  return s
end

-- Idempotent; later calls raise. Also the __close of `local c <close> = tiledesk.new{...}`.
function Client:close()
  if self._closed then return end
  self._closed = true -- (on a with{} view: set in the client, through the view's __newindex)
  rawset(rawget(self, "_base") or self, "_plain", false) -- (send.first: the full path raises when closed)
  self._transport:close()
end
Client.__close = function(self) self:close() end

-- client:batch(calls, { concurrency = 16 }) -> results, failed: see tiledesk.batch.
function Client:batch(calls, opts)
  if self._closed then error("client:batch(): the client is closed", 2) end
  return require("tiledesk.batch").run(self, calls, opts)
end

local function check_open(self, what, level)
  if self._closed then error(what .. ": the client is closed", level + 1) end
end

-- What a path looks like in messages: secrets in its query redacted, control characters escaped,
-- so that a message stays one line and carries no token.
-- Memoised per client and method (a loop over one path builds its name once); the memo is
-- emptied when the client learns a new secret value, and bounded.
local function shown_path(self, path)
  return E.escape(self._scrub(redact.url(path)))
end
local function op_of(self, method, path)
  local memo = self._ops
  local m = memo[method]
  if not m then
    m = {}
    memo[method] = m
  end
  local op = m[path]
  if not op then
    if memo.n >= 256 then
      for k in pairs(memo) do memo[k] = nil end
      memo.n = 0
      m = {}
      memo[method] = m
    end
    op = method .. " " .. shown_path(self, path)
    m[path], memo.n = op, memo.n + 1
  end
  return op
end

Client._send = send.run

-- Whether a checked spec holds nothing but method, path, query (and project = true, a
-- resource's way of saying the path is the project's), and raw when raw_ok (client:request,
-- which raw changes nothing for): send.first can make it.
local function only_query(spec, raw_ok)
  for k, v in next, spec do
    if k ~= "method" and k ~= "path" and k ~= "query" and not (k == "project" and v == true)
      and not (raw_ok and k == "raw") then
      return false
    end
  end
  return true
end

-- res = { status, headers, body, json } for any HTTP status; nil, msg, err when no response
-- came (or when the sign-in it needed failed).
function Client:request(spec)
  -- method and path (and raw) only, or with a query table as well: the quick path (send.first)
  if self:_quick(spec, 2) then
    local method, path, query = spec.method, spec.path, spec.query
    local status, rheaders, rbody, ctype, deadline, memo, sent = send.first(self, method, path, nil, query)
    if status ~= false then
      return send.settle(self, method, path, op_of, 3, status, rheaders, rbody, ctype, deadline, memo, query, sent)
    end
  end
  if rawget(self, "_call_opts") then spec = apply_call_opts(self, spec) end
  local op = spec.op or op_of(self, spec.method, spec.path)
  if self._closed then check_open(self, op, 2) end
  local deadline = send.deadline(self, spec)
  local ok, msg, err = auth.ensure(self, spec, deadline)
  if not ok then return nil, op .. ": " .. msg, err end
  return self:_send(spec, op, 3, deadline)
end

-- Whether client:request(spec) takes its quick path (method, path, query and raw only); raises
-- on a bad spec, at `level` above the caller (1: the caller; client:request, and tiledesk.batch's
-- lane, which checks every call before it sends any) ...
function Client:_quick(spec, level)
  return options.request(spec, "client:request()", (level or 1) + 1) or (self._plain and only_query(spec, true))
end

-- ... and what client:request returns once that path's first attempt came back (send.first's
-- values): a 2xx as it is, anything else on through the send loop.
function Client:_settle(method, path, query, status, rheaders, rbody, ctype, deadline, memo, sent)
  return send.settle(self, method, path, op_of, 3, status, rheaders, rbody, ctype, deadline, memo, query, sent)
end

-- nil, msg, err for an answer call() does not accept
local function fail(res, method, kind, m)
  if res.attempts and res.attempts > 1 then m = m .. " (after " .. res.attempts .. " attempts)" end
  local e = E.new{ kind = kind, status = res.status, body = res:safe_body(),
    method = method, url = res.url, retry_after = res.retry_after, attempts = res.attempts, msg = m }
  return nil, m, e
end

-- What call() returns for a final answer res: the decoded JSON of a 2xx (raw: the body; sink:
-- true), nil, msg, err for any other. op: the call's name (nil: made from method and path, when
-- a message needs it).
local function shape(self, res, op, method, path, raw, sink)
  local status = res.status
  if status < 200 or status >= 300 then
    op = op or op_of(self, method, path)
    if status >= 400 then
      local text = res:server_text()
      return fail(res, method, E.not_found(status, text) and "not_found" or "http", E.http_message(op, status, text, nil))
    end
    return fail(res, method, "http", op .. ": unexpected HTTP " .. status)
  end
  if sink then return true end -- the body went to the sink
  local body = res.body
  if raw then return body end
  if body == nil or body == "" then return true end
  local j = response.json_of(res)
  if j ~= nil then
    if j == json.null then
      return fail(res, method, "not_found", (op or op_of(self, method, path)) .. ": not found (the server answered null)")
    end
    if type(j) == "table" and j.success == false then
      local text = res:server_text()
      if E.not_found(status, text) then
        return fail(res, method, "not_found", (op or op_of(self, method, path)) .. ": not found: " .. text)
      end
    end
    return j
  end
  local v, derr = json.decode(body)
  if v == nil then
    return fail(res, method, "decode", (op or op_of(self, method, path)) .. ": response is not JSON ("
      .. tostring(res.decode_error or derr) .. ")" .. (res._hide and "" or (": " .. E.preview(self._scrub(redact.body(body, json))))))
  end
  return v
end

local is_json_type = response.is_json_type

-- A plain call's common answer, a 2xx JSON object or array, decoded without a response object;
-- nil for any other answer (what comes of it is send's).
local function decoded_2xx(status, rheaders, rbody, ctype)
  if status and status >= 200 and status < 300 and rbody ~= "" then
    if ctype == nil then ctype = response.content_type(rheaders) end
    if is_json_type(ctype) then
      local v, is_table = json.decode_text(rbody)
      if is_table == true and v.success ~= false then return v end
    end
  end
end
-- What quick_query returns for a call that is not plain (nothing was sent): the full path makes it.
local NOT_PLAIN = {}

-- A plain call with a query table or none (no body, headers or call options; see send.first):
-- sent at once, its common answer decoded here; any other answer is send.settle's (final as it
-- is, or on in send.run from that attempt: retries, a new sign-in, the error). op: the call's
-- name (nil: made when needed); level: what the caller would give send.run itself (one more is
-- added for this frame).
-- Returns what client:call would, or NOT_PLAIN.
local function quick_query(self, method, path, query, op, level)
  local status, rheaders, rbody, ctype, deadline, memo, sent = send.first(self, method, path, "non2xx", query)
  if status == false then return NOT_PLAIN end
  local v = decoded_2xx(status, rheaders, rbody, ctype)
  if v ~= nil then return v end
  local res, msg, err = send.settle(self, method, path, op_of, level + 1, status, rheaders, rbody, ctype, deadline,
    memo, query, sent, op)
  if not res then return nil, msg, err end
  return shape(self, res, op, method, path)
end

-- Decoded JSON on 2xx; nil, msg, err otherwise (kind "http" for 4xx/5xx).
-- what: the name misuse errors give (default op).
-- checked (internal): the spec was checked by the caller (client:get and friends without opts).
function Client:call(op, spec, what, checked)
  if not checked then options.request(spec, what or op, 2)
  elseif self._plain and only_query(spec) then -- (a resource's list or read, client:get with a query)
    local v, msg, err = quick_query(self, spec.method, spec.path, spec.query, op, 4) -- (level as _send's below)
    if v ~= NOT_PLAIN then return v, msg, err end
  end
  if rawget(self, "_call_opts") then spec = apply_call_opts(self, spec) end
  if self._closed then check_open(self, op, 3) end
  local deadline = send.deadline(self, spec)
  local ok, amsg, aerr = auth.ensure(self, spec, deadline)
  if not ok then return nil, op .. ": " .. amsg, aerr end
  local res, msg, err = self:_send(spec, op, 4, deadline)
  if not res then return nil, msg, err end
  return shape(self, res, op, spec.method, spec.path, spec.raw, spec.sink)
end

-- client:get(path, query, opts) / :delete(path, query, opts) / :post|put|patch(path, body, opts)

local function verb(method, with_body)
  local name = "client:" .. method:lower() .. "()"
  return function(self, path, arg, opts)
    if type(path) ~= "string" then error(name .. ": path must be a string", 2) end
    if opts ~= nil then
      local spec = { method = method, path = path }
      if with_body then spec.body = arg else spec.query = arg end
      if type(opts) ~= "table" then error(name .. ": opts must be a table", 2) end
      for k, v in pairs(opts) do
        if k == "method" or k == "path" then error(name .. ": opts cannot set " .. k, 2) end
        spec[k] = v
      end
      return self:call(op_of(self, method, path), spec, name)
    end
    -- no opts: the path and the one argument are all there is to check
    options.path(path, name, 2)
    if arg ~= nil then
      local ta = type(arg)
      if ta ~= "table" and not (with_body and ta == "string") then
        error(name .. ": '" .. (with_body and "body" or "query") .. "' must be a table" .. (with_body and " or string" or ""), 2)
      end
    end
    if arg == nil or not with_body then -- a plain call, with a query (a list, a page) or none
      -- (no header of a 2xx is read there: the transport may leave its block out)
      local v, msg, err = quick_query(self, method, path, arg, nil, 3) -- (as client:request's settle)
      if v ~= NOT_PLAIN then return v, msg, err end
    end
    local spec = { method = method, path = path }
    if with_body then spec.body = arg else spec.query = arg end
    return self:call(op_of(self, method, path), spec, name, true)
  end
end
Client.get = verb("GET", false)
Client.delete = verb("DELETE", false)
Client.post = verb("POST", true)
Client.put = verb("PUT", true)
Client.patch = verb("PATCH", true)

-- Signs in with the email and password given to tiledesk.new; returns the user.
Client.signin = auth.signin
-- Exchanges an externally signed JWT (sub "userexternal") for a Tiledesk token; returns the user.
Client.signin_with_custom_token = auth.signin_with_custom_token

local ANON_FIELDS = { firstname = options.is_str, lastname = options.is_str, email = options.is_str,
  attributes = function(v) return type(v) == "table" or "a table" end }

-- tiledesk.signin_anonymously{ base_url, project_id, firstname, lastname, email, attributes, ... }
-- Returns a guest client and its user, or nil, msg, err.
-- (called through tiledesk.signin_anonymously: misuse errors point two levels up)
function _M.signin_anonymously(opts)
  local what = "tiledesk.signin_anonymously()"
  local cfg = options.client(opts, what, ANON_FIELDS, 3)
  if not cfg.project_id then error(what .. ": option 'project_id' is required", 3) end
  if cfg.password or cfg.token then error(what .. ": a guest has no password or token", 3) end
  local body = { id_project = cfg.project_id, firstname = cfg.firstname, lastname = cfg.lastname,
    email = cfg.email, attributes = cfg.attributes }
  local copts = {}
  for k, v in pairs(cfg) do if options.CLIENT[k] and k ~= "email" then copts[k] = v end end
  local client = _M.new(copts, what, 4)
  auth.check_transport_security(client, what, 3)
  -- each sign-in creates a guest on the server: never repeated behind the caller's back
  local res, msg, err = client:_send({ method = "POST", path = "/auth/signinAnonymously", project = false,
    auth = "none", body = body, secret = "response" }, "signin_anonymously()", 4)
  if not res then return nil, msg, err end
  local user, m2, e2 = auth.adopt(client, "signin_anonymously()", res)
  if not user then return nil, m2, e2 end
  return client, user
end

return _M
