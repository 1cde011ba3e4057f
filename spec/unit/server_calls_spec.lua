-- Calls that must be sent the way the real server needs them; each expectation comes from the
-- server's source: routes/faq.js PUT /:faqid, routes/labels.js and services/labelService.js,
-- routes/request.js PUT /:requestid/replace, routes/pending-invitation.js PUT /:id,
-- pubmodules/analytics/analytics.js GET /tags/:type.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local PID = helper.PID
local BASE = "https://api.test/v3/" .. PID

-- The JSON body of a logged request (fake.requests keeps the raw body).
local function json_of(rec) return require("cjson").decode(rec.body) end

local new = helper.fake_client

describe("faqs:update", function()
  it("sends id_faq_kb in the body (the server answers 422 without it)", function()
    local c, fake = new()
    fake:queue(200, { _id = "f1", id_faq_kb = "b1", answer = "A" })
    assert(c.faqs:update("f1", "b1", { answer = "A" }))
    local sent = fake:last()
    assert.equal("PUT", sent.method)
    assert.equal(BASE .. "/faq/f1", sent.url)
    assert.same({ id_faq_kb = "b1", answer = "A" }, sent.json)
    assert.has_error(function() c.faqs:update("f1", { answer = "A" }) end,
      "faqs:update(): bad argument #2 'id_faq_kb' (the bot's id expected, got table): the server refuses an update without it")
    assert.has_error(function() c.faqs:update("f1") end,
      "faqs:update(): bad argument #2 'id_faq_kb' (the bot's id expected, got nil): the server refuses an update without it")
  end)
end)

