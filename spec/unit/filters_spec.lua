-- List filters and date filters on the wire. Every expectation is what the server's source
-- reads (routes/request.js GET / and /csv, utils/datesUtil.js, routes/user-request.js GET /me,
-- pubmodules/activities/routes/activity.js, pubmodules/analytics/analytics.js GET /tags/:type,
-- routes/project_user.js GET /, routes/group.js GET /, routes/lead.js GET /).
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local new = helper.fake_client

-- The query of the last call (spec.helper.query_of)
local function sent_query(fake) return require("spec.helper").query_of(fake:last().url) end

local function list(c, fake, res, name, query)
  fake:queue(200, { perPage = 40, count = 0, requests = {} })
  assert(c[res][name](c[res], query))
  return sent_query(fake)
end

describe("filters", function()
  it("an unknown filter raises, naming the filters the server reads", function()
    local c = new()
    local ok, err = pcall(c.requests.list, c.requests, { departmentid = "d1" })
    assert.is_false(ok)
    assert.matches("^requests:list%(%): unknown filter 'departmentid' %(known: abandoned, ", err)
    assert.matches(", dept_id, ", err, 1, true)
    assert.matches("raw_query = { ... } sends others unchecked)", err, 1, true)
    assert.has_error(function() c.leads:list{ start_date = "2026-11-01" } end,
      "leads:list(): unknown filter 'start_date' (known: direction, email, full_text, limit, page, segment, sort, status, "
      .. "tags, with_email, with_fullname; raw_query = { ... } sends others unchecked)")
    assert.has_error(function() c.messages:list("r1", { limit = 5 }) end,
      "messages:list(): unknown filter 'limit' (the server reads none here; raw_query = { ... } sends others unchecked)")
    -- 40 a page, fixed by the server
    assert.has_error(function() c.tags:list{ limit = 10 } end,
      "tags:list(): unknown filter 'limit' (known: direction, page, sort; raw_query = { ... } sends others unchecked)")
  end)

  it("raw_query passes anything unchecked, after the checked filters", function()
    local c, fake = new()
    local q = list(c, fake, "requests", "list", { dept_id = "d1", raw_query = { departmentid = "d1", x = "1" } })
    assert.same({ dept_id = "d1", departmentid = "d1", x = "1" }, q)
    assert.has_error(function() c.requests:list{ raw_query = "x=1" } end,
      "requests:list(): 'raw_query' must be a table (got string)")
  end)

  -- routes/lead.js GET /: `if (req.query.with_email)` / `if (req.query.with_fullname)` read the
  -- key's presence, so "false" on the wire still filters: false must send nothing
  it("sends a presence filter only when it is asked for", function()
    local c, fake = new()
    local function leads(query)
      fake:queue(200, { perPage = 40, count = 0, leads = {} })
      assert(c.leads:list(query))
      return sent_query(fake)
    end
    assert.same({}, leads{ with_email = false, with_fullname = false })
    assert.same({ with_email = "true", with_fullname = "true" }, leads{ with_email = true, with_fullname = true })
    assert.same({ with_email = "yes" }, leads{ with_email = "yes" })
    -- routes/department.js `if (req.query.sort)`, routes/kb.js `if (req.query.count)`,
    -- routes/request.js GET /csv `if (req.query.mine)`
    fake:queue(200, {})
    assert(c.departments:list{ sort = false })
    assert.same({}, sent_query(fake))
    fake:queue(200, {})
    assert(c.departments:list{ sort = true })
    assert.same({ sort = "true" }, sent_query(fake))
    fake:queue(200, {})
    assert(c.namespaces:list{ count = false })
    assert.same({}, sent_query(fake))
  end)

  it("send an array the way each endpoint reads it", function()
    local c, fake = new()
    -- requests: status.split(',')
    assert.same({ status = "100,200" }, list(c, fake, "requests", "list", { status = { 100, 200 } }))
    -- activities: activities.split(',')
    assert.same({ activities = "REQUEST_CREATE,PROJECT_USER_INVITE" },
      list(c, fake, "activities", "list", { activities = { "REQUEST_CREATE", "PROJECT_USER_INVITE" } }))
    -- project users: role: { $in: req.query.role } (an array: repeated keys)
    fake:queue(200, {})
    assert(c.team:list{ role = { "agent", "admin" } })
    assert.same({ role = { "admin", "agent" } }, (function(q) table.sort(q.role) return q end)(sent_query(fake)))
    -- groups: members: { $in: req.query.member }
    fake:queue(200, {})
    assert(c.groups:list{ member = { "u1", "u2" } })
    assert.same({ member = { "u1", "u2" } }, sent_query(fake))
  end)

  it("raise for a list where the server cannot read one", function()
    local c = new()
    -- /requests/me: query.status = req.query.status (a list makes the server answer 500)
    assert.has_error(function() c.requests:me{ status = { 100, 200 } } end,
      "requests:me(): filter 'status' takes one value: the server cannot read a list for it")
    -- /leads: query.tags = req.query.tags (an array would match the exact array only)
    assert.has_error(function() c.leads:list{ tags = { "a", "b" } } end,
      "leads:list(): filter 'tags' takes one value: the server cannot read a list for it")
    assert.has_error(function() c.requests:list{ dept_id = { x = 1 } } end,
      "requests:list(): filter 'dept_id' takes one value (got a table that is not an array)")
    assert.has_error(function() c.requests:list{ dept_id = function() end } end,
      "requests:list(): filter 'dept_id' takes a string, number or boolean (got function)")
  end)

  it("workingStatus goes as workingStatus[in|nin|ne], the only keys the server reads", function()
    local c, fake = new()
    assert.same({ ["workingStatus[in]"] = "open,pending" },
      list(c, fake, "requests", "list", { workingStatus = { "open", "pending" } }))
    assert.same({ ["workingStatus[nin]"] = "a,b", ["workingStatus[ne]"] = "c" },
      list(c, fake, "requests", "list", { workingStatus = { nin = { "a", "b" }, ne = "c" } }))
    assert.has_error(function() c.requests:list{ workingStatus = { eq = "x" } } end,
      "requests:list(): filter 'workingStatus' takes the operators in, nin, ne (got 'eq')")
  end)

  it("abandoned sets both keys the server tests (abandonded && abandoned)", function()
    local c, fake = new()
    assert.same({ abandoned = "true", abandonded = "true" }, list(c, fake, "requests", "list", { abandoned = true }))
  end)

  it("leave the caller's table as it was", function()
    local c, fake = new()
    local query = { status = { 100, 200 }, start_date = { 2026, 11, 1 }, workingStatus = { nin = { "a" } } }
    list(c, fake, "requests", "list", query)
    assert.same({ status = { 100, 200 }, start_date = { 2026, 11, 1 }, workingStatus = { nin = { "a" } } }, query)
  end)
end)

