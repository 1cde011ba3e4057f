-- HS256 JSON Web Tokens, the way the Tiledesk server issues and checks them.
local crypto = require("sbx.crypto")
local json = require("sbx.json")

local _M = {}

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

-- Decodes without verifying: header, payload (nil when malformed).
function _M.peek(token)
  local h, p = token:match("^([%w%-_]+)%.([%w%-_]+)%.[%w%-_]*$")
  if not h then return nil end
  local hj = unb64url(h)
  local pj = unb64url(p)
  if not hj or not pj then return nil end
  local header, payload = json.decode(hj), json.decode(pj)
  if type(header) ~= "table" or type(payload) ~= "table" then return nil end
  return header, payload
end

-- Verifies an HS256 token with secret; returns the payload or nil, reason.
function _M.verify(token, secret)
  local h, p, s = token:match("^([%w%-_]+)%.([%w%-_]+)%.([%w%-_]+)$")
  if not h then return nil, "malformed" end
  local header, payload = _M.peek(token)
  if not header then return nil, "malformed" end
  if header.alg ~= "HS256" then return nil, "algorithm not allowed" end
  local want = b64url(crypto.hmac_sha256(secret, h .. "." .. p))
  if not crypto.equal(want, s) then return nil, "bad signature" end
  if payload.exp ~= nil and (type(payload.exp) ~= "number" or payload.exp <= ngx.time()) then
    return nil, "expired"
  end
  if payload.nbf ~= nil and type(payload.nbf) == "number" and payload.nbf > ngx.time() + 5 then
    return nil, "not yet valid"
  end
  return payload
end

return _M
