-- The send loop: one logical request, its attempts, the waits between them and the one repeat
-- after a new sign-in, all inside one deadline (the call's `timeout`). Returns
-- res (tiledesk.response: status, headers, body, json, attempts, url, ...) for any HTTP status, or nil, msg, err
-- when no response came (or the sign-in it needed failed, or the deadline passed first).
local json = require("tiledesk.json")
local url = require("tiledesk.url")
local E = require("tiledesk.error")
local retry = require("tiledesk.retry")
local auth = require("tiledesk.auth")
local redact = require("tiledesk.redact")
local response = require("tiledesk.response")
local hooks = require("tiledesk.hooks")
local log = require("tiledesk.log")

local _M = {}

local find = string.find

-- The absolute URL of a call, or nil and why.
function _M.build_url(client, path, query, project)
  local u = client.base_url
  if project ~= false then
    if not client.project_id then return nil, "a project-scoped call needs the 'project_id' option" end
    if client._project_of ~= client.project_id then
      client._project_of, client._project_url = client.project_id, u .. "/" .. assert(url.segment(client.project_id))
    end
    u = client._project_url
  end
  u = u .. path
  if query ~= nil then
    local ok, qs = pcall(url.query, query)
    if not ok then return nil, qs end
    if qs ~= "" then u = u .. (path:find("?", 1, true) and "&" or "?") .. qs end
  end
  return u
end

-- The deadline (on the transport's clock) of a call that starts now, or nil (no limit).
function _M.deadline(client, spec)
  local ms = spec.timeout or client._timeout
  if ms == 0 then return nil end
  return client._transport:now_ms() + ms
end

-- The headers of a call that adds none: one table, read (never written) by the transports
-- (docs/design.md, "Transport interface").
local DEFAULT_HEADERS = { accept = "application/json" }

-- The client's URL memo (client._urls: path -> { URL, URL as shown }, and URL sent with a query
-- -> URL as shown), with room for one entry more: emptied when full (256) or made for another
-- project (a secret the client learns empties it too: tiledesk.client).
local function urls_memo(client)
  local memo = client._urls
  if memo.n >= 256 or memo.project ~= client.project_id then
    for k in pairs(memo) do memo[k] = nil end
    memo.n, memo.project = 0, client.project_id
  end
  return memo
end

-- { URL, URL as shown } of a project-scoped call without query on path, memoised per client;
-- nil and why when it cannot be built.
local function project_url(client, path)
  local known = client._project_of == client.project_id and client._urls[path]
  if known then return known end
  local full_url, uerr = _M.build_url(client, path, nil, true)
  if not full_url then return nil, uerr end
  local memo = urls_memo(client)
  known = { full_url, client._scrub(redact.url(full_url)) }
  memo[path], memo.n = known, memo.n + 1
  return known
end

-- The state of one call, made once: what goes out (req) and what may be shown of it.
-- spec.secret ("request", "response", "both") keeps that side's body out of hooks and errors.
local function prepare(client, spec, op, level)
  local scrub = client._scrub
  local full_url, shown_url, uerr
  if spec.query == nil and spec.project ~= false then
    local known
    known, uerr = project_url(client, spec.path)
    if known then full_url, shown_url = known[1], known[2] end
  else
    full_url, uerr = _M.build_url(client, spec.path, spec.query, spec.project)
    if full_url then shown_url = scrub(redact.url(full_url)) end
  end
  if not full_url then error(op .. ": " .. uerr, level) end
  local body = spec.body
  local headers = DEFAULT_HEADERS -- shared and never written: nothing to add
  if spec.headers or body ~= nil then
    headers = { accept = "application/json" }
    if spec.headers then
      for k, v in pairs(spec.headers) do headers[k:lower()] = v end
    end
  end
  if type(body) == "table" then
    local text, jerr = json.encode(body)
    if not text then error(op .. ": body cannot be encoded as JSON: " .. tostring(jerr), level) end
    body = text
  end
  if body ~= nil and not headers["content-type"] then headers["content-type"] = "application/json" end
  local mode = spec.auth or "credentials"
  if mode == "header" and not headers.authorization then
    error(op .. ": auth 'header' needs an authorization header", level)
  end
  local secret = mode == "signin" and "both" or spec.secret
  -- (two tables of at most 9 and 8 fields: what a call allocates is what the collector pays for)
  local req = { method = spec.method, url = full_url, headers = headers, timeout_ms = 0,
    connect_timeout_ms = client._connect_timeout, auth = mode, raw_headers = true,
    -- at most once, whatever the connection does, unless the call may be repeated
    once = not (retry.METHODS[spec.method] or spec.retry == true) }
  if body ~= nil then req.body = body end
  if spec.sink ~= nil then req.sink = spec.sink end
  -- method, auth, headers and the body sent are read from req
  return { op = op, value = spec.body, scrub = scrub, shown_url = shown_url,
    hide_request = secret == "request" or secret == "both",
    hide_response = secret == "response" or secret == "both",
    attempt_timeout = spec.attempt_timeout or client._attempt_timeout, req = req }
end

local function note(client, x, outcome, elapsed, sends, text)
  local sink = client._log
  if sink then sink(log.line(x.op, x.req.method, x.shown_url, outcome, elapsed, sends, text)) end
end

local function failure(x, kind, msg, sends, code)
  return E.new{ kind = kind, code = code, method = x.req.method, url = x.shown_url, attempts = sends,
    msg = x.op .. ": " .. msg }
end

-- One exchange: a rate-limit token, the hooks, the transport, each within the deadline.
-- Returns res (tiledesk.response: the answer, any HTTP status) or nil, err (no answer came),
-- and the elapsed ms.
local function exchange(client, x, sends, deadline)
  local t = client._transport
  if client._limiter then
    local ok, lmsg, lerr = client._limiter:acquire(t, deadline)
    if not ok then return nil, failure(x, lerr.kind, lmsg, sends), 0 end
  end
  local per = x.attempt_timeout or 0
  local started = t:now_ms()
  if deadline then
    local left = math.floor(deadline - started)
    if left <= 0 then
      return nil, failure(x, "timeout", "the call's timeout passed before attempt " .. sends, sends), 0
    end
    if per == 0 or left < per then per = left end
  end
  x.req.timeout_ms = per
  if client._on_request then
    hooks.request(x, client._on_request, sends)
    started = t:now_ms()
  end
  local status, rheaders, rbody, ctype = t:send(x.req)
  -- the time it took, for the log line and the hook only
  local elapsed = (client._log or client._on_response) and t:now_ms() - started or 0
  return _M.outcome(client, x, sends, elapsed, status, rheaders, rbody, ctype)
end

-- What the transport's answer to attempt `sends` (status, headers, body, ctype | nil, msg, err)
-- is: res, or nil, err; the hook is shown it. Returns res, err, elapsed.
function _M.outcome(client, x, sends, elapsed, status, rheaders, rbody, ctype)
  local err, res
  if status then
    -- (headers may be the raw block, req.raw_headers: then ctype came with it)
    if ctype == nil then ctype = response.content_type(rheaders) end
    res = response.new(status, rheaders, rbody, ctype, x.hide_response, x.scrub)
  else
    -- the transport said nil, msg, err
    local terr = type(rbody) == "table" and rbody or {}
    err = failure(x, terr.kind or "transport", E.escape(x.scrub(redact.url(tostring(rheaders)))), sends, terr.code)
  end
  if client._on_response then
    hooks.response(x, client._on_response, sends, status, res and res.headers, res, elapsed, err)
  end
  return res, err, elapsed
end

-- Whether waiting `wait` ms still leaves time for another attempt.
local function in_time(t, deadline, wait)
  return not deadline or t:now_ms() + wait < deadline
end

local function policy_of(client, spec)
  return retry.policy(spec.method, spec.retry, spec.retries or client._retries, client._retry_base, client._retry_max)
end

-- first (internal): the outcome of attempt 1, already made by first() ({ status, headers, body,
-- ctype } or { nil, msg, err }).
function _M.run(client, spec, op, level, deadline, first)
  local x = prepare(client, spec, op, (level or 3) + 1)
  local t = client._transport
  if deadline == nil then deadline = _M.deadline(client, spec) end
  local policy -- made when a failure or a retryable answer first asks for it
  local n = 0       -- attempts counted against the policy (the repeat after a new sign-in is not one)
  local sends = 0   -- every time this call went out: err.attempts and the log say this
  local renewed = false
  while true do
    n, sends = n + 1, sends + 1
    local res, err, elapsed
    if first then
      res, err, elapsed = _M.outcome(client, x, sends, 0, first[1], first[2], first[3], first[4])
      first = nil
    else
      res, err, elapsed = exchange(client, x, sends, deadline)
    end
    local status = res and res.status
    if err then
      -- a streamed body may have reached the sink in part: only a failed connect is repeated
      policy = policy or policy_of(client, spec)
      local wait = (not x.req.sink or err.kind == "connect") and retry.after_failure(policy, n, err.kind) or nil
      if wait and not in_time(t, deadline, wait) then wait = nil end
      local reason = err.msg:sub(#op + 3)
      note(client, x, err.kind, elapsed, sends, wait and (reason .. "; retrying in " .. wait .. " ms") or reason)
      if not wait then
        if sends > 1 then err.msg = err.msg .. " (after " .. sends .. " attempts)" end
        return nil, err.msg, err
      end
      t:sleep_ms(wait)
    elseif status == 401 and not renewed and auth.renews(client, x.req.auth, status, res) then
      note(client, x, status, elapsed, sends, "the token was refused; signing in again")
      renewed = true
      local user, smsg, serr = auth.renew(client, deadline)
      if not user then return nil, op .. ": " .. smsg, serr end
      n = n - 1
    else
      local again = retry.STATUS[status]
      local wait
      if again then
        policy = policy or policy_of(client, spec)
        wait = retry.after_status(policy, n, status, res.headers)
        if wait and not in_time(t, deadline, wait) then wait = nil end
      end
      if not wait then
        if client._log then note(client, x, status, elapsed, sends, status >= 400 and res:server_text() or nil) end
        res.attempts, res.url = sends, x.shown_url
        if again then res.retry_after = retry.parse_retry_after(res.headers["retry-after"]) end
        return res
      end
      local text = res:server_text()
      note(client, x, status, elapsed, sends, (text and (text .. "; ") or "") .. "retrying in " .. wait .. " ms")
      t:sleep_ms(wait)
    end
  end
end

local METHODS = retry.METHODS

-- first()'s pieces, which tiledesk.batch's lane (client:batch over curl multi in C) uses too:
-- the URLs of a plain call (memo, and the URL sent, with the query) or false; whether the
-- client may send it now (nothing to sign in first); its timeouts (the attempt's, and the
-- call's: 0 for none); and its request table (taken from the client: the caller gives it back
-- to client._qreq once the transport has read it).
local function plain_url(client, path, query)
  if not client._plain then return false end -- (false on with{} views and closed clients)
  local memo = client._project_of == client.project_id and client._urls[path] -- (project_url's memo)
  if not memo then
    memo = project_url(client, path)
    if not memo then return false end -- (the full path says why)
  end
  local u = memo[1]
  if query ~= nil then
    local ok, qs = pcall(url.query, query)
    if not ok then return false end
    if qs ~= "" then u = u .. (find(path, "?", 1, true) and "&" or "?") .. qs end
  end
  return memo, u
end
_M.plain_url = plain_url

local function can_send(client, t)
  return not (client.auth == "jwt" and t:auth_kind() == "none")
end
_M.can_send = can_send

local function plain_timeouts(client)
  local per, ms = client._attempt_timeout or 0, client._timeout
  if ms ~= 0 and (per == 0 or ms < per) then per = ms end
  return per, ms
end
_M.plain_timeouts = plain_timeouts

local function plain_req(client, method, u, per, head)
  -- one request table per client, taken while a send has it (a send made meanwhile, from a batch's
  -- other coroutine or an nginx light thread, makes its own) and given back after: transports
  -- never keep or write req (docs/design.md), and a table made per call costs more than the rest
  local req = client._qreq
  if req then client._qreq = false
  else req = { auth = "credentials", raw_headers = true, headers = DEFAULT_HEADERS } end
  req.method, req.url, req.timeout_ms, req.connect_timeout_ms, req.once, req.raw_headers =
    method, u, per, client._connect_timeout, not METHODS[method], head or true
  return req
end
_M.plain_req = plain_req

-- A plain call: method and path only (no query, body, headers or call options), and a client
-- with no hook, log line, rate limiter or with{} options, holding credentials (nothing to sign
-- in first), whose URL can be made (project_url: a project_id is set). first() makes its
-- first attempt without the call state (prepare), on the same deadline, timeouts and request
-- fields run() would use. Returns false when the call is not plain (nothing was sent), else what
-- the transport said (status, headers, body, ctype | nil, msg, err), the deadline and the URLs
-- (memo: { URL, URL as shown }). head: the request's raw_headers (nil: true); "non2xx" for a
-- caller that reads no header of a 2xx (headers may then be false, ctype still given).
-- query (a GET's or DELETE's query table) is added to the URL as build_url adds it; the last
-- value returned is then the URL sent (memo holds the path's alone), and a query url.query
-- refuses makes the call not plain (the full path raises on it).
function _M.first(client, method, path, head, query)
  local memo, u = plain_url(client, path, query)
  if not memo then return false end
  local t = client._transport
  if not can_send(client, t) then return false end
  local per, ms = plain_timeouts(client)
  local deadline = ms ~= 0 and t:now_ms() + ms or nil
  local req = plain_req(client, method, u, per, head)
  local status, rheaders, rbody, ctype = t:send(req)
  client._qreq = req
  return status, rheaders, rbody, ctype, deadline, memo, u
end

-- The URL shown of a call sent with a query, memoised in the client's URL memo under the URL
-- itself (a path there starts with "/").
local function shown_sent(client, sent)
  local shown = client._urls[sent]
  if shown then return shown end
  shown = client._scrub(redact.url(sent))
  local memo = urls_memo(client)
  memo[sent], memo.n = shown, memo.n + 1
  return shown
end

-- A 2xx of first()'s attempt as the call's result (settle's first case; tiledesk.batch's lane).
local function final(client, status, rheaders, rbody, ctype, memo, query, sent)
  if ctype == nil then ctype = response.content_type(rheaders) end
  local shown = query == nil and memo[2] or shown_sent(client, sent)
  return response.new(status, rheaders, rbody, ctype, nil, client._scrub, 1, shown)
end
_M.final = final

-- What comes of first()'s attempt: a 2xx is final as it is (res, attempts 1); anything else (a
-- failure, 401, a retryable or any other status) goes on in run() as that attempt's outcome, so
-- retries, the re-sign-in, messages and errors are run()'s own. The call's name is op, or
-- op_of(client, method, path) asked only when run() needs it; level as for run() (whose frame
-- takes this one's). query and sent: the call's query and the URL first() sent (the URL shown
-- is then made from it; without a query it is memo's).
function _M.settle(client, method, path, op_of, level, status, rheaders, rbody, ctype, deadline, memo, query, sent, op)
  if status and status >= 200 and status < 300 then return final(client, status, rheaders, rbody, ctype, memo, query, sent) end
  return _M.run(client, { method = method, path = path, query = query }, op or op_of(client, method, path), level,
    deadline, { status, rheaders, rbody, ctype })
end

return _M
