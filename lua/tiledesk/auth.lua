-- Sign-in and the auth policy: when a call signs in first, when a refused token leads to a new
-- sign-in and one repeat, and how a sign-in answer becomes the token the transport holds.
-- The password and the token never pass through a Lua table field (docs/design.md).
local redact = require("tiledesk.redact")
local url = require("tiledesk.url")
local json = require("tiledesk.json")
local E = require("tiledesk.error")

local _M = {}

-- Signs in first when the client holds email+password for JWT and has no token yet (within the
-- call's deadline).
function _M.ensure(client, spec, deadline)
  if spec.auth == "none" or client.auth ~= "jwt" then return true end
  local t = client._transport
  if t:auth_kind() == "none" and t:can_signin() then
    local user, msg, err = _M.renew(client, deadline)
    if not user then return nil, msg, err end
  end
  return true
end

-- passport's answer to a missing, expired, forged or revoked token (and to wrong Basic
-- credentials): 401 with the plain text "Unauthorized", no JSON (middleware/passport.js, passport's
-- own failure response). Every other 401 is JSON carrying the server's words (a wrong old
-- password, the project's IP filter, a refused permission): not a refused token.
function _M.token_refused(status, shown)
  if status ~= 401 or shown.json ~= nil then return false end
  local b = shown.body
  return type(b) == "string" and #b <= 64 and b:match("^%s*Unauthorized%s*$") ~= nil
end

-- Whether this answer to a call sent with the held credentials (mode) asks for a new sign-in and
-- one repeat: passport refused the token of a JWT client that can sign in again.
function _M.renews(client, mode, status, shown)
  return status == 401 and mode == "credentials" and client.auth == "jwt" and _M.token_refused(status, shown)
    and client._transport:can_signin()
end

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

-- Finishes a sign-in style call: keeps the token in the transport and returns the user, or
-- nil, msg, err.
function _M.adopt(client, op, res)
  local where = res.url
  if res.status ~= 200 then
    local scrub = client._scrub
    local body = res.json ~= nil and redact.value(res.json, scrub) or nil
    local m = E.http_message(op, res.status, body, body == nil and scrub(redact.body(res.body, json)) or nil)
    return nil, m, E.new{ kind = "http", status = res.status, body = body, method = "POST",
      url = where, attempts = res.attempts, msg = m }
  end
  local tok, j = token_of(res)
  local why = not tok and "no token in the response"
    or (tok:find("[%c]") or tok:match("^%s*$")) and "the server sent an unusable token (control characters)"
  if why then
    local m = op .. ": " .. why
    return nil, m, E.new{ kind = "decode", status = res.status, method = "POST", url = where,
      attempts = res.attempts, msg = m }
  end
  client._remember(tok)
  client._transport:set_token(tok)
  return j.user or j
end

-- A token obtained over plain http to a remote host would then go out in plain text on every call.
function _M.check_transport_security(client, what, level)
  if url.plain_remote(client.base_url) and not client._insecure_ok then
    error(what .. ": the token would cross the network in plain text to " .. client.base_url
      .. ": use https, or allow_insecure_http = true", level + 1)
  end
end

local function check_open(client, what)
  if client._closed then error(what .. ": the client is closed", 3) end
end

-- A sign-in with the held email and password, within a deadline (nil: its own timeout).
-- signing in changes nothing on the server: safe to repeat on a timeout or a 503
function _M.renew(client, deadline)
  local res, msg, err = client:_send({ method = "POST", path = "/auth/signin", project = false,
    auth = "signin", retry = true }, "signin()", 3, deadline)
  if not res then return nil, msg, err end
  local _ = res.json -- decoded (on first read) before the raw body, which carries the token, goes
  res.body = nil
  return _M.adopt(client, "signin()", res)
end

-- client:signin() (this function is the method itself: misuse errors point at level 2).
-- Signs in with the email and password given to tiledesk.new; returns the user.
function _M.signin(client)
  if not client._transport:can_signin() then
    error("client:signin(): the client was created without email and password", 2)
  end
  if client.auth ~= "jwt" then error("client:signin(): auth 'basic' sends credentials on every call", 2) end
  check_open(client, "client:signin()")
  local user, msg, err = _M.renew(client)
  return user, msg, err
end

-- client:signin_with_custom_token(jwt): exchanges an externally signed JWT (sub "userexternal")
-- for a Tiledesk token; returns the user.
function _M.signin_with_custom_token(client, jwt)
  if type(jwt) ~= "string" or jwt == "" then
    error("client:signin_with_custom_token(): jwt must be a non-empty string", 2)
  end
  if jwt:find("[%c]") then error("client:signin_with_custom_token(): jwt contains control characters", 2) end
  check_open(client, "client:signin_with_custom_token()")
  _M.check_transport_security(client, "client:signin_with_custom_token()", 3)
  client._remember(jwt)
  local header = jwt:match("^[Jj][Ww][Tt] ") and jwt or ("JWT " .. jwt)
  local res, msg, err = client:_send({ method = "POST", path = "/auth/signinWithCustomToken", project = false,
    auth = "header", headers = { authorization = header }, secret = "response",
    body = client.project_id and { id_project = client.project_id } or nil }, "signin_with_custom_token()", 3)
  if not res then return nil, msg, err end
  return _M.adopt(client, "signin_with_custom_token()", res)
end

return _M
