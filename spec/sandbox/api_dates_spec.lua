-- Date filters as the server reads them.
-- Conversations: routes/request.js (GET /, GET /csv) hands start_date/end_date (else
-- start_date_time/end_date_time) to utils/datesUtil.js createDateRangeQuery with
-- req.query.timezone || 'Europe/Rome': moment.tz(text, format, timezone) over ten DD/MM/YYYY
-- and YYYY/MM/DD formats; a date without a time means the whole day (start >= 00:00, end <
-- 00:00 of the next day), a date with a time is that instant (end <=); errors answer 500
-- {success:false, error: message}.
-- Activities: pubmodules/activities/routes/activity.js reads DD/MM/YYYY with moment() in the
-- server process's zone (UTC), with no timezone parameter.
-- The expectations come from those rules and from the EU's daylight-saving dates (Rome: CET
-- +1, CEST +2 from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC;
-- in 2024 the 31st of March and the 27th of October); Tokyo is UTC+9 all year.
local helper = require("spec.helper")

local st = helper.sandbox()
local api = helper.api

local function clock(at)
  local status = helper.http_json("POST", st.control_url .. "/clock", '{"at":' .. (at and '"' .. at .. '"' or "null") .. "}",
    { ["content-type"] = "application/json" })
  assert.equal(200, status)
end

