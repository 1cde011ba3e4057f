-- The sandbox's messages (the server's routes/message.js): the first message creating the
-- conversation and its lead, validation, bot and guest senders, multi, CSV, root /messages.
local helper = require("spec.helper")

local st = helper.sandbox()
local PID = st.project_id
local _ -- the discarded first result of api()

local auth, api = helper.auth, helper.api

local n = 0
local function new_rid()
  n = n + 1
  return string.format("support-group-%s-%032x", PID, 0xabc000 + n)
end

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

local js_date = helper.js_date

describe("sandbox messages", function()
  before_each(function()
    helper.reset()
  end)

  it("creates the conversation and its lead on the first message, with the first-message fields", function()
    local _, depts = api(nil, "GET", "/departments")
    local billing
    for _, d in ipairs(depts) do if d.name == "Billing" then billing = d end end
    local rid = new_rid()
    helper.answers(404, helper.NOT_FOUND, api("owner", "GET", "/requests/" .. rid))
    local status, m = api("agent", "POST", "/requests/" .. rid .. "/messages", { text = "Hello!", departmentid = billing._id,
      subject = "Invoice", sourcePage = "https://shop.example.com/cart", priority = "high", email = "buyer@example.com",
      attributes = { cart = 3 } })
    assert.equal(200, status)
    assert.equal("Hello!", m.text)
    assert.equal(rid, m.recipient)
    assert.equal(st.users.agent._id, m.sender)
    assert.equal("Alice Agent", m.senderFullname)
    assert.equal("text", m.type)
    assert.equal(0, m.status)
    assert.matches(ISO, m.createdAt)
    local r = m.request
    assert.equal(rid, r.request_id)
    assert.equal("Hello!", r.first_text)
    assert.equal("Invoice", r.subject)
    assert.equal("high", r.priority)
    assert.equal("https://shop.example.com/cart", r.sourcePage)
    assert.equal(billing._id, r.department._id)
    assert.equal(3, r.attributes.cart)
    assert.equal("buyer@example.com", r.lead.email)
    assert.equal(st.users.agent._id, r.lead.lead_id)
    local _, got = api("owner", "GET", "/requests/" .. rid)
    assert.equal(r._id, got._id)
    -- the second message does not create anything and keeps the first-message fields
    _, m = api("agent", "POST", "/requests/" .. rid .. "/messages", { text = "again", subject = "ignored" })
    assert.equal("Invoice", m.request.subject)
    local _, list = api("owner", "GET", "/requests/" .. rid .. "/messages")
    assert.equal(2, #list)
    assert.equal("Hello!", list[1].text)
    assert.equal("again", list[2].text)
    local _, leads = api("owner", "GET", "/leads?email=buyer@example.com")
    assert.equal(1, leads.count)
  end)

  it("requires text for text messages with the server's special 422 body", function()
    local rid = new_rid()
    local status, b = api("owner", "POST", "/requests/" .. rid .. "/messages", { type = "text" })
    assert.equal(422, status)
    assert.same({ errors = { "text field is required" } }, b)
    helper.answers(404, helper.NOT_FOUND, api("owner", "GET", "/requests/" .. rid))
    status, b = api("owner", "POST", "/requests/" .. rid .. "/messages",
      { type = "image", metadata = { src = "https://x/y.png", width = 10, height = 10 } })
    assert.equal(200, status)
    assert.equal("image", b.type)
    assert.equal(10, b.metadata.width)
  end)

  it("refuses a first message whose explicit sender is not an active member", function()
    local status, b = api("owner", "POST", "/requests/" .. new_rid() .. "/messages", { text = "x", sender = "stranger" })
    -- routes/message.js: the server's words, two spaces before the colon
    assert.same({ 403, { success = false, msg = "Unauthorized. Project_user not found with user id  : stranger" } },
      { status, b })
    -- an existing member (here the agent) may be named as the sender
    status, b = api("owner", "POST", "/requests/" .. new_rid() .. "/messages",
      { text = "x", sender = st.users.agent._id })
    assert.equal(200, status)
    assert.equal(st.users.agent._id, b.sender)
  end)

  it("lets a guest open a conversation and read its messages, but not somebody's list", function()
    local _, g = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously",
      { id_project = PID, firstname = "Gina" })
    local rid = new_rid()
    local status, m = api(g.token, "POST", "/requests/" .. rid .. "/messages", { text = "hi" })
    assert.equal(200, status)
    assert.equal(g.user._id, m.sender)
    assert.equal(g.user._id, m.request.lead.lead_id)
    local list
    status, list = api(g.token, "GET", "/requests/" .. rid .. "/messages")
    assert.equal(200, status)
    assert.equal(1, #list)
    helper.answers(403, helper.ROLE, api(g.token, "GET", "/messages"))
  end)

  it("gets one message and 404s an unknown one", function()
    local rid = new_rid()
    local _, m = api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "one" })
    local status, got = api("agent", "GET", "/requests/" .. rid .. "/messages/" .. m._id)
    assert.equal(200, status)
    assert.equal("one", got.text)
    assert.is_nil(got.request)
    status, got = api("agent", "GET", "/requests/" .. rid .. "/messages/ffffffffffffffffffffffff")
    assert.equal(404, status)
    assert.same({ success = false, msg = "Object not found." }, got)
  end)

  it("sends several messages with /multi, only into an existing conversation", function()
    local rid = new_rid()
    helper.answers(404, { success = false, msg = "Request doesn't exist.", err = require("cjson").null },
      api("owner", "POST", "/requests/" .. rid .. "/messages/multi", { { text = "a" } }))
    api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "start" })
    local status, list = api("owner", "POST", "/requests/" .. rid .. "/messages/multi", { { text = "a" }, { text = "b" } })
    assert.equal(200, status)
    assert.equal(2, #list)
    assert.equal("b", list[2].text)
    local _, all = api("owner", "GET", "/requests/" .. rid .. "/messages")
    assert.equal(3, #all)
  end)

  -- routes/message.js GET /csv: res.csv(messages, true) (csv-express, separator ';') over
  -- mongoose 5 documents (no lean()): the header is a document's own enumerable properties and
  -- every message gives the same line, whatever it says; CRLF line ends
  it("exports a conversation's messages as CSV: one line of the mongoose document per message", function()
    local rid = new_rid()
    api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "semi;colon" })
    api("owner", "POST", "/requests/" .. rid .. "/messages", { text = 'say "hi"' })
    local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/requests/" .. rid .. "/messages/csv", nil,
      auth("owner"))
    assert.equal(200, status)
    assert.equal("text/csv; charset=utf-8", h["content-type"])
    local line = '"[object Object]";"false";;"[object Object]";;"[object Object]";"true"\r\n'
    assert.equal("$__;isNew;errors;$locals;$op;_doc;$init\r\n" .. line .. line, text)
    -- no messages: csv-express writes the empty header line alone
    _, _, text = helper.http("GET", st.http_url .. "/" .. PID .. "/requests/" .. new_rid() .. "/messages/csv", nil,
      auth("owner"))
    assert.equal("\r\n", text)
  end)

  it("answers a bot token with sender bot_<id> and the bot's name", function()
    local rid = new_rid()
    api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "hello bot" })
    local _, minted = api("admin", "GET", "/faq_kb/" .. st.bot._id .. "/jwt")
    local status, m = api("JWT " .. minted.jwt, "POST", "/requests/" .. rid .. "/messages", { text = "beep" })
    assert.equal(200, status)
    assert.equal("bot_" .. st.bot._id, m.sender)
    assert.equal(st.bot.name, m.senderFullname)
  end)

  describe("root /messages", function()
    -- routes/messagesRoot.js GET /csv: the stored documents (less channel, attributes and
    -- metadata) through fast-csv's format({ headers: true }): the first document's fields as
    -- the header, `,` between fields, quotes only where a field holds a quote, a comma, a `|`
    -- or a line break, \n between rows and none at the end; Content-Type text/csv as writeHead
    -- sets it
    it("exports the project's messages as fast-csv writes the stored documents", function()
      local rid = new_rid()
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = "semi;colon" })
      api("owner", "POST", "/requests/" .. rid .. "/messages", { text = 'say "hi", ok|done' })
      local _, msgs = api("owner", "GET", "/requests/" .. rid .. "/messages")
      local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/messages/csv", nil, auth("owner"))
      assert.equal(200, status)
      assert.equal("text/csv", h["content-type"])
      assert.equal("attachment; filename=export.csv", h["content-disposition"])
      assert.is_nil(text:find("\r", 1, true))
      assert.not_equal("\n", text:sub(-1))
      local lines = {}
      for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
      -- messageService.save's order (_id first, as MongoDB stores it); the seeded first message
      -- has no recipientFullname
      assert.equal("_id,senderFullname,type,channel_type,status,sender,recipient,text,id_project,createdBy,language,"
        .. "createdAt,updatedAt,__v", lines[1])
      local function row(m, text_field)
        local d = js_date(m.createdAt)
        return table.concat({ m._id, "Olivia Owner", "text", "group", "0", m.sender, rid, text_field, PID, m.createdBy,
          "en", d, js_date(m.updatedAt), "0" }, ",")
      end
      assert.equal(row(msgs[1], "semi;colon"), lines[#lines - 1])
      assert.equal(row(msgs[2], '"say ""hi"", ok|done"'), lines[#lines])
    end)

    it("sends a direct message with the validator's 422 when recipient fields are missing", function()
      local status, b = api("agent", "POST", "/messages", { text = "hi" })
      assert.equal(422, status)
      local params = {}
      for _, e in ipairs(b.errors) do params[e.param] = e.msg end
      assert.equal("Invalid value", params.recipient)
      assert.equal("Invalid value", params.recipientFullname)
      status, b = api("agent", "POST", "/messages", { recipient = st.users.admin._id, recipientFullname = "Adam", text = "psst" })
      assert.equal(200, status)
      assert.equal("direct", b.channel_type)
      assert.equal(st.users.agent._id, b.sender)
    end)

    it("lists for the owner only, newest first, 10 by default and limit > 50 reset to 10", function()
      helper.answers(403, helper.ROLE, api("admin", "GET", "/messages"))
      local status, list = api("owner", "GET", "/messages")
      assert.equal(200, status)
      assert.equal(10, #list)
      for i = 2, #list do assert.is_true(list[i - 1].createdAt >= list[i].createdAt) end
      _, list = api("owner", "GET", "/messages?limit=51")
      assert.equal(10, #list)
      _, list = api("owner", "GET", "/messages?limit=50")
      assert.equal(50, #list)
      local _, p1 = api("owner", "GET", "/messages?limit=5&page=1")
      local _, p0 = api("owner", "GET", "/messages?limit=10")
      assert.equal(p0[6]._id, p1[1]._id)
    end)
  end)
end)
