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

-- dkjson's exception hook: ngx.null (and any other value JSON cannot hold) is written null
local function write_null(reason)
  if reason == "unsupported type" then return "null" end
  return nil
end

function _M.arr(t)
  return setmetatable(t or {}, array_mt)
end

local encode

-- dkjson 2.6 decides array or object by the keys alone: a table whose keys are all positive
-- integers or a numeric `n` is written as an array whatever its mark ({n = 1} as [null]).
-- Objects of that kind are written here, pair by pair.
local function write_object(t)
  local parts = {}
  for k, v in pairs(t) do parts[#parts + 1] = dkjson.quotestring(tostring(k)) .. ":" .. encode(v) end
  return "{" .. table.concat(parts, ",") .. "}"
end
local odd_object_mt = { __jsontype = "object", __tojson = write_object }

local function looks_like_array(t)
  for k, v in pairs(t) do
    if not ((k == "n" and type(v) == "number") or (type(k) == "number" and k >= 1 and k % 1 == 0)) then
      return false
    end
  end
  return true
end

local function is_sequence(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

-- A copy of v where every table says what it is: array_mt kept, every other table an object
-- unless it is an unmarked non-empty sequence (dkjson would write an unmarked {} as []).
local function mark(v, depth)
  if type(v) ~= "table" then return v end
  if depth > 100 then error("json: too deep", 0) end
  local mt = getmetatable(v)
  local out = {}
  for k, x in pairs(v) do out[k] = mark(x, depth + 1) end
  if mt == array_mt or (mt == nil and is_sequence(v)) then return setmetatable(out, array_mt) end
  if next(out) ~= nil and looks_like_array(out) then return setmetatable(out, odd_object_mt) end
  return setmetatable(out, object_mt)
end

function encode(v)
  local text, err = dkjson.encode(mark(v, 0), { exception = write_null })
  if not text then error("json: " .. tostring(err), 2) end
  return text
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
