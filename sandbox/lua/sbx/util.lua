-- Helpers shared by the sandbox modules.
local json = require("sbx.json")

local _M = { json = json, arr = json.arr, null = json.null }

function _M.copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = _M.copy(v) end
  return setmetatable(out, getmetatable(t))
end

function _M.shallow(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return setmetatable(out, getmetatable(t))
end

function _M.int(v, default)
  if type(v) == "table" then v = v[1] end
  local n = tonumber(v)
  if not n then return default end
  return math.floor(n)
end

function _M.bool(v)
  if type(v) == "table" then v = v[1] end
  return v == true or v == "true" or v == "1"
end

function _M.str(v)
  if type(v) == "table" then v = v[1] end
  if v == true then return "" end
  return v
end

-- page 0-based slice of an array; returns a marked array
function _M.paginate(list, page, limit)
  local out = json.arr()
  local skip = page * limit
  for i = skip + 1, math.min(#list, skip + limit) do out[#out + 1] = list[i] end
  return out
end

-- sort by field, direction -1 (desc, default) or 1
function _M.sort(list, field, direction)
  field = field or "createdAt"
  local dir = tonumber(direction) or -1
  table.sort(list, function(a, b)
    local x, y = a[field], b[field]
    if x == y then return tostring(a._id) < tostring(b._id) end
    if x == nil then return false end
    if y == nil then return true end
    if type(x) ~= type(y) then x, y = tostring(x), tostring(y) end
    if dir == 1 then return x < y end
    return x > y
  end)
  return list
end

function _M.contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

function _M.split(s, sep)
  local out = {}
  for part in tostring(s):gmatch("[^" .. (sep or ",") .. "]+") do out[#out + 1] = part end
  return out
end

-- One CSV field as the server writes its exports (';' separated, '"' quoted).
function _M.csv_escape(v)
  v = v == nil and "" or tostring(v)
  if v:find('[;"\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

-- express-validator style 422
function _M.invalid(param, value, location)
  return { value = value, msg = "Invalid value", param = param, location = location or "body" }
end

return _M
