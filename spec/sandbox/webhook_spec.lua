-- Resthook subscriptions and bot webhooks of the sandbox (docs/server-api.md §6), delivered
-- to the control sink (/__sandbox/sink/{name}) of the same sandbox.
local helper = require("spec.helper")
local mime = require("mime")
local socket = require("socket")
local cjson = require("cjson.safe")

local st = helper.sandbox()
local PID = st.project_id

local api = helper.api

local function sink_url(name, query)
  return st.control_url .. "/sink/" .. name .. (query and ("?" .. query) or "")
end

local function deliveries(name)
  local status, b = helper.http_json("GET", sink_url(name))
  assert.equal(200, status)
  for _, d in ipairs(b.deliveries) do d.doc = cjson.decode(d.body) end
  return b.deliveries
end

-- Polls the sink until it holds at least n deliveries (bounded: 200 x 25 ms).
local function wait_for(name, n)
  local list
  for _ = 1, 200 do
    list = deliveries(name)
    if #list >= n then return list end
    socket.sleep(0.025)
  end
  return list
end

local function subscribe(event, name, query)
  local status, s, h = api("admin", "POST", "/subscriptions", { event = event, target = sink_url(name, query) })
  assert.equal(200, status)
  return s, h
end

local function bot_url(url)
  local status = api("admin", "PUT", "/faq_kb/" .. st.bot._id, { url = url })
  assert.equal(200, status)
end

local function department(name)
  local _, list = api(nil, "GET", "/departments")
  for _, d in ipairs(list) do if d.name == name then return d end end
end

