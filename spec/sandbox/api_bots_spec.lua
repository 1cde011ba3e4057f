-- The sandbox's bots (faq_kb, alias bots) and intents (faq, alias intents): the server's
-- routes/faq_kb.js and routes/faq.js.
local helper = require("spec.helper")

local st = helper.sandbox()

local api = helper.api

describe("sandbox bots", function()
  before_each(function()
    helper.reset()
  end)

  it("lists the seeded Sandbox Bot (external, empty url) without its secret, under both paths", function()
    for _, base in ipairs({ "/faq_kb", "/bots" }) do
      local status, list = api("agent", "GET", base)
      assert.equal(200, status)
      assert.equal(1, #list)
      assert.equal("Sandbox Bot", list[1].name)
      assert.equal("external", list[1].type)
      assert.equal("", list[1].url)
      assert.is_nil(list[1].secret)
    end
  end)

  it("creates (admin, internal by default), reads, updates and deletes", function()
    local status = api("agent", "POST", "/faq_kb", { name = "Nope" })
    assert.equal(403, status)
    local b
    status, b = api("admin", "POST", "/faq_kb", { name = "Helper", description = "d", url = "http://127.0.0.1:1/x" })
    assert.equal(200, status)
    assert.equal("internal", b.type)
    assert.is_nil(b.secret)
    helper.answers(422, { errors = { { location = "body", msg = "Invalid value", param = "name" } } },
      api("admin", "POST", "/faq_kb", { description = "no name" }))
    local got
    status, got = api("admin", "GET", "/faq_kb/" .. b._id)
    assert.equal(200, status)
    assert.equal("Helper", got.name)
    helper.answers(403, helper.ROLE, api("agent", "GET", "/faq_kb/" .. b._id))
    local _, u = api("admin", "PUT", "/faq_kb/" .. b._id, { name = "Helper 2", type = "external" })
    assert.equal("Helper 2", u.name)
    assert.equal("external", u.type)
    local _, a = api("admin", "PATCH", "/faq_kb/" .. b._id .. "/attributes", { color = "blue" })
    assert.equal("blue", a.attributes.color)
    local d
    status, d = api("admin", "DELETE", "/faq_kb/" .. b._id)
    assert.equal(200, status)
    assert.same({ success = true, message = "Chatbot with id " .. b._id .. " deleted successfully" }, d)
    helper.answers(404, helper.NOT_FOUND, api("admin", "GET", "/faq_kb/" .. b._id))
  end)

  it("hides identity bots unless all=true, and filters by text", function()
    api("admin", "POST", "/faq_kb", { name = "Me Myself", type = "identity" })
    local _, list = api("agent", "GET", "/faq_kb")
    assert.equal(1, #list)
    _, list = api("agent", "GET", "/faq_kb?all=true")
    assert.equal(2, #list)
    _, list = api("agent", "GET", "/faq_kb?all=true&text=myself")
    assert.equal(1, #list)
    assert.equal("identity", list[1].type)
  end)

  it("refuses a duplicate slug with error_code 12001", function()
    local _, a = api("admin", "POST", "/faq_kb", { name = "A", slug = "same" })
    local _, b = api("admin", "POST", "/faq_kb", { name = "B" })
    assert.equal("same", a.slug)
    local status, body = api("admin", "PUT", "/faq_kb/" .. b._id, { slug = "same" })
    assert.equal(500, status)
    assert.equal(12001, body.error_code)
  end)

  it("lets the bot's own token update the bot, but not another project's routes", function()
    local _, minted = api("admin", "GET", "/faq_kb/" .. st.bot._id .. "/jwt")
    local tok = "JWT " .. minted.jwt
    local status, b = api(tok, "PATCH", "/faq_kb/" .. st.bot._id .. "/attributes", { step = 2 })
    assert.equal(200, status)
    assert.equal(2, b.attributes.step)
    helper.answers(403, helper.NOT_MEMBER, api(tok, "POST", "/faq_kb", { name = "by a bot" }))
  end)
end)

describe("sandbox intents", function()
  before_each(function()
    helper.reset()
  end)

  it("lists the seeded intents of a bot (bare array, faq_kb populated) under both paths", function()
    for _, base in ipairs({ "/faq", "/intents" }) do
      local status, list = api("agent", "GET", base .. "?id_faq_kb=" .. st.bot._id)
      assert.equal(200, status)
      assert.equal(6, #list)
      assert.equal("start", list[1].intent_display_name)
      assert.equal(st.bot._id, list[1].id_faq_kb)
      assert.equal("Sandbox Bot", list[1].faq_kb[1].name)
      assert.is_nil(list[1].faq_kb[1].secret)
    end
    local _, page = api("agent", "GET", "/faq?id_faq_kb=" .. st.bot._id .. "&limit=2&page=1")
    assert.equal(2, #page)
    assert.equal("reset_password", page[1].intent_display_name)
    local _, one = api("agent", "GET", "/faq?id_faq_kb=" .. st.bot._id .. "&intent_display_name=shipping")
    assert.equal(1, #one)
  end)

  it("creates (404 unknown bot, 409 duplicate name), reads, updates and deletes", function()
    local status = api("admin", "POST", "/faq", { id_faq_kb = "ffffffffffffffffffffffff", question = "q" })
    assert.equal(404, status)
    local b
    status, b = api("admin", "POST", "/faq", { id_faq_kb = st.bot._id, intent_display_name = "shipping", question = "q" })
    assert.equal(409, status)
    assert.same({ success = false, msg = "Duplicate  intent_display_name." }, b)
    local f
    status, f = api("admin", "POST", "/faq", { id_faq_kb = st.bot._id, intent_display_name = "refunds",
      question = "Can I get a refund?", answer = "Yes, within 30 days." })
    assert.equal(200, status)
    assert.is_string(f.intent_id)
    local got
    status, got = api("admin", "GET", "/faq/" .. f._id)
    assert.equal(200, status)
    assert.equal("Yes, within 30 days.", got.answer)
    helper.answers(403, helper.ROLE, api("agent", "GET", "/faq/" .. f._id))
    local _, u = api("admin", "PUT", "/faq/" .. f._id, { id_faq_kb = st.bot._id, answer = "Within 14 days." })
    assert.equal("Within 14 days.", u.answer)
    assert.equal("refunds", u.intent_display_name)
    local _, a = api("admin", "PATCH", "/faq/" .. f._id .. "/attributes", { x = 1 })
    assert.equal(1, a.attributes.x)
    local d
    status, d = api("admin", "DELETE", "/faq/" .. f._id)
    assert.equal(200, status)
    assert.equal(f._id, d._id)
    helper.answers(404, helper.NOT_FOUND, api("admin", "GET", "/faq/" .. f._id))
    local _, list = api("agent", "GET", "/faq?id_faq_kb=" .. st.bot._id)
    assert.equal(6, #list)
  end)

  -- routes/faq.js PUT /:faqid: id_faq_kb is required in the body (422 {err}); the listed
  -- fields are written unless absent or null; intentId<intent_id> addresses an intent within
  -- that bot (200 null when there is none).
  it("updates only with id_faq_kb in the body, skips nulls, and addresses intents by intentId", function()
    local _, list = api("agent", "GET", "/faq?id_faq_kb=" .. st.bot._id)
    assert.is_true(#list > 0)
    local f = list[1]
    local status, b = api("admin", "PUT", "/faq/" .. f._id, { answer = "no bot named" })
    assert.equal(422, status)
    assert.same({ err = "Missing id_faq_kb in Request Body" }, b)
    local _, again = api("admin", "GET", "/faq/" .. f._id)
    assert.equal(f.answer, again.answer)
    local raw = '{"id_faq_kb":"' .. st.bot._id .. '","answer":null,"question":"Renamed?"}'
    local u
    status, u = api("admin", "PUT", "/faq/" .. f._id, raw)
    assert.equal(200, status)
    assert.equal("Renamed?", u.question)
    assert.equal(f.answer, u.answer)
    status, u = api("admin", "PUT", "/faq/intentId" .. f.intent_id, { id_faq_kb = st.bot._id, answer = "By intent" })
    assert.equal(200, status)
    assert.equal(f._id, u._id)
    assert.equal("By intent", u.answer)
    local _, h, text
    status, _, h, text = api("admin", "PUT", "/faq/intentIdno-such-intent", '{"id_faq_kb":"' .. st.bot._id .. '"}')
    assert.equal(200, status)
    assert.equal("null", text)
    assert.matches("application/json", h["content-type"], 1, true)
  end)
end)
