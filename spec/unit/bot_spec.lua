-- tiledesk.bot: the context of a bot-webhook delivery, its refusals, loop protection, the calls it
-- makes with the bot's token, and bots as a table of intents or a function. No sockets.
local helper = require("spec.helper")
local Fake = require("spec.support.fake_transport")
local bot = require("tiledesk.bot")
local jwt = require("tiledesk.jwt")
local json = require("tiledesk.json")
local cjson = require("cjson")

local BOT = "6560f0a10000000000000011"
local PID = "6560f0a10000000000000007"
local RID = "support-group-" .. PID .. "-abc"
local SECRET_SEGMENT = "f3a9c2d18b7e4a6f9c0d"
local NOW = 1764500000000
local BOT_SECRET = "the-bot-secret-nobody-else-has"

local function token(over)
  local c = { _id = BOT, name = "Helper", id_project = PID, sub = "bot", aud = "https://tiledesk.com/bots/" .. BOT,
    iss = "https://tiledesk.com", iat = math.floor(NOW / 1000), jti = "j1" }
  for k, v in pairs(over or {}) do c[k] = v end
  return jwt.sign(c, BOT_SECRET)
end

local function delivery(payload_over, env_over)
  local payload = { _id = "m1", sender = "visitor-1", senderFullname = "Vera", recipient = RID, text = "hello",
    type = "text", id_project = PID, attributes = {},
    request = { request_id = RID, id_project = PID, lead = { _id = "l1", fullname = "Vera", email = "v@x.test" },
      participants = { "bot_" .. BOT }, attributes = {} } }
  for k, v in pairs(payload_over or {}) do payload[k] = v end
  local env = { timestamp = NOW, payload = payload, hook = { _id = BOT, name = "Helper", type = "external" }, token = token() }
  for k, v in pairs(env_over or {}) do env[k] = v end
  return assert(json.encode(env))
end

