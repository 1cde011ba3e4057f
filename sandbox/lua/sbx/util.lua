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

-- ?limit= (default when absent or not positive, capped at max when given) and ?page= (0-based)
function _M.limit_page(q, default, max)
  local limit = _M.int(q.limit, default)
  if limit <= 0 then limit = default end
  if max and limit > max then limit = max end
  return limit, math.max(0, _M.int(q.page, 0))
end

-- page 0-based slice of an array; returns a marked array
function _M.paginate(list, page, limit)
  local out = json.arr()
  local skip = page * limit
  for i = skip + 1, math.min(#list, skip + limit) do out[#out + 1] = list[i] end
  return out
end

-- MongoDB's order between types (BSON comparison order); Lua types map onto it.
local TYPE_RANK = { number = 1, string = 2, table = 3, boolean = 4 }

-- A comparable key for one field value: { rank, value }. Tables compare by their JSON text
-- (arrays and objects alike), so no value makes the sort raise.
local function sort_key(v)
  local t = type(v)
  if v == nil or v == json.null then return nil end
  if t == "table" then return { TYPE_RANK.table, json.encode(v) } end
  if t == "boolean" then return { TYPE_RANK.boolean, v and 1 or 0 } end
  if TYPE_RANK[t] then return { TYPE_RANK[t], v } end
  return { 5, tostring(v) }
end

-- sort by field, direction -1 (desc, default) or 1. Documents without the field come last;
-- ties keep the insertion order of the ids in the sort direction.
function _M.sort(list, field, direction)
  field = field or "createdAt"
  local dir = tonumber(direction) or -1
  local keys = {}
  for _, d in ipairs(list) do keys[d] = sort_key(d[field]) end
  table.sort(list, function(a, b)
    local x, y = keys[a], keys[b]
    local ida, idb = tostring(a._id), tostring(b._id)
    if x == nil or y == nil then
      if x ~= nil then return true end
      if y ~= nil then return false end
    elseif x[1] ~= y[1] or x[2] ~= y[2] then
      local lt
      if x[1] ~= y[1] then lt = x[1] < y[1] else lt = x[2] < y[2] end
      if dir == 1 then return lt end
      return not lt
    end
    if dir == 1 then return ida < idb end
    return ida > idb
  end)
  return list
end

-- The list sorted as the server's lists are: ?sort= (createdAt) and ?direction= (-1)
function _M.sort_query(list, q)
  return _M.sort(list, _M.str(q.sort) or "createdAt", _M.str(q.direction))
end

-- A Mongo ObjectId in its usual text form (24 hex digits).
function _M.is_oid(v)
  return type(v) == "string" and #v == 24 and v:match("^%x+$") ~= nil
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

-- A request header's value as one string ("" when absent): ngx gives a table when it came twice.
function _M.header_value(h, name)
  local v = h and h[name]
  if type(v) == "table" then v = v[1] end
  return type(v) == "string" and v or ""
end

return _M
