-- JSON for the sandbox through Debian's lua-dkjson (/usr/share/lua/5.1/dkjson.lua), which
-- keeps empty arrays and objects apart both ways:
--   * decoded arrays carry array_mt and decoded objects object_mt, so a body's [] and {} go
--     back on the wire as they came;
--   * arr() marks a table built in Lua as an array; any other table with no metatable is an
--     array when it is a non-empty sequence and an object otherwise ({} is written "{}").
-- null is ngx.null (a light userdata, as cjson's): handlers' `type(x) == "table"` checks never
-- take a JSON null for an object.
local dkjson = require("dkjson")

local _M = {}

local array_mt = { __jsontype = "array" }
local object_mt = { __jsontype = "object" }
_M.array_mt = array_mt
_M.null = ngx.null

function _M.arr(t)
  return setmetatable(t or {}, array_mt)
end

-- What is written, as dkjson 2.6 would write a marked copy of the value (the rules the
-- sandbox has always answered with), but in one walk without the copy:
--   * a table marked with array_mt, or an unmarked non-empty sequence, goes through dkjson's
--     own array test (all keys positive integers, or a numeric `n`; not too many holes): an
--     array up to its highest index (holes null), else an object;
--   * any other table is an object (dkjson would write an object whose keys are all integers
--     as an array whatever its mark: such objects are written pair by pair here);
--   * strings with nothing to escape are quoted as they are, the rest by dkjson.quotestring;
--     numbers as dkjson writes them (tostring; NaN and infinities null); ngx.null and every
--     value JSON cannot hold: null.
-- Deeper than 100 levels (a cycle included) raises "json: too deep".
local quotestring = dkjson.quotestring
local floor, huge = math.floor, math.huge
local concat, tostring, type, pairs, getmetatable = table.concat, tostring, type, pairs, getmetatable
local strfind = string.find

-- dkjson's escapable bytes, and the lead bytes of the multi-byte sequences it escapes
local NEEDS_ESCAPE = "[%z\1-\31\"\\\127\194\216\220\225\226\239]"

-- Quoted strings are kept (strings are values: a cached text is never stale): the documents
-- of a list repeat the same keys, ids and dates call after call. Short strings only, and the
-- cache starts over when full, so it stays small whatever the traffic.
local quoted, n_quoted = {}, 0
local QUOTED_MAX, QUOTED_LEN = 20000, 200

local function quote(s)
  local q = quoted[s]
  if q then return q end
  if strfind(s, NEEDS_ESCAPE) then q = quotestring(s) else q = '"' .. s .. '"' end
  if #s <= QUOTED_LEN then
    if n_quoted >= QUOTED_MAX then quoted, n_quoted = {}, 0 end
    quoted[s], n_quoted = q, n_quoted + 1
  end
  return q
end

local function number(v)
  if v ~= v or v >= huge or -v >= huge then return "null" end
  -- dkjson mends a locale's decimal comma and group separators (none under nginx's C locale)
  if tostring(0.5) ~= "0.5" then return dkjson.encode(v) end
  return tostring(v)
end

local function is_sequence(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

-- dkjson's isarray: true, highest index | false
local function dk_isarray(t)
  local max, n, arraylen = 0, 0, 0
  for k, v in pairs(t) do
    if k == "n" and type(v) == "number" then
      arraylen = v
      if v > max then max = v end
    else
      if type(k) ~= "number" or k < 1 or floor(k) ~= k then return false end
      if k > max then max = k end
      n = n + 1
    end
  end
  if max > 10 and max > arraylen and max > n * 2 then return false end
  return true, max
end

local write

local function write_pairs(t, buf, n, depth)
  n = n + 1
  buf[n] = "{"
  local first = true
  for k, x in pairs(t) do
    local kt = type(k)
    if kt ~= "string" and kt ~= "number" then
      error("json: type '" .. kt .. "' is not supported as a key by JSON.", 0)
    end
    if not first then n = n + 1 buf[n] = "," end
    first = false
    n = n + 1
    buf[n] = quote(kt == "string" and k or tostring(k))
    n = n + 1
    buf[n] = ":"
    n = write(x, buf, n, depth)
  end
  n = n + 1
  buf[n] = "}"
  return n
end

function write(v, buf, n, depth)
  local t = type(v)
  if t == "string" then
    n = n + 1
    buf[n] = quote(v)
  elseif t == "number" then
    n = n + 1
    buf[n] = number(v)
  elseif t == "boolean" then
    n = n + 1
    buf[n] = v and "true" or "false"
  elseif t == "table" then
    if depth > 100 then error("json: too deep", 0) end
    local mt = getmetatable(v)
    if mt == array_mt or (mt == nil and is_sequence(v)) then
      local isa, max = dk_isarray(v)
      if not isa then return write_pairs(v, buf, n, depth + 1) end
      n = n + 1
      buf[n] = "["
      for i = 1, max do
        if i > 1 then n = n + 1 buf[n] = "," end
        n = write(v[i], buf, n, depth + 1)
      end
      n = n + 1
      buf[n] = "]"
    else
      return write_pairs(v, buf, n, depth + 1)
    end
  else
    -- nil (a hole of an array), ngx.null, functions, userdata
    n = n + 1
    buf[n] = "null"
  end
  return n
end

local function encode(v)
  local buf = {}
  local ok, n = pcall(write, v, buf, 0, 0)
  if not ok then error(n, 2) end
  return concat(buf, "", 1, n)
end
_M.encode = encode

-- nil, message on malformed text or text after the value (dkjson stops at the value's end).
function _M.decode(s)
  if type(s) ~= "string" then return nil, "json: not a string" end
  local v, pos, err = dkjson.decode(s, 1, _M.null, object_mt, array_mt)
  if err then return nil, "json: " .. err end
  if s:find("[^ \t\r\n]", pos) then return nil, "json: trailing text at character " .. pos end
  return v
end

return _M
