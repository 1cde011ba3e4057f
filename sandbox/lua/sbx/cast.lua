-- Mongoose 5's casts of a schema path's value (lib/cast/string.js, number.js, boolean.js), for
-- the documents the sandbox writes as a model would. Each returns ok, value: ok false is the
-- CastError the route turns into its 500. nil (undefined) and null go through as they are.
local json = require("sbx.json")

local _M = {}

local null = json.null

local function is_array(v)
  return type(v) == "table" and (getmetatable(v) == json.array_mt or (next(v) ~= nil and v[1] ~= nil))
end
_M.is_array = is_array

-- JavaScript's String() of a number: integers without a fraction, the rest as %.17g trimmed to
-- the shortest text that reads back the same
local function js_number_text(n)
  if n ~= n then return "NaN" end
  if n == math.huge then return "Infinity" end
  if n == -math.huge then return "-Infinity" end
  if n == math.floor(n) and math.abs(n) < 1e21 then return string.format("%d", n) end
  for digits = 1, 17 do
    local s = string.format("%." .. digits .. "g", n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end

-- String: numbers and booleans by their toString; an object with a string _id gives that id;
-- other objects and arrays fail
function _M.string(v)
  if v == nil or v == null then return true, v end
  local t = type(v)
  if t == "string" then return true, v end
  if t == "number" then return true, js_number_text(v) end
  if t == "boolean" then return true, tostring(v) end
  if t == "table" and not is_array(v) and type(v._id) == "string" then return true, v._id end
  return false
end

-- JavaScript's Number() of a string: blanks around ignored, "" is 0, decimal or 0x/0o/0b
-- integers, Infinity; anything else NaN (nil here)
local function js_number_of(s)
  s = s:match("^%s*(.-)%s*$")
  if s == "" then return 0 end
  local sign, rest = s:match("^([+-]?)(.*)$")
  if rest == "Infinity" then return sign == "-" and -math.huge or math.huge end
  local base, digits = nil, nil
  if sign == "" then
    local p, d = s:match("^0([xXoObB])(%w+)$")
    if p then base, digits = ({ x = 16, o = 8, b = 2 })[p:lower()], d end
  end
  if base then return tonumber(digits, base) end
  if not rest:match("^%d*%.?%d*[eE]?[+-]?%d*$") or not rest:match("%d") then return nil end
  if rest:match("[eE]") and not rest:match("[eE][+-]?%d+$") then return nil end
  return tonumber(s)
end

-- Number: "" is null; strings and booleans through Number(); NaN, objects and arrays fail
function _M.number(v)
  if v == nil or v == null then return true, v end
  if v == "" then return true, null end
  local t = type(v)
  if t == "number" then return v == v, v end
  if t == "boolean" then return true, v and 1 or 0 end
  if t == "string" then
    local n = js_number_of(v)
    return n ~= nil, n
  end
  return false
end

local TRUE = { [true] = true, ["true"] = true, [1] = true, ["1"] = true, yes = true }
local FALSE = { [false] = true, ["false"] = true, [0] = true, ["0"] = true, no = true }

-- Boolean: true, 'true', 1, '1', 'yes' and false, 'false', 0, '0', 'no'; anything else fails
function _M.boolean(v)
  if TRUE[v] then return true, true end
  if FALSE[v] then return true, false end
  if v == nil or v == null then return true, v end
  return false
end

-- A Mixed array (`type: Array`): a value that is no array becomes the array of it
function _M.array(v)
  if v == nil or v == null then return true, v end
  if is_array(v) then
    local out = json.arr()
    for i, x in ipairs(v) do out[i] = x end
    return true, out
  end
  return true, json.arr{ v }
end

return _M