describe("sandbox date filters", function()
  local made -- name -> request_id, conversations made at set instants of 2024 (no seed is that old)

  setup(function()
    helper.reset()
    made = {}
    local at = {
      A = "2024-03-30T23:30:00.000Z", -- 31/03 00:30 CET in Rome, 30/03 in UTC
      G = "2024-03-31T00:45:00.000Z", -- 31/03 01:45 CET
      B = "2024-03-31T01:30:00.000Z", -- 31/03 03:30 CEST, just after the gap
      C = "2024-10-27T00:30:00.000Z", -- 27/10 02:30 CEST, the first 02:30
      D = "2024-10-27T01:30:00.000Z", -- 27/10 02:30 CET, the second 02:30
      E = "2024-10-27T22:30:00.000Z", -- 27/10 23:30 CET; 28/10 07:30 in Tokyo
      F = "2024-10-27T23:30:00.000Z", -- 28/10 00:30 CET, still 27/10 in UTC
    }
    for name, iso in pairs(helper.nonempty(at)) do
      clock(iso)
      local status, r = api("owner", "POST", "/requests", { first_text = "dates " .. name })
      assert.equal(200, status)
      made[name] = r.request_id
    end
    clock(nil)
  end)

  teardown(function()
    clock(nil)
    helper.reset()
  end)

  -- the names of the made conversations a list answers, sorted
  local function names(query, path)
    query = query:gsub(" ", "%%20")
    local status, b = api("owner", "GET", (path or "/requests") .. "?status=all&limit=100&" .. query)
    assert.equal(200, status)
    local by_id = {}
    for name, rid in pairs(made) do by_id[rid] = name end
    local out = {}
    for _, r in ipairs(b.requests) do
      if by_id[r.request_id] then out[#out + 1] = by_id[r.request_id] end
    end
    table.sort(out)
    return table.concat(out, ",")
  end

  it("reads a day in Europe/Rome by default, the end day included up to its midnight", function()
    assert.equal("A,B,G", names("start_date=31/03/2024&end_date=31/03/2024"))
    assert.equal("C,D,E", names("start_date=27/10/2024&end_date=27/10/2024"))
    assert.equal("F", names("start_date=28/10/2024&end_date=28/10/2024"))
    assert.equal("A,B,G", names("end_date=31/03/2024")) -- nothing older in 2024
  end)

  it("reads the days in the timezone asked (an IANA name in any case)", function()
    assert.equal("B,G", names("start_date=31/03/2024&end_date=31/03/2024&timezone=UTC"))
    assert.equal("C,D,E,F", names("start_date=27/10/2024&end_date=27/10/2024&timezone=UTC"))
    assert.equal("E,F", names("start_date=28/10/2024&end_date=28/10/2024&timezone=Asia/Tokyo"))
    assert.equal("E,F", names("start_date=28/10/2024&end_date=28/10/2024&timezone=asia/tokyo"))
    assert.equal("A,B,G", names("start_date=31/03/2024&end_date=31/03/2024&timezone=europe/rome"))
  end)

  it("takes a date with a time as that instant, the end included, across daylight-saving changes", function()
    -- 02:30 on the 31st of March does not exist in Rome: it is read as 03:30 CEST (01:30Z)
    assert.equal("B", names("start_date=31/03/2024 02:30&end_date=31/03/2024 03:31"))
    -- 02:30 on the 27th of October happens twice: the first one (CEST, 00:30Z)
    assert.equal("C", names("start_date=27/10/2024&end_date=27/10/2024 02:31"))
    assert.equal("D,E", names("start_date=27/10/2024 02:31&end_date=27/10/2024 23:59:59"))
    -- the comma forms and start_date_time/end_date_time (read when start_date/end_date are absent)
    assert.equal("C", names("start_date=27/10/2024, 02:00&end_date=27/10/2024, 02:31:00"))
    assert.equal("E", names("start_date_time=27/10/2024 23:00&end_date_time=27/10/2024 23:59"))
    assert.equal("E,F", names("start_date=28/10/2024 07:00&timezone=Asia/Tokyo&end_date=28/10/2024 09:00"))
  end)

  it("answers an unreadable date or an unknown zone with the server's 500 and its message", function()
    local status, b = api("owner", "GET", "/requests?start_date=yesterday")
    assert.equal(500, status)
    assert.same({ success = false, error = "Unable to parse the date: yesterday with timezone: Europe/Rome" }, b)
    status, b = api("owner", "GET", "/requests?end_date=99/99/9999&timezone=UTC")
    assert.equal(500, status)
    assert.same({ success = false, error = "Unable to parse the date: 99/99/9999 with timezone: UTC" }, b)
    status, b = api("owner", "GET", "/requests?start_date=01/01/2024&timezone=Mars/Olympus")
    assert.equal(500, status)
    assert.same({ success = false, error = 'Invalid timezone: Mars/Olympus. Please use a valid IANA timezone '
      .. '(e.g., "Europe/Rome", "America/New_York")' }, b)
    status, b = api("owner", "GET", "/requests/csv?start_date=yesterday")
    assert.equal(500, status)
    assert.same({ success = false, error = "Unable to parse the date: yesterday with timezone: Europe/Rome" }, b)
  end)

  it("filters the CSV export by the same rule", function()
    local status, _, _, text = api("owner", "GET", "/requests/csv?status=all&start_date=28/10/2024&end_date=28/10/2024")
    assert.equal(200, status)
    assert.truthy(text:find(made.F, 1, true))
    assert.falsy(text:find(made.E, 1, true))
  end)

  -- activity.js: the list takes start_date alone or with end_date (end of day included) in
  -- UTC; end_date alone is ignored; an unreadable date fails the query (500)
  it("reads the activities' dates as UTC days with no time zone", function()
    local function verbs_of(query)
      local status, b = api("admin", "GET", "/activities?limit=100&activities=REQUEST_CREATE&" .. query)
      assert.equal(200, status)
      return b.count
    end
    assert.equal(4, verbs_of("start_date=27/10/2024&end_date=27/10/2024&timezone=Asia/Tokyo"))
    assert.equal(2, verbs_of("start_date=31/03/2024&end_date=31/03/2024"))
    local _, all = api("admin", "GET", "/activities?limit=1&activities=REQUEST_CREATE")
    assert.equal(all.count, verbs_of("end_date=01/01/2024"))
    local status, b = api("admin", "GET", "/activities?start_date=never")
    assert.equal(500, status)
    assert.same({ success = false, msg = "Error getting activities." }, b)
  end)
end)

-- A day that never was: Apia (Pacific/Apia) went from -10 to +14 at 2011-12-30T10:00Z, so its
-- 30/12/2011 does not exist. utils/datesUtil.js reads a date with moment.tz(text, format, zone)
-- (moment-timezone 0.5.43's Zone.parse: a wall time in a gap after a period begun by a
-- forward jump takes the offset after the gap, so 30/12 00:00 is 2011-12-29T10:00Z, which is
-- 29/12 00:00 at -10) and then startOf('day') (keeps that wall date): the day "30/12/2011"
-- starts at 29/12 00:00. tools/dates-check.sh compares these cases with moment-timezone itself.
describe("sandbox date filters on a day a zone skipped", function()
  local made

  setup(function()
    helper.reset()
    made = {}
    for name, at in pairs({ H = "2011-12-29T12:00:00.000Z", -- 29/12 02:00 at -10
      I = "2011-12-30T12:00:00.000Z" }) do                -- 31/12 02:00 at +14
      helper.control("POST", "/clock", { at = at })
      local status, r = api("owner", "POST", "/requests", { first_text = "apia " .. name })
      assert.equal(200, status)
      made[r.request_id] = name
    end
    helper.control("POST", "/clock", { at = require("cjson").null })
  end)

  teardown(helper.reset)

  local function names(query)
    local status, b = api("owner", "GET", "/requests?status=all&limit=100&timezone=Pacific/Apia&" .. query)
    assert.equal(200, status)
    local out = {}
    for _, r in ipairs(b.requests) do out[#out + 1] = made[r.request_id] end
    table.sort(out)
    return table.concat(out, ",")
  end

  it("starts the skipped day at the start of the day before, as moment-timezone does", function()
    assert.equal("H,I", names("start_date=30/12/2011&end_date=31/12/2011"))
    assert.equal("I", names("start_date=31/12/2011&end_date=31/12/2011"))
    -- the end of 29/12 is the next day's start: 30/12 read as above, then startOf('day') of
    -- 30/12 at -10 (add(1, 'day') keeps the wall clock): 2011-12-30T10:00Z, excluded
    assert.equal("H", names("start_date=29/12/2011&end_date=29/12/2011"))
  end)
end)
