-- CSV bodies as the server's exports write them: csv-express 1.2 (`res.csv(rows, true)`, with
-- the `;` separator the routes set), over lean Mongo documents.
--
-- What csv-express does, and so what this does:
--   * the header line is the first row's own keys, in its order, joined as they are (no quoting);
--     with no rows it is empty, and the body is a lone line end;
--   * every row is read through that header: a key the row lacks is an empty field, a key only
--     later rows have is not written;
--   * a field: null or absent -> empty; a value whose String() reads as a plain decimal number
--     (optional sign, digits, optional fraction: "007" -> 7, "1.50" -> 1.5, 42, [5]) and is
--     finite -> that number as JavaScript prints it, unquoted (a number printed with an exponent,
--     1e+21, does not read so and is quoted); anything else -> its String() in double quotes,
--     inner quotes doubled (true -> "true", an array -> its items' String() joined with ",",
--     an object -> "[object Object]", a Date -> Date.prototype.toString() in UTC, the zone of
--     the server's process);
--   * lines end with CRLF.
-- Lua tables keep no key order, so a row is given as a list of keys and a table of values:
-- csvx.body(rows) with rows[i] = { keys = { "k1", "k2", ... }, values = { k1 = ..., ... },
-- dates = { k = true, ... }? } (dates: keys whose ISO 8601 string values are Date objects on the
-- server).
local json = require("sbx.json")
local store = require("sbx.store")

local _M = {}

local concat, floor, huge = table.concat, math.floor, math.huge
local null = json.null

local DAYS = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local MONTHS = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- Date.prototype.toString() of an ISO 8601 instant, in UTC:
-- "Tue Dec 01 2026 04:57:15 GMT+0000 (Coordinated Universal Time)"; nil when unreadable.
function _M.date_string(iso)
  local ms = type(iso) == "string" and store.ms_of(iso)
  if not ms then return nil end
  local s = floor(ms / 1000)
  local days = floor(s / 86400)
  local secs = s - days * 86400
  -- civil date from days since 1970-01-01 (Howard Hinnant's algorithm)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  local wday = (days + 4) % 7 + 1 -- 1970-01-01 was a Thursday
  return string.format("%s %s %02d %04d %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)", DAYS[wday],
    MONTHS[m], d, y, floor(secs / 3600), floor(secs % 3600 / 60), secs % 60)
end

-- A number as JavaScript's Number.prototype.toString() writes it (ECMA-262 Number::toString:
-- the fewest digits that read back the same, placed by the exponent; n finite). Checked against
-- node's String() on 3000 random doubles: equal under Lua 5.4; under LuaJIT, whose own
-- string.format rounds an exact tie at 17 digits up, 4 of them differ in their last digit.
local function js_number(n)
  if n == 0 then return "0" end
  if n == floor(n) and n > -2 ^ 53 and n < 2 ^ 53 then return string.format("%d", n) end
  local sign = n < 0 and "-" or ""
  local a = n < 0 and -n or n
  local mant, exp
  for p = 0, 16 do
    local s = string.format("%." .. p .. "e", a)
    if tonumber(s) == a or p == 16 then
      mant, exp = s:match("^(%d[%.%d]*)e([-+]%d+)$")
      break
    end
  end
  local digits = mant:gsub("%.", ""):gsub("0+$", "")
  if digits == "" then digits = "0" end
  local k, e = #digits, tonumber(exp) + 1 -- digits, and where the point goes
  if k <= e and e <= 21 then return sign .. digits .. string.rep("0", e - k) end
  if 0 < e and e <= 21 then return sign .. digits:sub(1, e) .. "." .. digits:sub(e + 1) end
  if -6 < e and e <= 0 then return sign .. "0." .. string.rep("0", -e) .. digits end
  local rest = k > 1 and ("." .. digits:sub(2)) or ""
  return sign .. digits:sub(1, 1) .. rest .. "e" .. (e - 1 >= 0 and "+" or "-") .. math.abs(e - 1)
end
_M.js_number = js_number

local function is_array(t)
  if getmetatable(t) == json.array_mt then return true end
  local n = #t
  if n == 0 then return false end
  return next(t, n) == nil and (n == 1 or t[n - 1] ~= nil)
end

-- String(v) of a value inside an array or an object's field, as JavaScript writes it.
local function js_string(v)
  local tv = type(v)
  if v == nil or v == null then return "" end
  if tv == "string" then return v end
  if tv == "number" then
    if v ~= v then return "NaN" end
    if v >= huge then return "Infinity" end
    if v <= -huge then return "-Infinity" end
    return js_number(v)
  end
  if tv == "boolean" then return tostring(v) end
  if tv == "table" then
    if is_array(v) then
      local parts = {}
      for i = 1, #v do parts[i] = js_string(v[i]) end
      return concat(parts, ",")
    end
    return "[object Object]"
  end
  return tostring(v)
end
_M.js_string = js_string

-- JavaScript's truthiness of a stored value (the exports' handlers test fields with `a && a.b`).
_M.truthy = require("sbx.util").truthy

