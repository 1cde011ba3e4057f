-- What goes on the wire for the areas bot builders reach for next (bots as code, intents in
-- bulk, flow logs, knowledge base, data tables, triggers, widget, webhook dev mode), against the
-- fake transport. The generated methods of these areas are checked route by route in
-- resources_spec.lua; this file covers the hand-written ones and the argument checks.
local helper = require("spec.helper")
local cjson = require("cjson")

local PID = helper.PID
local BASE = "https://api.test/v3/" .. PID

local new = helper.fake_client

local query_of = require("spec.helper").query_of

local function path_of(u) return (u:gsub("%?.*$", "")) end

-- the parts of a multipart body: name -> { filename?, type?, value }
local function parts_of(req)
  local ctype = req.headers["content-type"]
  local boundary = assert(ctype:match("^multipart/form%-data; boundary=(.+)$"), ctype)
  local out = {}
  local body = req.body
  local sep = "--" .. boundary
  local pos = 1
  while true do
    local s = body:find(sep, pos, true)
    assert(s, "no closing boundary")
    local after = s + #sep
    if body:sub(after, after + 1) == "--" then break end
    local head_end = body:find("\r\n\r\n", after, true)
    local head = body:sub(after + 2, head_end - 1)
    local nxt = body:find("\r\n" .. sep, head_end, true)
    local name = head:match('name="([^"]*)"')
    out[name] = { filename = head:match('filename="([^"]*)"'), type = head:match("Content%-Type: ([^\r\n]+)"),
      value = body:sub(head_end + 4, nxt - 1) }
    pos = nxt + 2
  end
  return out
end

describe("bots as code", function()
  local EXPORT = { name = "Order Helper", language = "en", type = "tilebot",
    intents = { { intent_display_name = "start", question = "hi" } } }

  it("bots:import with create sends the export as JSON to importjson/null?create=true", function()
    local c, fake = new()
    fake:queue(200, { _id = "b2", name = "Order Helper" })
    local bot = assert(c.bots:import(EXPORT, { create = true }))
    assert.equal("b2", bot._id)
    local sent = fake:last()
    assert.equal("POST", sent.method)
    assert.equal(BASE .. "/faq_kb/importjson/null", path_of(sent.url))
    assert.same({ create = "true" }, query_of(sent.url))
    assert.same(EXPORT, sent.json)
  end)

  it("bots:import into a bot sends replace and overwrite as the server reads them", function()
    local c, fake = new()
    fake:queue(200, { _id = "b 1" })
    assert(c.bots:import(EXPORT, { bot_id = "b 1", replace = true, overwrite = true }))
    local sent = fake:last()
    assert.equal(BASE .. "/faq_kb/importjson/b%201", path_of(sent.url))
    assert.same({ replace = "true", overwrite = "true" }, query_of(sent.url))
  end)

  it("bots:import of a file's text uploads it as uploadFile", function()
    local c, fake = new()
    fake:queue(200, { _id = "b1" })
    local text = cjson.encode(EXPORT)
    assert(c.bots:import(text, { bot_id = "b1" }))
    local parts = parts_of(fake:last())
    assert.equal(text, parts.uploadFile.value)
    assert.equal("bot.json", parts.uploadFile.filename)
    assert.equal("application/json", parts.uploadFile.type)
    assert.same({}, query_of(fake:last().url))
  end)

  it("bots:import misuse raises naming the problem", function()
    local c = new()
    assert.has_error(function() c.bots:import(EXPORT) end,
      "bots:import(): give create = true (a new bot) or bot_id (the bot to import into)")
    assert.has_error(function() c.bots:import(EXPORT, { create = true, bot_id = "b1" }) end,
      "bots:import(): give either create = true or bot_id, not both")
    assert.has_error(function() c.bots:import(EXPORT, { create = true, replace = true }) end,
      "bots:import(): replace and overwrite apply to an existing bot (bot_id), not to create")
    assert.has_error(function() c.bots:import(EXPORT, { create = true, force = true }) end,
      "bots:import(): unknown option 'force'")
    assert.has_error(function() c.bots:import(5, { create = true }) end,
      "bots:import(): bad argument #1 'bot' (table or JSON text expected, got number)")
    assert.has_error(function() c.bots:import("[1, 2", { create = true }) end,
      "bots:import(): bad argument #1 'bot' (the text is not a JSON object)")
    assert.has_error(function() c.bots:import("[1, 2]", { create = true }) end,
      "bots:import(): bad argument #1 'bot' (the text is not a JSON object)")
  end)

  it("faqs:ops_update sends the operations as an array with the bot id", function()
    local c, fake = new()
    fake:queue(200, { success = true })
    local ops = { { type = "post", intent = { question = "q" } }, { type = "delete", intent = { intent_id = "i1" } },
      { type = "patch", intent = { _id = "f1", attributes = { x = 1 } } } }
    assert(c.faqs:ops_update("b1", ops))
    local sent = fake:last()
    assert.equal(BASE .. "/faq/ops_update", sent.url)
    assert.same({ id_faq_kb = "b1", operations = ops }, sent.json)
  end)

  it("faqs:ops_update refuses operations the server would not apply", function()
    local c = new()
    assert.has_error(function() c.faqs:ops_update("b1", {}) end,
      "faqs:ops_update(): bad argument #2 'operations' (a non-empty array expected)")
    assert.has_error(function() c.faqs:ops_update("b1", { { type = "get", intent = {} } }) end,
      'faqs:ops_update(): operation 1 needs type = "post", "put", "patch" or "delete"')
    assert.has_error(function() c.faqs:ops_update("b1", { { type = "put", intent = { question = "q" } } }) end,
      "faqs:ops_update(): operation 1 (put) needs intent._id or intent.intent_id")
    assert.has_error(function() c.faqs:ops_update("b1", { { type = "patch", intent = { _id = "f1" } } }) end,
      "faqs:ops_update(): operation 1 (patch) needs intent._id and intent.attributes")
    assert.has_error(function() c.faqs:ops_update(nil, { { type = "post", intent = {} } }) end,
      "faqs:ops_update(): bad argument #1 'bot_id' (non-empty string expected, got nil)")
  end)

  it("faqs:upload_csv uploads the CSV with id_faq_kb and the delimiter as form fields", function()
    local c, fake = new()
    fake:queue(200, { success = true, msg = "CSV Parsed" })
    assert(c.faqs:upload_csv("b1", "q1,a1\n", { delimiter = "," }))
    local sent = fake:last()
    assert.equal(BASE .. "/faq/uploadcsv", sent.url)
    local parts = parts_of(sent)
    assert.equal("q1,a1\n", parts.uploadFile.value)
    assert.equal("b1", parts.id_faq_kb.value)
    assert.equal(",", parts.delimiter.value)
    assert.has_error(function() c.faqs:upload_csv("b1", "x", { sep = ";" }) end, "faqs:upload_csv(): unknown option 'sep'")
  end)
end)