local fakes
local function opts(extra)
  local o = { base_url = "https://api.test/v3", now = NOW, path_secret = SECRET_SEGMENT, path_segment = SECRET_SEGMENT,
    transport = function()
      local f = Fake.new()
      f.handler = nil
      fakes[#fakes + 1] = f
      return f
    end }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function refused(reason, status, body, o)
  local ctx, msg, err = bot.context(body, o or opts())
  assert.is_nil(ctx)
  assert.matches("^tiledesk%.bot%.context%(%): ", msg)
  assert.equal(reason, err.reason, msg)
  assert.equal(status, err.status)
  assert.equal(0, #fakes, "nothing may be sent for a refused delivery")
  return msg
end

describe("tiledesk.bot.context", function()
  before_each(function() fakes = {} end)

  it("exposes the message, conversation, lead and bot", function()
    local ctx = assert(bot.context(delivery(), opts()))
    assert.equal("hello", ctx.text)
    assert.equal(RID, ctx.request_id)
    assert.equal(PID, ctx.project_id)
    assert.equal("Vera", ctx.lead.fullname)
    assert.equal(BOT, ctx.bot_id)
    assert.equal("Helper", ctx.bot_name)
    assert.is_nil(ctx.skip)
    assert.is_false(ctx.is_start)
    assert.is_string(ctx.token())
    assert.equal("tiledesk.bot.Context (Helper, " .. RID .. ")", tostring(ctx))
    for k, v in pairs(helper.nonempty(ctx)) do
      assert.is_true(type(v) ~= "string" or not v:find(ctx.token(), 1, true), "token in field " .. k)
    end
  end)

  it("answers with the bot's own token: reply, handoff, route, attributes, close", function()
    local ctx = assert(bot.context(delivery(), opts()))
    local answers = { { _id = "m2", text = "Hi" }, { request_id = RID }, { request_id = RID }, { request_id = RID },
      { request_id = RID } }
    ctx.client() -- creates the client and its transport
    local f = fakes[1]
    for _, a in ipairs(answers) do f:queue(200, a) end
    assert.equal("m2", assert(ctx:reply("Hi\n* Yes\n* No"))._id)
    assert(ctx:handoff())
    assert(ctx:route("dep-2"))
    assert(ctx:set_attributes({ plan = "gold" }))
    assert(ctx:close())
    local r = f.requests
    assert.equal(5, #r)
    assert.equal("POST", r[1].method)
    assert.equal("https://api.test/v3/" .. PID .. "/requests/" .. RID .. "/messages", r[1].url)
    local sent = cjson.decode(r[1].body)
    assert.equal("Hi", sent.text)
    assert.equal("Helper", sent.senderFullname)
    assert.equal("Yes", sent.attributes.attachment.buttons[1].value)
    assert.equal("jwt", r[1].auth_kind)
    assert.equal("JWT " .. ctx.token(), f.token)
    assert.same({ "PUT", "/requests/" .. RID .. "/agent" }, { r[2].method, r[2].url:match("/requests/.*$") })
    assert.same({ "PUT", "/requests/" .. RID .. "/departments" }, { r[3].method, r[3].url:match("/requests/.*$") })
    assert.equal("dep-2", cjson.decode(r[3].body).departmentid)
    assert.same({ "PATCH", "/requests/" .. RID .. "/attributes" }, { r[4].method, r[4].url:match("/requests/.*$") })
    assert.same({ "PUT", "/requests/" .. RID .. "/close" }, { r[5].method, r[5].url:match("/requests/.*$") })
    ctx.finish()
    assert.is_true(f.closed)
  end)

  it("loop protection: the bot's own messages, system messages and commands are skipped; \\start is not", function()
    assert.equal("own message", assert(bot.context(delivery{ sender = "bot_" .. BOT }, opts())).skip)
    assert.equal("own message", assert(bot.context(delivery{ sender = BOT, text = "x" }, opts())).skip)
    assert.equal("system message", assert(bot.context(delivery{ sender = "system", text = "joined" }, opts())).skip)
    assert.equal("hand-off or close command", assert(bot.context(delivery{ text = "\\agent" }, opts())).skip)
    local start = assert(bot.context(delivery{ sender = "system", text = "\\start" }, opts()))
    assert.is_nil(start.skip)
    assert.is_true(start.is_start)
    assert.is_true(assert(bot.context(delivery{ text = "/start" }, opts())).is_start)
    -- handle answers nothing for a skipped context
    local ctx = assert(bot.context(delivery{ sender = "bot_" .. BOT }, opts()))
    assert.same({ skipped = "own message" }, bot.handle(function() return "loop!" end, ctx))
    assert.equal(0, #fakes)
  end)

  it("refuses a wrong or missing secret segment, garbage, forged tokens, stale and oversized deliveries", function()
    refused("secret", 401, delivery(), opts{ path_segment = SECRET_SEGMENT .. "x" })
    local no_segment = opts()
    no_segment.path_segment = nil
    refused("secret", 401, delivery(), no_segment)
    refused("malformed", 400, "garbage")
    refused("malformed", 400, "")
    refused("malformed", 400, '{"timestamp":1}')
    refused("token", 401, delivery(nil, { token = "not.a.token" }))
    refused("token", 401, delivery(nil, { token = token{ sub = "subscription" } }))
    refused("token", 401, delivery(nil, { token = token{ aud = "https://tiledesk.com/bots/other" } }))
    refused("token", 401, delivery(nil, { hook = { _id = "6560f0a100000000000000ff" } }))
    refused("token", 401, delivery(), opts{ project_id = "another" })
    refused("malformed", 400, delivery{ recipient = cjson.null, request = "x" })
    refused("stale", 400, delivery(nil, { timestamp = NOW - 301000 }))
    refused("too_large", 413, delivery{ text = string.rep("x", 4096) }, opts{ max_bytes = 2048 })
  end)

  it("refuses a replay with the seen store", function()
    local seen = require("tiledesk.webhook").memory_store()
    local body = delivery()
    assert(bot.context(body, opts{ seen = seen }))
    refused("replay", 200, body, opts{ seen = seen })
  end)

  it("verify_token asks the server once per token, and refuses what it refuses", function()
    local cache = require("tiledesk.webhook").memory_store()
    local answers = { { 200, { _id = BOT, name = "Helper" } }, { 401, "Unauthorized" } }
    local o = opts{ cache = cache, transport = function()
      local f = Fake.new()
      local a = table.remove(answers, 1)
      if a then f:queue(a[1], a[2]) end
      fakes[#fakes + 1] = f
      return f
    end, verify_token = true }
    local body = delivery()
    assert(bot.context(body, o))
    assert.equal(1, #fakes)
    assert.equal("https://api.test/v3/" .. PID .. "/faq_kb/" .. BOT, fakes[1].requests[1].url)
    assert(bot.context(body, o)) -- cached: no second call
    assert.equal(1, #fakes)
    local forged = delivery(nil, { token = jwt.sign({ _id = BOT, sub = "bot", aud = "https://tiledesk.com/bots/" .. BOT },
      "guessed") })
    local ctx, msg, err = bot.context(forged, o)
    assert.is_nil(ctx)
    assert.equal("token", err.reason)
    assert.matches("the server does not accept the token", msg)
  end)

  it("raises on misuse", function()
    assert.has_error(function() bot.context("{}", { path_secret = "short" }) end,
      "tiledesk.bot.context(): opts.path_secret must be a string of 16 characters or more")
    assert.has_error(function() bot.context("{}", { transport = {} }) end,
      "tiledesk.bot.context(): opts.transport must be a function returning a new transport")
    assert.has_error(function() bot.context("{}", { pathsecret = "x" }) end, "tiledesk.bot.context(): unknown option pathsecret")
    local ctx = assert(bot.context(delivery(), opts()))
    assert.has_error(function() ctx:route() end, "ctx:route(): department_id must be a non-empty string")
    assert.has_error(function() ctx:reply(3) end, "ctx:reply(): a string or a message table expected, got number")
    assert.has_error(function() ctx.reply(3) end, "ctx:reply(): call it as ctx:reply(...)")
  end)
end)

describe("tiledesk.bot.handle", function()
  before_each(function() fakes = {} end)

  local FAQ = {
    start = "Welcome!\n* Prices\n* Talk to a human tdIntent:human",
    intents = {
      { name = "prices", match = { "price", "cost" }, reply = "From 9 EUR.", attributes = { asked = "prices" } },
      { name = "human", match = { "human", "agent" }, reply = "Connecting you.", handoff = true },
      { name = "bye", match = "bye", reply = function(ctx) return "Bye " .. ctx.lead.fullname end, close = true },
    },
    fallback = "Sorry?",
  }

  local function run(spec, payload, answers)
    local ctx = assert(bot.context(delivery(payload), opts()))
    ctx.client()
    local f = fakes[#fakes]
    for _, a in ipairs(answers or {}) do f:queue(200, a) end
    local report, msg = bot.handle(spec, ctx)
    assert(report, msg)
    local sent = {}
    for _, r in ipairs(f.requests) do
      sent[#sent + 1] = { r.method, r.url:match("/requests/[^/]+/?(.*)$"), r.body and cjson.decode(r.body) }
    end
    return report, sent
  end

  it("answers \\start with the start text and buttons", function()
    local report, sent = run(FAQ, { sender = "system", text = "\\start" }, { { _id = "m" } })
    assert.equal("start", report.intent)
    assert.equal(1, #sent)
    assert.equal("Welcome!", sent[1][3].text)
    assert.equal("action", sent[1][3].attributes.attachment.buttons[2].type)
    assert.equal("human", sent[1][3].attributes.attachment.buttons[2].action)
  end)

  it("matches words, then replies and sets attributes", function()
    local report, sent = run(FAQ, { text = "What does it COST?" }, { { _id = "m" }, {} })
    assert.equal("prices", report.intent)
    assert.same({ "reply", "attributes" }, report.done)
    assert.equal("From 9 EUR.", sent[1][3].text)
    assert.same({ "PATCH", "attributes", { asked = "prices" } }, sent[2])
  end)

  it("matches an action button by the intent's name and hands off", function()
    local report, sent = run(FAQ, { text = "Talk to a human", attributes = { action = "human" } }, { { _id = "m" }, {} })
    assert.equal("human", report.intent)
    assert.same({ "reply", "handoff" }, report.done)
    assert.equal("agent", sent[2][2])
  end)

  it("a reply function gets the context; close after the reply", function()
    local report, sent = run(FAQ, { text = "bye now" }, { { _id = "m" }, {} })
    assert.same({ "reply", "close" }, report.done)
    assert.equal("Bye Vera", sent[1][3].text)
    assert.equal("close", sent[2][2])
  end)

  it("falls back, and a function bot answers what it returns", function()
    local report, sent = run(FAQ, { text = "zzz" }, { { _id = "m" } })
    assert.equal("fallback", report.intent)
    assert.equal("Sorry?", sent[1][3].text)
    local _
    _, sent = run(function(ctx) return "echo: " .. ctx.text end, { text = "ping" }, { { _id = "m" } })
    assert.equal("echo: ping", sent[1][3].text)
    local quiet
    quiet, sent = run(function() return nil end, { text = "ping" })
    assert.same({}, quiet.done)
    assert.equal(0, #sent)
  end)

  it("stops at the first failing call and says why", function()
    local ctx = assert(bot.context(delivery{ text = "human please" }, opts()))
    ctx.client()
    fakes[1]:queue(200, { _id = "m" }):queue(403, { msg = "not allowed" })
    local report, msg, err = bot.handle(FAQ, ctx)
    assert.is_nil(report)
    assert.matches("403", msg)
    assert.equal(403, err.status)
  end)

  it("checks a bot definition", function()
    assert.has_error(function() bot.check({ intents = { { reply = "x" } } }) end, "tiledesk.bot: intent 1 needs match, action or name")
    assert.has_error(function() bot.check({ intents = { { name = "a", handof = true } } }) end,
      "tiledesk.bot: intent 1: unknown key handof")
    assert.has_error(function() bot.check({ fallbak = "x" }) end, "tiledesk.bot: unknown key fallbak")
    assert.has_error(function() bot.check(42) end, "tiledesk.bot: a bot is a table of intents or a function(ctx)")
  end)
end)
