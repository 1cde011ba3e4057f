-- The query filters of list routes: checked against what the server reads, lists sent the way
-- each endpoint reads them, and dates converted to the form (and time zone) each one parses.
--
-- A route declares them (resources/<name>.lua) as a map name -> spec:
--   filters = {
--     status = { "status codes; an array is comma-joined", list = "comma" },
--     role = { "roles", list = "repeat" },           -- an array goes as repeated keys
--     dept_id = "department _id",                    -- one value: an array raises
--     start_date = { "from (inclusive)", date = "start" }, end_date = { "to (inclusive)", date = "end" },
--     workingStatus = { "...", ops = { "in", "nin", "ne" }, list = "comma" },
--     lastdays = { "days back", number = "days" },    -- a number (or numeric text), 0 or more
--     with_email = { "...", presence = true },        -- read by presence: false sends nothing
--   },
--   dates = "tz" | "utc_days" | "iso_days",  -- how the server reads its date filters (below)
--
-- The one rule for every date-filtering call: start_date and end_date are both INCLUSIVE, and a
-- date given without a time of day stands for that whole day in the call's time zone (the
-- `timezone` client option, default "UTC", or a `timezone` filter of the call). A date is an
-- epoch number (os.time()), an ISO 8601 string ("2026-11-30", "2026-11-30T09:15:00Z", ...), a
-- { year, month, day [, hour, min, sec] } table, or the server's "DD/MM/YYYY[ HH:mm[:ss]]".
-- The server compares to the second: a fraction widens the range to the whole second.
--
-- dates = "tz": the server parses DD/MM/YYYY[ HH:mm:ss] in the `timezone` parameter (default
--   Europe/Rome when absent, so the SDK always sends it); a day-only end covers the whole day
--   ($lt the next midnight), an end with a time is $lte (utils/datesUtil.js).
-- dates = "utc_days": the server reads DD/MM/YYYY as whole days of its own clock (UTC on
--   Tiledesk's servers), reads no time zone, and ignores an end_date given without start_date:
--   the SDK sends whole UTC days (and 01/01/1970 as the start when only an end is given); a
--   time of day, or days of another zone, raise: the server cannot filter them.
-- dates = "iso_days": the same whole UTC days, written YYYY-MM-DD (analytics tags).
-- dates = "zone": no date filter, but the server groups by hour in `timezone` (analytics hours).
local time = require("tiledesk.time")

local _M = {}

-- The SDK's own query keys.
local SDK = { max_items = true, prefetch = true, raw_query = true }

-- page and limit, which a paginated route takes (the pager sends them); limit only where the
-- server reads it (not on fixed-size pages).
local function pager_key(route, k)
  local p = route.page
  if not p or p.all then return false end
  return k == "page" or (k == "limit" and not p.fixed)
end

local function spec_of(v)
  if type(v) == "table" then return v end
  return { v }
end

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t and n > 0
end

local function scalar(op, name, v, level)
  local tv = type(v)
  if tv == "string" or tv == "boolean" then return v end
  if tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error(string.format("%s: filter '%s' must be a finite number", op, name), level + 1)
    end
    return v
  end
  error(string.format("%s: filter '%s' takes a string, number or boolean (got %s)", op, name, tv), level + 1)
end

-- The names a route knows, sorted, for messages.
local function known_names(route)
  local names = {}
  for k in pairs(route.filters or {}) do names[#names + 1] = k end
  for _, f in ipairs(route.fields or {}) do names[#names + 1] = (f:gsub("%?$", "")) end
  for _, k in ipairs({ "page", "limit" }) do
    if pager_key(route, k) then names[#names + 1] = k end
  end
  if route.dates and not (route.filters or {}).timezone then names[#names + 1] = "timezone" end
  table.sort(names)
  local out, seen = {}, {}
  for _, n in ipairs(names) do
    if not seen[n] then seen[n] = true out[#out + 1] = n end
  end
  return out
end
_M.known_names = known_names

---------------------------------------------------------------------------------------------
-- Dates

-- A date value as { instant = t } or { civil = {y, mo, d, h, mi, s}, has_time = bool }; raises
-- (misuse) on anything else.
local function read_date(op, name, v, level)
  local tv = type(v)
  if tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      error(string.format("%s: filter '%s' must be a finite number when it is a number", op, name), level + 1)
    end
    return { instant = v }
  end
  local why
  if tv == "table" then
    local ok, t = pcall(time.from_civil, v)
    if ok and t then
      local c = v[1] ~= nil and { v[1], v[2], v[3], v[4], v[5], v[6] }
        or { v.year, v.month, v.day, v.hour, v.min, v.sec }
      return { civil = { c[1], c[2], c[3], c[4] or 0, c[5] or 0, c[6] or 0 },
        has_time = c[4] ~= nil or c[5] ~= nil or c[6] ~= nil }
    end
    why = tostring(t):gsub("^.-time%.from_civil%(%): ", "")
  elseif tv == "string" then
    local r, w = time._read(v)
    if r then
      if r.off then
        return { instant = time.days_from_civil(r.y, r.mo, r.d) * 86400 + r.h * 3600 + r.mi * 60 + r.s - r.off }
      end
      return { civil = { r.y, r.mo, r.d, r.h, r.mi, r.s }, has_time = r.has_time or false }
    end
    why = w
  else
    why = "a " .. tv
  end
  error(string.format("%s: filter '%s' must be a date: an epoch number, an ISO 8601 string, a "
    .. "{ year, month, day [, hour, min, sec] } table or \"DD/MM/YYYY[ HH:mm[:ss]]\" (got %s: %s)",
    op, name, tv == "string" and ("'" .. v .. "'") or tv, why), level + 1)
end

local function dmy(y, mo, d) return string.format("%02d/%02d/%04d", d, mo, y) end

-- The instant of a civil time in zone z (moment-timezone's reading of gaps and repeats).
local function instant_of(civil, z)
  return (time.from_civil({ civil[1], civil[2], civil[3], civil[4], civil[5], civil[6] }, z))
end

-- dates = "tz": DD/MM/YYYY (a whole day) or DD/MM/YYYY HH:mm:ss in the call's zone.
local function to_tz(op, name, d, which, tz, level)
  if d.civil and not d.has_time then return dmy(d.civil[1], d.civil[2], d.civil[3]) end
  local t = d.instant
  if not t then t = instant_of(d.civil, tz) end
  -- to the second, widening: the start down, the end up
  t = which == "start" and math.floor(t) or math.ceil(t)
  local c = time.civil(t, tz)
  local back, how = time.from_civil({ c.year, c.month, c.day, c.hour, c.min, c.sec }, tz)
  if how == "ambiguous" and back ~= t then
    error(string.format("%s: filter '%s': %s falls in the hour the clock of %s repeats, which the server "
      .. "cannot tell apart; pass timezone = \"UTC\" for this call", op, name, time.format(t), tz), level + 1)
  end
  return string.format("%02d/%02d/%04d %02d:%02d:%02d", c.day, c.month, c.year, c.hour, c.min, c.sec)
end

-- dates = "utc_days" / "iso_days": a whole UTC day, or raise.
local function to_utc_day(op, name, d, which, tz, level)
  local days
  if d.civil and not d.has_time then
    if tz ~= "UTC" then
      error(string.format("%s: filter '%s': the server filters these dates by whole UTC days and reads no "
        .. "time zone; pass timezone = \"UTC\" for this call (the client's is %s)", op, name, tz), level + 1)
    end
    days = time.days_from_civil(d.civil[1], d.civil[2], d.civil[3])
  else
    local t = d.instant or instant_of(d.civil, tz)
    local s = math.floor(t)
    local within = s - math.floor(s / 86400) * 86400
    if which == "start" and within == 0 then days = math.floor(s / 86400)
    elseif which == "end" and within == 86399 then days = math.floor(s / 86400)
    else
      error(string.format("%s: filter '%s': the server filters these dates by whole UTC days; %s is not "
        .. "the %s of a day (give a day: { year, month, day } or \"YYYY-MM-DD\")", op, name, time.format(t),
        which == "start" and "first second" or "last second"), level + 1)
    end
  end
  return days
end

local function check_zone(op, tz, level)
  if type(tz) ~= "string" then
    error(string.format("%s: 'timezone' must be an IANA time zone name (got %s)", op, type(tz)), level + 1)
  end
  local z, msg = time.zone(tz)
  if not z then error(op .. ": " .. msg, level + 1) end
end

-- instant(op, name, v, tz, level) -> epoch seconds of a date value (any form read_date takes; a
-- day is its first second in tz), for endpoints that read one instant (quotes: new Date(x)).
function _M.instant(op, name, v, tz, level)
  local d = read_date(op, name, v, level + 1)
  if d.instant then return d.instant end
  return instant_of(d.civil, tz or "UTC")
end

---------------------------------------------------------------------------------------------

-- The names of a route's fields (route -> set), made on its first call.
local field_sets = setmetatable({}, { __mode = "k" })

-- apply(route, client, q, level) -> the query to send. q is the caller's table (not changed).
function _M.apply(route, client, q, level)
  level = level + 1
  local op = route.op
  local filters = route.filters
  local out = {}
  local fields = field_sets[route]
  if not fields then
    fields = {}
    for _, f in ipairs(route.fields or {}) do fields[(f:gsub("%?$", ""))] = true end
    field_sets[route] = fields
  end
  local dates = {}
  local tz = client.timezone or "UTC"
  if q.timezone ~= nil and route.dates then
    check_zone(op, q.timezone, level)
    tz = q.timezone
  end
  for k, v in pairs(q) do
    local spec = filters[k]
    if k == "raw_query" then
      if type(v) ~= "table" then
        error(string.format("%s: 'raw_query' must be a table (got %s)", op, type(v)), level)
      end
    elseif k == "timezone" and route.dates then -- luacheck: ignore 542
      -- read above
    elseif spec ~= nil then
      spec = spec_of(spec)
      if spec.date then
        local key = spec.alias or k
        if dates[key] then
          local a, b = dates[key].name, k
          if b < a then a, b = b, a end
          error(string.format("%s: filters '%s' and '%s' are the same date; give one", op, a, b), level)
        end
        dates[key] = { name = k, which = spec.date, value = read_date(op, k, v, level) }
      elseif spec.ops and type(v) == "table" and not is_array(v) then
        for opname, ov in pairs(v) do
          local okop = false
          for _, o in ipairs(spec.ops) do if o == opname then okop = true end end
          if not okop then
            error(string.format("%s: filter '%s' takes the operators %s (got '%s')", op, k,
              table.concat(spec.ops, ", "), tostring(opname)), level)
          end
          if type(ov) == "table" then
            local list = {}
            for i, x in ipairs(ov) do list[i] = scalar(op, k, x, level) end
            ov = table.concat(list, ",")
          end
          out[k .. "[" .. opname .. "]"] = scalar(op, k, ov, level)
        end
      elseif type(v) == "table" then
        if not is_array(v) then
          error(string.format("%s: filter '%s' takes %s (got a table that is not an array)", op, k,
            spec.list and "a value or an array of values" or "one value"), level)
        end
        local list = {}
        for i, x in ipairs(v) do list[i] = scalar(op, k, x, level) end
        if spec.list == "comma" then out[k] = table.concat(list, ",")
        elseif spec.list == "repeat" then out[k] = list
        else
          error(string.format("%s: filter '%s' takes one value: the server cannot read a list for it", op, k), level)
        end
        if spec.ops then out[k .. "[in]"], out[k] = out[k], nil end
      else
        if spec.number then
          -- a count the server multiplies in JavaScript: anything else is NaN there, silently
          local n = tonumber(v)
          if type(v) == "boolean" or not n or n ~= n or n < 0 or n == math.huge then
            error(string.format("%s: filter '%s' must be a number of %s (0 or more), got %s", op, k, spec.number,
              tostring(v)), level)
          end
        end
        v = scalar(op, k, v, level)
        -- presence = true: the server filters whenever the key is there, whatever its value, so
        -- false (no filter asked) sends nothing
        if spec.presence and v == false then v = nil end
        if spec.ops then out[k .. "[in]"] = v else out[k] = v end
      end
      if spec.also and out[k] ~= nil then out[spec.also] = out[k] end
    elseif fields[k] or pager_key(route, k) or SDK[k] then
      out[k] = v
    else
      local names = known_names(route)
      error(string.format("%s: unknown filter '%s' (%s; raw_query = { ... } sends others unchecked)", op, tostring(k),
        #names > 0 and ("known: " .. table.concat(names, ", ")) or "the server reads none here"), level)
    end
  end
  if route.dates then
    if route.dates == "zone" then
      -- no dates, but the server counts hours in this zone (analytics hours reports)
      check_zone(op, tz, level)
      out.timezone = tz
    elseif route.dates == "tz" then
      -- the zone goes with the dates (the server reads it for them only; Europe/Rome when absent)
      for key, d in pairs(dates) do
        out[key] = to_tz(op, d.name, d.value, d.which, tz, level)
        out.timezone = tz
      end
      if out.timezone then check_zone(op, tz, level) end
    else
      local start, stop
      for key, d in pairs(dates) do
        local days = to_utc_day(op, d.name, d.value, d.which, tz, level)
        if d.which == "start" then start = { key, days } else stop = { key, days } end
      end
      local function write(days)
        local y, mo, d = time.civil_from_days(days)
        if route.dates == "iso_days" then return string.format("%04d-%02d-%02d", y, mo, d) end
        return dmy(y, mo, d)
      end
      if start then out[start[1]] = write(start[2]) end
      if stop then
        out[stop[1]] = write(stop[2])
        if not start and route.dates == "utc_days" then out[route.start_key or "start_date"] = write(0) end
      end
    end
  end
  if q.raw_query ~= nil then
    for k, v in pairs(q.raw_query) do out[k] = v end
    out.raw_query = nil
  end
  return out
end

return _M