-- a flow log line as the server's aggregation gives it
local function line(n, level)
  return { _id = "doc", request_id = "r1", rows = { _id = "l" .. n, text = "line " .. n, level = level or "info",
    timestamp = string.format("2026-11-30T10:00:%02d.000Z", n) } }
end

describe("flow logs", function()
  it("logs:flow passes the server's query as is", function()
    local c, fake = new()
    fake:queue(200, { line(1) })
    local lines = assert(c.logs:flow("r1", { logLevel = "debug", type = "webhook" }))
    assert.equal("line 1", lines[1].rows.text)
    assert.equal(BASE .. "/logs/flows/r1", path_of(fake:last().url))
    assert.same({ logLevel = "debug", type = "webhook" }, query_of(fake:last().url))
  end)

  it("logs:each_flow walks back from the newest line, newest first, by the oldest timestamp of each page", function()
    local c, fake = new()
    fake:queue(200, { line(8), line(9), line(10) })
    fake:queue(200, { line(6), line(7) })
    fake:queue(200, {})
    local got = {}
    for e in c.logs:each_flow("r1", { level = "debug" }) do got[#got + 1] = e.rows.text end
    assert.same({ "line 10", "line 9", "line 8", "line 7", "line 6" }, got)
    assert.equal(3, #fake.requests)
    assert.same({ logLevel = "debug" }, query_of(fake.requests[1].url))
    assert.same({ logLevel = "debug", direction = "prev", timestamp = "2026-11-30T10:00:08.000Z" },
      query_of(fake.requests[2].url))
    assert.same({ logLevel = "debug", direction = "prev", timestamp = "2026-11-30T10:00:06.000Z" },
      query_of(fake.requests[3].url))
  end)

  it("logs:each_flow forward starts at the beginning and stops at max_items", function()
    local c, fake = new()
    fake:queue(200, { line(1), line(2) })
    fake:queue(200, { line(3), line(4) })
    local got = {}
    for e in c.logs:each_flow("w1", { direction = "next", webhook = true, max_items = 3 }) do got[#got + 1] = e.rows.text end
    assert.same({ "line 1", "line 2", "line 3" }, got)
    assert.equal(2, #fake.requests)
    assert.same({ type = "webhook", direction = "next", timestamp = "1970-01-01T00:00:00.000Z" },
      query_of(fake.requests[1].url))
    assert.equal("2026-11-30T10:00:02.000Z", query_of(fake.requests[2].url).timestamp)
  end)

  it("logs:each_flow raises the err table when a page fails", function()
    local c, fake = new()
    fake:queue(500, { success = false, error = "Error fetching logs: boom" })
    local ok, err = pcall(function()
      for _ in c.logs:each_flow("r1") do end
    end)
    assert.is_false(ok)
    assert.equal("http", err.kind)
    assert.equal(500, err.status)
    assert.has_error(function() c.logs:each_flow("r1", { level = "trace" }) end,
      "logs:each_flow(): option 'level' must be error, warn, info, debug, native or default (got string)")
  end)

  it("logs:tail gives the last lines, then the new ones, until the log stays quiet", function()
    local c, fake = new()
    fake:queue(200, { line(1), line(2) })
    fake:queue(200, {})
    fake:queue(200, { line(3) })
    for _ = 1, 10 do fake:queue(200, {}) end
    local got = {}
    for e in c.logs:tail("r1", { interval = 1000, idle = 3000 }) do got[#got + 1] = e.rows.text end
    assert.same({ "line 1", "line 2", "line 3" }, got)
    -- the first ask has no timestamp; then every ask is "next" from the newest line seen
    assert.same({}, query_of(fake.requests[1].url))
    assert.same({ direction = "next", timestamp = "2026-11-30T10:00:02.000Z" }, query_of(fake.requests[2].url))
    assert.same({ direction = "next", timestamp = "2026-11-30T10:00:02.000Z" }, query_of(fake.requests[3].url))
    assert.same({ direction = "next", timestamp = "2026-11-30T10:00:03.000Z" }, query_of(fake.requests[4].url))
    -- after line 3 (at 2000 ms) three quiet asks, 1000 ms apart, reach the 3000 ms idle limit
    assert.equal(6, #fake.requests)
    for _, ms in ipairs(helper.nonempty(fake.sleeps)) do assert.equal(1000, ms) end
    assert.equal(5, #fake.sleeps)
  end)

  it("logs:tail stops at max_items without asking again", function()
    local c, fake = new()
    fake:queue(200, { line(1), line(2), line(3) })
    local n = 0
    for _ in c.logs:tail("r1", { max_items = 2 }) do n = n + 1 end
    assert.equal(2, n)
    assert.equal(1, #fake.requests)
    assert.equal(0, #fake.sleeps)
    assert.has_error(function() c.logs:tail("r1", { every = 5 }) end, "logs:tail(): unknown option 'every'")
  end)
end)

describe("knowledge base", function()
  it("kb:add_urls sends the list in the body and the namespace in the query", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.kb:add_urls("ns1", { "https://a.example/x", "https://b.example/y" }, { refresh_rate = "daily", tags = { "faq" } }))
    local sent = fake:last()
    assert.equal(BASE .. "/kb/multi", path_of(sent.url))
    assert.same({ namespace = "ns1" }, query_of(sent.url))
    assert.same({ list = { "https://a.example/x", "https://b.example/y" }, refresh_rate = "daily", tags = { "faq" } }, sent.json)
    local many = {}
    for i = 1, 301 do many[i] = "https://a.example/" .. i end
    assert.has_error(function() c.kb:add_urls("ns1", many) end,
      "kb:add_urls(): bad argument #2 'urls' (1 to 300 addresses expected, got 301)")
    assert.has_error(function() c.kb:add_urls("ns1", { "" }) end, "kb:add_urls(): url 1 is not a non-empty string")
    assert.has_error(function() c.kb:add_urls("ns1", { "https://a.example" }, { scrape_type = 3 }) end,
      "kb:add_urls(): option 'scrape_type' must be 0, 2 or 4 (got number)")
  end)

  it("kb:import_csv uploads the CSV with the delimiter and tags as form fields", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.kb:import_csv("ns1", "q;a\n", { tags = { "csv" } }))
    local sent = fake:last()
    assert.equal(BASE .. "/kb/csv", path_of(sent.url))
    assert.same({ namespace = "ns1" }, query_of(sent.url))
    local parts = parts_of(sent)
    assert.equal("q;a\n", parts.uploadFile.value)
    assert.equal(";", parts.delimiter.value)
    assert.same({ "csv" }, cjson.decode(parts.tags.value))
  end)

  it("kb:import_sitemap sends type sitemap and the source", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.kb:import_sitemap("ns1", "https://example.com/sitemap.xml", { scrape_type = 0 }))
    local sent = fake:last()
    assert.equal(BASE .. "/kb/sitemap/import", path_of(sent.url))
    assert.same({ namespace = "ns1" }, query_of(sent.url))
    assert.same({ type = "sitemap", source = "https://example.com/sitemap.xml", scrape_type = 0 }, sent.json)
    assert.has_error(function() c.kb:import_sitemap("", "https://x") end,
      "kb:import_sitemap(): bad argument #1 'namespace' (non-empty string expected, got an empty string)")
  end)

  it("kb:ask never asks for a stream (the answer would be server-sent events)", function()
    local c, fake = new()
    fake:queue(200, { success = true, answer = "yes" })
    assert(c.kb:ask("ns1", "can I?", { stream = true, top_k = 4 }))
    assert.same({ namespace = "ns1", question = "can I?", stream = false, top_k = 4 }, fake:last().json)
  end)

  it("kb:each pages with page and limit through the kbs envelope until count", function()
    local c, fake = new()
    local function item(i) return { _id = "k" .. i, source = "s" .. i } end
    fake:queue(200, { count = 3, kbs = { item(1), item(2) }, query = {} })
    fake:queue(200, { count = 3, kbs = { item(3) }, query = {} })
    local got = {}
    for k in c.kb:each("ns1", { limit = 2 }) do got[#got + 1] = k._id end
    assert.same({ "k1", "k2", "k3" }, got)
    assert.same({ namespace = "ns1", limit = "2", page = "1" }, query_of(fake.requests[2].url))
  end)
end)

describe("data tables", function()
  it("tables:rows sends the conditions as JSON in the query", function()
    local c, fake = new()
    fake:queue(200, {})
    local conds = { { column = "total", operator = "greater_than", value = 50 } }
    assert(c.tables:rows("t1", { conditions = conds, must_match = "any" }))
    local sent = fake:last()
    assert.equal(BASE .. "/tables/t1/rows/list", path_of(sent.url))
    local q = query_of(sent.url)
    assert.same(conds, cjson.decode(q.conditions))
    assert.equal("any", q.must_match)
    fake:queue(200, {})
    assert(c.tables:rows("t1"))
    assert.equal(BASE .. "/tables/t1/rows/list", fake:last().url)
    assert.has_error(function() c.tables:rows("t1", { conditions = {} }) end,
      "tables:rows(): option 'conditions' must be a non-empty array")
    assert.has_error(function() c.tables:rows("t1", { must_match = "some" }) end,
      "tables:rows(): option 'must_match' must be \"all\" or \"any\" (got string)")
  end)

  it("tables:insert sends the row's data under data", function()
    local c, fake = new()
    fake:queue(200, { _id = "r1" })
    assert(c.tables:insert("t1", { order_id = "1234" }, { id_row = "r1" }))
    assert.same({ data = { order_id = "1234" }, id_row = "r1" }, fake:last().json)
  end)
end)

describe("widget and webhook dev mode", function()
  it("widgets:get and widgets:waiting_time go without credentials", function()
    local c, fake = new()
    fake:queue(200, { project = {} })
    fake:queue(200, {})
    assert(c.widgets:get())
    assert.equal("none", fake.requests[1].auth_kind)
    assert.equal(BASE .. "/widgets", fake.requests[1].url)
    assert(c.widgets:waiting_time())
    assert.equal(BASE .. "/publicanalytics/waiting/current", fake.requests[2].url)
    assert.equal("none", fake.requests[2].auth_kind)
  end)

  it("webhooks:run_dev posts to /webhook/<id>/dev outside the project, without credentials", function()
    local c, fake = new()
    fake:queue(200, { success = true })
    assert(c.webhooks:run_dev("wh1", { order_id = "1" }))
    assert.equal("https://api.test/v3/webhook/wh1/dev", fake:last().url)
    assert.equal("none", fake:last().auth_kind)
    assert.same({ order_id = "1" }, fake:last().json)
  end)
end)
