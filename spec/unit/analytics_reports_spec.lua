-- The analytics reports as the server's handlers read and answer them: every expectation
-- comes from tiledesk-server's pubmodules/analytics/analytics.js (one router.get per path;
-- the $match, $group and $sort of each pipeline).
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")

local PID = "65a1b2c3d4e5f60718293a4b"
local BASE = "https://api.test/v3/" .. PID

local function new()
  local fake = Fake.new()
  local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, token = "JWT t" }
  return c, fake
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

describe("analytics reports: the filters each handler reads", function()
  -- the req.query keys each handler reads (a key it does not read raises in the SDK)
  local READS = {
    ["requests/count"] = {},
    ["requests/aggregate/status"] = {},
    ["requests/aggregate/day"] = { "channel", "department_id", "lastdays", "participant" },
    ["requests/aggregate/status/day"] = { "department_id", "lastdays", "participant" },
    ["requests/aggregate/month"] = { "department_id" },
    -- router.get('/requests/aggregate/week'): `if (req.query.department_id)` with its body
    -- commented out: the filter is read and never applied
    ["requests/aggregate/week"] = {},
    ["requests/aggregate/hours"] = { "timezone" },
    ["requests/aggregate/dayoftheweek/hours"] = { "timezone" },
    ["requests/waiting"] = { "last" },
    ["requests/waiting/day/last"] = {},
    ["requests/waiting/day"] = { "channel", "department_id", "lastdays", "participant" },
    ["requests/waiting/month"] = {},
    ["requests/duration"] = {},
    ["requests/duration/day"] = { "channel", "department_id", "lastdays", "participant" },
    ["requests/duration/month"] = {},
    ["requests/satisfaction"] = {},
    ["requests/satisfaction/day"] = { "channel", "department_id", "lastdays", "participant" },
    ["requests/satisfaction/month"] = {},
    ["requests/hasBot/count"] = {},
    ["requests/aggregate/hasBot/day"] = { "channel", "department_id", "lastdays" },
    ["requests/aggregate/sourcePage"] = { "department_id", "lastdays" },
    ["requests/aggregate/attributes/_answerid"] = { "lastdays", "recipient", "sender" },
    ["project_users/count"] = {},
    ["project_users/aggregate/day"] = { "lastdays" },
    ["project_users/aggregate/month"] = {},
    ["project_users/aggregate/week"] = {},
    ["messages/count"] = { "attributes", "attributes_answerid", "recipient", "sender" },
    ["messages/aggregate/day"] = { "channel", "lastdays", "recipient", "sender" },
    ["messages/aggregate/month"] = { "recipient", "sender" },
    ["messages/aggregate/week"] = { "recipient", "sender" },
    ["messages/aggregate/sender"] = { "lastdays", "recipient", "sender" },
    ["events/aggregate/day"] = { "lastdays", "name" },
  }

  it("declares exactly those, for every report", function()
    local c = new()
    assert.is_true(#c.analytics.REPORTS > 0)
    for _, name in ipairs(c.analytics.REPORTS) do
      assert.is_table(READS[name], name)
      assert.same(READS[name], sorted_keys(c.analytics.REPORT_FILTERS[name]), name)
    end
    local n = 0
    for _ in pairs(READS) do n = n + 1 end
    assert.equal(#c.analytics.REPORTS, n)
  end)

  it("refuses department_id on the week report, which the server ignores", function()
    local c = new()
    assert.has_error(function() c.analytics:report("requests/aggregate/week", { department_id = "65a1b2c3d4e5f60718293a4c" }) end,
      "analytics:report(): unknown filter 'department_id' (the server reads none here; raw_query = { ... } sends others unchecked)")
  end)

  it("sends lastdays as given and refuses what the server would read as NaN (a window from 1970)", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.analytics:report("requests/aggregate/sourcePage", { lastdays = 0.5 }))
    assert.equal(BASE .. "/analytics/requests/aggregate/sourcePage?lastdays=0.5", fake:last().url)
    for _, bad in ipairs({ "seven", -1, 0 / 0, math.huge, true }) do
      assert.has_error(function() c.analytics:report("requests/aggregate/day", { lastdays = bad }) end,
        "analytics:report(): filter 'lastdays' must be a number of days (0 or more), got " .. tostring(bad))
    end
    assert.has_error(function() c.analytics:report("requests/waiting", { last = "an hour" }) end,
      "analytics:report(): filter 'last' must be a number of seconds (0 or more), got an hour")
  end)
end)

describe("analytics reports: what each handler answers", function()
  -- the default window (days), the $group _id fields in the pipeline's order, the $sort
  local ANSWERS = {
    -- { $count: "totalCount" } after a 30-day $match
    ["requests/count"] = { "totalCount", "30 days" },
    ["requests/aggregate/status"] = { "totalCount", "requests/count" },
    ["requests/hasBot/count"] = { "totalCount", "30 days" },
    ["project_users/count"] = { "totalCount", "30 days" },
    ["messages/count"] = { "totalCount", "30 days" },
    -- $sort: { _id: 1 }
    ["requests/aggregate/day"] = { "{ year, month, day }", "ascending" },
    ["requests/aggregate/status/day"] = { "{ year, month, day, status }", "ascending" },
    ["requests/aggregate/week"] = { "{ year, month, week }", "ascending" },
    ["requests/aggregate/sourcePage"] = { "{ sourcePage }", "ascending" },
    ["requests/aggregate/attributes/_answerid"] = { "{ _answerid }", "MESSAGES" },
    ["events/aggregate/day"] = { "{ year, month, day, name }", "ascending" },
    -- $sort: { _id: -1 }
    ["requests/aggregate/hours"] = { "{ hour }", "descending" },
    ["requests/aggregate/dayoftheweek/hours"] = { "{ hour, weekday }", "descending" },
    ["requests/waiting/day"] = { "{ day, month, year }", "descending" },
    ["requests/waiting/month"] = { "{ month, year }", "descending" },
    ["requests/duration/month"] = { "{ month, year }", "30 days" },
    -- no $sort
    ["requests/satisfaction/month"] = { "{ month, year }", "no set order" },
  }

  it("says so in the doc of its route", function()
    local c = new()
    local docs = {}
    for _, r in ipairs(require("tiledesk.resources.analytics").routes) do
      local name = r[3]:match("^/analytics/(.*)$")
      if r.skip then docs[name] = r.doc end
    end
    local n = 0
    for name, want in pairs(ANSWERS) do
      n = n + 1
      assert.is_string(docs[name], name)
      for _, part in ipairs(want) do
        assert.is_truthy(docs[name]:find(part, 1, true), name .. ": " .. part .. " in " .. docs[name])
      end
    end
    assert.is_true(n > 0)
    -- router.get('/requests/aggregate/sourcePage'): `let lastdays=30`, the others 7
    assert.is_truthy(c.analytics.REPORT_FILTERS["requests/aggregate/sourcePage"].lastdays:find("default 30", 1, true))
    assert.is_truthy(c.analytics.REPORT_FILTERS["requests/aggregate/day"].lastdays:find("default 7", 1, true))
  end)
end)
