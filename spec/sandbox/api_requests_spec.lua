-- The sandbox's conversations area (/:pid/requests) over plain HTTP: listing rules, filters,
-- pagination, the conversation life cycle and its sub-resources (the server's routes/request.js; docs/server-api.md §3).
local helper = require("spec.helper")

local st = helper.sandbox()
local PID = st.project_id
local _ -- the discarded first result of api()

local auth, api = helper.auth, helper.api

local reset = helper.reset

local function guest_token(name)
  local status, b = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously",
    { id_project = PID, firstname = name or "Visitor" })
  assert.equal(200, status)
  return b.token, b.user
end

local function new_conversation(who, text, extra)
  local body = { first_text = text or "Hello there" }
  for k, v in pairs(extra or {}) do body[k] = v end
  local status, r = api(who or "owner", "POST", "/requests", body)
  assert.equal(200, status)
  return r
end

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

-- A CSV body as csv-express writes it (lines ended by CRLF, fields split on ; outside quotes),
-- each field kept raw, quotes and all: { header = {names}, rows = { {raw fields} } }.
local function csv_parse(text)
  assert.equal("\r\n", text:sub(-2))
  local lines = {}
  for line in text:gmatch("(.-)\r\n") do
    assert.is_nil(line:find("[\r\n]"), "a bare line end")
    local fields, cur, quoted = {}, {}, false
    for ch in line:gmatch(".") do
      if ch == '"' then quoted = not quoted end
      if ch == ";" and not quoted then
        fields[#fields + 1] = table.concat(cur)
        cur = {}
      else
        cur[#cur + 1] = ch
      end
    end
    fields[#fields + 1] = table.concat(cur)
    lines[#lines + 1] = fields
  end
  return { header = table.remove(lines, 1), rows = lines }
end

-- The row of a parsed CSV as a table by column name.
local function csv_record(csv, row)
  local out = {}
  for i, k in ipairs(csv.header) do out[k] = row[i] end
  return out
end

local js_date = helper.js_date

describe("sandbox requests", function()
  before_each(reset)

  it("seeds the same content on every reset (fixed-seed generator, counter ids)", function()
    local function snapshot()
      local _, b = api("owner", "GET", "/requests?status=all&limit=100&sort=request_id&direction=1")
      local out = {}
      for _, r in ipairs(b.requests) do
        out[#out + 1] = table.concat({ r._id, r.request_id, r.status, r.first_text, r.priority,
          table.concat(r.participants, ","), r.lead._id, r.department._id }, "|")
      end
      return out, b.count
    end
    local a, na = snapshot()
    api("owner", "POST", "/requests", { first_text = "noise" })
    reset()
    local b, nb = snapshot()
    assert.equal(320, na)
    assert.equal(na, nb)
    assert.same(a, b)
  end)

  describe("listing", function()
    it("defaults to 40 per page, page 0, open conversations only, newest first", function()
      local status, b = api("owner", "GET", "/requests")
      assert.equal(200, status)
      assert.equal(40, b.perPage)
      assert.equal(40, #b.requests)
      assert.is_true(b.count > 40)
      for i, r in ipairs(b.requests) do
        assert.is_true(r.status == 100 or r.status == 200 or r.status == 300, "status " .. r.status)
        assert.matches(ISO, r.createdAt)
        if i > 1 then assert.is_true(b.requests[i - 1].createdAt >= r.createdAt) end
      end
    end)

    it("resets limit above 100 to 40 and honours limits up to 100", function()
      local _, b = api("owner", "GET", "/requests?limit=101")
      assert.equal(40, b.perPage)
      assert.equal(40, #b.requests)
      _, b = api("owner", "GET", "/requests?limit=100")
      assert.equal(100, b.perPage)
      assert.equal(100, #b.requests)
      _, b = api("owner", "GET", "/requests?limit=7")
      assert.equal(7, #b.requests)
    end)

    it("pages from 0 without overlap, and the last page is short", function()
      local _, p0 = api("owner", "GET", "/requests?limit=30&page=0")
      local _, p1 = api("owner", "GET", "/requests?limit=30&page=1")
      local _, dflt = api("owner", "GET", "/requests?limit=30")
      assert.equal(p0.requests[1].request_id, dflt.requests[1].request_id)
      local seen = {}
      for _, r in ipairs(p0.requests) do seen[r.request_id] = true end
      for _, r in ipairs(helper.nonempty(p1.requests)) do assert.is_nil(seen[r.request_id]) end
      local last = math.floor(p0.count / 30)
      local _, pl = api("owner", "GET", "/requests?limit=30&page=" .. last)
      assert.equal(p0.count - last * 30, #pl.requests)
    end)

    it("hides closed (1000), temp (50) and abandoned (150) unless asked", function()
      local _, open = api("owner", "GET", "/requests?limit=1")
      local _, all = api("owner", "GET", "/requests?limit=100&status=all")
      local _, closed = api("owner", "GET", "/requests?limit=100&status=1000")
      local _, odd = api("owner", "GET", "/requests?limit=100&status=50,150")
      assert.is_true(closed.count > 0 and odd.count > 0)
      assert.equal(all.count, open.count + closed.count + odd.count)
      for _, r in ipairs(helper.nonempty(closed.requests)) do assert.equal(1000, r.status) end
      for _, r in ipairs(helper.nonempty(odd.requests)) do assert.is_true(r.status == 50 or r.status == 150) end
    end)

    it("sorts by field and direction", function()
      local _, b = api("owner", "GET", "/requests?limit=50&sort=createdAt&direction=1")
      assert.is_true(#b.requests > 1)
      for i = 2, #b.requests do assert.is_true(b.requests[i - 1].createdAt <= b.requests[i].createdAt) end
    end)

    it("answers a small page as the same slice of the whole ordered list (ties, missing fields, both directions)", function()
      -- priority repeats (ties go by _id) and rating is missing on most (those come last)
      for _, sort in ipairs({ "createdAt", "priority", "rating", "request_id" }) do
        for _, dir in ipairs({ "-1", "1" }) do
          local q = "/requests?status=all&sort=" .. sort .. "&direction=" .. dir
          local _, whole = api("owner", "GET", q .. "&limit=100&page=0")
          assert.equal(100, #whole.requests)
          for _, page in ipairs({ 0, 3, 19 }) do
            local _, b = api("owner", "GET", q .. "&limit=5&page=" .. page)
            assert.equal(whole.count, b.count)
            assert.equal(5, #b.requests)
            for i, r in ipairs(b.requests) do
              assert.equal(whole.requests[page * 5 + i]._id, r._id, sort .. " " .. dir .. " page " .. page .. " item " .. i)
            end
          end
        end
      end
    end)

    it("filters by department, participant, priority, tags, e-mail, text and no_count", function()
      local _, depts = api(nil, "GET", "/departments")
      local billing
      for _, d in ipairs(depts) do if d.name == "Billing" then billing = d end end
      local _, b = api("owner", "GET", "/requests?status=all&limit=100&dept_id=" .. billing._id)
      assert.is_true(b.count > 0)
      for _, r in ipairs(helper.nonempty(b.requests)) do assert.equal(billing._id, r.department._id) end

      _, b = api("owner", "GET", "/requests?status=all&limit=100&participant=" .. st.users.agent._id)
      assert.is_true(b.count > 0)
      for _, r in ipairs(helper.nonempty(b.requests)) do
        local found = false
        for _, p in ipairs(r.participants) do if p == st.users.agent._id then found = true end end
        assert.is_true(found)
      end

      _, b = api("owner", "GET", "/requests?status=all&limit=100&priority=high")
      assert.is_true(b.count > 0)
      for _, r in ipairs(helper.nonempty(b.requests)) do assert.equal("high", r.priority) end

      _, b = api("owner", "GET", "/requests?status=all&limit=100&tags=vip")
      assert.is_true(b.count > 0)
      for _, r in ipairs(helper.nonempty(b.requests)) do
        local names = {}
        for _, t in ipairs(r.tags) do names[t.tag] = true end
        assert.is_true(names.vip)
      end

      local _, any = api("owner", "GET", "/requests?status=all&limit=100")
      local email
      for _, r in ipairs(any.requests) do if r.lead and r.lead.email then email = r.lead.email break end end
      _, b = api("owner", "GET", "/requests?status=all&requester_email=" .. email)
      assert.is_true(b.count >= 1)
      for _, r in ipairs(helper.nonempty(b.requests)) do assert.equal(email, r.lead.email) end


      _, b = api("owner", "GET", "/requests?status=all&limit=100&hasbot=true")
      assert.is_true(b.count > 0)
      for _, r in ipairs(helper.nonempty(b.requests)) do assert.is_true(r.hasBot) end
      _, b = api("owner", "GET", "/requests?status=all&limit=100&rated=true")
      assert.is_true(b.count > 0)
      for _, r in ipairs(helper.nonempty(b.requests)) do assert.is_number(r.rating) end
      _, b = api("owner", "GET", "/requests?status=all&ticket_id=7")
      assert.equal(1, b.count)
      assert.equal(7, b.requests[1].ticket_id)
      local lead_id = any.requests[1].lead._id
      _, b = api("owner", "GET", "/requests?status=all&lead=" .. lead_id)
      assert.equal(1, b.count)
      assert.equal(lead_id, b.requests[1].lead._id)

      _, b = api("owner", "GET", "/requests?no_count=true&limit=3")
      assert.equal(0, b.count)
      assert.equal(3, #b.requests)
    end)

    -- routes/request.js GET / and routes/user-request.js GET /me populate department,
    -- participatingBots, participatingAgents, lead and requester (with its id_user) unless
    -- no_populate is the string "true"; models/request.js: participatingAgents/Bots are virtual
    -- populates (left out of toJSON when not populated) and requester_id is the virtual
    -- this.lead._id (the populated lead's, or the bare ObjectId's own _id: itself)
    it("leaves department, lead and requester as ids with no_populate=true, and requester_id is the lead's", function()
      local q = "/requests?status=all&limit=20&sort=createdAt&direction=1"
      local _, full = api("owner", "GET", q)
      local _, bare = api("owner", "GET", q .. "&no_populate=true")
      assert.equal(full.count, bare.count)
      assert.equal(#full.requests, #bare.requests)
      local with_agents = 0
      for i, f in ipairs(helper.nonempty(full.requests)) do
        local r = bare.requests[i]
        assert.equal(f._id, r._id)
        assert.equal(f._id, r.id)
        assert.is_table(f.lead)
        assert.equal(f.lead._id, f.requester_id)
        assert.equal(f.lead._id, r.lead)
        assert.equal(f.lead._id, r.requester_id)
        assert.equal(f.requester._id, r.requester)
        assert.is_table(f.requester)
        -- a visitor's membership has no id_user (uuid_user only); an agent's is the user
        if f.requester.id_user ~= nil then assert.is_table(f.requester.id_user) end
        if type(f.department) == "table" then
          assert.equal(f.department._id, r.department)
          -- a populated department's toJSON (models/department.js: virtuals id and hasBot)
          assert.equal(f.department._id, f.department.id)
          assert.is_boolean(f.department.hasBot)
        end
        assert.is_table(f.participatingAgents)
        assert.is_table(f.participatingBots)
        if #f.participatingAgents > 0 then with_agents = with_agents + 1 end
        assert.is_nil(r.participatingAgents)
        assert.is_nil(r.participatingBots)
        assert.same(f.participants, r.participants)
        assert.same(f.participantsAgents, r.participantsAgents)
      end
      assert.is_true(with_agents > 0)
      -- any other value populates (the route compares with the string and with true)
      local _, other = api("owner", "GET", q .. "&no_populate=1")
      assert.is_table(helper.nonempty(other.requests)[1].lead)
      -- a visitor's own conversations (GET /requests/me)
      local token = guest_token("Bare")
      local rid = "support-group-" .. PID .. "-" .. string.rep("ef", 16)
      assert.equal(200, (api(token, "POST", "/requests/" .. rid .. "/messages", { text = "hello" })))
      local _, mine = api(token, "GET", "/requests/me")
      local s, me = api(token, "GET", "/requests/me?no_populate=true")
      assert.equal(200, s)
      assert.equal(1, #me.requests)
      assert.equal(rid, me.requests[1].request_id)
      assert.equal(mine.requests[1].lead._id, me.requests[1].lead)
      assert.equal(mine.requests[1].lead._id, me.requests[1].requester_id)
      assert.equal(mine.requests[1].requester._id, me.requests[1].requester)
      assert.is_table(mine.requests[1].participatingBots)
      assert.is_nil(me.requests[1].participatingBots)
    end)

    -- routes/request.js sends full_text to MongoDB as $text over the request_fulltext index
    -- (models/request.js: transcript, rating_message, subject, tags.tag, notes.text and the
    -- lead's e-mail and name in the snapshot; language "none"); results come best score first,
    -- each with its score, unless no_textscore=true
    it("searches full text in the indexed fields only, whole words, best score first", function()
      local _, seeded = api("owner", "GET", "/requests?status=all&limit=1&full_text=invoice")
      assert.equal(0, seeded.count) -- first_text is not indexed
      local _, two = api("owner", "GET", "/requests?status=all&limit=2")
      assert.equal(2, #two.requests)
      local a, b = two.requests[1].request_id, two.requests[2].request_id
      assert.equal(200, (api("owner", "PATCH", "/requests/" .. a, { subject = "Refund for invoice 42" })))
      assert.equal(200, (api("owner", "POST", "/requests/" .. b .. "/notes", { text = "Invoice sent. Invoice paid." })))
      local _, found = api("owner", "GET", "/requests?status=all&limit=10&full_text=INVOICE")
      assert.equal(2, found.count)
      assert.equal(b, found.requests[1].request_id) -- two matches beat one
      assert.is_true(found.requests[1].score > found.requests[2].score)
      local _, plain = api("owner", "GET", "/requests?status=all&limit=10&full_text=invoice&no_textscore=true")
      assert.equal(2, plain.count)
      assert.is_nil(plain.requests[1].score)
      local _, part = api("owner", "GET", "/requests?status=all&limit=10&full_text=invo")
      assert.equal(0, part.count) -- whole words
      local _, phrase = api("owner", "GET", '/requests?status=all&limit=10&full_text=%22refund%20for%22')
      assert.equal(1, phrase.count)
      assert.equal(a, phrase.requests[1].request_id)
      local _, neg = api("owner", "GET", "/requests?status=all&limit=10&full_text=invoice%20-paid")
      assert.equal(1, neg.count)
      assert.equal(a, neg.requests[1].request_id)
    end)

    -- utils/datesUtil.js: a start day from its 00:00, an end day up to the next 00:00
    -- (excluded), in ?timezone= (more in api_dates_spec.lua)
    it("splits the conversations at a day boundary with DD/MM/YYYY start and end dates", function()
      local since = os.time() - 10 * 86400
      local _, all = api("owner", "GET", "/requests?status=all&limit=1")
      local _, b = api("owner", "GET", "/requests?status=all&limit=100&timezone=UTC&start_date="
        .. os.date("!%d/%m/%Y", since))
      assert.is_true(b.count > 0 and b.count < all.count)
      local floor = os.date("!%Y-%m-%d", since)
      for _, r in ipairs(helper.nonempty(b.requests)) do assert.is_true(r.createdAt:sub(1, 10) >= floor) end
      local _, e = api("owner", "GET", "/requests?status=all&limit=1&timezone=UTC&end_date="
        .. os.date("!%d/%m/%Y", since - 86400))
      assert.is_true(e.count > 0)
      assert.equal(all.count, b.count + e.count)
    end)

    -- routes/request.js: the query holds preflight: false; preflight=true (only that string)
    -- deletes it, so every conversation is listed, preflight or not
    it("keeps preflight conversations out unless preflight=true, which lists them all", function()
      local _, before = api("owner", "GET", "/requests?status=all&limit=1")
      local rid = "support-group-" .. PID .. "-" .. string.rep("ab", 16)
      local status = api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "draft", preflight = true })
      assert.equal(200, status)
      local _, without = api("owner", "GET", "/requests?status=all&limit=1")
      assert.equal(before.count, without.count)
      local _, b = api("owner", "GET", "/requests?status=all&limit=100&preflight=true")
      assert.equal(before.count + 1, b.count)
      assert.equal(rid, b.requests[1].request_id)
      assert.is_true(b.requests[1].preflight)
      assert.is_false(b.requests[2].preflight)
      local _, one = api("owner", "GET", "/requests?status=all&limit=1&preflight=1")
      assert.equal(before.count, one.count)
      _, b = api("owner", "GET", "/requests?status=all&limit=100&full_text=draft")
      assert.equal(0, b.count)
    end)

    it("refuses a guest and lists the guest's own conversations under /me", function()
      local token = guest_token()
      local status = api(token, "GET", "/requests")
      assert.equal(403, status)
      local rid = "support-group-" .. PID .. "-" .. string.rep("cd", 16)
      assert.equal(200, (api(token, "POST", "/requests/" .. rid .. "/messages", { text = "hi from a guest" })))
      local _, me = api(token, "GET", "/requests/me")
      assert.equal(1, me.count)
      assert.equal(rid, me.requests[1].request_id)
    end)

    -- routes/request.js GET /count and requestService.getConversationsCount: drafts never
    -- counted ({ $in: [false, null] }); unassigned = status 100 and preflight false; assigned
    -- = status 200 (only) and preflight false, split by hasBot; merge_assigned is read as
    -- JavaScript reads a value (any non-empty string merges, "false" too)
    it("counts as getConversationsCount counts", function()
      -- a draft and a preflight conversation, to be left out
      -- requestService.create: attributes.sourcePage with td_draft=true makes a draft
      local d = new_conversation("owner", "draft one", { attributes = { sourcePage = "https://x.test/?td_draft=true" } })
      assert.is_true(d.draft)
      -- any other conversation has no draft field (models/request.js: no default)
      assert.is_nil(new_conversation("owner", "a plain one").draft)
      new_conversation("owner", "preflight one", { preflight = true })
      local all, page = {}, 0
      repeat
        local _, b = api("owner", "GET", "/requests?status=all&preflight=true&limit=100&page=" .. page)
        for _, r in ipairs(b.requests) do all[#all + 1] = r end
        page = page + 1
      until #b.requests < 100 or page > 20
      local want = { unassigned = 0, assigned = 0, bot_assigned = 0 }
      local drafts, preflights, served = 0, 0, 0
      for _, r in ipairs(helper.nonempty(all)) do
        if r.draft == true then drafts = drafts + 1 end
        if r.preflight == true then preflights = preflights + 1 end
        if r.status == 300 then served = served + 1 end
        if r.draft ~= true and r.preflight == false then
          if r.status == 100 then want.unassigned = want.unassigned + 1
          elseif r.status == 200 then
            local k = r.hasBot and "bot_assigned" or "assigned"
            want[k] = want[k] + 1
          end
        end
      end
      assert.same({ true, true, true }, { drafts > 0, preflights > 0, served > 0 })
      assert.is_true(want.unassigned > 0 and want.assigned > 0 and want.bot_assigned > 0)
      local _, c = api("owner", "GET", "/requests/count")
      assert.same(want, c)
      for _, v in ipairs({ "true", "false", "0" }) do
        local _, m = api("owner", "GET", "/requests/count?merge_assigned=" .. v)
        assert.same({ unassigned = want.unassigned, assigned = want.assigned + want.bot_assigned }, m)
      end
      local _, e = api("owner", "GET", "/requests/count?merge_assigned=")
      assert.same(want, e)
      -- a bare key: Express's query parser gives "" (false)
      local _, bare = api("owner", "GET", "/requests/count?merge_assigned")
      assert.same(want, bare)
    end)

    -- conversation_quota=true (routes/request.js GET /count): open (100 or 200, preflight or
    -- not) and closed (1000) conversations created in QuoteManager.getCurrentSlot's slot. A new
    -- project's profile is ProfileSchema's default (type free: models/project.js's
    -- isActiveSubscription false), so the slot runs monthly from its createdAt, with moment's
    -- months: created 31 January 10:00, on 15 March moment counts 1 month (monthDiff's anchor
    -- is 31 March), so the slot is 28 February (31 January + 1 month, clamped; start of day) to
    -- 30 March (31 January + 2 months, less a day; end of day)
    it("counts a project's conversations in its plan's current slot", function()
      local function clock(at) helper.control("POST", "/clock", { at = at or require("cjson").null }) end
      finally(function() clock(nil) end)
      clock("2026-01-31T10:00:00.000Z")
      local s, proj = helper.http_json("POST", st.http_url .. "/projects", { name = "Slots" }, auth("owner"))
      assert.equal(200, s)
      assert.same({ name = "Sandbox", trialDays = 14, agents = 0, type = "free" }, proj.profile)
      local base = st.http_url .. "/" .. proj._id
      local function open_one(at, text)
        clock(at)
        local status, r = helper.http_json("POST", base .. "/requests", { first_text = text }, auth("owner"))
        assert.equal(200, status)
        return r
      end
      open_one("2026-02-27T12:00:00.000Z", "before the slot")
      open_one("2026-03-01T09:00:00.000Z", "in the slot")
      local closing = open_one("2026-03-01T09:30:00.000Z", "closed in the slot")
      assert.equal(200, (helper.http_json("PUT", base .. "/requests/" .. closing.request_id .. "/close", {}, auth("owner"))))
      open_one("2026-03-31T00:00:00.000Z", "after the slot")
      clock("2026-03-15T12:00:00.000Z")
      local status, q = helper.http_json("GET", base .. "/requests/count?conversation_quota=true", nil, auth("owner"))
      assert.equal(200, status)
      assert.same({ open = 1, closed = 1, slot = { startDate = "28/02/2026", endDate = "30/03/2026" } }, q)
      -- created 10 January 08:00: on 15 March moment counts 2 months (monthDiff(now, created):
      -- anchor 15 January 12:00, past the creation by 5 days 4 hours of a 31-day month), so the
      -- slot is 10 March to 9 April
      clock("2026-01-10T08:00:00.000Z")
      local _, proj2 = helper.http_json("POST", st.http_url .. "/projects", { name = "Slots 2" }, auth("owner"))
      clock("2026-03-15T12:00:00.000Z")
      local _, q2 = helper.http_json("GET", st.http_url .. "/" .. proj2._id .. "/requests/count?conversation_quota=true",
        nil, auth("owner"))
      assert.same({ open = 0, closed = 0, slot = { startDate = "10/03/2026", endDate = "09/04/2026" } }, q2)
      -- routes/quotes.js POST /: the same slot, its moments written as ISO text
      local _, usage = helper.http_json("POST", base .. "/quotes", {}, auth("owner"))
      assert.same({ startDate = "2026-02-28T00:00:00.000Z", endDate = "2026-03-30T23:59:59.999Z" }, usage.slot)
      -- the project's virtuals that day: no trial mode (trialExpired false), trialDaysLeft the
      -- whole days since createdAt + 14 days (14 February 10:00 to 15 March 12:00: 29)
      local _, got = helper.http_json("GET", st.http_url .. "/projects/" .. proj._id, nil, auth("owner"))
      assert.same({ false, 29, false }, { got.trialExpired, got.trialDaysLeft, got.isActiveSubscription })
    end)

    it("counts by assignment state and exports CSV", function()
      local _, c = api("owner", "GET", "/requests/count")
      assert.is_number(c.unassigned)
      assert.is_number(c.assigned)
      assert.is_number(c.bot_assigned)
      local _, m = api("owner", "GET", "/requests/count?merge_assigned=true")
      assert.equal(c.assigned + c.bot_assigned, m.assigned)
      assert.is_nil(m.bot_assigned)
      local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/requests/csv", nil, auth("owner"))
      assert.equal(200, status)
      assert.matches("^text/csv", h["content-type"])
      assert.matches("^_id;request_id;", text)
      local _, open = api("owner", "GET", "/requests?limit=1")
      local lines = 0
      for _ in text:gmatch("\n") do lines = lines + 1 end
      assert.equal(open.count + 1, lines)
    end)

    it("exports CSV as routes/request.js GET /csv writes it (csv-express, the ; separator, CRLF)", function()
      local _, desk = api("admin", "POST", "/departments", { name = "CSV Desk" })
      local _, lead = api("owner", "POST", "/leads",
        { lead_id = "csv-lead-1", fullname = 'Ada "CSV" Lovelace', email = "ada.csv@example.org" })
      local r = new_conversation("owner", 'Export "me"; please', { departmentid = desk._id })
      local rid = r.request_id
      assert.equal(200, (api("owner", "PATCH", "/requests/" .. rid, { lead = lead._id })))
      assert.equal(200, (api("owner", "PUT", "/requests/" .. rid .. "/tag", { { tag = "alpha" }, { tag = "beta" } })))
      assert.equal(200, (api("owner", "PATCH", "/requests/" .. rid .. "/attributes",
        { caller_phone = "393331234567", call_id = "call-7" })))
      local _, stored = api("owner", "GET", "/requests/" .. rid)
      local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/requests/csv", nil, auth("owner"))
      assert.equal(200, status)
      assert.equal("text/csv; charset=utf-8", h["content-type"])
      local csv = csv_parse(text)
      local names = {}
      for _, k in ipairs(csv.header) do names[k] = true end
      for _, k in ipairs{ "_id", "request_id", "ticket_id", "first_text", "tags", "createdAt", "updatedAt",
        "channel_name", "department_name", "lead_fullname", "lead_email", "caller_phone", "call_id" } do
        assert.is_true(names[k], "column " .. k)
      end
      -- projected away ('-transcript -status -__v') or deleted by the route
      for _, k in ipairs{ "status", "__v", "transcript", "snapshot", "lead", "attributes", "notes", "channelOutbound",
        "location", "channel", "department" } do
        assert.is_nil(names[k], "column " .. k)
      end
      assert.equal("_id", csv.header[1]) -- Mongo keeps _id first
      local row
      for _, fields in ipairs(csv.rows) do
        assert.equal(#csv.header, #fields)
        local rec = csv_record(csv, fields)
        if rec.request_id == '"' .. rid .. '"' then row = rec end
      end
      assert.is_table(row, "the new conversation's row")
      assert.equal('"' .. stored._id .. '"', row._id)
      assert.equal(string.format("%d", stored.ticket_id), row.ticket_id) -- a number: bare
      assert.equal('"Export ""me""; please"', row.first_text)
      assert.equal('"alpha, beta"', row.tags)
      assert.equal('"chat21"', row.channel_name)
      assert.equal('"CSV Desk"', row.department_name)
      assert.equal('"Ada ""CSV"" Lovelace"', row.lead_fullname)
      assert.equal('"ada.csv@example.org"', row.lead_email)
      assert.equal("393331234567", row.caller_phone) -- a numeric string: bare
      assert.equal('"call-7"', row.call_id)
      assert.equal('"false"', row.preflight)
      assert.equal('"' .. js_date(stored.createdAt) .. '"', row.createdAt)
      assert.matches('^"%a%a%a %a%a%a %d%d %d%d%d%d %d%d:%d%d:%d%d GMT%+0000 %(Coordinated Universal Time%)"$',
        row.updatedAt)
    end)

    it("exports an empty CSV as a lone line end", function()
      local status, _, text = helper.http("GET", st.http_url .. "/" .. PID .. "/requests/csv?page=9", nil,
        auth("owner"))
      assert.equal(200, status)
      assert.equal("\r\n", text)
    end)

    it("exports CSV in pages of 100000 rows, ?page= from 0 (routes/request.js GET /csv: limit 100000, skip page * limit)", function()
      local function csv_lines(query)
        local status, _, text = helper.http("GET", st.http_url .. "/" .. PID .. "/requests/csv" .. query, nil, auth("owner"))
        assert.equal(200, status)
        if text == "\r\n" then return 0 end -- no rows: csv-express writes an empty header line
        assert.matches("^_id;request_id;", text)
        local n = 0
        for _ in text:gmatch("\n") do n = n + 1 end
        return n - 1 -- the header line is on every page
      end
      local ok, err = pcall(function()
        local status, made = helper.http_json("POST", st.http_url .. "/__sandbox/conversations", { count = 100000 })
        assert.equal(200, status)
        assert.equal(100000, made.created)
        local _, open = api("owner", "GET", "/requests?limit=1")
        assert.is_true(open.count > 100000)
        assert.equal(100000, csv_lines(""))
        assert.equal(open.count - 100000, csv_lines("?page=1"))
        assert.equal(0, csv_lines("?page=2"))
      end)
      reset() -- a hundred thousand conversations slow every listing after this one
      assert(ok, err)
    end)

    it("makes many conversations at once for exports, and refuses a count it cannot make", function()
      local _, before = api("owner", "GET", "/requests?limit=1")
      local status, first = helper.http_json("POST", st.http_url .. "/__sandbox/conversations", { count = 1 })
      assert.equal(200, status)
      local made
      status, made = helper.http_json("POST", st.http_url .. "/__sandbox/conversations", { count = 3 })
      assert.equal(200, status)
      assert.same({ created = 3, total = first.total + 3 }, made)
      local _, open = api("owner", "GET", "/requests?limit=3")
      assert.equal(before.count + 4, open.count) -- open ones, routed as the widget's are
      assert.equal(3, #open.requests)
      for _, r in ipairs(open.requests) do -- newest first: made here (all four at one instant or two)
        assert.matches("^Bulk conversation [123]$", r.first_text)
        assert.equal("bulk.visitor@example.com", r.lead.email)
      end
      for _, body in ipairs({ {}, { count = 0 }, { count = 1.5 }, { count = "3" }, { count = 200001 } }) do
        local s, b = helper.http_json("POST", st.http_url .. "/__sandbox/conversations", body)
        assert.equal(400, s)
        assert.equal("count: a whole number from 1 to 200000", b.msg)
      end
      local s, b = helper.http_json("POST", st.http_url .. "/__sandbox/conversations", { count = 1, project_id = "nope" })
      assert.equal(400, s)
      assert.equal("project_id: no such project", b.msg)
    end)
  end)

  describe("one conversation", function()
    it("creates with POST (200, server request_id format) and reads it back populated", function()
      local r = new_conversation("owner", "Need help with billing", { subject = "Billing", priority = "high" })
      assert.matches("^support%-group%-" .. PID .. "%-%x+$", r.request_id)
      assert.equal(32, #r.request_id:match("%-(%x+)$"))
      assert.equal("Need help with billing", r.first_text)
      local status, got = api("owner", "GET", "/requests/" .. r.request_id)
      assert.equal(200, status)
      assert.equal(r._id, got._id)
      assert.equal("high", got.priority)
      assert.equal("Default Department", got.department.name)
      assert.is_table(got.lead)
      assert.is_table(got.participatingAgents)
    end)

    it("validates first_text with the express-validator shape", function()
      local status, b = api("owner", "POST", "/requests", { subject = "no text" })
      assert.equal(422, status)
      assert.equal("first_text", b.errors[1].param)
      assert.equal("Invalid value", b.errors[1].msg)
      assert.equal("body", b.errors[1].location)
    end)

    it("answers 404 with the server's body for an unknown request_id", function()
      local status, b = api("owner", "GET", "/requests/support-group-" .. PID .. "-nope")
      assert.equal(404, status)
      assert.same({ success = false, msg = "Object not found." }, b)
    end)

    it("patches only the listed keys and merges attributes", function()
      local r = new_conversation()
      local status, p = api("owner", "PATCH", "/requests/" .. r.request_id,
        { subject = "New subject", priority = "low", hacker = "ignored", first_text = "" })
      assert.equal(200, status)
      assert.equal("New subject", p.subject)
      assert.equal("low", p.priority)
      assert.is_nil(p.hacker)
      assert.equal("Hello there", p.first_text)
      api("owner", "PATCH", "/requests/" .. r.request_id .. "/attributes", { a = 1 })
      local _, a = api("owner", "PATCH", "/requests/" .. r.request_id .. "/attributes", { b = "two" })
      assert.equal(1, a.attributes.a)
      assert.equal("two", a.attributes.b)
    end)

    it("closes (then hidden from the default list) and reopens", function()
      local r = new_conversation()
      local status, c = api("owner", "PUT", "/requests/" .. r.request_id .. "/close")
      assert.equal(200, status)
      assert.equal(1000, c.status)
      assert.matches(ISO, c.closed_at)
      local _, l = api("owner", "GET", "/requests?limit=100&ticket_id=" .. r.ticket_id)
      assert.equal(0, l.count)
      _, l = api("owner", "GET", "/requests?limit=100&status=1000&ticket_id=" .. r.ticket_id)
      assert.equal(1, l.count)
      local _, o = api("owner", "PUT", "/requests/" .. r.request_id .. "/reopen")
      assert.is_true(o.status < 1000)
    end)

    -- routes/request.js PUT /:requestid/close, /reopen and PATCH /:requestid
    it("refuses to close for an agent who is not a participant; answers unknown ones per route", function()
      local r = new_conversation("owner", "x", { participants = { st.users.admin._id } })
      local status, b = api("agent", "PUT", "/requests/" .. r.request_id .. "/close")
      assert.equal(403, status)
      assert.same({ success = false, error = "You must be among the participants to close a conversation." }, b)
      assert.equal(200, (api("admin", "PUT", "/requests/" .. r.request_id .. "/close")))
      local unknown = "/requests/support-group-" .. PID .. "-nosuchconversation"
      status, b = api("agent", "PUT", unknown .. "/close")
      assert.equal(404, status)
      assert.same({ success = false, error = "Request not found" }, b)
      status, b = api("admin", "PUT", unknown .. "/close")
      assert.equal(500, status)
      assert.same({ success = false, error = "Error closing request" }, b)
      status, b = api("admin", "PUT", unknown .. "/reopen")
      assert.equal(500, status)
      assert.same({ success = false, error = "Error reopening request" }, b)
      status, b = api("admin", "PATCH", unknown, { priority = "high" })
      assert.equal(404, status)
      assert.same({ success = false, msg = "Request not found" }, b)
    end)

    it("adds, replaces and removes participants", function()
      local r = new_conversation()
      local rid = r.request_id
      local status, b = api("owner", "POST", "/requests/" .. rid .. "/participants", {})
      assert.equal(422, status)
      assert.equal("member", b.errors[1].param)
      _, b = api("owner", "POST", "/requests/" .. rid .. "/participants", { member = st.users.admin._id })
      local has = {}
      for _, p in ipairs(b.participants) do has[p] = true end
      assert.is_true(has[st.users.admin._id])
      _, b = api("owner", "PUT", "/requests/" .. rid .. "/participants", { st.users.agent._id, "bot_" .. st.bot._id })
      assert.same({ st.users.agent._id, "bot_" .. st.bot._id }, b.participants)
      assert.same({ st.users.agent._id }, b.participantsAgents)
      assert.same({ st.bot._id }, b.participantsBots)
      assert.is_true(b.hasBot)
      _, b = api("owner", "DELETE", "/requests/" .. rid .. "/participants/bot_" .. st.bot._id)
      assert.same({ st.users.agent._id }, b.participants)
      assert.is_false(b.hasBot)
      -- requestService.removeParticipantByRequestId: a member not in the list changes nothing
      status, b = api("owner", "DELETE", "/requests/" .. rid .. "/participants/nobody")
      assert.equal(200, status)
      assert.same({ st.users.agent._id }, b.participants)
    end)

    -- routes/request.js: the services fail on an unknown conversation, and each route answers
    -- that with its own status and words
    it("answers participant and follower changes of an unknown conversation as the server does", function()
      local rid = "support-group-" .. PID .. "-nosuchconversation"
      local cases = {
        { "POST", "/participants", { member = "x" }, 500, { success = false, error = "Error adding participant" } },
        { "PUT", "/participants", { "x" }, 500, { success = false, error = "Error setting participants" } },
        { "DELETE", "/participants/x", nil, 400,
          { success = false, error = "Unable to remove the participant x from the request " .. rid } },
        { "POST", "/followers", { member = "x" }, 500, { success = false, error = "Error adding follower" } },
        { "PUT", "/followers", { "x" }, 500, { success = false, error = "Error setting followers" } },
        { "DELETE", "/followers/x", nil, 500, { success = false, error = "Error removing follower" } },
      }
      for _, c in ipairs(helper.nonempty(cases)) do
        local status, b = api("owner", c[1], "/requests/" .. rid .. c[2], c[3])
        assert.equal(c[4], status, c[1] .. " " .. c[2])
        assert.same(c[5], b, c[1] .. " " .. c[2])
      end
    end)

    it("adds, replaces and removes followers", function()
      local rid = new_conversation().request_id
      local _, b = api("owner", "POST", "/requests/" .. rid .. "/followers", { member = st.users.agent._id })
      assert.same({ st.users.agent._id }, b.followers)
      _, b = api("owner", "PUT", "/requests/" .. rid .. "/followers", { st.users.admin._id, st.users.owner._id })
      assert.same({ st.users.admin._id, st.users.owner._id }, b.followers)
      _, b = api("owner", "DELETE", "/requests/" .. rid .. "/followers/" .. st.users.admin._id)
      assert.same({ st.users.owner._id }, b.followers)
    end)

    it("adds and removes notes; an empty note is a 400", function()
      local rid = new_conversation().request_id
      helper.answers(400, { success = false, error = "Field 'text' is required. Received value: " },
        api("owner", "POST", "/requests/" .. rid .. "/notes", { text = "" }))
      local _, b = api("owner", "POST", "/requests/" .. rid .. "/notes", { text = "called the customer" })
      assert.equal(1, #b.notes)
      assert.equal("called the customer", b.notes[1].text)
      assert.equal(st.users.owner._id, b.notes[1].createdBy)
      _, b = api("owner", "DELETE", "/requests/" .. rid .. "/notes/" .. b.notes[1]._id)
      assert.equal(0, #b.notes)
    end)

    it("tags with de-duplication and removes a tag by its sub-document id", function()
      local rid = new_conversation().request_id
      local status, b = api("owner", "PUT", "/requests/" .. rid .. "/tag", "[]")
      assert.equal(400, status)
      assert.equal("No tag specified", b.message)
      _, b = api("owner", "PUT", "/requests/" .. rid .. "/tag", { { tag = "vip", color = "#f00" }, { tag = "vip" } })
      assert.equal(1, #b.tags)
      _, b = api("owner", "PUT", "/requests/" .. rid .. "/tag", { { tag = "vip" }, { tag = "bug" } })
      assert.equal(2, #b.tags)
      assert.is_string(b.tags[1]._id)
      _, b = api("owner", "DELETE", "/requests/" .. rid .. "/tag/" .. b.tags[1]._id)
      assert.equal(1, #b.tags)
      assert.equal("bug", b.tags[1].tag)
    end)

    it("queues an e-mail to the lead", function()
      local rid = new_conversation().request_id
      local status, b = api("owner", "POST", "/requests/" .. rid .. "/email/send", { text = "Your ticket", subject = "Hi" })
      assert.equal(200, status)
      assert.same({ queued = true }, b)
    end)

    it("lets only the requester rate (agents get 404)", function()
      local token = guest_token()
      local rid = "support-group-" .. PID .. "-" .. string.rep("ef", 16)
      assert.equal(200, (api(token, "POST", "/requests/" .. rid .. "/messages", { text = "hello" })))
      helper.answers(404, helper.NOT_FOUND, api("owner", "PATCH", "/requests/" .. rid .. "/rating", { rating = 5 }))
      local status, b = api(token, "PATCH", "/requests/" .. rid .. "/rating", { rating = 4, rating_message = "ok" })
      assert.equal(200, status)
      assert.equal(4, b.rating)
      assert.equal("ok", b.rating_message)
      status, b = api(token, "PUT", "/requests/" .. rid .. "/closeg")
      assert.equal(200, status)
      assert.equal(1000, b.status)
    end)

    it("deletes only for the owner, messages included", function()
      local rid = new_conversation().request_id
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "one" })
      local status, b = api("admin", "DELETE", "/requests/" .. rid)
      assert.equal(403, status)
      assert.same({ success = false, msg = "Unauthorized." }, b)
      assert.equal(200, (api("owner", "DELETE", "/requests/" .. rid)))
      helper.answers(404, helper.NOT_FOUND, api("owner", "GET", "/requests/" .. rid))
      local _, msgs = api("owner", "GET", "/requests/" .. rid .. "/messages")
      assert.equal(0, #msgs)
    end)

    it("returns the chatbot parameters and checks the project in the request_id", function()
      local rid = new_conversation().request_id
      api("owner", "PATCH", "/requests/" .. rid .. "/attributes", { order = "A-1" })
      local status, b = api("owner", "GET", "/requests/" .. rid .. "/chatbot/parameters")
      assert.equal(200, status)
      assert.equal("A-1", b.order)
      -- routes/request.js: a JSON 401 when the request_id names another project
      status, b = api("owner", "GET", "/requests/support-group-ffffffffffffffffffffffff-abc/chatbot/parameters")
      assert.equal(401, status)
      assert.same({ success = false, message = "Request does not belong to the project" }, b)
    end)
  end)

  describe("routing", function()
    local function dept(name)
      local _, list = api(nil, "GET", "/departments")
      for _, d in ipairs(list) do if d.name == name then return d end end
    end

    it("puts the department's bot in the participants, hands off to a human, and replaces bots", function()
      local support = dept("Support (bot first)")
      local r = new_conversation("owner", "bot please", { departmentid = support._id })
      assert.same({ "bot_" .. st.bot._id }, r.participants)
      assert.is_true(r.hasBot)
      local status, h = api("owner", "PUT", "/requests/" .. r.request_id .. "/agent")
      assert.equal(200, status)
      assert.is_false(h.hasBot)
      for _, p in ipairs(helper.nonempty(h.participants)) do assert.is_nil(p:match("^bot_")) end

    end)

    -- routes/request.js PUT /:requestid/replace: the bot named by id, name (untrashed) or
    -- slug becomes the only participant (requestService.setParticipantsByRequestId: every
    -- agent leaves); replaced_bot_root_id is the new bot's root id
    it("replaces every participant, agents included, by the bot named", function()
      local r = new_conversation("owner", "two humans and a bot")
      local both = { st.users.agent._id, st.users.admin._id, "bot_" .. st.bot._id }
      assert.equal(200, (api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", both)))
      local _, other = api("owner", "POST", "/faq_kb", { name = "Other Bot", type = "external", slug = "other-bot" })
      local status, rep = api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", { name = "Other Bot" })
      assert.equal(200, status)
      assert.same({ "bot_" .. other._id }, rep.participants)
      assert.same({}, rep.participantsAgents)
      assert.equal(other._id, rep.replaced_bot_root_id)
      _, rep = api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", { slug = "other-bot" })
      assert.same({ "bot_" .. other._id }, rep.participants)
      _, rep = api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", { id = st.bot._id })
      assert.same({ "bot_" .. st.bot._id }, rep.participants)
      assert.equal(st.bot._id, rep.replaced_bot_root_id)
      local b
      status, b = api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", { name = "Missing" })
      assert.equal(404, status)
      assert.same({ success = false, error = "Chatbot with name 'Missing' not found" }, b)
      status, b = api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", {})
      assert.equal(400, status)
      assert.same({ success = false, error = "Missing field 'id' or 'name' in body" }, b)
      status, b = api("owner", "PUT", "/requests/support-group-" .. PID .. "-nosuchconversation/replace", { id = st.bot._id })
      assert.equal(500, status)
      assert.same({ success = false, error = "Error setting participants to request" }, b)
    end)

    it("reroutes to another department, and assign leaves an assigned conversation alone", function()
      local billing = dept("Billing")
      local r = new_conversation()
      local _, moved = api("owner", "PUT", "/requests/" .. r.request_id .. "/departments", { departmentid = billing._id })
      assert.equal(billing._id, moved.department._id)
      assert.equal(404, (api("owner", "PUT", "/requests/" .. r.request_id .. "/departments",
        { departmentid = "ffffffffffffffffffffffff" })))
      assert.equal(200, moved.status) -- billing routes "assigned" and agents are available
      local _, same = api("owner", "PUT", "/requests/" .. r.request_id .. "/assign",
        { departmentid = dept("Default Department")._id })
      assert.equal(billing._id, same.department._id)
    end)
  end)
end)
