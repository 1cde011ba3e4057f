-- tiledesk.time: reading and writing the server's timestamps, zones from the tz database,
-- and no dependence on the machine's zone (the same results under far-off TZ values).
local helper = require("spec.helper")
local time = require("tiledesk.time")
local tiledesk = require("tiledesk")

describe("tiledesk.time", function()
  it("is reachable as tiledesk.time", function()
    assert.equal(time, tiledesk.time)
  end)

  describe("parse", function()
    it("reads the server's ISO 8601 timestamps with milliseconds and Z", function()
      -- 2026-11-30 is day 20787 since 1970-01-01
      assert.equal(20787 * 86400 + 9 * 3600 + 15 * 60 + 2.25, time.parse("2026-11-30T09:15:02.250Z"))
      assert.equal(0, time.parse("1970-01-01T00:00:00.000Z"))
      assert.equal(-0.5, time.parse("1969-12-31T23:59:59.500Z"))
      assert.equal(951782400, time.parse("2000-02-29T00:00:00Z"))
    end)

    it("reads offsets in every ISO form", function()
      local utc = time.parse("2026-07-01T10:00:00Z")
      assert.equal(utc, time.parse("2026-07-01T12:00:00+02:00"))
      assert.equal(utc, time.parse("2026-07-01T12:00:00+0200"))
      assert.equal(utc, time.parse("2026-07-01T12:00:00+02"))
      assert.equal(utc, time.parse("2026-07-01T06:30:00-03:30"))
      assert.equal(utc, time.parse("2026-07-01 10:00:00z"))
      assert.equal(utc + 0.123456, time.parse("2026-07-01T10:00:00.123456Z"))
    end)

    it("reads a time without offset, and the server's query forms, in the zone given (UTC by default)", function()
      local utc = time.parse("2026-11-30T09:00:00Z")
      assert.equal(utc, time.parse("2026-11-30T09:00"))
      assert.equal(utc, time.parse("30/11/2026 09:00"))
      assert.equal(utc, time.parse("30/11/2026, 09:00:00"))
      assert.equal(utc, time.parse("2026/11/30 09:00:00"))
      assert.equal(utc - 9 * 3600, time.parse("30/11/2026"))
      assert.equal(utc, time.parse("30/11/2026 10:00", "Europe/Rome"))   -- CET, +01:00
      assert.equal(utc, time.parse("30/11/2026 05:30", "America/St_Johns")) -- NST, -03:30
      assert.equal(utc, time.parse("2026-11-30T23:00", "Pacific/Kiritimati")) -- +14:00
    end)

    it("reads date tables, named or positional", function()
      local day = time.parse("2026-11-30T00:00:00Z")
      assert.equal(day, time.parse{ year = 2026, month = 11, day = 30 })
      assert.equal(day, time.parse({ 2026, 11, 30 }))
      assert.equal(day + 3723, time.parse({ 2026, 11, 30, 1, 2, 3 }))
      assert.equal(day - 3600, time.parse({ year = 2026, month = 11, day = 30 }, "Europe/Rome"))
    end)

    it("gives nil and a message for what is no timestamp", function()
      for _, s in ipairs({ "", "yesterday", "2026-13-01", "2026-02-29", "31/04/2026", "2026-11-30T25:00:00Z",
        "2026-11-30T10:00:00+2", "2026-11-30T10:00:00 CET", "30/11/2026 10:00Z" }) do
        local t, msg = time.parse(s)
        assert.is_nil(t, s)
        assert.matches("^time%.parse%(%): '.*' is not a timestamp", msg)
      end
      local t, msg = time.parse({ year = 2026, month = 2, day = 30 })
      assert.is_nil(t)
      assert.equal("time.parse(): 2026-02 has no day 30", msg)
    end)

    it("raises on a wrong argument type or an unknown zone", function()
      assert.has_error(function() time.parse(true) end,
        "time.parse(): bad argument #1 (string, table or number expected, got boolean)")
      assert.has_error(function() time.parse("2026-11-30", "Mars/Olympus") end,
        "time.parse(): unknown time zone 'Mars/Olympus' (no such file in " .. ((os.getenv("TZDIR") or "") ~= "" and
          (os.getenv("TZDIR") .. " or ") or "") .. "/usr/share/zoneinfo; an IANA name such as \"Europe/Rome\" expected)")
      assert.has_error(function() time.parse("2026-11-30", "../../etc/passwd") end,
        "time.parse(): unknown time zone '../../etc/passwd' (an IANA name such as \"Europe/Rome\" expected)")
    end)
  end)

  describe("format", function()
    it("writes ISO 8601 UTC with milliseconds, as the server does", function()
      assert.equal("2026-11-30T09:15:02.250Z", time.format(20787 * 86400 + 33302.25))
      assert.equal("1970-01-01T00:00:00.000Z", time.format(0))
      assert.equal("1969-12-31T23:59:58.500Z", time.format(-1.5))
      assert.equal("2026-11-30T09:15:03.000Z", time.format(20787 * 86400 + 33302.9996))
    end)

    it("round-trips what parse reads", function()
      for _, s in ipairs({ "2026-11-30T09:15:02.250Z", "2000-02-29T23:59:59.999Z", "1999-12-31T00:00:00.001Z",
        "2038-01-19T03:14:08.000Z", "2100-03-01T12:00:00.000Z" }) do
        assert.equal(s, time.format(time.parse(s)))
      end
    end)

    it("writes a zone's wall clock and offset", function()
      local t = time.parse("2026-11-30T09:15:02.250Z")
      assert.equal("2026-11-30T10:15:02.250+01:00", time.format(t, "Europe/Rome"))
      assert.equal("2026-11-30T05:45:02.250-03:30", time.format(t, "America/St_Johns"))
      assert.equal("2026-11-30T23:15:02.250+14:00", time.format(t, "Pacific/Kiritimati"))
      assert.equal("2026-11-30T09:15:02.250Z", time.format(t, "UTC"))
    end)
  end)

  describe("zones", function()
    it("follows daylight saving time from the tz database", function()
      -- Europe/Rome: CEST from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC
      assert.equal(3600, time.offset(time.parse("2026-03-29T00:59:59Z"), "Europe/Rome"))
      assert.equal(7200, time.offset(time.parse("2026-03-29T01:00:00Z"), "Europe/Rome"))
      assert.equal(7200, time.offset(time.parse("2026-10-25T00:59:59Z"), "Europe/Rome"))
      assert.equal(3600, time.offset(time.parse("2026-10-25T01:00:00Z"), "Europe/Rome"))
      -- America/St_Johns: -03:30, daylight -02:30 from the second Sunday of March 02:00 local
      assert.equal(-12600, time.offset(time.parse("2026-01-15T12:00:00Z"), "America/St_Johns"))
      assert.equal(-9000, time.offset(time.parse("2026-07-15T12:00:00Z"), "America/St_Johns"))
      -- southern hemisphere: Sydney is on daylight time in January
      assert.equal(39600, time.offset(time.parse("2026-01-15T00:00:00Z"), "Australia/Sydney"))
      assert.equal(36000, time.offset(time.parse("2026-07-15T00:00:00Z"), "Australia/Sydney"))
    end)

    it("applies the zone's rule past the end of its table of transitions", function()
      -- the last Sunday of March 2050 is the 27th; of October 2050 the 30th
      assert.equal(3600, time.offset(time.parse("2050-03-27T00:59:59Z"), "Europe/Rome"))
      assert.equal(7200, time.offset(time.parse("2050-03-27T01:00:00Z"), "Europe/Rome"))
      assert.equal(7200, time.offset(time.parse("2050-10-30T00:59:59Z"), "Europe/Rome"))
      assert.equal(3600, time.offset(time.parse("2050-10-30T01:00:00Z"), "Europe/Rome"))
      -- Sydney 2050: daylight time ends the first Sunday of April (the 3rd) at 03:00 local (16:00 UTC the 2nd)
      assert.equal(39600, time.offset(time.parse("2050-04-02T15:59:59Z"), "Australia/Sydney"))
      assert.equal(36000, time.offset(time.parse("2050-04-02T16:00:00Z"), "Australia/Sydney"))
    end)

    it("resolves skipped and repeated wall-clock times as the server's moment-timezone does", function()
      local t, how = time.from_civil({ 2026, 3, 29, 2, 30 }, "Europe/Rome")
      assert.equal("gap", how)
      assert.equal("2026-03-29T03:30:00.000+02:00", time.format(t, "Europe/Rome"))
      t, how = time.from_civil({ 2026, 10, 25, 2, 30 }, "Europe/Rome")
      assert.equal("ambiguous", how)
      assert.equal("2026-10-25T00:30:00.000Z", time.format(t)) -- the earlier one, still +02:00
      t, how = time.from_civil({ 2026, 11, 30, 2, 30 }, "Europe/Rome")
      assert.equal("exact", how)
      assert.equal("2026-11-30T01:30:00.000Z", time.format(t))
    end)

    it("gives the civil fields of an instant in a zone", function()
      local c = time.civil(time.parse("2026-11-30T23:30:00Z"), "Pacific/Kiritimati")
      assert.same({ year = 2026, month = 12, day = 1, hour = 13, min = 30, sec = 0, wday = 3, yday = 335,
        isdst = false, offset = 50400 }, c)
    end)
  end)

  describe("duration", function()
    it("is the seconds from one timestamp to another, in any form parse reads", function()
      assert.equal(5400.5, time.duration("2026-11-30T09:00:00.000Z", "2026-11-30T10:30:00.500Z"))
      assert.equal(-60, time.duration("2026-11-30T10:01:00+01:00", "2026-11-30T09:00:00Z"))
      assert.equal(86400, time.duration({ 2026, 11, 29 }, "2026-11-30T00:00:00.000Z"))
      local d, msg = time.duration("2026-11-30T09:00:00Z", "later")
      assert.is_nil(d)
      assert.matches("'later' is not a timestamp", msg)
      assert.has_error(function() time.duration(nil, 1) end, "time.duration(): bad argument #1 (timestamp expected, got nil)")
    end)
  end)

  describe("under a far-off TZ", function()
    -- The same conversions in child interpreters whose TZ is as far from UTC as zones go:
    -- every result must be the one written here (UTC arithmetic, never the machine's zone).
    local script = [[
      package.path = %q .. package.path
      local time = require("tiledesk.time")
      local t = time.parse("30/11/2026 10:00", "Europe/Rome")
      io.write(time.format(t), " ", time.format(t, "America/St_Johns"), " ",
        time.format(time.parse({ 2026, 7, 1 })), " ", time.format(time.parse("2026-07-01T12:00:00+02:00")), " ",
        tostring(time.civil(0).hour), " ", tostring(time.duration("2026-11-30T09:00:00Z", "2026-11-30T09:00:01.5Z")))
    ]]
    local expected = "2026-11-30T09:00:00.000Z 2026-11-30T05:30:00.000-03:30 2026-07-01T00:00:00.000Z "
      .. "2026-07-01T10:00:00.000Z 0 1.5"
    local interp = arg and arg[-1] or "lua5.4"
    for _, tz in ipairs({ "Pacific/Kiritimati", "America/St_Johns", "Pacific/Pago_Pago" }) do
      it("TZ=" .. tz, function()
        local path = os.tmpname()
        local f = assert(io.open(path, "w"))
        f:write(script:format(helper.root .. "lua/?.lua;"))
        f:close()
        local p = assert(io.popen("TZ=" .. tz .. " " .. interp .. " " .. path .. " 2>&1"))
        local out = p:read("*a")
        p:close()
        os.remove(path)
        assert.equal(expected, out)
      end)
    end
  end)
end)