describe("date filters", function()
  describe("requests (DD/MM/YYYY[ HH:mm:ss] read in `timezone`)", function()
    it("a day goes as DD/MM/YYYY: from its first second, and to its end (the server's $lt next midnight)", function()
      local c, fake = new()
      for _, v in ipairs({ { 2026, 11, 30 }, { year = 2026, month = 11, day = 30 }, "2026-11-30", "30/11/2026",
        "2026/11/30" }) do
        assert.same({ start_date = "30/11/2026", end_date = "30/11/2026", timezone = "UTC" },
          list(c, fake, "requests", "list", { start_date = v, end_date = v }))
      end
    end)

    it("an instant goes as its wall-clock time in the zone, to the second, start down and end up", function()
      local c, fake = new()
      local t = tiledesk.time.parse("2026-11-30T23:30:00.250Z")
      assert.same({ start_date = "30/11/2026 23:30:00", end_date = "30/11/2026 23:30:01", timezone = "UTC" },
        list(c, fake, "requests", "list", { start_date = t, end_date = "2026-11-30T23:30:00.250Z" }))
      -- the same instants in Pacific/Kiritimati (+14:00) and America/St_Johns (-03:30)
      assert.same({ start_date = "01/12/2026 13:30:00", end_date = "01/12/2026 13:30:01",
        timezone = "Pacific/Kiritimati" },
        list(c, fake, "requests", "list", { start_date = t, end_date = t, timezone = "Pacific/Kiritimati" }))
      assert.same({ start_date = "30/11/2026 20:00:00", timezone = "America/St_Johns" },
        list(c, fake, "requests", "list", { start_date = t, timezone = "America/St_Johns" }))
    end)

    it("a wall-clock time of a table or an offset-less string is the zone's own", function()
      local c, fake = new()
      assert.same({ start_date = "30/11/2026 09:05:00", end_date = "30/11/2026 18:00:00", timezone = "Europe/Rome" },
        list(c, fake, "requests", "list", { start_date = { 2026, 11, 30, 9, 5 }, end_date = "2026-11-30T18:00",
          timezone = "Europe/Rome" }))
      -- with an offset it is an instant: 18:00+00:00 is 19:00 in Rome
      assert.same({ end_date = "30/11/2026 19:00:00", timezone = "Europe/Rome" },
        list(c, fake, "requests", "list", { end_date = "2026-11-30T18:00:00Z", timezone = "Europe/Rome" }))
    end)

    it("the client's timezone option is the zone of every call that gives none", function()
      local c, fake = new{ timezone = "America/St_Johns" }
      assert.equal("America/St_Johns", c.timezone)
      assert.same({ start_date = "30/11/2026 20:00:00", timezone = "America/St_Johns" },
        list(c, fake, "requests", "list", { start_date = "2026-11-30T23:30:00Z" }))
      assert.same({ start_date = "30/11/2026 23:30:00", timezone = "UTC" },
        list(c, fake, "requests", "list", { start_date = "2026-11-30T23:30:00Z", timezone = "UTC" }))
      assert.equal("UTC", new().timezone)
      assert.has_error(function() new{ timezone = "Mars/Olympus" } end,
        "tiledesk.new(): option 'timezone' must be a time zone of the tz database, such as \"Europe/Rome\" (got string)")
      assert.has_error(function() new{ timezone = 1 } end,
        "tiledesk.new(): option 'timezone' must be an IANA time zone name such as \"Europe/Rome\" (got number)")
    end)

    it("start_date_time and end_date_time are the same dates (the server reads one pair)", function()
      local c, fake = new()
      assert.same({ start_date = "01/11/2026", end_date = "30/11/2026 12:00:00", timezone = "UTC" },
        list(c, fake, "requests", "list", { start_date_time = "2026-11-01", end_date = "2026-11-30T12:00:00Z" }))
      assert.has_error(function() c.requests:list{ start_date = "2026-11-01", start_date_time = "2026-11-02" } end,
        "requests:list(): filters 'start_date' and 'start_date_time' are the same date; give one")
    end)

    it(":each and :pages convert once and keep the dates on every page", function()
      local c, fake = new()
      fake:queue(200, { perPage = 1, count = 2, requests = { { request_id = "r1" } } })
      fake:queue(200, { perPage = 1, count = 2, requests = { { request_id = "r2" } } })
      local seen = {}
      for conv in c.requests:each{ start_date = { 2026, 11, 1 }, limit = 1 } do seen[#seen + 1] = conv.request_id end
      assert.same({ "r1", "r2" }, seen)
      assert.equal(2, #fake.requests)
      for _, rec in ipairs(fake.requests) do
        assert.truthy(rec.url:find("start_date=01%2F11%2F2026", 1, true), rec.url)
        assert.truthy(rec.url:find("timezone=UTC", 1, true), rec.url)
      end
      assert.has_error(function() c.requests:each{ departmentid = "d" } end,
        "requests:list(): unknown filter 'departmentid' (known: " .. table.concat(require("tiledesk.filters")
          .known_names(require("tiledesk.routes").index["requests.list"]), ", ") .. "; raw_query = { ... } sends others unchecked)")
    end)

    it("the csv export follows the same rule", function()
      local c, fake = new()
      fake:queue(200, "a;b\n", { ["content-type"] = "text/csv" })
      assert(c.requests:csv{ status = "all", start_date = "2026-11-01", end_date = { 2026, 11, 30 } })
      assert.same({ status = "all", start_date = "01/11/2026", end_date = "30/11/2026", timezone = "UTC" },
        sent_query(fake))
    end)

    it("each CSV export takes page, its 100000-row page from 0 (routes/request.js, lead.js, activity.js)", function()
      local c, fake = new()
      for _, area in ipairs({ "requests", "leads", "activities" }) do
        fake:queue(200, "a;b\n", { ["content-type"] = "text/csv" })
        assert(c[area]:csv{ page = 1 })
        assert.same({ page = "1" }, sent_query(fake), area)
      end
      assert.has_error(function() c.requests:csv{ limit = 10 } end, "requests:csv(): unknown filter 'limit' (known: "
        .. table.concat(require("tiledesk.filters").known_names(require("tiledesk.routes").index["requests.csv"]), ", ")
        .. "; raw_query = { ... } sends others unchecked)")
    end)

    it("an instant the zone's clock shows twice raises (the server would read the first)", function()
      local c = new()
      -- 2026-10-25 01:30Z is 02:30 CET, after 02:30 CEST (00:30Z): the same wall-clock time
      assert.has_error(function()
        c.requests:list{ start_date = "2026-10-25T01:30:00Z", timezone = "Europe/Rome" }
      end, "requests:list(): filter 'start_date': 2026-10-25T01:30:00.000Z falls in the hour the clock of "
        .. "Europe/Rome repeats, which the server cannot tell apart; pass timezone = \"UTC\" for this call")
    end)

    it("anything that is no date raises, with what is accepted", function()
      local c = new()
      local accepted = "must be a date: an epoch number, an ISO 8601 string, a { year, month, day [, hour, min, sec] } "
        .. "table or \"DD/MM/YYYY[ HH:mm[:ss]]\""
      assert.has_error(function() c.requests:list{ start_date = "yesterday" } end,
        "requests:list(): filter 'start_date' " .. accepted .. " (got 'yesterday': not a date)")
      assert.has_error(function() c.requests:list{ end_date = { 2026, 2, 30 } } end,
        "requests:list(): filter 'end_date' " .. accepted .. " (got table: 2026-02 has no day 30)")
      assert.has_error(function() c.requests:list{ end_date = true } end,
        "requests:list(): filter 'end_date' " .. accepted .. " (got boolean: a boolean)")
      assert.has_error(function() c.requests:list{ end_date = 0 / 0 } end,
        "requests:list(): filter 'end_date' must be a finite number when it is a number")
      local dirs = (os.getenv("TZDIR") and os.getenv("TZDIR") ~= "") and (os.getenv("TZDIR") .. " or ") or ""
      assert.has_error(function() c.requests:list{ start_date = "2026-11-01", timezone = "Mars/Olympus" } end,
        "requests:list(): unknown time zone 'Mars/Olympus' (no such file in " .. dirs .. "/usr/share/zoneinfo; "
        .. "an IANA name such as \"Europe/Rome\" expected)")
      assert.has_error(function() c.requests:list{ start_date = "2026-11-01", timezone = 1 } end,
        "requests:list(): 'timezone' must be an IANA time zone name (got number)")
    end)
  end)

  describe("whole UTC days (requests:me, activities: DD/MM/YYYY; analytics tags: YYYY-MM-DD)", function()
    it("send days; an end alone gets the start 01/01/1970 (the server ignores an end without a start)", function()
      local c, fake = new()
      assert.same({ start_date = "01/11/2026", end_date = "30/11/2026" },
        list(c, fake, "activities", "list", { start_date = { 2026, 11, 1 }, end_date = "2026-11-30" }))
      assert.same({ start_date = "01/01/1970", end_date = "30/11/2026" },
        list(c, fake, "requests", "me", { end_date = "30/11/2026" }))
      -- instants on the day's first (start) and last (end) second are days
      assert.same({ start_date = "01/11/2026", end_date = "30/11/2026" },
        list(c, fake, "activities", "list", { start_date = "2026-11-01T00:00:00Z", end_date = "2026-11-30T23:59:59.999Z" }))
      fake:queue(200, { dates = {}, series = {} })
      assert(c.analytics:tags("conversation-tag", { start_date = { 2026, 11, 1 }, end_date = { 2026, 11, 30 } }))
      assert.same({ start_date = "2026-11-01", end_date = "2026-11-30" }, sent_query(fake))
    end)

    it("raise for a time of day, or days of another zone: the server cannot filter them", function()
      local c = new()
      assert.has_error(function() c.activities:list{ start_date = "2026-11-01T10:00:00Z" } end,
        "activities:list(): filter 'start_date': the server filters these dates by whole UTC days; "
        .. "2026-11-01T10:00:00.000Z is not the first second of a day (give a day: { year, month, day } or \"YYYY-MM-DD\")")
      assert.has_error(function() c.requests:me{ start_date = "2026-11-01", timezone = "Europe/Rome" } end,
        "requests:me(): filter 'start_date': the server filters these dates by whole UTC days and reads no "
        .. "time zone; pass timezone = \"UTC\" for this call (the client's is Europe/Rome)")
    end)
  end)

  it("the analytics hours reports carry the zone the server counts hours in", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.analytics:report("requests/aggregate/hours", { timezone = "Asia/Kolkata" }))
    assert.same({ timezone = "Asia/Kolkata" }, sent_query(fake))
    fake:queue(200, {})
    assert(c.analytics:report("requests/aggregate/day", { lastdays = 30 }))
    assert.same({ lastdays = "30" }, sent_query(fake))
    assert.has_error(function() c.analytics:report("requests/aggregate/day", { lastday = 30 }) end,
      "analytics:report(): unknown filter 'lastday' (known: channel, department_id, lastdays, participant; "
      .. "raw_query = { ... } sends others unchecked)")
  end)
end)