describe("sandbox webhooks", function()
  before_each(function()
    helper.reset()
  end)

  describe("subscriptions", function()
    -- routes/project_user.js emitProjectUserDeleteActivity: project_user.delete carries the
    -- membership's toJSON with id_user populated with firstname, lastname and email only
    -- (services/subscriptionNotifier.js sends event.project_userPopulated); soft and hard only
    it("sends project_user.delete with the member's user reduced to its names and e-mail", function()
      subscribe("project_user.delete", "pud")
      local _, team = api("owner", "GET", "/project_users")
      local pu
      for _, x in ipairs(team) do
        if type(x.id_user) == "table" and x.id_user._id == st.users.agent._id then pu = x end
      end
      assert.equal(200, (api("owner", "DELETE", "/project_users/" .. pu._id)))
      assert.equal(200, (api("owner", "DELETE", "/project_users/" .. pu._id .. "?soft=true")))
      local list = wait_for("pud", 1)
      assert.equal(1, #list)
      local p = list[1].doc.payload
      assert.equal(pu._id, p._id)
      assert.equal(true, p.trashed)
      assert.equal("disabled", p.status)
      local u = st.users.agent
      assert.same({ _id = u._id, firstname = p.id_user.firstname, lastname = p.id_user.lastname, email = u.email },
        p.id_user)
      assert.is_string(p.id_user.firstname)
    end)

    it("returns the secret once, in the body and the x-hook-secret header", function()
      local s, h = subscribe("request.create", "a")
      assert.is_string(s.secret)
      assert.equal(s.secret, h["x-hook-secret"])
      assert.equal("request.create", s.event)
      local _, list = api("admin", "GET", "/subscriptions")
      assert.equal(1, #list)
      assert.is_nil(list[1].secret)
      local status, one = api("admin", "GET", "/subscriptions/" .. s._id)
      assert.equal(200, status)
      assert.is_nil(one.secret)
      assert.equal(s.target, one.target)
    end)

    it("validates event and target, returns the existing one on duplicates, and is admin-only", function()
      local status, b = api("admin", "POST", "/subscriptions", { event = "lead.create", target = "not a url" })
      assert.equal(422, status)
      assert.equal("target", b.errors[1].param)
      local s1 = subscribe("lead.create", "dup")
      local s2 = subscribe("lead.create", "dup")
      assert.equal(s1._id, s2._id)
      status, b = api("agent", "POST", "/subscriptions", { event = "lead.create", target = sink_url("x") })
      assert.equal(403, status)
      assert.equal("you dont have the required role.", b.msg)
    end)

    it("updates and deletes, and a deleted subscription gets nothing", function()
      local s = subscribe("lead.create", "old")
      local _, u = api("admin", "PUT", "/subscriptions/" .. s._id, { target = sink_url("new") })
      assert.equal(sink_url("new"), u.target)
      local status, d = api("admin", "DELETE", "/subscriptions/" .. s._id)
      assert.equal(200, status)
      assert.equal(s._id, d._id)
      helper.answers(404, helper.NOT_FOUND, api("admin", "GET", "/subscriptions/" .. s._id))
      subscribe("lead.create", "after")
      api("owner", "POST", "/leads", { fullname = "Z" })
      assert.equal(1, #wait_for("after", 1))
      assert.equal(0, #deliveries("new"))
      assert.equal(0, #deliveries("old"))
    end)
  end)

  describe("resthook delivery", function()
    it("POSTs {timestamp, payload, hook, token} with the secret header and the server's user agent", function()
      local s = subscribe("request.create", "rc")
      local _, r = api("owner", "POST", "/requests", { first_text = "webhook me" })
      local list = wait_for("rc", 1)
      assert.equal(1, #list)
      local d = list[1]
      assert.equal(s.secret, d.headers["x-hook-secret"])
      assert.equal("tiledesk-webhooks", d.headers["user-agent"])
      assert.matches("^application/json", d.headers["content-type"])
      assert.is_number(d.doc.timestamp)
      assert.equal(r.request_id, d.doc.payload.request_id)
      assert.equal(s._id, d.doc.hook._id)
      assert.equal("request.create", d.doc.hook.event)
      assert.is_nil(d.doc.hook.secret)
      assert.matches("^[%w_-]+%.[%w_-]+%.[%w_-]+$", d.doc.token)
      -- the token acts as the subscription on hasRoleOrTypes(..., ['subscription']) routes
      local status, got = api("JWT " .. d.doc.token, "GET", "/requests/" .. r.request_id)
      assert.equal(200, status)
      assert.equal(r._id, got._id)
      helper.answers(403, helper.NOT_MEMBER, api("JWT " .. d.doc.token, "GET", "/subscriptions"))
    end)

    it("reaches targets named localhost (no DNS resolver needed)", function()
      local port = st.http_url:match(":(%d+)$")
      local status = api("admin", "POST", "/subscriptions",
        { event = "lead.create", target = "http://localhost:" .. port .. "/__sandbox/sink/byname" })
      assert.equal(200, status)
      api("owner", "POST", "/leads", { fullname = "By Name" })
      local list = wait_for("byname", 1)
      assert.equal(1, #list)
      assert.equal("localhost:" .. port, list[1].headers.host)
    end)

    it("delivers to https targets (TLS without certificate verification)", function()
      local tls_port = st.https_url:match(":(%d+)$")
      local target = "https://localhost:" .. tls_port .. "/__sandbox/sink/secure?via=tls"
      local status, s = api("admin", "POST", "/subscriptions", { event = "lead.create", target = target })
      assert.equal(200, status)
      api("owner", "POST", "/leads", { fullname = "Over TLS" })
      local list = wait_for("secure", 1)
      assert.equal(1, #list)
      assert.equal(s.secret, list[1].headers["x-hook-secret"])
      assert.equal("localhost:" .. tls_port, list[1].headers.host)
      assert.equal("Over TLS", list[1].doc.payload.fullname)
      -- an https target by IP literal (no SNI) too
      status = api("admin", "POST", "/subscriptions",
        { event = "lead.create", target = "https://127.0.0.1:" .. tls_port .. "/__sandbox/sink/secure-ip" })
      assert.equal(200, status)
      api("owner", "POST", "/leads", { fullname = "Over TLS by IP" })
      assert.equal(1, #wait_for("secure-ip", 1))
    end)

    it("keeps the subscription history and the sinks bounded", function()
      -- 25 subscriptions to a closed port and one to a sink, 41 leads: 1066 history entries made, 1000 kept
      for i = 1, 25 do
        assert.equal(200, (api("admin", "POST", "/subscriptions",
          { event = "lead.create", target = "http://127.0.0.1:9/closed/" .. i })))
      end
      subscribe("lead.create", "live")
      for i = 1, 41 do api("owner", "POST", "/leads", { fullname = "History " .. i }) end
      -- a burst of deliveries to dead targets loses none of those to a live one
      assert.equal(41, #wait_for("live", 41))
      local total, names = 0, {}
      for page = 0, 100 do
        local _, list = api("admin", "GET", "/subscriptions/history?page=" .. page)
        if #list == 0 then break end
        total = total + #list
        for _, h in ipairs(list) do names[cjson.decode(h.body).payload.fullname] = true end
      end
      assert.equal(1000, total)
      -- the oldest went: the first lead's 26 entries are among the 66 dropped
      assert.is_nil(names["History 1"])
      assert.is_true(names["History 41"])
      -- a sink keeps its newest 1000 deliveries, and at most 64 KiB of each body
      local big = string.rep("z", 70000)
      assert.equal(200, (helper.http("POST", sink_url("big"), big, { ["content-type"] = "text/plain" })))
      local d = deliveries("big")[1]
      assert.equal(65536, #d.body)
      assert.equal(70000, d.body_length)
      assert.is_true(d.body_truncated)
      for i = 1, 1001 do
        helper.http("POST", sink_url("many"), tostring(i), { ["content-type"] = "text/plain" })
      end
      local many = deliveries("many")
      assert.equal(1000, #many)
      assert.equal("2", many[1].body)
      assert.equal("1001", many[1000].body)
    end)

    it("keeps project-less events (user.signup) away from project subscriptions", function()
      subscribe("user.signup", "signup")
      subscribe("lead.create", "sync")
      local status = helper.http_json("POST", st.http_url .. "/auth/signup", { email = "new.person@example.com",
        password = "a-long-password", firstname = "New", lastname = "Person" })
      assert.equal(200, status)
      api("owner", "POST", "/leads", { fullname = "Sync" })
      assert.equal(1, #wait_for("sync", 1))
      assert.equal(0, #deliveries("signup"))
    end)

    it("matches the exact event string only", function()
      subscribe("request", "prefix")
      subscribe("Request.Create", "case")
      subscribe("request.create", "exact")
      api("owner", "POST", "/requests", { first_text = "exact only" })
      assert.equal(1, #wait_for("exact", 1))
      assert.equal(0, #deliveries("prefix"))
      assert.equal(0, #deliveries("case"))
    end)

    it("sends message.create with the populated request, and request.close with the messages", function()
      subscribe("message.create", "mc")
      subscribe("request.close", "close")
      local rid = "support-group-" .. PID .. "-" .. string.rep("12", 16)
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "first" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "second" })
      local mc = wait_for("mc", 2)
      assert.equal(2, #mc)
      assert.equal("first", mc[1].doc.payload.text)
      assert.equal(rid, mc[1].doc.payload.request.request_id)
      assert.is_table(mc[1].doc.payload.request.lead)
      api("owner", "PUT", "/requests/" .. rid .. "/close")
      local close = wait_for("close", 1)
      assert.equal(1000, close[1].doc.payload.status)
      assert.equal(2, #close[1].doc.payload.messages)
      assert.equal("first", close[1].doc.payload.messages[1].text)
    end)

    it("emits request.update, lead.create, department, group, faqbot, faq and event events", function()
      local names = { "request.update", "lead.create", "department.create", "group.create", "faqbot.create",
        "faq.create", "event.emit", "event.emit.typing.start" }
      for i, e in ipairs(names) do subscribe(e, "e" .. i) end
      local _, r = api("owner", "POST", "/requests", { first_text = "to update" })
      api("owner", "PATCH", "/requests/" .. r.request_id, { priority = "high" })
      api("owner", "POST", "/leads", { fullname = "Lead Person" })
      api("owner", "POST", "/departments", { name = "New Dept" })
      api("owner", "POST", "/groups", { name = "New Group" })
      local _, bot = api("owner", "POST", "/faq_kb", { name = "Hooked Bot" })
      api("owner", "POST", "/faq", { id_faq_kb = bot._id, question = "q", answer = "a" })
      api("owner", "POST", "/events", { name = "typing.start", attributes = { x = 1 } })
      -- two leads: the conversation's requester, then the explicit one
      local want = { 1, 2, 1, 1, 1, 1, 1, 1 }
      for i, e in ipairs(helper.nonempty(names)) do
        local list = wait_for("e" .. i, want[i])
        assert.equal(want[i], #list, e)
        assert.equal(e, list[1].doc.hook.event)
      end
      assert.equal("high", deliveries("e1")[1].doc.payload.priority)
      assert.equal("Lead Person", deliveries("e2")[2].doc.payload.fullname)
      assert.equal("Hooked Bot", deliveries("e5")[1].doc.payload.name)
      -- services/faqService.js create emits the saved document; subscriptionNotifier sends it whole
      assert.equal(bot.secret, deliveries("e5")[1].doc.payload.secret)
      assert.equal("typing.start", deliveries("e8")[1].doc.payload.name)
    end)

    -- faqbot.create (services/subscriptionNotifier.js sends the payload whole): faqService.create
    -- emits the saved bot, secret included; routes/faq_kb.js importjson?create=true emits it
    -- a second time (its own botEvent.emit with the saved bot)
    it("sends faqbot.create with the saved bot and its secret, twice for importjson?create", function()
      subscribe("faqbot.create", "fc")
      local _, a = api("admin", "POST", "/faq_kb", { name = "Posted" })
      local list = wait_for("fc", 1)
      assert.equal(1, #list)
      assert.equal("Posted", list[1].doc.payload.name)
      assert.equal(a.secret, list[1].doc.payload.secret)
      local _, b = api("admin", "POST", "/faq_kb/importjson/null?create=true", { name = "Imported" })
      wait_for("fc", 3)
      socket.sleep(0.1)
      list = deliveries("fc")
      assert.equal(3, #list)
      for i = 2, 3 do
        assert.equal(b._id, list[i].doc.payload._id)
        assert.equal(a.secret, list[i].doc.payload.secret)
      end
    end)

    -- routes/faq_kb.js POST /fork/:id: POST /<projectid>/faq_kb (faqService.create: faqbot.create
    -- with the secret), then importjson/<new>?intentsOnly=true (faqbot.update of the updated bot,
    -- without the secret; then faq.create for each intent), in the landing project
    it("sends a fork's faqbot.create, faqbot.update and one faq.create per intent", function()
      subscribe("faqbot.create", "f1")
      subscribe("faqbot.update", "f2")
      subscribe("faq.create", "f3")
      local _, fork = api("admin", "POST", "/faq_kb/fork/" .. st.bot._id .. "?projectid=" .. PID .. "&public=false")
      wait_for("f1", 1)
      wait_for("f2", 1)
      wait_for("f3", 6)
      socket.sleep(0.1)
      local created, updated, intents = deliveries("f1"), deliveries("f2"), deliveries("f3")
      assert.equal(1, #created)
      assert.equal(1, #updated)
      assert.equal(6, #intents)
      assert.equal(fork.bot_id, created[1].doc.payload._id)
      assert.matches("^%x+%-%x+%-4", created[1].doc.payload.secret)
      assert.equal(fork.bot_id, updated[1].doc.payload._id)
      assert.is_nil(updated[1].doc.payload.secret)
      for _, d in ipairs(intents) do
        assert.equal(fork.bot_id, d.doc.payload.id_faq_kb)
        assert.equal(PID, d.doc.payload.id_project)
        -- emitted in the server's order (timestamps in ms: ties allowed)
        assert.is_true(created[1].doc.timestamp <= updated[1].doc.timestamp)
        assert.is_true(updated[1].doc.timestamp <= d.doc.timestamp)
      end
    end)

    it("retries twice on 5xx, never on 4xx, and logs the attempts in the history", function()
      subscribe("lead.create", "fail5", "status=503")
      subscribe("lead.create", "fail4", "status=404")
      api("owner", "POST", "/leads", { fullname = "Retry Me" })
      assert.equal(3, #wait_for("fail5", 3))
      -- the 4xx target was delivered to once, long before the third 5xx attempt
      assert.equal(1, #deliveries("fail4"))
      local hist
      for _ = 1, 100 do
        _, hist = api("admin", "GET", "/subscriptions/history")
        local done = 0
        for _, h in ipairs(hist) do if h.attempts then done = done + 1 end end
        if done == 2 then break end
        socket.sleep(0.025)
      end
      local by = {}
      for _, h in ipairs(hist) do by[h.target:match("status=(%d+)")] = h end
      assert.equal(3, by["503"].attempts)
      assert.equal(503, by["503"].response.status)
      assert.equal(1, by["404"].attempts)
      assert.equal("lead.create", by["404"].event)
      local logged = cjson.decode(by["404"].body)
      assert.equal("Retry Me", logged.payload.fullname)
      assert.equal("[redacted]", logged.token)
    end)
  end)

  describe("bot webhook", function()
    local function start_bot_conversation(token_or_who, text)
      local support = department("Support (bot first)")
      local rid = "support-group-" .. PID .. "-" .. string.rep("b0", 16)
      local status, m = api(token_or_who, "POST", "/requests/" .. rid .. "/messages",
        { text = text or "I need help", departmentid = support._id })
      assert.equal(200, status)
      return rid, m
    end

    it("notifies the department's bot of the first message, and the bot answers with its token", function()
      bot_url(sink_url("bot"))
      local _, guest = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously", { id_project = PID })
      local rid, m = start_bot_conversation(guest.token)
      assert.same({ "bot_" .. st.bot._id }, m.request.participants)
      local list = wait_for("bot", 1)
      assert.equal(1, #list)
      local d = list[1]
      assert.equal("tiledesk-bot", d.headers["user-agent"])
      assert.is_nil(d.headers["x-hook-secret"])
      assert.equal("I need help", d.doc.payload.text)
      assert.equal(rid, d.doc.payload.recipient)
      assert.equal(rid, d.doc.payload.request.request_id)
      assert.is_nil(d.doc.payload.request.snapshot)
      assert.equal(st.bot._id, d.doc.payload.request.department.bot._id)
      assert.is_nil(d.doc.payload.request.department.bot.secret)
      assert.equal(st.bot._id, d.doc.hook._id)
      assert.is_nil(d.doc.hook.secret)
      assert.is_nil(d.doc.token:match("^JWT"))

      local bot_auth = "JWT " .. d.doc.token
      local status, reply = api(bot_auth, "POST", "/requests/" .. rid .. "/messages", { text = "Hello from the bot" })
      assert.equal(200, status)
      assert.equal("bot_" .. st.bot._id, reply.sender)
      assert.equal("Sandbox Bot", reply.senderFullname)
      -- a bot token reads and patches its conversation but cannot list (the server's 500)
      helper.answers(500, { err = "error" }, api(bot_auth, "GET", "/requests"))
      local status2, seen = api(bot_auth, "GET", "/requests/" .. rid)
      assert.equal(200, status2)
      assert.equal(rid, seen.request_id)
      local _, patched = api(bot_auth, "PATCH", "/requests/" .. rid .. "/attributes", { step = "greeted" })
      assert.equal("greeted", patched.attributes.step)
      -- the server never answers this one (its async notes handler reads the missing project_user's role);
      -- the sandbox refuses as has-role.js refuses a bot on a route that does not admit bots
      helper.answers(403, helper.NOT_MEMBER, api(bot_auth, "POST", "/requests/" .. rid .. "/notes", { text = "bots cannot" }))

      local _, handed = api(bot_auth, "PUT", "/requests/" .. rid .. "/agent")
      assert.is_false(handed.hasBot)
      -- after the handoff the bot is no participant: a new message reaches nobody; the
      -- later resthook proves the message was processed
      subscribe("message.create", "after")
      api(guest.token, "POST", "/requests/" .. rid .. "/messages", { text = "are you there?" })
      wait_for("after", 1)
      assert.equal(1, #deliveries("bot"))
    end)

    it("skips the bot's own messages, \\agent and \\close texts, and system messages except \\start", function()
      bot_url(sink_url("rules"))
      local rid = start_bot_conversation("owner", "first")
      assert.equal(1, #wait_for("rules", 1))
      local _, minted = api("admin", "GET", "/faq_kb/" .. st.bot._id .. "/jwt")
      local bot_auth = "JWT " .. minted.jwt
      api(bot_auth, "POST", "/requests/" .. rid .. "/messages", { text = "bot talking" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "please \\agent" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "bye \\close" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "hidden", sender = "system" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "\\start", sender = "system" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "last one" })
      wait_for("rules", 3)
      socket.sleep(0.1)
      local list = deliveries("rules")
      local texts = {}
      for _, d in ipairs(list) do texts[#texts + 1] = d.doc.payload.text end
      assert.same({ "first", "\\start", "last one" }, texts)
    end)

    it("delivers to an https bot url", function()
      local tls_port = st.https_url:match(":(%d+)$")
      bot_url("https://localhost:" .. tls_port .. "/__sandbox/sink/bot-tls")
      start_bot_conversation("owner", "over tls")
      local list = wait_for("bot-tls", 1)
      assert.equal(1, #list)
      assert.equal("over tls", list[1].doc.payload.text)
      assert.equal("tiledesk-bot", list[1].headers["user-agent"])
    end)

    it("sends the hidden \\start when a conversation is routed to the bot's department without a message", function()
      bot_url(sink_url("started"))
      subscribe("message.create", "mc")
      local support = department("Support (bot first)")
      -- created in the default department: no bot, nothing sent
      local _, r = api("owner", "POST", "/requests", { first_text = "routed later" })
      assert.are_not.equal(support._id, r.department._id or r.department)
      -- routed to the bot's department: the bot is called with \start from system
      local status, routed = api("owner", "PUT", "/requests/" .. r.request_id .. "/departments",
        { departmentid = support._id })
      assert.equal(200, status)
      assert.same({ "bot_" .. st.bot._id }, routed.participants)
      local list = wait_for("started", 1)
      assert.equal(1, #list)
      local p = list[1].doc.payload
      assert.equal("\\start", p.text)
      assert.equal("system", p.sender)
      assert.equal("info", p.attributes.subtype)
      assert.equal(r.request_id, p.recipient)
      assert.equal(r.request_id, p.request.request_id)
      assert.equal(st.bot._id, list[1].doc.hook._id)
      -- it is a message of the conversation (the resthook saw it too)
      local mc = wait_for("mc", 1)
      assert.equal("\\start", mc[#mc].doc.payload.text)
      -- created straight in the bot's department: \start too
      local _, r2 = api("owner", "POST", "/requests", { first_text = "bot from the start", departmentid = support._id })
      list = wait_for("started", 2)
      assert.equal(2, #list)
      assert.equal("\\start", list[2].doc.payload.text)
      assert.equal(r2.request_id, list[2].doc.payload.request.request_id)
      -- a first message creating the conversation reaches the bot itself, without a \start
      start_bot_conversation("owner", "a real first message")
      wait_for("started", 3)
      subscribe("lead.create", "flush")
      api("owner", "POST", "/leads", { fullname = "Flush" })
      wait_for("flush", 1)
      list = deliveries("started")
      assert.equal(3, #list)
      assert.equal("a real first message", list[3].doc.payload.text)
    end)

    it("calls nobody for an internal bot or an empty url", function()
      bot_url("")
      local _, internal = api("admin", "POST", "/faq_kb", { name = "Inside", type = "internal", url = sink_url("inside") })
      subscribe("message.create", "mc")
      local rid = start_bot_conversation("owner", "no url")
      api("owner", "PUT", "/requests/" .. rid .. "/participants", { "bot_" .. st.bot._id, "bot_" .. internal._id })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "anyone?" })
      assert.equal(2, #wait_for("mc", 2))
      local _, b = api("admin", "GET", "/faq_kb/" .. st.bot._id)
      assert.equal("", b.url)
      assert.equal(0, #deliveries("bot"))
      assert.equal(0, #deliveries("inside"))
    end)

    it("notifies a bot addressed directly as the recipient of a root message", function()
      bot_url(sink_url("direct"))
      local status = api("agent", "POST", "/messages",
        { recipient = "bot_" .. st.bot._id, recipientFullname = "Sandbox Bot", text = "direct hello" })
      assert.equal(200, status)
      local list = wait_for("direct", 1)
      assert.equal(1, #list)
      assert.equal("bot_" .. st.bot._id, list[1].doc.payload.recipient)
      assert.equal("direct hello", list[1].doc.payload.text)
      assert.equal(st.users.agent._id, list[1].doc.payload.sender)
    end)

    it("mints a sub=bot token with GET /faq_kb/{id}/jwt (admin)", function()
      local status, b = api("admin", "GET", "/faq_kb/" .. st.bot._id .. "/jwt")
      assert.equal(200, status)
      assert.is_nil(b.jwt:match("^JWT"))
      local part = b.jwt:match("^[^.]+%.([^.]+)"):gsub("-", "+"):gsub("_", "/")
      part = part .. string.rep("=", (4 - #part % 4) % 4)
      local payload = cjson.decode((mime.unb64(part)))
      assert.equal("bot", payload.sub)
      assert.equal("https://tiledesk.com/bots/" .. st.bot._id, payload.aud)
      assert.is_nil(payload.exp)
      helper.answers(403, helper.ROLE, api("agent", "GET", "/faq_kb/" .. st.bot._id .. "/jwt"))
      assert.equal(200, (api("JWT " .. b.jwt, "GET", "/departments/allstatus")))
    end)
  end)
end)
