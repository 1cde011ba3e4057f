-- Redaction: what of a URL, a header set or a body may be shown in a message, a log line, a
-- hook or an err table. Secrets are replaced by "[redacted]".
local _M = {}

-- Keys whose values are secrets wherever they appear in a JSON body (compared lower-cased):
-- sign-in and password-change bodies, bot and subscription tokens, project keys.
local SECRET_KEYS = { password = true, oldpsw = true, newpsw = true, token = true, jwt = true,
  jwtsecret = true, secret = true, privatekey = true, apikey = true, api_key = true,
  access_token = true, refresh_token = true, secret_token = true }
_M.SECRET_KEYS = SECRET_KEYS

-- A copy of a decoded JSON value with every secret value replaced by "[redacted]".
local function value(v, depth)
  if type(v) ~= "table" or depth > 32 then return v end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" and SECRET_KEYS[k:lower()] and x ~= nil then
      out[k] = "[redacted]"
    else
      out[k] = value(x, depth + 1)
    end
  end
  return setmetatable(out, getmetatable(v))
end
function _M.value(v) return value(v, 0) end

-- A body string made safe to show: JSON gets its secret values replaced; text that is not
-- JSON but mentions a secret key is withheld whole.
function _M.body(body, json)
  if type(body) ~= "string" or body == "" then return body end
  local v = json.decode(body)
  if type(v) == "table" then
    local text = json.encode(value(v, 0))
    if text then return text end
    return "[redacted]"
  end
  local lower = body:lower()
  for k in pairs(SECRET_KEYS) do
    if lower:find(k, 1, true) then return "[redacted]" end
  end
  return body
end

local SECRET_PARAMS = { token = true, secret_token = true, jwt = true, password = true,
  access_token = true, secret = true }

-- Replaces secret-looking query values and any userinfo by [redacted], wherever the URL sits in
-- the text (transport messages carry it after the method).
function _M.url(u)
  if type(u) ~= "string" then return u end
  u = u:gsub("(%a[%w+.-]*://)[^/@%s]*@", "%1[redacted]@")
  return (u:gsub("([?&])([^=&#]+)=([^&#]*)", function(sep, k, v)
    if SECRET_PARAMS[k:lower()] then return sep .. k .. "=[redacted]" end
    return sep .. k .. "=" .. v
  end))
end

-- Header values never shown in hooks or errors: credentials and the resthook shared secret.
local SECRET_HEADERS = { authorization = true, ["x-hook-secret"] = true, cookie = true, ["set-cookie"] = true }

-- A copy of a header map fit for hooks: credentials replaced ("JWT [redacted]" keeps the scheme).
function _M.headers(h)
  local out = {}
  for k, v in pairs(h or {}) do
    local lk = type(k) == "string" and k:lower() or k
    if SECRET_HEADERS[lk] then
      local first = type(v) == "table" and v[1] or v
      out[k] = lk == "authorization" and ((tostring(first):match("^(%S+)") or "") .. " [redacted]") or "[redacted]"
    else
      out[k] = v
    end
  end
  return out
end

return _M
