-- A project's plan as the server reads it: models/profile.js (the profile's defaults on a server
-- without COMMUNITY_VERSION), models/project.js (the virtuals trialExpired, trialDaysLeft and
-- isActiveSubscription, without TRIAL_MODE_ENABLED) and services/QuoteManager.js getCurrentSlot
-- (the monthly slot, with moment's month arithmetic in the server's time zone, UTC here).
local store = require("sbx.store")

local _M = {}

local DAY = 86400000

-- The profile a new project gets: ProfileSchema's defaults (quotes, customization, subStart
-- and subEnd default to undefined outside the community version: not written).
function _M.default_profile()
  return { name = "Sandbox", trialDays = 14, agents = 0, type = "free" }
end

local function ms(v)
  if type(v) == "number" then return v end
  if type(v) == "string" then return store.ms_of(v) end
  return nil
end

-- The virtuals models/project.js adds to a project's JSON, at now_ms.
function _M.virtuals(p, now_ms)
  local profile = type(p.profile) == "table" and p.profile or {}
  local created = ms(p.createdAt) or now_ms
  local out = { trialExpired = false } -- trialEnabled false: the getter returns false first
  local trial = tonumber(profile.trialDays)
  -- now - (createdAt + trialDays days), in whole days down (days past the trial's end); NaN
  -- (null in JSON) without trialDays
  out.trialDaysLeft = trial and math.floor((now_ms - (created + trial * DAY)) / DAY) or nil
  local active = false
  if profile.type == "payment" then
    local sub_end = ms(profile.subEnd)
    if sub_end then active = now_ms <= sub_end + 3 * DAY else active = "" end
  end
  out.isActiveSubscription = active
  return out
end

---------------------------------------------------------------------------------------------
-- moment's months, in UTC

local function days_in_month(y, m)
  local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
  return ({ 31, leap and 29 or 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
end

local function fields(t)
  local d = os.date("!*t", math.floor(t / 1000))
  d.ms = t % 1000
  return d
end

-- moment#add(n, 'months'): the same day of the month, or the month's last when it has fewer;
-- the time of day kept
local function add_months(t, n)
  local f = fields(t)
  local m0 = f.year * 12 + (f.month - 1) + n
  local y, m = math.floor(m0 / 12), m0 % 12 + 1
  local d = math.min(f.day, days_in_month(y, m))
  return store.civil_ms(y, m, d, f.hour, f.min, f.sec, f.ms)
end

-- moment's monthDiff(a, b): whole months from a to b and the fraction of the next, negated
local function month_diff(a, b)
  local fa, fb = fields(a), fields(b)
  if fa.day < fb.day then return -month_diff(b, a) end
  local whole = (fb.year - fa.year) * 12 + (fb.month - fa.month)
  local anchor = add_months(a, whole)
  local adjust
  if b - anchor < 0 then
    adjust = (b - anchor) / (anchor - add_months(a, whole - 1))
  else
    adjust = (b - anchor) / (add_months(a, whole + 1) - anchor)
  end
  local r = -(whole + adjust)
  return r == 0 and 0 or r
end

-- a.diff(b, 'months'): monthDiff(a, b) truncated toward zero
local function diff_months(a, b)
  local r = month_diff(a, b)
  return r < 0 and math.ceil(r) or math.floor(r)
end

local function start_of_day(t) return t - t % DAY end

-- The current slot: start_ms, end_ms (epoch ms). The subscription's date is profile.subStart
-- for an active subscription, else profile.subEnd, else the project's creation; nil when an
-- active subscription has no subStart (the server logs "it should never happen" and then
-- throws on the undefined date).
function _M.current_slot(p, now_ms)
  local profile = type(p.profile) == "table" and p.profile or {}
  local sub
  if _M.virtuals(p, now_ms).isActiveSubscription == true then
    sub = ms(profile.subStart)
    if not sub then return nil end
  else
    sub = ms(profile.subEnd) or ms(p.createdAt) or now_ms
  end
  local n = diff_months(now_ms, sub)
  local start = start_of_day(add_months(sub, n))
  local stop = start_of_day(add_months(sub, n + 1) - DAY) + DAY - 1
  return start, stop
end

-- moment#format('DD/MM/YYYY')
function _M.ddmmyyyy(t)
  return os.date("!%d/%m/%Y", math.floor(t / 1000))
end

return _M
