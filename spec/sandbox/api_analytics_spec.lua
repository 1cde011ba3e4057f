-- The analytics reports as the server computes them: pubmodules/analytics/analytics.js, one
-- router.get per path, each a MongoDB pipeline (mounted admin-only by pubModulesManager.js):
--   $match  id_project, requests not in preflight ($or [{preflight:false}, {preflight:{$exists:false}}]),
--           createdAt >= now - window (a fixed 30 or 1 days, `lastdays` days (default 7, 30 for
--           sourcePage), `last` seconds), the filters given;
--   $group  _id an object of $year/$month/$dayOfMonth/$week/$dayOfWeek (UTC) or $hour (in
--           `timezone`, "+00:00" when absent) and the other fields, in the pipeline's order
--           (a missing field is left out of the _id, MongoDB's rule for expression objects);
--           `count` ($sum: 1) or `<x>_avg` ($avg, null when no document has a number);
--           { $count: "totalCount" } for the counts: [{ totalCount }], and [] when none matches;
--   $sort   { _id: 1 } or { _id: -1 }: MongoDB compares the _id objects field by field in their
--           own order, so { day, month, year } sorts by the day first; some have no $sort.
-- The fixture is made at a clock moved to 2030-2031 (POST /__sandbox/clock), where no seeded
-- document falls in any window: every count below is of the documents made here.
local helper = require("spec.helper")
local null = require("cjson").null

local st = helper.sandbox()
local PID = st.project_id
local api = helper.api

local function clock(at) helper.control("POST", "/clock", { at = at or null }) end

local NOW = "2031-01-20T12:00:00.000Z" -- a Monday

local function report(path)
  local status, b = api("admin", "GET", "/analytics/" .. path)
  assert.equal(200, status, path)
  return b
end

-- the rows whose _id.year is at least 2030 (the all-time reports also hold the seed's)
local function ours(rows)
  local out = {}
  for _, r in ipairs(rows) do
    if type(r._id) == "table" and (r._id.year or 0) >= 2030 then out[#out + 1] = r end
  end
  return out
end

describe("sandbox analytics reports", function()
  setup(function()
    helper.reset()
    local made = {
      -- at, body, then: rating, closed at
      { "2030-12-28T12:00:00.000Z", { first_text = "r0", sourcePage = "https://x.example/a" }, 3 },
      { "2031-01-04T10:00:00.000Z", { first_text = "r1" }, 5 },
      { "2031-01-18T23:30:00.000Z", { first_text = "r2", sourcePage = "https://x.example/b" }, 4 },
      { "2031-01-19T01:00:00.000Z", { first_text = "r3" }, 2 },
      { "2031-01-20T09:00:00.000Z", { first_text = "r4" }, nil, "2031-01-20T11:00:00.000Z" },
      { "2031-01-20T10:00:00.000Z", { first_text = "preflight", preflight = true }, 1 },
    }
    for _, m in ipairs(made) do
      clock(m[1])
      local status, r = api("owner", "POST", "/requests", m[2])
      assert.equal(200, status)
      if m[3] then assert.equal(200, (api("owner", "PATCH", "/requests/" .. r.request_id, { rating = m[3] }))) end
      if m[4] then
        clock(m[4])
        assert.equal(200, (api("owner", "PUT", "/requests/" .. r.request_id .. "/close")))
        clock(NOW)
        assert.equal(200, (api("owner", "POST", "/requests/" .. r.request_id .. "/messages",
          { text = "answered", attributes = { _answerid = "start" } })))
        assert.equal(200, (api("owner", "POST", "/requests/" .. r.request_id .. "/messages", { text = "thanks" })))
      end
    end
    clock(NOW)
    assert.equal(200, (api("owner", "POST", "/events", { name = "page.view" })))
    assert.equal(200, (api("owner", "POST", "/events", { name = "typing.start" })))
  end)

  teardown(function()
    clock(nil)
    helper.reset()
  end)

  -- router.get('/requests/count'), ('/requests/aggregate/status') (the same pipeline: "DA
  -- IMPLEMENTARE"), ('/requests/hasBot/count'), ('/project_users/count'): $count after 30 days
  it("counts as [{ totalCount }] over 30 days, and answers [] when nothing matches", function()
    assert.same({ { totalCount = 5 } }, report("requests/count"))
    assert.same({ { totalCount = 5 } }, report("requests/aggregate/status"))
    assert.same({}, report("requests/hasBot/count"))
    assert.same({}, report("project_users/count")) -- only guests and users count; none joined here
  end)

  -- router.get('/requests/aggregate/day'): lastdays (default 7), $sort { _id: 1 } on
  -- { year, month, day }; lastdays * 24*60*60*1000 in JavaScript
  it("reads lastdays as days back from now, a fraction included, and sorts the days ascending", function()
    assert.same({
      { _id = { year = 2031, month = 1, day = 18 }, count = 1 },
      { _id = { year = 2031, month = 1, day = 19 }, count = 1 },
      { _id = { year = 2031, month = 1, day = 20 }, count = 1 },
    }, report("requests/aggregate/day"))
    assert.same({ { _id = { year = 2031, month = 1, day = 20 }, count = 1 } }, report("requests/aggregate/day?lastdays=0.5"))
    assert.equal(5, #report("requests/aggregate/day?lastdays=30"))
    -- Number("seven") is NaN: the driver writes the Invalid Date as 0, the window starts in 1970
    local all = report("requests/aggregate/day?lastdays=seven")
    assert.is_true(#all > 5)
    assert.is_true(all[1]._id.year < 2030)
  end)

  -- router.get('/requests/aggregate/hours') and ('/requests/aggregate/dayoftheweek/hours'):
  -- 30 days, { $hour: { date, timezone } }, $dayOfWeek in UTC (1 = Sunday), $sort { _id: -1 }
  it("counts hours in the zone asked, descending, and weekdays in UTC", function()
    local function hours(rows)
      local out = {}
      for _, r in ipairs(rows) do out[#out + 1] = r._id.hour end
      return out
    end
    -- r0 12:00, r1 10:00, r2 23:30, r3 01:00, r4 09:00 UTC
    assert.same({ 23, 12, 10, 9, 1 }, hours(report("requests/aggregate/hours")))
    assert.same({ 21, 19, 18, 10, 8 }, hours(report("requests/aggregate/hours?timezone=Asia/Tokyo")))
    assert.same({ 21, 19, 18, 10, 8 }, hours(report("requests/aggregate/hours?timezone=%2B09:00")))
    -- MongoDB's $hour takes an Olson name as written (its zone table is looked up exactly), or
    -- an offset; anything else fails the aggregation: 500 "Error getting analytics."
    local status, b = api("admin", "GET", "/analytics/requests/aggregate/hours?timezone=asia/tokyo")
    assert.equal(500, status)
    assert.same({ success = false, msg = "Error getting analytics." }, b)
    assert.same({
      { _id = { hour = 23, weekday = 7 }, count = 1 }, -- Saturday 18 January
      { _id = { hour = 12, weekday = 7 }, count = 1 },
      { _id = { hour = 10, weekday = 7 }, count = 1 },
      { _id = { hour = 9, weekday = 2 }, count = 1 },
      { _id = { hour = 1, weekday = 1 }, count = 1 }, -- Sunday 19 January
    }, report("requests/aggregate/dayoftheweek/hours"))
    -- in Tokyo r2 is Sunday 08:30, but $dayOfWeek reads UTC: still Saturday (7)
    local tokyo = report("requests/aggregate/dayoftheweek/hours?timezone=Asia/Tokyo")
    assert.same({ _id = { hour = 8, weekday = 7 }, count = 1 }, tokyo[#tokyo])
  end)

  -- router.get('/requests/satisfaction/day'): $group _id { day, month, year }, $sort { _id: -1 }
  it("sorts the { day, month, year } reports by the day first, descending, with null averages", function()
    assert.same({
      { _id = { day = 28, month = 12, year = 2030 }, satisfaction_avg = 3 },
      { _id = { day = 20, month = 1, year = 2031 }, satisfaction_avg = null },
      { _id = { day = 19, month = 1, year = 2031 }, satisfaction_avg = 2 },
      { _id = { day = 18, month = 1, year = 2031 }, satisfaction_avg = 4 },
      { _id = { day = 4, month = 1, year = 2031 }, satisfaction_avg = 5 },
    }, report("requests/satisfaction/day?lastdays=30"))
    -- ('/requests/waiting/day/last'): the last day, grouped by project: no waiting time yet
    assert.same({ { _id = PID, waiting_time_avg = null } }, report("requests/waiting/day/last"))
    -- ('/requests/waiting/month'): { month, year } descending, all time: December before January
    local months = ours(report("requests/waiting/month"))
    assert.same({ { _id = { month = 12, year = 2030 }, waiting_time_avg = null },
      { _id = { month = 1, year = 2031 }, waiting_time_avg = null } }, months)
  end)

  -- router.get('/requests/duration'): 30 days, { $subtract: ["$closed_at", "$createdAt"] }
  it("averages closed_at - createdAt over the closed conversations only", function()
    local rows = report("requests/duration")
    assert.equal(1, #rows)
    assert.equal(PID, rows[1]._id)
    -- the sandbox's clock runs on after each jump: a few milliseconds either way
    assert.is_true(math.abs(rows[1].duration_avg - 2 * 3600000) < 1000, rows[1].duration_avg)
  end)

  -- router.get('/requests/aggregate/week'): all time, { year, month, week } ($week: Sunday-based);
  -- department_id is read but not applied
  it("groups weeks by year and month too, and ignores department_id", function()
    local want = {
      { _id = { year = 2030, month = 12, week = 51 }, count = 1 },
      { _id = { year = 2031, month = 1, week = 0 }, count = 1 },
      { _id = { year = 2031, month = 1, week = 2 }, count = 1 },
      { _id = { year = 2031, month = 1, week = 3 }, count = 2 },
    }
    assert.same(want, ours(report("requests/aggregate/week")))
    assert.same(want, ours(report("requests/aggregate/week?department_id=" .. string.rep("0", 24))))
  end)

  -- router.get('/requests/aggregate/sourcePage'): lastdays default 30; no sourcePage: _id {}
  it("groups by sourcePage over 30 days, those without one first as _id {}", function()
    local rows = report("requests/aggregate/sourcePage")
    assert.equal(3, #rows)
    assert.equal(3, rows[1].count)
    assert.same({}, rows[1]._id)
    assert.same({ { _id = { sourcePage = "https://x.example/a" }, count = 1 },
      { _id = { sourcePage = "https://x.example/b" }, count = 1 } }, { rows[2], rows[3] })
    assert.same({ { _id = {}, count = 2 }, { _id = { sourcePage = "https://x.example/b" }, count = 1 } },
      report("requests/aggregate/sourcePage?lastdays=7"))
  end)

  -- router.get('/requests/aggregate/attributes/_answerid'): the MESSAGES collection
  it("counts messages by attributes._answerid", function()
    local rows = report("requests/aggregate/attributes/_answerid")
    assert.equal(2, #rows)
    assert.same({}, rows[1]._id) -- the message without one
    assert.equal(1, rows[1].count)
    assert.same({ _id = { _answerid = "start" }, count = 1 }, rows[2])
  end)

  -- router.get('/events/aggregate/day'): name, else every name but typing.start
  it("counts events per day and name, leaving typing.start out unless asked", function()
    assert.same({ { _id = { year = 2031, month = 1, day = 20, name = "page.view" }, count = 1 } },
      report("events/aggregate/day"))
    assert.same({ { _id = { year = 2031, month = 1, day = 20, name = "typing.start" }, count = 1 } },
      report("events/aggregate/day?name=typing.start"))
  end)

  -- query.department = new ObjectId(req.query.department_id) throws on anything but an id:
  -- app.js's error handler answers 500 { err: "error" }
  it("answers 500 for a department_id that is not an ObjectId", function()
    local status, b = api("admin", "GET", "/analytics/requests/aggregate/day?department_id=sales")
    assert.equal(500, status)
    assert.same({ err = "error" }, b)
  end)
end)