describe("labels", function()
  it("send language codes upper case, as the server stores and compares them", function()
    local c, fake = new()
    local calls = {
      { "get", { "it" }, "GET", "/labels/IT" },
      { "default", { "en" }, "GET", "/labels/default/EN" },
      { "make_default", { "it" }, "PATCH", "/labels/IT/default" },
      { "delete", { "It" }, "DELETE", "/labels/IT" },
      { "save", { "it", { LABEL_PLACEHOLDER = "Scrivi" } }, "POST", "/labels", { lang = "IT", data = { LABEL_PLACEHOLDER = "Scrivi" } } },
      { "save", { "it", { A = "a" }, { default = true } }, "POST", "/labels", { lang = "IT", data = { A = "a" }, default = true } },
      { "clone_default", { "fr" }, "POST", "/labels/default/clone", { lang = "FR" } },
    }
    assert.is_true(#calls > 0)
    for _, call in ipairs(calls) do
      fake:queue(200, { lang = "IT" })
      assert(c.labels[call[1]](c.labels, (table.unpack or unpack)(call[2])))
      local sent = fake:last()
      assert.equal(call[3], sent.method, call[1])
      assert.equal(BASE .. call[4], sent.url, call[1])
      if call[5] then assert.same(call[5], sent.json, call[1]) end
    end
    assert.has_error(function() c.labels:get(1) end,
      "labels:get(): bad argument #1 'lang' (a language code such as \"en\" expected, got number)")
    assert.has_error(function() c.labels:delete("") end,
      "labels:delete(): bad argument #1 'lang' (a language code such as \"en\" expected, got an empty string)")
  end)
end)

describe("requests:replace_bot and change_bot", function()
  it("replace_bot sends the server's { id | name | slug } body", function()
    local c, fake = new()
    fake:queue(200, { request_id = "r1", participants = { "bot_b2" } })
    assert(c.requests:replace_bot("r1", { name = "Sales Bot" }))
    assert.equal("PUT", fake:last().method)
    assert.equal(BASE .. "/requests/r1/replace", fake:last().url)
    assert.same({ name = "Sales Bot" }, fake:last().json)
  end)

  it("change_bot removes the other bots, adds the new one, keeps the agents, then sends the message", function()
    local c, fake = new()
    fake:queue(200, { request_id = "r1", participants = { "u1", "bot_b1" }, participantsBots = { "b1" },
      participantsAgents = { "u1" } })
    fake:queue(200, { request_id = "r1", participants = { "u1" }, participantsBots = {} })
    fake:queue(200, { request_id = "r1", participants = { "u1", "bot_b2" }, participantsBots = { "b2" } })
    fake:queue(200, { _id = "m1", text = "/start" })
    local conv, sent = c.requests:change_bot("r1", "b2", { message = "/start" })
    assert.same({ "u1", "bot_b2" }, conv.participants)
    assert.equal("m1", sent._id)
    local log = fake.requests
    assert.equal(4, #log)
    assert.equal("GET " .. BASE .. "/requests/r1", log[1].method .. " " .. log[1].url)
    assert.equal("DELETE " .. BASE .. "/requests/r1/participants/bot_b1", log[2].method .. " " .. log[2].url)
    assert.equal("POST " .. BASE .. "/requests/r1/participants", log[3].method .. " " .. log[3].url)
    assert.same({ member = "bot_b2" }, json_of(log[3]))
    assert.equal("POST " .. BASE .. "/requests/r1/messages", log[4].method .. " " .. log[4].url)
    assert.same({ text = "/start" }, json_of(log[4]))
  end)

  it("change_bot to the bot already there changes nothing; a name is looked up among the bots", function()
    local c, fake = new()
    fake:queue(200, { { _id = "b0", name = "Sales Bot", trashed = true }, { _id = "b2", name = "Sales Bot" } })
    fake:queue(200, { request_id = "r1", participants = { "u1", "bot_b2" }, participantsBots = { "b2" } })
    local conv = assert(c.requests:change_bot("r1", { name = "Sales Bot" }))
    assert.equal("r1", conv.request_id)
    assert.equal(2, #fake.requests)
    assert.equal(BASE .. "/faq_kb", fake.requests[1].url)
    fake:queue(200, {})
    local none, msg, err = c.requests:change_bot("r1", { name = "Nobody" })
    assert.is_nil(none)
    assert.equal("requests:change_bot(): no bot named 'Nobody' in the project", msg)
    assert.equal("not_found", err.kind)
  end)

  it("change_bot stops at the first failure, naming the step", function()
    local c, fake = new()
    fake:queue(200, { request_id = "r1", participants = { "bot_b1" }, participantsBots = { "b1" } })
    fake:queue(400, { success = false, error = "Unable to remove the participant bot_b1 from the request r1" })
    local conv, msg = c.requests:change_bot("r1", "bot_b2")
    assert.is_nil(conv)
    assert.matches("^requests:change_bot%(%): requests:remove_participant%(%)", msg)
    assert.equal(2, #fake.requests)
    assert.has_error(function() c.requests:change_bot("r1", 5) end,
      "requests:change_bot(): bad argument #2 'bot' (a bot id, \"bot_<id>\" or { name = } expected, got number)")
    assert.has_error(function() c.requests:change_bot("r1", "b2", { text = "hi" }) end,
      "requests:change_bot(): unknown option 'text' (known: message)")
  end)
end)

describe("team:update_invitation", function()
  it("sends the invitation's current email along with a new role (the server writes both)", function()
    local c, fake = new()
    fake:queue(200, { _id = "i1", email = "joe@example.com", role = "agent" })
    fake:queue(200, { _id = "i1", email = "joe@example.com", role = "admin" })
    assert(c.team:update_invitation("i1", { role = "admin" }))
    assert.equal("GET " .. BASE .. "/pendinginvitations/i1", fake.requests[1].method .. " " .. fake.requests[1].url)
    assert.equal("PUT " .. BASE .. "/pendinginvitations/i1", fake.requests[2].method .. " " .. fake.requests[2].url)
    assert.same({ email = "joe@example.com", role = "admin" }, json_of(fake.requests[2]))
  end)

  it("sends both without reading when both are given; an unknown id fails at the read", function()
    local c, fake = new()
    fake:queue(200, { _id = "i1" })
    assert(c.team:update_invitation("i1", { role = "admin", email = "ann@example.com" }))
    assert.equal(1, #fake.requests)
    assert.same({ email = "ann@example.com", role = "admin" }, fake:last().json)
    fake:queue(404, { success = false, msg = "Object not found." })
    local inv, msg = c.team:update_invitation("nope", { role = "admin" })
    assert.is_nil(inv)
    assert.matches("^team:update_invitation%(%): team:get_invitation%(%)", msg)
    assert.equal(2, #fake.requests) -- no PUT: it would create the invitation
    assert.has_error(function() c.team:update_invitation("i1", { status = "x" }) end,
      "team:update_invitation(): unknown field 'status' (the server writes email and role only)")
    assert.has_error(function() c.team:update_invitation("i1", {}) end, "team:update_invitation(): give email, role or both")
  end)
end)

describe("analytics:tags", function()
  it("asks for a counter type with whole days as YYYY-MM-DD", function()
    local c, fake = new()
    fake:queue(200, { dates = { "01/11/2026" }, series = { { name = "vip", values = { 2 } } } })
    local res = assert(c.analytics:tags("conversation-tag", { start_date = "2026-11-01", end_date = { 2026, 11, 30 } }))
    assert.equal(BASE .. "/analytics/tags/conversation-tag?end_date=2026-11-30&start_date=2026-11-01", fake:last().url)
    assert.same({ "01/11/2026" }, res.dates)
  end)
end)

describe("analytics:tag_counts", function()
  it("turns the server's string-sorted DD/MM/YYYY dates into days in date order", function()
    local c, fake = new()
    -- the server sorts "01/12/2026" before "30/11/2026" (strings)
    fake:queue(200, { dates = { "01/12/2026", "30/11/2026" },
      series = { { name = "vip", values = { 1, 2 } }, { name = "refund", values = { 0, 3 } } } })
    local days = assert(c.analytics:tag_counts())
    assert.equal(BASE .. "/analytics/tags/conversation-tag", fake:last().url)
    assert.same({ { date = "2026-11-30", counts = { vip = 2, refund = 3 } }, { date = "2026-12-01", counts = { vip = 1 } } },
      days)
    fake:queue(500, { success = false, error = "Unable to find analytics" })
    local none, msg = c.analytics:tag_counts("conversation-tag")
    assert.is_nil(none)
    assert.matches("^analytics:tag_counts%(%): analytics:tags%(%)", msg)
  end)
end)

describe("quotes:usage", function()
  it("sends its date as ISO 8601 UTC (the server reads new Date(date): a Lua epoch would be milliseconds)", function()
    local c, fake = new()
    fake:queue(200, { success = true })
    assert(c.quotes:usage{ date = tiledesk.time.parse("2026-11-30T10:00:00Z") })
    assert.same({ date = "2026-11-30T10:00:00.000Z" }, json_of(fake:last()))
    fake:queue(200, { success = true })
    assert(c.quotes:usage{ date = "30/11/2026" })
    assert.same({ date = "2026-11-30T00:00:00.000Z" }, json_of(fake:last()))
    fake:queue(200, { success = true })
    assert(c.quotes:usage())
    assert.equal("{}", fake:last().body)
    assert.has_error(function() c.quotes:usage{ date = "soon" } end,
      "quotes:usage(): filter 'date' must be a date: an epoch number, an ISO 8601 string, a { year, month, day "
      .. "[, hour, min, sec] } table or \"DD/MM/YYYY[ HH:mm[:ss]]\" (got 'soon': not a date)")
  end)
end)

-- The analytics reports as the server's handlers read and answer them: pubmodules/analytics/
-- analytics.js (one router.get per path; the $match, $group and $sort of each pipeline).
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
    -- it reads `attributes` too, as { attributes: <text> }, which never matches the object the
    -- messages hold (models/message.js): the SDK refuses it, as a filter that cannot work
    ["messages/count"] = { "attributes_answerid", "recipient", "sender" },
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
    assert.has_error(function() c.analytics:waiting_time{ last = -60 } end,
      "analytics:waiting_time(): filter 'last' must be a number of seconds (0 or more), got -60")
    fake:queue(200, {})
    assert(c.analytics:waiting_time{ last = "3600" })
    assert.equal(BASE .. "/analytics/requests/waiting?last=3600", fake:last().url)
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
    assert.is_truthy(c.analytics.REPORT_FILTERS["requests/aggregate/sourcePage"].lastdays[1]:find("default 30", 1, true))
    assert.is_truthy(c.analytics.REPORT_FILTERS["requests/aggregate/day"].lastdays[1]:find("default 7", 1, true))
  end)
end)
