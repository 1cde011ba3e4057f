-- HS256 JSON Web Tokens (RFC 7519 over RFC 7515's compact form), in pure Lua: the custom
-- authentication tokens that POST /auth/signinWithCustomToken exchanges, and the tokens the
-- server puts in every resthook and bot-webhook delivery.
--   local jwt = require "tiledesk.jwt"
--   local token = jwt.sign({ _id = "u-42", sub = "userexternal",
--     aud = "https://tiledesk.com/projects/" .. project_id, iat = os.time() }, project_secret)
--   local claims, msg = jwt.verify(token, project_secret)
local crypto = require("tiledesk.crypto")
local json = require("tiledesk.json")
local E = require("tiledesk.error")

local _M = {}
local ngx = rawget(_G, "ngx")

_M.MAX_LENGTH = 65536
local HEADER = crypto.b64url_encode('{"alg":"HS256","typ":"JWT"}')

local function now_s()
  if ngx and ngx.time then return ngx.time() end
  return os.time()
end

local function check_secret(fn, secret)
  if type(secret) ~= "string" or secret == "" then
    error("tiledesk.jwt." .. fn .. "(): secret must be a non-empty string", 3)
  end
end

local function check_opts(fn, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("tiledesk.jwt." .. fn .. "(): opts must be a table", 3) end
  for k in pairs(opts) do
    if not known[k] then error("tiledesk.jwt." .. fn .. "(): unknown option " .. tostring(k), 3) end
  end
  return opts
end

-- The compact HS256 token of claims (a table, encoded as a JSON object).
function _M.sign(claims, secret)
  if type(claims) ~= "table" then
    error("tiledesk.jwt.sign(): claims must be a table, got " .. type(claims), 2)
  end
  check_secret("sign", secret)
  local text, err = json.encode(claims)
  if not text or text:sub(1, 1) ~= "{" then
    error("tiledesk.jwt.sign(): claims cannot be encoded as a JSON object" .. (err and (": " .. err) or ""), 2)
  end
  local input = HEADER .. "." .. crypto.b64url_encode(text)
  return input .. "." .. crypto.b64url_encode(crypto.hmac_sha256(secret, input))
end

local CUSTOM_FIELDS = { firstname = true, lastname = true, email = true, attributes = true, role = true,
  fullname = true, exp = true, expires_in = true, iat = true, jti = true }

-- A custom-authentication token for signinWithCustomToken: claims _id (the external user's id),
-- sub = "userexternal", aud = https://tiledesk.com/projects/<project_id>, iat, and the user's
-- firstname, lastname, email, attributes, role when given; exp from expires_in (seconds) or exp.
function _M.custom_token(project_id, secret, user)
  if type(project_id) ~= "string" or not project_id:match("^%w+$") then
    error("tiledesk.jwt.custom_token(): project_id must be a non-empty alphanumeric string", 2)
  end
  check_secret("custom_token", secret)
  if type(user) ~= "table" then error("tiledesk.jwt.custom_token(): user must be a table", 2) end
  local id = user._id or user.id
  if (type(id) ~= "string" or id == "") and type(id) ~= "number" then
    error("tiledesk.jwt.custom_token(): user._id must be a non-empty string", 2)
  end
  for k in pairs(user) do
    if k ~= "_id" and k ~= "id" and not CUSTOM_FIELDS[k] then
      error("tiledesk.jwt.custom_token(): unknown user field " .. tostring(k), 2)
    end
  end
  local claims = { _id = tostring(id), sub = "userexternal", aud = "https://tiledesk.com/projects/" .. project_id,
    iat = user.iat or now_s(), jti = user.jti }
  for _, k in ipairs({ "firstname", "lastname", "email", "attributes", "role", "fullname" }) do
    claims[k] = user[k]
  end
  if user.expires_in ~= nil then
    if type(user.expires_in) ~= "number" or user.expires_in <= 0 then
      error("tiledesk.jwt.custom_token(): expires_in must be a number of seconds > 0", 2)
    end
    claims.exp = claims.iat + math.floor(user.expires_in)
  else
    claims.exp = user.exp
  end
  return _M.sign(claims, secret)
end

local function fail(reason, text)
  return nil, "tiledesk.jwt.verify(): " .. text, E.new{ kind = "invalid", reason = reason,
    msg = "tiledesk.jwt.verify(): " .. text }
end

local function decode_part(part)
  local raw = crypto.b64url_decode(part)
  if not raw or raw:sub(1, 1) ~= "{" then return nil end
  local v = json.decode(raw)
  if type(v) ~= "table" then return nil end
  return v
end

-- Whether claims.aud (a string or an array of strings) names want.
local function has_audience(aud, want)
  if type(aud) == "string" then return aud == want end
  if type(aud) ~= "table" then return false end
  for _, a in ipairs(aud) do
    if a == want then return true end
  end
  return false
end

local VERIFY_OPTS = { now = true, leeway = true, audience = true, issuer = true, subject = true, max_age = true }

-- The claims of an HS256 token signed with secret, or nil, msg, err (err.kind "invalid",
-- err.reason "malformed" | "algorithm" | "signature" | "expired" | "not_yet_valid" | "claims").
-- opts: now (seconds), leeway (seconds, default 0), audience, issuer, subject (required values),
-- max_age (seconds since iat).
function _M.verify(token, secret, opts)
  if type(token) ~= "string" then
    error("tiledesk.jwt.verify(): token must be a string, got " .. type(token), 2)
  end
  check_secret("verify", secret)
  opts = check_opts("verify", opts, VERIFY_OPTS)
  if #token > _M.MAX_LENGTH then return fail("malformed", "token longer than " .. _M.MAX_LENGTH .. " bytes") end
  local h, p, s = token:match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]*)$")
  if not h then return fail("malformed", "not a compact token (header.payload.signature)") end
  local header, claims = decode_part(h), decode_part(p)
  if not header then return fail("malformed", "header is not base64url JSON") end
  if header.alg ~= "HS256" then
    local alg = type(header.alg) == "string" and header.alg:gsub("[^%w]", ""):sub(1, 20) or "?"
    return fail("algorithm", "algorithm " .. alg .. " refused (only HS256)")
  end
  if header.crit ~= nil then return fail("malformed", "critical header parameters are not supported") end
  if s == "" then return fail("signature", "token is not signed") end
  if not crypto.b64url_decode(s) then return fail("malformed", "signature is not base64url") end
  local want = crypto.b64url_encode(crypto.hmac_sha256(secret, h .. "." .. p))
  if not crypto.equal(s, want) then return fail("signature", "signature does not match") end
  if not claims then return fail("malformed", "payload is not a base64url JSON object") end
  local now = opts.now or now_s()
  local leeway = opts.leeway or 0
  for _, k in ipairs({ "exp", "nbf", "iat" }) do
    if claims[k] ~= nil and type(claims[k]) ~= "number" then return fail("claims", k .. " is not a number") end
  end
  if claims.exp and now >= claims.exp + leeway then return fail("expired", "token expired") end
  if claims.nbf and now + leeway < claims.nbf then return fail("not_yet_valid", "token not valid yet") end
  if opts.max_age then
    if not claims.iat then return fail("claims", "iat required") end
    if now - claims.iat > opts.max_age + leeway then return fail("expired", "token older than max_age") end
    if claims.iat - now > leeway then return fail("not_yet_valid", "token issued in the future") end
  end
  if opts.audience ~= nil and not has_audience(claims.aud, opts.audience) then
    return fail("claims", "audience does not match")
  end
  if opts.issuer ~= nil and claims.iss ~= opts.issuer then return fail("claims", "issuer does not match") end
  if opts.subject ~= nil and claims.sub ~= opts.subject then return fail("claims", "subject does not match") end
  return claims
end

-- Header and claims of a token WITHOUT checking anything: for routing and logs only.
function _M.decode_unverified(token)
  if type(token) ~= "string" or #token > _M.MAX_LENGTH then return nil end
  local h, p = token:match("^([%w_%-]+)%.([%w_%-]+)%.[%w_%-]*$")
  if not h then return nil end
  local header, claims = decode_part(h), decode_part(p)
  if not header or not claims then return nil end
  return header, claims
end

return _M
