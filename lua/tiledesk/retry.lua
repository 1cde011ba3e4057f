-- The retry policy: which calls may be repeated, after which failures, and how long to wait
-- (full-jitter exponential backoff, or the server's Retry-After: delta seconds or an HTTP date).
local _M = {}

-- Idempotent methods repeat by themselves; POST and PATCH only with retry = true.
_M.METHODS = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }
-- Answers worth another attempt (the server asks to wait, or a gateway had no answer).
_M.STATUS = { [429] = true, [502] = true, [503] = true, [504] = true }
-- Transport failures worth another attempt (nothing reached the application).
_M.KINDS = { connect = true, timeout = true }

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9,
  Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a civil date (proleptic Gregorian), without os.time's local zone.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Epoch seconds of an HTTP date (IMF-fixdate, RFC 850, asctime), or nil.
local function http_date(v)
  local d, mon, y, h, mi, s = v:match("^%a+, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d then
    d, mon, y, h, mi, s = v:match("^%a+, (%d%d)%-(%a%a%a)%-(%d%d) (%d%d):(%d%d):(%d%d) GMT$")
    if y then y = tonumber(y) + (tonumber(y) < 70 and 2000 or 1900) end
  end
  if not d then
    mon, d, h, mi, s, y = v:match("^%a+ (%a%a%a) +(%d%d?) (%d%d):(%d%d):(%d%d) (%d%d%d%d)$")
  end
  if not d or not MONTHS[mon] then return nil end
  d, h, mi, s = tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  return days_from_civil(tonumber(y), MONTHS[mon], d) * 86400 + h * 3600 + mi * 60 + s
end

-- Retry-After: delta seconds, or an HTTP date. Returns seconds from now (>= 0), or nil when
-- absent or unreadable. now_s: current epoch seconds (default os.time()).
function _M.parse_retry_after(v, now_s)
  if type(v) == "table" then v = v[1] end
  if type(v) ~= "string" then return nil end
  v = v:match("^%s*(.-)%s*$")
  if v:match("^%d+$") then return tonumber(v) end
  local t = http_date(v)
  if not t then return nil end
  local delta = t - (now_s or os.time())
  if delta < 0 then delta = 0 end
  return delta
end

-- Full-jitter exponential backoff for retry number n (1-based).
function _M.backoff_ms(n, base, max, random)
  local cap = math.min(max, base * 2 ^ (n - 1))
  return math.floor((random or math.random)() * cap)
end

-- A policy for one call: p = { may = bool, attempts = max attempts, base = ms, max = ms }.
function _M.policy(method, retry_flag, retries, base, max)
  return { may = _M.METHODS[method] or retry_flag == true, attempts = 1 + retries, base = base, max = max }
end

-- ms to wait before attempt n+1 after a transport failure of `kind`, or nil (no retry).
function _M.after_failure(p, n, kind)
  if p.may and _M.KINDS[kind] and n < p.attempts then return _M.backoff_ms(n, p.base, p.max) end
  return nil
end

-- ms to wait before attempt n+1 after an HTTP answer, or nil (the answer is final). A Retry-After
-- longer than the policy's max ends the call (the caller sees err.retry_after).
function _M.after_status(p, n, status, headers)
  if not (_M.STATUS[status] and p.may and n < p.attempts) then return nil end
  local after = _M.parse_retry_after(headers and headers["retry-after"])
  if after then
    if after * 1000 <= p.max then return math.floor(after * 1000) end
    return nil
  end
  return _M.backoff_ms(n, p.base, p.max)
end

return _M
