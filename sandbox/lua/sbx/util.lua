-- Helpers shared by the sandbox modules.
local json = require("sbx.json")

local _M = { json = json, arr = json.arr, null = json.null }

function _M.copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = _M.copy(v) end
  return setmetatable(out, getmetatable(t))
end

-- LuaJIT's table.new and OpenResty's table.nkeys (nginx's LuaJIT has both): a copy sized at
-- once instead of grown key by key
local has_new, table_new = pcall(require, "table.new")
local has_nkeys, table_nkeys = pcall(require, "table.nkeys")
local sized = has_new and has_nkeys

-- An empty table with room for n array items (a list about to be filled), where LuaJIT can.
function _M.sized(n)
  if has_new then return table_new(n, 0) end
  return {}
end

-- A copy of t's fields (and its metatable); `extra`: room for that many fields more.
function _M.shallow(t, extra)
  if t == nil then return {} end
  local out
  if sized then
    local narr = #t
    out = table_new(narr, math.max(0, table_nkeys(t) - narr) + (extra or 0))
  else
    out = {}
  end
  for k, v in pairs(t) do out[k] = v end
  local mt = getmetatable(t)
  if mt ~= nil then setmetatable(out, mt) end
  return out
end

function _M.int(v, default)
  if type(v) == "table" then v = v[1] end
  local n = tonumber(v)
  if not n then return default end
  return math.floor(n)
end

-- JavaScript's truthiness of a stored or decoded value: not undefined, null, false, "", 0 or NaN
function _M.truthy(v)
  return v ~= nil and v ~= _M.null and v ~= false and v ~= "" and v ~= 0 and v == v
end

-- `x != undefined` in JavaScript: neither absent nor null
function _M.given(v) return v ~= nil and v ~= _M.null end

-- A query value JavaScript holds true, as Express parses it: a non-empty string, or a repeated
-- key (an array). A bare key (`?x`, which ngx reads as true) is Express's "", false.
function _M.query_true(v)
  return (type(v) == "string" and v ~= "") or type(v) == "table"
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

-- The page of a CSV export ?page= asks for (from 0): routes/request.js, lead.js and the
-- activities' csv route each take 100000 rows a page.
_M.CSV_PAGE = 100000
function _M.csv_page(list, q)
  return _M.paginate(list, math.max(0, _M.int(q.page, 0)), _M.CSV_PAGE)
end

-- MongoDB's order between types (BSON comparison order); Lua types map onto it.
local TYPE_RANK = { number = 1, string = 2, table = 3, boolean = 4 }

-- A comparable key for one field value: rank, value. Tables compare by their JSON text
-- (arrays and objects alike), so no value makes the sort raise. nil when absent or null.
local function sort_key(v)
  local t = type(v)
  if v == nil or v == json.null then return nil end
  if t == "table" then return TYPE_RANK.table, json.encode(v) end
  if t == "boolean" then return TYPE_RANK.boolean, v and 1 or 0 end
  if TYPE_RANK[t] then return TYPE_RANK[t], v end
  return 5, tostring(v)
end

-- The order of sort(), over positions of the list being sorted: documents by field, direction
-- -1 (desc, default) or 1. Documents without the field come last; ties keep the order of the
-- ids in the sort direction. A strict total order (ids are unique), so any way of sorting by it
-- gives the same list. The keys live in arrays kept between calls (one worker; a sort never
-- yields nor sorts inside itself), and the two comparators are made once: a sort makes no
-- closure and no key table.
local key_rank, key_val, key_id, key_dir = {}, {}, {}, -1

local function less(a, b)
  local ra, rb = key_rank[a], key_rank[b]
  if not ra or not rb then
    if ra then return true end
    if rb then return false end
  else
    local x, y = key_val[a], key_val[b]
    if ra ~= rb or x ~= y then
      local lt
      if ra ~= rb then lt = ra < rb else lt = x < y end
      if key_dir == 1 then return lt end
      return not lt
    end
  end
  if key_dir == 1 then return key_id[a] < key_id[b] end
  return key_id[a] > key_id[b]
end

local function load_keys(list, field, dir)
  key_dir = dir
  for i = 1, #list do
    local d = list[i]
    local v = d[field]
    local t = type(v)
    -- strings and numbers (createdAt, dates, counts) without the call
    if t == "string" then
      key_rank[i], key_val[i] = 2, v
    elseif t == "number" then
      key_rank[i], key_val[i] = 1, v
    else
      local r
      r, v = sort_key(v)
      key_rank[i], key_val[i] = r or false, v
    end
    local id = d._id
    key_id[i] = type(id) == "string" and id or tostring(id)
  end
end

local pos, docs = {}, {}

-- sort by field, direction -1 (desc, default) or 1. Documents without the field come last;
-- ties keep the insertion order of the ids in the sort direction.
-- With `top`: only list[1..top] is put in that order (a page's worth, as a list handler needs
-- it); the others follow in their former order, so #list is unchanged.
function _M.sort(list, field, direction, top)
  field = field or "createdAt"
  local dir = tonumber(direction) or -1
  load_keys(list, field, dir)
  local n = #list
  if not top or top * 4 >= n then
    local all = {}
    for i = 1, n do all[i] = i end
    table.sort(all, less)
    for i = 1, n do docs[i] = list[all[i]] end
  else
    -- the first `top` by insertion into a sorted run: one comparison for most documents. Lists
    -- are kept in the order documents came (oldest first), so a descending sort looks at them
    -- newest first: each one after the first `top` is then beaten by the run's last. (The order
    -- is total: the run comes out the same whichever way the list is walked.)
    local k = 0
    local from, to, step = 1, n, 1
    if dir ~= 1 then from, to, step = n, 1, -1 end
    for i = from, to, step do
      if k < top or less(i, pos[k]) then
        local j = k < top and k + 1 or k
        while j > 1 and less(i, pos[j - 1]) do
          pos[j] = pos[j - 1]
          j = j - 1
        end
        pos[j] = i
        if k < top then k = k + 1 end
      end
    end
    -- the chosen first, then the others in their former order
    for i = 1, k do
      docs[i] = list[pos[i]]
      key_rank[pos[i]] = nil -- marks it chosen; the keys are loaded again by the next sort
    end
    for i = 1, n do
      if key_rank[i] ~= nil then k = k + 1 docs[k] = list[i] end
    end
  end
  for i = 1, n do list[i], docs[i] = docs[i], nil end
  return list
end

-- The list sorted as the server's lists are: ?sort= (createdAt) and ?direction= (-1); `top`
-- as for sort().
function _M.sort_query(list, q, top)
  return _M.sort(list, _M.str(q.sort) or "createdAt", _M.str(q.direction), top)
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
