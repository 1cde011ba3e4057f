-- Redaction: what of a URL, a header set, a body or a text may be shown in a message, a log
-- line, a hook or an err table. One list of secret names serves all of them; secret values the
-- client holds are hidden by value too. Secrets are replaced by "[redacted]"; where in doubt
-- (too deep, not decodable, a text naming a secret) more is hidden, never less.
local _M = {}

local R = "[redacted]"
_M.MARK = R

-- THE secret names, compared without case and without anything but letters and digits, so that
-- api_key, apiKey, API-Key and x-api-key all match: JSON keys, query parameters, header names.
local NAMES = {}
for _, n in ipairs{ "password", "passwd", "oldpsw", "newpsw", "token", "jwt", "jwtsecret", "secret",
  "privatekey", "apikey", "xapikey", "accesstoken", "refreshtoken", "secrettoken", "idtoken", "clientsecret",
  "authorization", "proxyauthorization", "cookie", "setcookie", "xhooksecret", "hooksecret", "sessionid" } do
  NAMES[n] = true
end
_M.NAMES = NAMES

-- Words that make a text (not JSON) body be withheld whole: it may carry a secret we cannot
-- find by name (a token echoed in an error page, a form body).
local TEXT_WORDS = { "password", "oldpsw", "newpsw", "token", "jwt", "secret", "privatekey", "private_key",
  "apikey", "api_key", "api-key", "authorization", "cookie" }

local seen, seen_n = {}, 0 -- name -> is secret, a bounded memo (hostile bodies bring many keys)
local function is_secret(k)
  local v = seen[k]
  if v == nil then
    v = NAMES[k:lower():gsub("[^%w]", "")] == true
    if seen_n >= 4096 then seen, seen_n = {}, 0 end
    seen[k], seen_n = v, seen_n + 1
  end
  return v
end
_M.is_secret = is_secret

local MAX_DEPTH = 32

-- A copy of a decoded JSON value with every secret value replaced; a subtree deeper than
-- MAX_DEPTH is replaced whole (it is never shown). scrub (optional): applied to every string.
local function value(v, depth, scrub)
  local t = type(v)
  if t == "string" then return scrub and scrub(v) or v end
  if t ~= "table" then return v end
  if depth > MAX_DEPTH then return R end
  local out = {}
  for k, x in pairs(v) do
    if type(k) == "string" then
      if is_secret(k) then x = R end
      if scrub then k = scrub(k) end
    end
    out[k] = value(x, depth + 1, scrub)
  end
  return setmetatable(out, getmetatable(v))
end
function _M.value(v, scrub) return value(v, 0, scrub) end

-- A text that is not JSON: withheld whole when it names a secret.
function _M.text(s)
  if type(s) ~= "string" or s == "" then return s end
  local lower = s:lower()
  for i = 1, #TEXT_WORDS do
    if lower:find(TEXT_WORDS[i], 1, true) then return R end
  end
  return s
end

-- A body string made safe to show: JSON gets its secret values replaced; other text goes
-- through _M.text.
function _M.body(body, json)
  if type(body) ~= "string" or body == "" then return body end
  local v = json.decode(body)
  if type(v) == "table" then
    return json.encode(value(v, 0)) or R
  end
  return _M.text(body)
end

-- Replaces secret query values (by name) and any userinfo, wherever the URL sits in the text
-- (transport messages carry it after the method).
function _M.url(u)
  if type(u) ~= "string" then return u end
  if u:find("@", 1, true) then u = u:gsub("(%a[%w+.-]*://)[^/@%s]*@", "%1" .. R .. "@") end
  if not u:find("=", 1, true) then return u end
  return (u:gsub("([?&;])([^=&#;%s]+)=([^&#;%s]*)", function(sep, k, v)
    if is_secret(k) then return sep .. k .. "=" .. R end
    return sep .. k .. "=" .. v
  end))
end

-- A copy of a header map fit for hooks: secret headers replaced ("JWT [redacted]" keeps the
-- scheme of an Authorization), URLs in the others (Location: ...?token=) redacted, and the
-- held secret values scrubbed (scrub optional).
function _M.headers(h, scrub)
  local out = {}
  for k, v in pairs(h or {}) do
    if type(k) == "string" and is_secret(k) then
      local first = type(v) == "table" and v[1] or v
      out[k] = k:lower() == "authorization" and ((tostring(first):match("^(%S+)") or "") .. " " .. R) or R
    elseif type(v) == "table" then
      local list = {}
      for i, x in ipairs(v) do list[i] = _M.url(x) end
      out[k] = scrub and value(list, 0, scrub) or list
    else
      v = _M.url(v)
      out[k] = scrub and scrub(v) or v
    end
  end
  return out
end

local function replace_plain(s, needle)
  local parts, from = {}, 1
  while true do
    local a, b = s:find(needle, from, true)
    if not a then break end
    parts[#parts + 1] = s:sub(from, a - 1)
    parts[#parts + 1] = R
    from = b + 1
  end
  parts[#parts + 1] = s:sub(from)
  return table.concat(parts)
end

-- Values shorter than this are too common to hide by value (they are still hidden by name).
_M.MIN_VALUE = 6
local MAX_VALUES = 8

-- A scrubber of secret values: scrub(s) replaces each remembered value found in s; remember(v)
-- adds one (a token also without its scheme word) and calls on_change (texts made before may
-- now need scrubbing). The values live in this closure only, never
-- in a table the client or an error can reach.
function _M.scrubber(on_change)
  local values = {}
  local function scrub(s)
    if values[1] == nil or type(s) ~= "string" then return s end
    for i = 1, #values do
      if s:find(values[i], 1, true) then s = replace_plain(s, values[i]) end
    end
    return s
  end
  local function remember(v)
    if type(v) ~= "string" then return end
    local bare = v:match("^%a+%s+(.+)$")
    for _, x in ipairs{ v, bare } do
      if #x >= _M.MIN_VALUE then
        local known = false
        for i = 1, #values do if values[i] == x then known = true end end
        if not known then
          table.insert(values, 1, x)
          if #values > MAX_VALUES then values[#values] = nil end
        end
      end
    end
    -- longest first: a value inside another is replaced after it
    table.sort(values, function(a, b) return #a > #b end)
    if on_change then on_change() end
  end
  return scrub, remember
end

return _M
