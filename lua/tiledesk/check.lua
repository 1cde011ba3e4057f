-- Argument checks for hand-written resource methods: misuse raises (error(msg, level)) with the
-- operation, the argument's position and name, as the generated methods do.
local _M = {}

local function bad(op, n, name, expected, got, level)
  error(string.format("%s: bad argument #%d '%s' (%s expected, got %s)", op, n, name, expected, got), level + 1)
end

-- a non-empty string
function _M.str(op, n, name, v, level)
  if type(v) ~= "string" or v == "" then bad(op, n, name, "non-empty string", type(v) == "string" and "an empty string" or type(v), level + 1) end
  return v
end

-- a table, or nil when optional
function _M.tbl(op, n, name, v, level, optional)
  if v == nil and optional then return {} end
  if type(v) ~= "table" then bad(op, n, name, "table", type(v), level + 1) end
  return v
end

-- an options table with only the keys `allowed` names (key -> a check returning true or what it expects)
function _M.options(op, n, opts, allowed, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" then bad(op, n, "opts", "table", type(opts), level + 1) end
  for k, v in pairs(opts) do
    local ck = allowed[k]
    if not ck then error(op .. ": unknown option '" .. tostring(k) .. "'", level + 1) end
    local ok = ck(v)
    if ok ~= true then error(op .. ": option '" .. k .. "' must be " .. ok .. " (got " .. type(v) .. ")", level + 1) end
  end
  return opts
end

_M.is_bool = function(v) return type(v) == "boolean" or "a boolean" end
_M.is_str = function(v) return type(v) == "string" and v ~= "" or "a non-empty string" end
_M.is_ms = function(v) return type(v) == "number" and v >= 0 or "a number of ms >= 0" end
_M.is_count = function(v) return type(v) == "number" and v >= 0 and v == math.floor(v) or "an integer >= 0" end
_M.is_table = function(v) return type(v) == "table" or "a table" end

return _M
