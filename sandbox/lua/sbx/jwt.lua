-- HS256 JSON Web Tokens, the way the Tiledesk server issues and checks them.
--
-- The two pure steps of a check are memoized, since clients send the same token call after call:
-- decoding (token -> header, payload) and the signature (token and secret -> matches or not).
-- Both are functions of their keys alone, so a kept verdict is never stale: a rotated secret is
-- another key, and what may change between calls (exp, nbf against the clock; the user, bot or
-- subscription behind the token, in sbx.app) is checked on every call as before. Callers get a
-- copy of the kept payload, never the kept table. Each memo holds at most MEMO_MAX entries and
-- starts over when full.
local crypto = require("sbx.crypto")
local json = require("sbx.json")
local util = require("sbx.util")

local _M = {}

local MEMO_MAX = 1000
_M.MEMO_MAX = MEMO_MAX

local function memo()
  local m = { n = 0, t = {} }
  function m.get(k) return m.t[k] end
  function m.put(k, v)
    if m.n >= MEMO_MAX then m.t, m.n = {}, 0 end
    if m.t[k] == nil then m.n = m.n + 1 end
    m.t[k] = v
  end
  return m
end

local decoded = memo()   -- token -> { header, payload } | false (malformed)

-- secret -> token -> true | false (the signature matches), MEMO_MAX verdicts in all. A verdict
-- is kept only for a well-formed HS256 token, so one found means those checks passed.
local signed, n_signed = {}, 0

local function keep_verdict(secret, token, ok)
  if n_signed >= MEMO_MAX then signed, n_signed = {}, 0 end
  local by_token = signed[secret]
  if not by_token then
    by_token = {}
    signed[secret] = by_token
  end
  if by_token[token] == nil then n_signed = n_signed + 1 end
  by_token[token] = ok
end

local function b64url(s)
  return (ngx.encode_base64(s):gsub("%+", "-"):gsub("/", "_"):gsub("=+$", ""))
end

local function unb64url(s)
  if not s or s:find("[^%w%-_]") then return nil end
  s = s:gsub("%-", "+"):gsub("_", "/")
  local pad = #s % 4
  if pad == 1 then return nil end
  if pad > 0 then s = s .. string.rep("=", 4 - pad) end
  return ngx.decode_base64(s)
end

function _M.sign(payload, secret)
  local header = b64url(json.encode({ alg = "HS256", typ = "JWT" }))
  local body = b64url(json.encode(payload))
  local sig = b64url(crypto.hmac_sha256(secret, header .. "." .. body))
  return header .. "." .. body .. "." .. sig
end

-- header, payload as kept (shared: never handed out), or nil when malformed
local function peek_kept(token)
  local d = decoded.get(token)
  if d == nil then
    d = false
    local h, p = token:match("^([%w%-_]+)%.([%w%-_]+)%.[%w%-_]*$")
    local hj, pj = unb64url(h), unb64url(p)
    if hj and pj then
      local header, payload = json.decode(hj), json.decode(pj)
      if type(header) == "table" and type(payload) == "table" then d = { header, payload } end
    end
    decoded.put(token, d)
  end
  if not d then return nil end
  return d[1], d[2]
end

-- Decodes without verifying: header, payload (nil when malformed).
function _M.peek(token)
  local header, payload = peek_kept(token)
  if not header then return nil end
  return util.copy(header), util.copy(payload)
end

-- The `sub` and `aud` claims (nil when malformed): what picks the secret, without a copy.
function _M.subject(token)
  local _, payload = peek_kept(token)
  if not payload then return nil end
  return payload.sub, payload.aud
end

-- Verifies an HS256 token with secret; returns the payload or nil, reason.
function _M.verify(token, secret)
  local by_token = signed[secret]
  local ok = by_token and by_token[token]
  local payload
  if ok == nil then
    local h, p, s = token:match("^([%w%-_]+)%.([%w%-_]+)%.([%w%-_]+)$")
    if not h then return nil, "malformed" end
    local header
    header, payload = peek_kept(token)
    if not header then return nil, "malformed" end
    if header.alg ~= "HS256" then return nil, "algorithm not allowed" end
    ok = crypto.equal(b64url(crypto.hmac_sha256(secret, h .. "." .. p)), s)
    keep_verdict(secret, token, ok)
  else
    payload = select(2, peek_kept(token))
  end
  if not ok then return nil, "bad signature" end
  if payload.exp ~= nil and (type(payload.exp) ~= "number" or payload.exp <= ngx.time()) then
    return nil, "expired"
  end
  if payload.nbf ~= nil and type(payload.nbf) == "number" and payload.nbf > ngx.time() + 5 then
    return nil, "not yet valid"
  end
  return util.copy(payload)
end

-- The number of entries each memo holds now (specs check the bound).
function _M.memo_sizes()
  return decoded.n, n_signed
end

return _M
