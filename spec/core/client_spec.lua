-- The Lua client over the C core against the running sandbox: auth, failures, retries,
-- round trips for every area, pagination across pages, webhooks, and the example scripts.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local cjson = require("cjson")

local st = helper.sandbox()
local PID = st.project_id

local control = helper.control

local fault = helper.fault

local function client_for(role, extra) return helper.signed_in(role or "admin", extra) end

local function log_since(seq)
  return control("GET", "/log?since=" .. (seq or 0)).entries
end

local function last_seq()
  local e = log_since(0)
  return #e > 0 and e[#e].seq or 0
end

-- polls a sink until n deliveries arrived (bounded: 50 x 100 ms)
local function wait_sink(name, n)
  local core = require("tiledesk.core")
  for _ = 1, 50 do
    local d = control("GET", "/sink/" .. name).deliveries
    if #d >= n then return d end
    core.sleep_ms(100)
  end
  return control("GET", "/sink/" .. name).deliveries
end

describe("client against the sandbox", function()
  setup(function() control("POST", "/reset") end)
  before_each(function() control("DELETE", "/faults") end)

  describe("auth", function()
    it("signs in lazily, once, and reuses the connection", function()
      local c = client_for("agent")
      local seq = last_seq()
      local page = assert(c.requests:list{ limit = 3 })
      assert.equal(3, #page.requests)
      assert(c.users:me())
      local e = log_since(seq)
      assert.equal(3, #e)
      assert.equal("/auth/signin", e[1].path)
      assert.equal("JWT [redacted]", e[2].headers.authorization)
      assert.equal(e[1].connection, e[3].connection)
    end)

    it("works over HTTPS with the sandbox CA", function()
      local c = tiledesk.new{ base_url = st.https_url, project_id = PID, cafile = st.ca_file,
        email = st.users.agent.email, password = st.users.agent.password }
      assert(c.departments:list())
      local bad = tiledesk.new{ base_url = st.https_url, project_id = PID, cafile = st.other_ca_file, retries = 0,
        email = st.users.agent.email, password = st.users.agent.password }
      local v, msg, err = bad.departments:list_all()
      assert.is_nil(v)
      assert.equal("tls", err.kind, msg)
    end)

    it("reports a refused password and a forged token with the server's words", function()
      local c = tiledesk.new{ base_url = st.http_url, project_id = PID, email = st.users.agent.email, password = "wrong" }
      local v, msg, err = c:signin()
      assert.is_nil(v)
      assert.equal("signin(): HTTP 401 Unauthorized: Authentication failed. Wrong password.", msg)
      assert.equal(401, err.status)
      local forged = control("POST", "/sign", { payload = { _id = st.users.owner._id, sub = "user",
        aud = "https://tiledesk.com" }, secret = "not-the-server-secret" }).token
      local f = tiledesk.new{ base_url = st.http_url, project_id = PID, token = forged }
      v, msg, err = f.requests:list()
      assert.is_nil(v)
      assert.equal(401, err.status)
      assert.equal("requests:list(): HTTP 401 Unauthorized", msg)
      assert.equal("Unauthorized", err.body)
    end)

    it("uses Basic auth when asked", function()
      local u = st.users.agent
      local c = tiledesk.new{ base_url = st.http_url, project_id = PID, email = u.email, password = u.password, auth = "basic" }
      local seq = last_seq()
      assert(c.team:me())
      local e = log_since(seq)
      assert.equal(1, #e)
      assert.equal("Basic [redacted]", e[1].headers.authorization)
    end)

    it("refuses what a role may not do", function()
      local agent = client_for("agent")
      local v, msg, err = agent.activities:list()
      assert.is_nil(v)
      assert.equal(403, err.status)
      assert.matches("you dont have the required role", msg)
    end)

    it("signs in a guest who can start a conversation and see it", function()
      local guest, user = assert(tiledesk.signin_anonymously{ base_url = st.http_url, project_id = PID,
        firstname = "Gina", email = "gina@example.com" })
      assert.equal("Gina", user.firstname)
      local conv = assert(guest.requests:start{ text = "Hello from a guest", departmentid = nil })
      assert.matches("^support%-group%-" .. PID .. "%-", conv.request_id)
      local mine = assert(guest.requests:me())
      assert.equal(1, mine.count)
      assert.equal(conv.request_id, mine.requests[1].request_id)
    end)

    it("exchanges a custom token signed with the project secret", function()
      local admin = client_for("admin")
      local keys = assert(admin.keys:generate())
      local jwt = control("POST", "/sign", { payload = { _id = "ext-user-1", firstname = "Ext", sub = "userexternal",
        aud = "https://tiledesk.com/projects/" .. PID }, secret = keys.jwtSecret }).token
      local c = tiledesk.new{ base_url = st.http_url, project_id = PID }
      local u = assert(c:signin_with_custom_token(jwt))
      assert.equal("ext-user-1", u._id)
      assert(c.requests:start{ text = "hi from an external user" })
      local bad = tiledesk.new{ base_url = st.http_url, project_id = PID }
      local v, _, err = bad:signin_with_custom_token(control("POST", "/sign", { payload = { _id = "x",
        sub = "userexternal", aud = "https://tiledesk.com/projects/" .. PID }, secret = "wrong" }).token)
      assert.is_nil(v)
      assert.equal(401, err.status)
    end)
  end)

  describe("failures", function()
    it("retries a 429 with Retry-After and then succeeds", function()
      local lines = {}
      local c = client_for("agent", { log = function(l) lines[#lines + 1] = l end })
      assert(c:signin())
      fault("/departments/allstatus$", { type = "status", status = 429, retry_after = 1 })
      local seq = last_seq()
      local core = require("tiledesk.core")
      local t0 = core.now_ms()
      local list = assert(c.departments:list_all())
      -- the wait is the server's second, not the jittered backoff (at most 200 ms here)
      assert.matches("%-> 429 .*retrying in 1000 ms$", lines[2])
      assert.is_true(core.now_ms() - t0 >= 990)
      assert.is_true(#list >= 3)
      local e = log_since(seq)
      assert.equal(2, #e)
      assert.equal(429, e[1].status)
      assert.equal(200, e[2].status)
    end)

    it("retries 502/503/504 without Retry-After for GET, not a 500", function()
      local c = client_for("agent", { retry_base_ms = 10, retry_max_ms = 50 })
      assert(c:signin())
      for _, status in ipairs({ 502, 503, 504 }) do
        fault("/departments/allstatus$", { type = "status", status = status, content_type = "text/plain",
          body = "Down for maintenance" }, 2)
        local seq = last_seq()
        assert(c.departments:list_all())
        local e = log_since(seq)
        assert.equal(3, #e, status)
        assert.same({ status, status, 200 }, { e[1].status, e[2].status, e[3].status })
      end
      fault("/departments/allstatus$", { type = "status", status = 500 })
      local seq = last_seq()
      local v, msg, err = c.departments:list_all()
      assert.is_nil(v)
      assert.equal(500, err.status)
      assert.equal("departments:list_all(): HTTP 500 Internal Server Error: error", msg)
      assert.equal(1, #log_since(seq))
    end)

    it("gives up with the last answer and the attempt count", function()
      local c = client_for("agent", { retries = 2, retry_base_ms = 5, retry_max_ms = 20 })
      assert(c:signin())
      fault("/departments/allstatus$", { type = "status", status = 503, content_type = "text/plain",
        body = "Down for maintenance" }, 5)
      local v, msg, err = c.departments:list_all()
      assert.is_nil(v)
      assert.equal(3, err.attempts)
      assert.equal("departments:list_all(): HTTP 503 Service Unavailable: Down for maintenance (after 3 attempts)", msg)
    end)

    it("never repeats a POST that failed, unless the call says retry = true", function()
      local c = client_for("agent")
      assert(c:signin())
      fault("/leads$", { type = "status", status = 503 }, 1, "POST")
      local seq = last_seq()
      local v, _, err = c.leads:create{ fullname = "Once Only" }
      assert.is_nil(v)
      assert.equal(503, err.status)
      assert.equal(1, #log_since(seq))
      local page = assert(c.leads:search("Once Only"))
      assert.equal(0, page.count)
      fault("/leads$", { type = "status", status = 503 }, 1, "POST")
      assert(c:post("/leads", { fullname = "Twice OK" }, { retry = true }))
    end)

    it("shows the HTML 404 of an unknown route", function()
      local c = client_for("agent")
      local v, msg, err = c:get("/no/such/route")
      assert.is_nil(v)
      assert.equal(404, err.status)
      assert.matches("Cannot GET /" .. PID .. "/no/such/route", msg, 1, true)
    end)

    it("reports a truncated JSON body and a non-JSON 200 as kind decode", function()
      local c = client_for("agent")
      assert(c:signin())
      fault("/departments/allstatus$", { type = "truncate" })
      local v, msg, err = c.departments:list_all()
      assert.is_nil(v)
      assert.equal("decode", err.kind)
      assert.matches("not JSON", msg)
      fault("/departments/allstatus$", { type = "non_json" })
      v, msg, err = c.departments:list_all()
      assert.is_nil(v)
      assert.equal("decode", err.kind)
      assert.matches("<html>", msg)
    end)

    it("times out a hanging call with kind timeout, and caps bodies", function()
      local c = client_for("agent", { timeout = 300, retries = 0 })
      assert(c:signin())
      fault("/departments/allstatus$", { type = "hang", ms = 2000 })
      local v, msg, err = c.departments:list_all()
      assert.is_nil(v)
      assert.equal("timeout", err.kind)
      assert.matches("^departments:list_all%(%): GET http", msg)
      local small = client_for("agent", { max_body_size = 50000 })
      assert(small:signin())
      fault("/departments/allstatus$", { type = "oversize", bytes = 200000 })
      v, msg, err = small.departments:list_all()
      assert.is_nil(v)
      assert.equal("too_large", err.kind, msg)
    end)
  end)

  describe("pagination", function()
    it("iterates across many pages, hiding closed conversations unless asked", function()
      local c = client_for("owner")
      local seq = last_seq()
      local all, open = 0, 0
      local seen = {}
      for r in c.requests:each{ status = "all", limit = 50 } do
        assert.is_nil(seen[r.request_id], "duplicate " .. r.request_id)
        seen[r.request_id] = true
        all = all + 1
      end
      local pages = 0
      for _, e in ipairs(log_since(seq)) do if e.path:match("/requests$") then pages = pages + 1 end end
      assert.is_true(pages >= 5, "pages: " .. pages)
      for r in c.requests:each{ limit = 100 } do
        assert.is_true(r.status ~= 1000 and r.status ~= 50 and r.status ~= 150)
        open = open + 1
      end
      local first = assert(c.requests:list{ status = "all", limit = 1 })
      assert.equal(first.count, all)
      assert.is_true(open < all)
      local closed = assert(c.requests:list{ status = "1000", limit = 1 })
      assert.is_true(closed.count > 0)
    end)

    it("raises out of the for loop when a page fails half-way", function()
      local c = client_for("owner", { retries = 0 })
      local n = 0
      local ok, err = pcall(function()
        for _ in c.requests:each{ status = "all", limit = 20 } do
          n = n + 1
          if n == 1 then fault("/requests$", { type = "status", status = 503 }, 1, "GET") end
        end
      end)
      assert.is_false(ok)
      assert.equal(20, n)
      assert.equal(503, err.status)
      assert.matches("^requests:list%(%): HTTP 503", tostring(err))
    end)
  end)

  describe("round trips", function()
    local c
    setup(function() c = client_for("owner") end)

    it("requests: start, get, notes, tags, attributes, participants, route, close, reopen", function()
      local conv = assert(c.requests:start{ text = "My parcel is late", subject = "Parcel" })
      local rid = conv.request_id
      local got = assert(c.requests:get(rid))
      assert.equal("My parcel is late", got.first_text)
      local noted = assert(c.requests:add_note(rid, "Called the courier"))
      assert.equal(1, #noted.notes)
      assert.equal(0, #assert(c.requests:remove_note(rid, noted.notes[1]._id)).notes)
      local tagged = assert(c.requests:add_tags(rid, { "vip", { tag = "late", color = "#ff0000" } }))
      assert.equal(2, #tagged.tags)
      assert.equal(1, #assert(c.requests:remove_tag(rid, tagged.tags[1]._id)).tags)
      assert.same({ order = 42, ok = true }, assert(c.requests:merge_attributes(rid, { order = 42, ok = true })).attributes)
      local agent_id = st.users.agent._id
      assert(c.requests:add_participant(rid, agent_id))
      local set = assert(c.requests:set_participants(rid, { agent_id }))
      assert.same({ agent_id }, set.participants)
      assert.same({}, assert(c.requests:remove_participant(rid, agent_id)).participants)
      assert(c.requests:add_follower(rid, agent_id))
      local depts = assert(c.departments:list())
      assert(c.requests:route(rid, depts[1]._id))
      assert(c.requests:update(rid, { priority = "high", subject = "Parcel (urgent)" }))
      assert.equal("high", assert(c.requests:get(rid)).priority)
      assert.equal(1000, assert(c.requests:close(rid)).status)
      assert.is_true(assert(c.requests:reopen(rid)).status < 1000)
      assert.same({ queued = true }, assert(c.requests:send_transcript(rid, "Your transcript")))
      local count = assert(c.requests:count())
      assert.is_number(count.unassigned)
      local csv = assert(c.requests:csv{ status = "all" })
      assert.matches("^_id;request_id;", csv)
      assert.equal(PID, assert(c.requests:lookup_project(rid)).id_project)
      local v, _, err = c.requests:get("support-group-" .. PID .. "-doesnotexist")
      assert.is_nil(v)
      assert.equal(404, err.status)
      assert.same({ success = false, msg = "Object not found." }, err.body)
    end)

    it("messages: send as agent, bot and info; list; get", function()
      local conv = assert(c.requests:start{ text = "hello" })
      local rid = conv.request_id
      assert(c.messages:send_text(rid, "second"))
      local m = assert(c.messages:send_as_agent(rid, st.users.agent, "an agent speaks"))
      assert.equal(st.users.agent._id, m.sender)
      assert(c.messages:send_as_bot(rid, st.bot, "a bot speaks"))
      assert(c.messages:send_info(rid, "Alice joined"))
      local list = assert(c.messages:list(rid))
      assert.equal(5, #list)
      assert.equal("hello", list[1].text)
      assert.equal("bot_" .. st.bot._id, list[4].sender)
      assert.equal("info", list[5].attributes.subtype)
      assert.same(list[2], assert(c.messages:get(rid, list[2]._id)))
      local v, msg, err = c.messages:send(rid, { type = "text" })
      assert.is_nil(v)
      assert.equal(422, err.status)
      assert.matches("text field is required", msg)
    end)

    it("leads: create, get, update, attributes, tags, search, delete", function()
      local lead = assert(c.leads:create{ fullname = "Lea Lead", email = "lea@example.com" })
      assert.equal("Lea Lead", assert(c.leads:get(lead._id)).fullname)
      assert.equal("ACME", assert(c.leads:update(lead._id, { company = "ACME" })).company)
      assert.same({ tier = "gold" }, assert(c.leads:merge_attributes(lead._id, { tier = "gold" })).attributes)
      assert.same({ "a", "b" }, assert(c.leads:add_tags(lead._id, { "a", "b" })).tags)
      assert.same({ "b" }, assert(c.leads:remove_tag(lead._id, "a")).tags)
      assert.equal(1, assert(c.leads:search("Lea Lead")).count)
      assert.equal(lead._id, assert(c.leads:find_by_email("lea@example.com"))._id)
      assert.equal(1000, assert(c.leads:delete(lead._id)).status)
      assert.equal(0, assert(c.leads:search("Lea Lead")).count)
      local n = 0
      for _ in c.leads:each{ limit = 100 } do n = n + 1 end
      assert.is_true(n >= 300)
    end)

    it("team: invite, update role and availability, disable, trash, restore", function()
      local outsider = "outsider@sandbox.test"
      local pu = assert(c.team:invite(outsider, "agent"))
      assert.equal("agent", pu.role)
      local v, _, err = c.team:invite(outsider, "agent")
      assert.is_nil(v)
      assert.equal(4001, err.body.code)
      local pending = assert(c.team:invite("nobody-yet@example.com", "agent"))
      assert.truthy(pending.pendingInvitation)
      assert.equal("supervisor", assert(c.team:set_role(pu._id, "supervisor")).role)
      assert.is_false(assert(c.team:set_availability(false, pu._id)).user_available)
      assert.is_false(assert(c.team:set_availability(false)).user_available)
      assert.equal("disabled", assert(c.team:disable(pu._id)).status)
      assert.is_true(assert(c.team:trash(pu._id)).trashed)
      assert.is_false(assert(c.team:restore(pu._id)).trashed)
      local list = assert(c.team:list())
      assert.is_true(#list >= 5)
      assert.equal(1, #assert(c.team:me()))
    end)

    it("departments, groups, bots and intents, canned, tags, events, subscriptions", function()
      local d = assert(c.departments:create{ name = "Sales", routing = "pooled" })
      assert.equal("Sales", assert(c.departments:get(d._id)).name)
      assert.equal("EU Sales", assert(c.departments:update(d._id, { name = "EU Sales" })).name)
      assert(c.departments:delete(d._id))
      local g = assert(c.groups:create("Night shift", { members = { st.users.agent._id } }))
      assert.same({ st.users.agent._id }, assert(c.groups:get(g._id)).members)
      assert(c.groups:delete(g._id))
      local b = assert(c.bots:create("Helper", { type = "external", url = "http://127.0.0.1:9/none" }))
      local f = assert(c.faqs:create(b._id, { question = "hi?", answer = "hello!", intent_display_name = "greet" }))
      local v, _, err = c.faqs:create(b._id, { question = "again", intent_display_name = "greet" })
      assert.is_nil(v)
      assert.equal(409, err.status)
      assert.equal(1, #assert(c.faqs:list(b._id)))
      assert.equal("hello again", assert(c.faqs:update(f._id, b._id, { answer = "hello again" })).answer)
      assert.is_string(assert(c.bots:token(b._id)).jwt)
      assert(c.faqs:delete(f._id))
      assert(c.bots:delete(b._id))
      local cr = assert(c.canned:create("Bye", "Goodbye!"))
      assert.equal("Goodbye!", assert(c.canned:get(cr._id)).text)
      assert.equal(1000, assert(c.canned:delete(cr._id)).status)
      local t = assert(c.tags:create("urgent", "#ff0000"))
      assert.equal(t._id, assert(c.tags:create("urgent")). _id)
      assert(c.tags:delete(t._id))
      local e = assert(c.events:create("cart.abandoned", { attributes = { value = 30 } }))
      assert.equal("cart.abandoned", assert(c.events:get(e._id)).name)
      assert.is_true(assert(c.events:list()).count >= 2)
      local s = assert(c.subscriptions:create("lead.create", st.control_url .. "/sink/rt"))
      assert.is_string(s.secret)
      assert.is_nil(assert(c.subscriptions:get(s._id)).secret)
      assert(c.subscriptions:delete(s._id))
    end)

    it("projects, users, activities, analytics, labels", function()
      assert.equal("Sandbox Project", assert(c.projects:get()).name)
      local list = assert(c.projects:list())
      assert.equal(PID, list[1].id_project._id)
      assert.equal(st.users.owner.email, assert(c.users:me()).email)
      assert.is_true(assert(c.activities:list{ limit = 10 }).count > 0)
      assert.is_number(assert(c.analytics:waiting_time())[1].waiting_time_avg)
      assert.is_true(#assert(c.analytics:report("requests/aggregate/status")) > 0)
      assert(c.labels:save("IT", { LABEL_PLACEHOLDER = "scrivi" }))
      assert.equal("scrivi", assert(c.labels:get("IT")).data.LABEL_PLACEHOLDER)
      assert.same({ isopen = true }, assert(c.projects:is_open()))
      assert.is_true(#assert(c.projects:available_agents()) >= 2)
    end)
  end)

  describe("more areas", function()
    it("properties, segments and roles: create, read, update, list, delete", function()
      local c = client_for("owner")
      local prop = assert(c.properties:create{ label = "Plan", name = "plan", type = "text" })
      assert.equal("plan", assert(c.properties:get(prop._id)).name)
      assert.equal("Plan tier", assert(c.properties:update(prop._id, { label = "Plan tier" })).label)
      local found = false
      for p in c.properties:each() do if p._id == prop._id then found = true end end
      assert.is_true(found)
      assert(c.properties:delete(prop._id))
      local seg = assert(c.segments:create{ name = "Pro plans", match = "all",
        filters = { { field = "attributes.plan", operator = "=", value = "pro" } } })
      assert.equal("Pro plans", assert(c.segments:get(seg._id)).name)
      assert(c.segments:update(seg._id, { name = "Pro" }))
      assert.is_true(assert(c.segments:list()).count >= 1)
      local pro = assert(c.leads:list{ segment = seg._id, limit = 100 })
      for _, l in ipairs(helper.nonempty(pro.leads)) do assert.equal("pro", l.attributes.plan) end
      assert(c.segments:delete(seg._id))
      local role = assert(c.roles:create{ name = "auditor", permissions = { "request_read" } })
      assert.equal("auditor", assert(c.roles:get(role._id)).name)
      assert(c.roles:update(role._id, { permissions = { "request_read", "lead_read" } }))
      assert.is_true(#assert(c.roles:list()) >= 1)
      assert(c.roles:delete(role._id))
    end)

    it("chatbot webhooks, campaigns, emails and quotas", function()
      local c = client_for("owner")
      local bot = assert(c.bots:create("Flow bot", { type = "tilebot" }))
      local hook = assert(c.webhooks:create(bot._id, { block_id = "b1", async = false }))
      assert.is_string(hook.webhook_id)
      assert.equal(hook.webhook_id, assert(c.webhooks:get(bot._id)).webhook_id)
      assert.equal(bot._id, assert(c.webhooks:get_by_id(hook.webhook_id)).chatbot_id)
      local renewed = assert(c.webhooks:regenerate(bot._id))
      assert.are_not.equal(hook.webhook_id, renewed.webhook_id)
      assert(c.webhooks:run(renewed.webhook_id, { hello = "world" }))
      assert.is_false(assert(c.webhooks:update(bot._id, { enabled = false })).enabled)
      local v, _, err = c.webhooks:run(renewed.webhook_id, {})
      assert.is_nil(v)
      assert.equal(422, err.status)
      assert(c.webhooks:delete(bot._id))
      local lead = assert(c.leads:create{ fullname = "Campaign Target", email = "target@example.com" })
      local m = assert(c.campaigns:send{ text = "We have news for you", leadid = lead._id })
      assert.equal("We have news for you", m.text)
      assert.same({ queued = true }, assert(c.emails:send("someone@example.com", "Hello", { subject = "Hi" })))
      assert.is_true(assert(c.quotes:usage()).success)
      assert.is_true(assert(c.quotes:check("requests")).isAvailable)
    end)
  end)

  describe("webhooks", function()
    it("delivers resthooks with x-hook-secret", function()
      control("DELETE", "/sink/hooks")
      local c = client_for("admin")
      local sub = assert(c.subscriptions:create("lead.create", st.control_url .. "/sink/hooks"))
      local lead = assert(c.leads:create{ fullname = "Hooked Lead" })
      local d = wait_sink("hooks", 1)
      assert.equal(1, #d)
      assert.equal(sub.secret, d[1].headers["x-hook-secret"])
      assert.equal("tiledesk-webhooks", d[1].headers["user-agent"])
      assert.equal(lead._id, d[1].json.payload._id)
      assert.equal("lead.create", d[1].json.hook.event)
      assert.is_string(d[1].json.token)
    end)

    it("calls the bot webhook, and the bot answers and hands off with its token", function()
      control("DELETE", "/sink/bot")
      local c = client_for("admin")
      assert(c.bots:update(st.bot._id, { url = st.control_url .. "/sink/bot" }))
      local support
      for _, d in ipairs(assert(c.departments:list())) do if d.id_bot == st.bot._id then support = d end end
      assert.truthy(support)
      local guest = assert(tiledesk.signin_anonymously{ base_url = st.http_url, project_id = PID })
      local conv = assert(guest.requests:start{ text = "I need help", departmentid = support._id })
      local d = wait_sink("bot", 1)
      assert.equal(1, #d)
      local env = d[1].json
      assert.equal("tiledesk-bot", d[1].headers["user-agent"])
      assert.equal("I need help", env.payload.text)
      assert.equal(conv.request_id, env.payload.request.request_id)
      assert.equal(st.bot._id, env.hook._id)
      -- the bot acts with its own token
      local bot = tiledesk.new{ base_url = st.http_url, project_id = env.payload.id_project, token = env.token }
      local reply = assert(bot.messages:send_text(conv.request_id, "Hi! I am a bot."))
      assert.equal("bot_" .. st.bot._id, reply.sender)
      local handed = assert(bot.requests:handoff(conv.request_id))
      assert.is_false(handed.hasBot)
      -- a bot token cannot list conversations (the server fails with a 500: no project_user)
      local v, _, err = bot.requests:list()
      assert.is_nil(v)
      assert.equal(500, err.status)
      assert(c.bots:update(st.bot._id, { url = "" }))
    end)
  end)

  describe("example scripts", function()
    local function run(script, args)
      local errfile = os.tmpname()
      local cmd = string.format("cd '%s' && LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/?.so;;' "
        .. "lua5.4 examples/%s --state '%s' %s 2>'%s'; echo \"exit=$?\"", helper.root, script,
        (os.getenv("TD_SANDBOX_DIR") or (helper.root .. ".sandbox")) .. "/state.json", args, errfile)
      local p = io.popen(cmd)
      local out = p:read("*a")
      p:close()
      local code = tonumber(out:match("exit=(%d+)%s*$"))
      local err = helper.read_file(errfile)
      os.remove(errfile)
      return out:gsub("exit=%d+%s*$", ""), code, err
    end

    it("export_conversations writes one JSON line per conversation", function()
      local tmp = os.tmpname()
      local _, code, err = run("export_conversations.lua", "--from 01/01/2000 --to 31/12/2099 --out " .. tmp)
      assert.equal(0, code, err)
      local lines = 0
      for line in io.lines(tmp) do
        lines = lines + 1
        assert.matches("^support%-group%-", cjson.decode(line).request_id)
      end
      os.remove(tmp)
      local total = assert(client_for("owner").requests:list{ status = "all", limit = 1 }).count
      assert.equal(total, lines)
      assert.matches("exported " .. total .. " of " .. total, err)
    end)

    it("close_idle only lists by default", function()
      local before = assert(client_for("owner").requests:list{ limit = 1 }).count
      local out, code = run("close_idle.lua", "--days 30")
      assert.equal(0, code)
      assert.matches("dry run", out)
      assert.matches("would close", out)
      assert.equal(before, assert(client_for("owner").requests:list{ limit = 1 }).count)
    end)

    it("sync_leads updates what it can and reports each failing row", function()
      local csv = os.tmpname()
      local f = io.open(csv, "w")
      f:write("email,plan\nprospect1@example.org,gold\nnobody@example.invalid,x\nprospect2@example.org,\"silver, plus\"\n")
      f:close()
      local out, code, err = run("sync_leads.lua", "--csv " .. csv)
      os.remove(csv)
      assert.equal(1, code)
      assert.matches("2 leads updated, 1 rows failed", out)
      assert.matches("row 2 %(line 3%): no lead with email nobody@example.invalid", err)
      local lead = client_for("owner").leads:find_by_email("prospect2@example.org")
      assert.equal("silver, plus", lead.attributes.plan)
    end)
  end)
end)