-- csv-express's escape() of one field: String(field) when it reads as a plain decimal number
-- (filterFloat's test) and that number is finite, parseFloat of it printed bare; any other value
-- String() in quotes. So a number JavaScript prints with an exponent (1e+21, 1e-7) is quoted, as
-- is a digit string too long to be finite, and an array whose String() is one number ([5]) is bare.
local function field(v, is_date)
  if v == nil or v == null then return "" end
  if is_date then
    local d = _M.date_string(v)
    if d then v = d end
  end
  local s = js_string(v)
  if s:match("^[-+]?%d+$") or s:match("^[-+]?%d+%.%d+$") then
    local n = tonumber(s)
    n = n and n * 1.0 -- a double, as parseFloat's
    if n and n < huge and n > -huge then return js_number(n) end
  end
  if s:find('"', 1, true) then s = s:gsub('"', '""') end
  return '"' .. s .. '"'
end
_M.field = field

-- A row of a lean document as Mongo returns it: the paths of `paths` (the model's schema order,
-- standing in for the stored document's own field order) that the document holds; Mongo keeps no
-- undefined, and Mongoose's minimize drops an empty object, but keeps an empty array (`arrays`:
-- the schema's array paths). dates: the schema's Date paths.
function _M.row(doc, paths, dates, arrays)
  local row = { keys = {}, values = {}, dates = dates or {}, has = {} }
  arrays = arrays or {}
  for _, k in ipairs(paths) do
    local v = doc[k]
    if type(v) == "table" and v ~= null and next(v) == nil then
      if arrays[k] then v = json.arr() elseif getmetatable(v) ~= json.array_mt then v = nil end
    end
    if v ~= nil then _M.set(row, k, v) end
  end
  return row
end

-- `element[k] = v` in JavaScript: a key the row has keeps its place, a new one goes last (even
-- when v is undefined: the key is there, its field empty).
function _M.set(row, k, v)
  if not row.has[k] then
    row.has[k] = true
    row.keys[#row.keys + 1] = k
  end
  row.values[k] = v
end

-- The lines of an export: the first row's keys as the header (each through header_field, when
-- given), then every row's fields read through it (field_of(value, is_date)), joined by sep;
-- make_row(item) makes each item's row (see above) just before its line, so an export of many
-- rows holds its lines, never all its rows at once (nil: the items are rows). nil for an empty
-- list.
local function same(row) return row end
function _M.lines(list, make_row, field_of, sep, header_field)
  if #list == 0 then return nil end
  make_row = make_row or same
  local first = make_row(list[1])
  local header, out = first.keys, {}
  for i, k in ipairs(header) do out[i] = header_field and header_field(k) or k end
  local lines = { concat(out, sep) }
  for r = 1, #list do
    local row = r == 1 and first or make_row(list[r])
    local values, dates = row.values, row.dates or {}
    out = {}
    for i = 1, #header do
      local k = header[i]
      out[i] = field_of(values[k], dates[k])
    end
    lines[r + 1] = concat(out, sep)
  end
  return lines
end

-- The body for the items of list, make_row(item) making each one's row (see _M.lines).
function _M.body_of(list, make_row)
  local lines = _M.lines(list, make_row, field, ";")
  if not lines then return "\r\n" end
  return concat(lines, "\r\n") .. "\r\n"
end

-- The body for rows already made.
function _M.body(rows)
  return _M.body_of(rows)
end

return _M
