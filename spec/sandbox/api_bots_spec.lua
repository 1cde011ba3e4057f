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
    -- routes/faq_kb.js POST /: the saved document, secret included (select: false is for queries)
    assert.is_string(b.secret)
    -- faqService.create rejects the failed save (name required): 500 {succes, error}
    helper.answers(500, { succes = false, error = "Error saving object." },
      api("admin", "POST", "/faq_kb", { description = "no name" }))
    local got
    status, got = api("admin", "GET", "/faq_kb/" .. b._id)
    assert.equal(200, status)
    assert.equal("Helper", got.name)
    -- models/faq_kb.js sets no toJSON virtuals: no `id` beside `_id`
    assert.equal(b._id, got._id)
    assert.is_nil(got.id)
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
    helper.answers(404, { success = false, msg = "Chatbot not found with id " .. b._id .. " for project " .. st.project_id },
      api("admin", "GET", "/faq_kb/" .. b._id))
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

-- Chatbots as services/faqService.js create makes them (POST /faq_kb, importjson?create=true,
-- the fork's own POST), with models/faq_kb.js's defaults.
describe("sandbox bots made by faqService.create", function()
  before_each(function()
    helper.reset()
  end)

  local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

  -- models/faq_kb.js: secret's default is uuidv4() evaluated once, when the model loads, so
  -- every bot of one server process has the same; routes/faq_kb.js GET /:id, GET / (find,
  -- select: false) and PUT /:id (findByIdAndUpdate) answer without it
  it("answers the created bot with the process's one uuid secret, which reads never show", function()
    local _, a = api("admin", "POST", "/faq_kb", { name = "First" })
    local _, b = api("admin", "POST", "/faq_kb", { name = "Second" })
    assert.matches(UUID, a.secret)
    assert.equal(a.secret, b.secret)
    helper.reset()
    local _, c = api("admin", "POST", "/faq_kb", { name = "After reset" })
    assert.equal(a.secret, c.secret)
    local _, got = api("admin", "GET", "/faq_kb/" .. c._id)
    assert.is_nil(got.secret)
    local _, put = api("admin", "PUT", "/faq_kb/" .. c._id, { description = "d" })
    assert.is_nil(put.secret)
    local _, list = api("admin", "GET", "/faq_kb")
    for _, x in ipairs(list) do assert.is_nil(x.secret) end
    -- GET /:id/jwt signs with the secret (findOne with +secret): the token works for the bot
    local _, minted = api("admin", "GET", "/faq_kb/" .. c._id .. "/jwt")
    assert.equal(200, (api("JWT " .. minted.jwt, "GET", "/faq_kb/" .. c._id)))
  end)

  -- faqService.create: only its fields from the body (tags, trained, template... are not), public
  -- and certified false, createdBy/updatedBy the caller; the model's defaults (webhook_enabled
  -- false, type internal, subtype chatbot for a tilebot, language en, intentsEngine none, tags [],
  -- score 0, trained true, agents_available false) and the pre-save slug (generateSlug of the
  -- name, or the body's; -N after the highest when taken)
  it("keeps faqService.create's fields, the model's defaults and a unique slug", function()
    local _, b = api("admin", "POST", "/faq_kb", { name = "  Café Helper_Bot! ", type = "tilebot",
      tags = { "x" }, trained = false, public = true, score = 9, template = "blank", mainCategory = "cat" })
    assert.equal("tilebot", b.type)
    assert.equal("chatbot", b.subtype)
    assert.equal("en", b.language)
    assert.equal("none", b.intentsEngine)
    assert.same({}, b.tags)
    assert.equal(0, b.score)
    assert.is_true(b.trained)
    assert.is_false(b.public)
    assert.is_false(b.certified)
    assert.is_false(b.trashed)
    assert.is_false(b.webhook_enabled)
    assert.is_false(b.agents_available)
    assert.equal("cat", b.mainCategory)
    assert.is_nil(b.template)
    assert.equal(st.users.admin._id, b.createdBy)
    assert.equal(st.users.admin._id, b.updatedBy)
    assert.equal("cafe-helper-bot", b.slug)
    local _, again = api("admin", "POST", "/faq_kb", { name = "Cafe helper bot" })
    assert.equal("cafe-helper-bot-1", again.slug)
    local _, own = api("admin", "POST", "/faq_kb", { name = "Other", slug = "cafe-helper-bot" })
    assert.equal("cafe-helper-bot-2", own.slug)
  end)

  -- routes/faq_kb.js POST /importjson/:id?create=true: faqService.create, then the answer is
  -- findByIdAndUpdate's updated bot (no secret)
  it("answers importjson?create=true without the secret, the bot made with the shared one", function()
    local _, a = api("admin", "POST", "/faq_kb", { name = "First" })
    local status, b = api("admin", "POST", "/faq_kb/importjson/null?create=true", { name = "Imported", tags = { "t" } })
    assert.equal(200, status)
    assert.is_nil(b.secret)
    assert.is_nil(b.tags[1])
    local _, minted = api("admin", "GET", "/faq_kb/" .. b._id .. "/jwt")
    -- the token of one verifies with the other's secret: they are the same
    local _, signed = helper.http_json("POST", st.control_url .. "/sign",
      { payload = { _id = b._id, sub = "bot", aud = "https://tiledesk.com/bots/" .. b._id }, secret = a.secret })
    assert.equal(200, (api("JWT " .. signed.token, "GET", "/faq_kb/" .. b._id)))
    assert.is_string(minted.jwt)
  end)

  -- routes/faq_kb.js PUT /:faq_kbid (allowedFields, modified = true, findOneAndUpdate on
  -- { _id, id_project } with no trashed filter; 11000 on a taken slug: error and error_code
  -- 12001); models/faq_kb.js pre('findOneAndUpdate'): update.trashed === true (as sent) on a bot
  -- with a slug sets trashedAt and the slug <slug>-trashed-<ms>; post('findOneAndUpdate'): a bot
  -- that comes out trashed emits faqbot.update.virtual.delete, whose listener (event/botEvent.js)
  -- trashes its intents with its trashedAt, deletes its webhook and trashes its releases
  -- (root_id) and their intents. GET, PATCH attributes, PUT language, GET jwt and DELETE find by
  -- { _id, id_project } and answer their own 404; GET published is a find by root_id.
  it("soft-deletes by PUT trashed as the model's hooks do, and finds trashed bots by id", function()
    local status, b = api("admin", "POST", "/faq_kb", { name = "Trash Me" })
    assert.equal(200, status)
    assert.equal("trash-me", b.slug)
    assert.equal(200, (api("admin", "POST", "/faq", { id_faq_kb = b._id, intent_display_name = "hi", question = "hi" })))
    assert.equal(200, (api("admin", "POST", "/webhooks", { chatbot_id = b._id, block_id = "b1" })))
    assert.equal(200, (api("admin", "GET", "/webhooks/" .. b._id)))
    local _, rel = api("admin", "PUT", "/faq_kb/" .. b._id .. "/publish", { release_note = "v1" })
    assert.is_string(rel.bot_id)

    -- a Boolean that mongoose cannot cast fails the update, and nothing changes
    helper.answers(500, { success = false, msg = "Error updating object." },
      api("admin", "PUT", "/faq_kb/" .. b._id, { name = "Renamed", trashed = "maybe" }))
    local _, same = api("admin", "GET", "/faq_kb/" .. b._id)
    assert.equal("Trash Me", same.name)
    assert.is_nil(same.modified)
    -- a field the route does not take is left alone
    local _, u = api("admin", "PUT", "/faq_kb/" .. b._id, { language = "it", public = "no" })
    assert.equal("en", u.language)
    assert.equal(false, u.public)
    assert.equal(true, u.modified)

    local t
    status, t = api("admin", "PUT", "/faq_kb/" .. b._id, { trashed = true })
    assert.equal(200, status)
    assert.equal(true, t.trashed)
    assert.matches("^trash%-me%-trashed%-%d+$", t.slug)
    assert.is_string(t.trashedAt)
    -- found by id still, not listed
    local _, got = api("admin", "GET", "/faq_kb/" .. b._id)
    assert.equal(t.slug, got.slug)
    local _, list = api("admin", "GET", "/faq_kb")
    for _, x in ipairs(helper.nonempty(list)) do assert.not_equal(b._id, x._id) end
    -- its intents and its release trashed with its trashedAt, its webhook gone
    local _, intents = api("admin", "GET", "/faq?id_faq_kb=" .. b._id)
    for _, f in ipairs(helper.nonempty(intents)) do
      assert.equal(true, f.trashed)
      assert.equal(t.trashedAt, f.trashedAt)
    end
    local _, releases = api("admin", "GET", "/faq_kb/" .. b._id .. "/published")
    assert.equal(1, #releases)
    assert.equal(rel.bot_id, releases[1]._id)
    assert.equal(t.trashedAt, releases[1].trashedAt)
    assert.is_nil(releases[1].secret)
    assert.equal(404, (api("admin", "GET", "/webhooks/" .. b._id)))
    -- trashed as the string "true": cast to true (the bot stays trashed), no new slug
    local _, again = api("admin", "PUT", "/faq_kb/" .. b._id, { trashed = "true" })
    assert.equal(t.slug, again.slug)
    assert.equal(true, again.trashed)

    -- a slug taken in the project
    local _, other = api("admin", "POST", "/faq_kb", { name = "Other" })
    helper.answers(500, { success = false, msg = "Error updating object.", error = "Slug already exists: other",
      error_code = 12001 }, api("admin", "PUT", "/faq_kb/" .. b._id, { slug = "other" }))

    local unknown = "ffffffffffffffffffffffff"
    local nf = { success = false, msg = "Chatbot not found with id " .. unknown .. " for project " .. st.project_id }
    helper.answers(404, nf, api("admin", "GET", "/faq_kb/" .. unknown))
    helper.answers(404, nf, api("admin", "PUT", "/faq_kb/" .. unknown, { name = "x" }))
    helper.answers(404, nf, api("admin", "PATCH", "/faq_kb/" .. unknown .. "/attributes", { a = 1 }))
    helper.answers(404, nf, api("admin", "PUT", "/faq_kb/" .. unknown .. "/language/it"))
    helper.answers(404, nf, api("admin", "GET", "/faq_kb/" .. unknown .. "/jwt"))
    helper.answers(404, nf, api("admin", "DELETE", "/faq_kb/" .. unknown))
    helper.answers(200, {}, api("admin", "GET", "/faq_kb/" .. unknown .. "/published"))
    -- publishing forks the bot: one that cannot be exported fails the route's try
    helper.answers(500, { success = false, message = "Unable publish chatbot" },
      api("admin", "PUT", "/faq_kb/" .. unknown .. "/publish", {}))
    assert.equal(200, (api("admin", "DELETE", "/faq_kb/" .. other._id)))
  end)

  -- routes/faq_kb.js GET /exportjson/:id: the fields it names, intents without _id, id_project,
  -- topic, status, createdBy and dates; attributes.globals only with ?globals; intentsOnly
  it("exports the bot as the route writes it", function()
    api("admin", "PATCH", "/faq_kb/" .. st.bot._id .. "/attributes", { globals = { k = 1 }, color = "blue" })
    local status, e, h = api("admin", "GET", "/faq_kb/exportjson/" .. st.bot._id)
    assert.equal(200, status)
    assert.equal('attachment; filename="bot.json"', h["content-disposition"])
    -- res.send of JSON.stringify's string: express answers it as text/html
    assert.equal("text/html; charset=utf-8", h["content-type"])
    assert.equal("Sandbox Bot", e.name)
    assert.equal("external", e.type)
    assert.is_nil(e._id)
    assert.is_nil(e.url)
    assert.same({ color = "blue" }, e.attributes)
    assert.equal(6, #e.intents)
    assert.equal("start", e.intents[1].intent_display_name)
    assert.equal(st.bot._id, e.intents[1].id_faq_kb)
    for _, k in ipairs({ "_id", "id_project", "createdBy", "createdAt", "updatedAt", "__v" }) do
      assert.is_nil(e.intents[1][k], k)
    end
    local _, e2 = api("admin", "GET", "/faq_kb/exportjson/" .. st.bot._id .. "?globals=true")
    assert.same({ k = 1 }, e2.attributes.globals)
    local _, e3, h3 = api("admin", "GET", "/faq_kb/exportjson/" .. st.bot._id .. "?intentsOnly=true")
    assert.equal('attachment; filename="intents.json"', h3["content-disposition"])
    assert.is_nil(e3.name)
    assert.equal(6, #e3.intents)
    helper.answers(404, { success = false, msg = "Chatbot not found with id ffffffffffffffffffffffff" },
      api("admin", "GET", "/faq_kb/exportjson/ffffffffffffffffffffffff"))
  end)

  -- routes/faq_kb.js POST /fork/:id with services/chatbotService.js: the export (globals dropped
  -- unless ?globals), modified deleted, template "empty", POSTed to /<projectid>/faq_kb
  -- (faqService.create's fields only), then importjson/<new>?intentsOnly=true (the import
  -- without create: the intents as new_faq copies them)
  it("forks through the export, faqService.create and the intents' import", function()
    api("admin", "PATCH", "/faq_kb/" .. st.bot._id .. "/attributes", { globals = { k = 1 }, color = "blue" })
    api("admin", "PUT", "/faq_kb/" .. st.bot._id, { tags = { "keep?" }, mainCategory = "c", intentsEngine = "ai" })
    local status, fork = api("admin", "POST", "/faq_kb/fork/" .. st.bot._id .. "?projectid=" .. st.project_id
      .. "&public=false")
    assert.equal(200, status)
    assert.equal("Chatbot forked successfully", fork.message)
    local _, b = api("admin", "GET", "/faq_kb/" .. fork.bot_id)
    assert.equal("Sandbox Bot", b.name)
    assert.equal("external", b.type)
    assert.equal("Answers the first questions", b.description)
    assert.equal(st.project_id, b.id_project)
    assert.same({ color = "blue" }, b.attributes)
    -- the export names neither url, tags, mainCategory nor intentsEngine
    assert.is_nil(b.url)
    assert.same({}, b.tags)
    assert.is_nil(b.mainCategory)
    assert.equal("none", b.intentsEngine)
    assert.equal("sandbox-bot", b.slug)
    assert.equal(st.users.admin._id, b.createdBy)
    local _, intents = api("admin", "GET", "/faq?id_faq_kb=" .. fork.bot_id)
    assert.equal(6, #intents)
    local names = {}
    for _, f in ipairs(intents) do
      names[f.intent_display_name] = f
      assert.equal(st.users.admin._id, f.createdBy)
    end
    assert.equal("We ship to the whole EU.", names.shipping.answer)
    assert.equal("00000004-0000-4000-8000-000000000004", names.shipping.intent_id)
    _, fork = api("admin", "POST", "/faq_kb/fork/" .. st.bot._id .. "?projectid=" .. st.project_id
      .. "&globals=true")
    _, b = api("admin", "GET", "/faq_kb/" .. fork.bot_id)
    assert.same({ k = 1 }, b.attributes.globals)
    assert.equal("sandbox-bot-1", b.slug)
    -- without ?projectid the chatbot service POSTs to /undefined/faq_kb, which fails
    helper.answers(500, { success = false, message = "An error occurred during chatbot creation" },
      api("admin", "POST", "/faq_kb/fork/" .. st.bot._id))
    helper.answers(500, { success = false, error = "Unable to get chatbot to be forked" },
      api("admin", "POST", "/faq_kb/fork/ffffffffffffffffffffffff?projectid=" .. st.project_id))
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
