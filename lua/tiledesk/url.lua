-- URL building: path segments, query strings, joining (redaction lives in tiledesk.redact).
local _M = {}

local function encode_char(c)
  return string.format("%%%02X", string.byte(c))
end

-- Percent-encodes everything but RFC 3986 unreserved characters.
function _M.escape(s)
  s = tostring(s)
  if s:find("^[%w%-%._~]*$") then return s end -- nothing to encode (a scan: cheaper than gsub's copy)
  return (s:gsub("[^%w%-%._~]", encode_char))
end
local escape = _M.escape

-- Query keys and values as encoded, memoised (a loop sends the same few names, statuses, ids and
-- page sizes again and again): strings of at most 64 bytes, and numbers; at most 256 kept.
local encoded, n_encoded = {}, 0
local function remember(v, e)
  if n_encoded >= 256 then encoded, n_encoded = {}, 0 end
  encoded[v], n_encoded = e, n_encoded + 1
  return e
end

-- A query key or string value, escaped (through the memo).
local function escape_part(s)
  local e = encoded[s]
  if e then return e end
  e = escape(s)
  if #s > 64 then return e end
  return remember(s, e)
end

-- One path segment: it can never add a segment, a query or a fragment, nor be . or ..
-- Returns the encoded segment, or nil and a message.
function _M.segment(v)
  local tv = type(v)
  local s
  if tv == "string" then
    s = v
  elseif tv == "number" then
    -- beyond 2^53 a double no longer names one integer (and 5.1 would print garbage)
    if v ~= v or v ~= math.floor(v) or v <= -2 ^ 53 or v >= 2 ^ 53 then
      return nil, "must be a string or an integer (got a non-integer or too large number)"
    end
    s = string.format("%d", v)
  else
    return nil, "must be a string or an integer (got " .. tv .. ")"
  end
  if s == "" then return nil, "must not be empty" end
  if s == "." or s == ".." then
    return nil, "must not be '" .. s .. "' (a dot segment would leave the path)"
  end
  return _M.escape(s)
end

-- path("/requests/{}/messages", id): each {} becomes one encoded segment.
function _M.path(template, ...)
  if type(template) ~= "string" then
    error("tiledesk.path(): template must be a string", 2)
  end
  local n = select("#", ...)
  local args = { ... }
  local _, holes = template:gsub("{}", "")
  if holes ~= n then
    error("tiledesk.path(): " .. n .. " values for " .. holes .. " placeholders in " .. template, 2)
  end
  local segs = {}
  for i = 1, n do
    local s, msg = _M.segment(args[i])
    if not s then error("tiledesk.path(): value #" .. i .. " " .. msg, 2) end
    segs[i] = s
  end
  local i = 0
  return (template:gsub("{}", function()
    i = i + 1
    return segs[i]
  end))
end

-- A query value, encoded: a string escaped, a number in decimal (an integral one has nothing
-- to escape), a boolean as true/false.
local function scalar(v, key)
  local tv = type(v)
  if tv == "string" then return escape_part(v) end
  if tv == "boolean" then return v and "true" or "false" end
  if tv == "number" then
    local e = encoded[v] -- (NaN is never a key: it is refused below)
    if e then return e end
    if v ~= v or v == math.huge or v == -math.huge then
      error("query value for '" .. key .. "' is not a finite number", 0)
    end
    if v == math.floor(v) and v > -2^53 and v < 2^53 then e = string.format("%d", v)
    else e = escape(string.format("%.17g", v)) end
    return remember(v, e)
  end
  error("query value for '" .. key .. "' must be a string, number, boolean or array of those (got " .. tv .. ")", 0)
end

-- Encodes a query table: keys sorted, arrays as repeated keys, booleans as true/false.
-- Raises (level 0: callers add the operation) on anything else, e.g. a nested map.
function _M.query(q)
  if q == nil then return "" end
  if type(q) ~= "table" then error("query must be a table", 0) end
  local keys, n = {}, 0
  for k in pairs(q) do
    if type(k) ~= "string" then error("query keys must be strings (got " .. type(k) .. ")", 0) end
    n = n + 1
    keys[n] = k
  end
  if n > 1 then table.sort(keys) end
  local parts, m = {}, 0
  for i = 1, n do
    local k = keys[i]
    local v = q[k]
    if type(v) == "table" then
      local c = 0
      for _ in pairs(v) do c = c + 1 end
      if c ~= #v then error("query value for '" .. k .. "' must be an array, not a map", 0) end
      local ek = escape_part(k)
      for _, x in ipairs(v) do
        m = m + 1
        parts[m] = ek .. "=" .. scalar(x, k)
      end
    else
      m = m + 1
      parts[m] = escape_part(k) .. "=" .. scalar(v, k)
    end
  end
  return table.concat(parts, "&")
end

-- Why a path (with its query) cannot be sent as given, or nil: a "." or ".." segment (also
-- percent-encoded: libcurl and proxies resolve them, so the call would leave the place the
-- caller put it, e.g. the project), or a "#" (everything after it would silently go).
function _M.path_problem(path)
  if path:find("#", 1, true) then return "contains '#' (encode it as %23, e.g. with tiledesk.path)" end
  local p = path:match("^[^?]*")
  if not (p:find(".", 1, true) or p:find("%2", 1, true)) then return nil end
  for seg in p:gmatch("[^/]+") do
    local plain = seg:gsub("%%2[eE]", ".")
    if plain == "." or plain == ".." then
      return "contains a '" .. seg .. "' segment (a dot segment would leave the path; encode ids with tiledesk.path)"
    end
  end
  return nil
end

-- Normalises a base URL: scheme http(s), a host, no user:password@, no query or fragment, no
-- trailing slash. Returns the URL, or nil and why.
function _M.base(u)
  if type(u) ~= "string" or not u:match("^[hH][tT][tT][pP][sS]?://[^/?#]+") then
    return nil, "an http(s) URL"
  end
  if u:find("[?#]") or u:find("[%c ]") then return nil, "an http(s) URL without query, fragment or spaces" end
  if u:match("^%a+://[^/]*@") then
    return nil, "an http(s) URL without user:password@ (give email and password as options)"
  end
  local why = _M.path_problem(u:match("^%a+://[^/]*(.*)$"))
  if why then return nil, "an http(s) URL whose path " .. why:gsub(" %(.*$", "") end
  return (u:gsub("/+$", ""))
end

-- Whether a base URL is plain http to a host other than loopback (127.0.0.0/8, ::1, localhost).
function _M.plain_remote(base)
  local scheme, host = base:match("^(%a+)://([^/]+)")
  if not scheme or scheme:lower() ~= "http" then return false end
  host = host:lower():gsub(":%d*$", "")
  if host == "localhost" or host:match("%.localhost$") or host == "[::1]" then return false end
  if host:match("^127%.%d+%.%d+%.%d+$") then return false end
  return true
end

-- Secrets in a URL (query values, userinfo) replaced, wherever it sits in the text.
_M.redact = require("tiledesk.redact").url

return _M
