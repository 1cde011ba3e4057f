-- The areas bot builders reach for next, the Lua client against the sandbox: bots as code,
-- intents in bulk, flow logs, the knowledge base, data tables, triggers, the widget's boot data,
-- webhook dev mode and email recipients. Each expectation comes from the server's source,
-- named in the describe or next to the assertion (Tiledesk/tiledesk-server). The last spec
-- checks that this file called every route of these areas (spec/core/areas_spec.lua leaves them
-- to this file).
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local routes = require("tiledesk.routes")

local st = helper.sandbox()
local PID = st.project_id

local calls = {}
local function record(info) calls[info.op] = (calls[info.op] or 0) + 1 end

local function as(role)
  local u = st.users[role]
  return tiledesk.new{ base_url = st.http_url, project_id = PID, retries = 0, on_request = record,
    email = u.email, password = u.password }
end

local refused = helper.refused

local function by(list, field)
  local out = {}
  for _, x in ipairs(list) do out[x[field]] = x end
  return out
end

-- the server applies bulk intent changes after it answers (un-awaited callbacks in faq.js and
-- faq_kb.js): wait, a bounded number of times, until `check` holds
local function eventually(check)
  for _ = 1, 50 do
    if check() then return true end
    require("tiledesk.core").sleep_ms(20)
  end
  return check()
end

local admin, agent

describe("bots as code (routes/faq_kb.js importjson and exportjson, routes/faq.js)", function()
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
  end)

  local function intents_of(c, bot_id)
    local list = assert(c.faqs:list(bot_id))
    return by(list, "intent_display_name"), #list
  end

  it("export then import with create makes a new bot with the same intents", function()
    local bot = assert(admin.bots:create("Exported", { type = "tilebot", language = "it", description = "d1" }))
    assert(admin.faqs:create(bot._id, { intent_display_name = "greet", question = "hi", answer = "hello" }))
    assert(admin.faqs:create(bot._id, { intent_display_name = "bye", question = "bye", answer = "see you" }))
    local exported = assert(admin.bots:export(bot._id))
    assert.equal("Exported", exported.name)
    local copy = assert(admin.bots:import(exported, { create = true }))
    assert.are_not.equal(bot._id, copy._id)
    -- faqService.create copies name, language, type and description from the JSON
    assert.equal("Exported", copy.name)
    assert.equal("it", copy.language)
    assert.equal("tilebot", copy.type)
    assert.is_nil(copy.secret)
    local src = intents_of(admin, bot._id)
    assert.truthy(eventually(function() local _, n = intents_of(admin, copy._id) return n == 2 end))
    local got = intents_of(admin, copy._id)
    assert.equal("hello", got.greet.answer)
    assert.equal(src.greet.intent_id, got.greet.intent_id)
    assert.equal(copy._id, got.bye.id_faq_kb)
  end)

  it("import into a bot updates its fields and adds intents; replace deletes the old ones first", function()
    local bot = assert(admin.bots:create("Target", { type = "tilebot" }))
    assert(admin.faqs:create(bot._id, { intent_display_name = "old", question = "old q" }))
    local json = { name = "Renamed", description = "new description", language = "de",
      intents = { { intent_display_name = "fresh", question = "fresh q", answer = "a" } } }
    local res = assert(admin.bots:import(json, { bot_id = bot._id }))
    assert.equal(bot._id, res._id)
    assert.equal("Renamed", res.name)
    assert.equal("de", res.language)
    assert.truthy(eventually(function() local _, n = intents_of(admin, bot._id) return n == 2 end))
    assert(admin.bots:import({ intents = { { intent_display_name = "only", question = "q" } } },
      { bot_id = bot._id, replace = true }))
    assert.truthy(eventually(function()
      local got, n = intents_of(admin, bot._id)
      return n == 1 and got.only ~= nil
    end))
    -- a JSON without name keeps the bot's name (faq_kb.js copies only the fields given)
    assert.equal("Renamed", assert(admin.bots:get(bot._id)).name)
  end)

  it("import without overwrite skips an intent of the same name; overwrite updates it", function()
    local bot = assert(admin.bots:create("Overwrite", { type = "tilebot" }))
    assert(admin.faqs:create(bot._id, { intent_display_name = "start", question = "q", answer = "first" }))
    local json = { intents = { { intent_display_name = "start", question = "q", answer = "second" } } }
    assert(admin.bots:import(json, { bot_id = bot._id }))
    local got, n = intents_of(admin, bot._id)
    assert.equal(1, n)
    assert.equal("first", got.start.answer) -- the unique index refuses the duplicate
    assert(admin.bots:import(json, { bot_id = bot._id, overwrite = true }))
    assert.truthy(eventually(function() return intents_of(admin, bot._id).start.answer == "second" end))
  end)

  it("import of an exported file's text (the upload uploadFile) round-trips", function()
    local bot = assert(admin.bots:create("File bot", { type = "tilebot" }))
    assert(admin.faqs:create(bot._id, { intent_display_name = "hours", question = "hours?", answer = "9-5" }))
    local text = assert(admin:request{ method = "GET", path = "/faq_kb/exportjson/" .. bot._id }).body
    local copy = assert(admin.bots:import(text, { create = true }))
    assert.equal("File bot", copy.name)
    assert.truthy(eventually(function() return intents_of(admin, copy._id).hours ~= nil end))
  end)

  it("import into a bot that does not exist is 404; an agent is refused (admin role)", function()
    local err = refused(404, admin.bots:import({ name = "x" }, { bot_id = "5f0000000000000000000000" }))
    -- faq_kb.js: "Chatbot not found with id <id> for project <pid>"
    assert.equal("Chatbot not found with id 5f0000000000000000000000 for project " .. PID, err.body.message)
    refused(403, agent.bots:import({ name = "x" }, { create = true }))
  end)

  it("ops_update applies post, put, patch and delete operations (routes/faq.js)", function()
    local bot = assert(admin.bots:create("Bulk", { type = "tilebot" }))
    local a = assert(admin.faqs:create(bot._id, { intent_display_name = "a", question = "a?", answer = "A" }))
    local b = assert(admin.faqs:create(bot._id, { intent_display_name = "b", question = "b?", answer = "B" }))
    local res = assert(admin.faqs:ops_update(bot._id, {
      { type = "post", intent = { id_faq_kb = bot._id, intent_display_name = "c", question = "c?", answer = "C" } },
      { type = "put", intent = { _id = a._id, answer = "A2" } },
      { type = "patch", intent = { _id = b._id, attributes = { position = { x = 1, y = 2 } } } },
      { type = "delete", intent = { intent_id = b.intent_id } },
    }))
    assert.same({ success = true }, res)
    assert.truthy(eventually(function()
      local got, n = intents_of(admin, bot._id)
      return n == 2 and got.c ~= nil and got.a.answer == "A2" and got.b == nil
    end))
  end)

  it("upload_csv makes one intent per row, the answer in a reply action (routes/faq.js)", function()
    local bot = assert(admin.bots:create("CSV bot", { type = "tilebot" }))
    local res = assert(admin.faqs:upload_csv(bot._id, "Opening hours?;9 to 5;;hours\nDo you ship?;Yes;;ship;true\n"))
    assert.same({ success = true, msg = "CSV Parsed" }, res)
    assert.truthy(eventually(function() local _, n = intents_of(admin, bot._id) return n == 2 end))
    local got = intents_of(admin, bot._id)
    assert.equal("Opening hours?", got.hours.question)
    assert.equal("reply", got.hours.actions[1]._tdActionType)
    assert.equal("9 to 5", got.hours.actions[1].attributes.commands[2].message.text)
    assert.is_true(got.ship.webhook_enabled)
    assert.is_false(got.hours.webhook_enabled)
    -- a bot that does not exist: 404 "Object not found."
    refused(404, admin.faqs:upload_csv("5f0000000000000000000000", "q;a\n"))
  end)
end)

describe("flow logs (routes/logs.js, services/logsService.js)", function()
  local rid
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
    local bot = assert(admin.bots:create("Flow bot", { type = "tilebot" }))
    local conv = assert(agent.requests:start{ text = "first", participants = { "bot_" .. bot._id } })
    rid = conv.request_id
    for i = 2, 12 do assert(agent.messages:send(rid, { text = "message " .. i })) end
  end)

  it("gives the last 20 lines, oldest first, at the info level by default", function()
    local lines = assert(agent.logs:flow(rid))
    assert.is_true(#lines > 0 and #lines <= 20)
    local prev = ""
    for _, l in ipairs(lines) do
      assert.equal(rid, l.request_id)
      assert.is_table(l.rows) -- the aggregation's $unwind: one row per item
      assert.truthy(l.rows.nlevel <= 2, l.rows.level)
      assert.is_true(l.rows.timestamp >= prev)
      prev = l.rows.timestamp
    end
    local debug = assert(agent.logs:flow(rid, { logLevel = "debug" }))
    assert.equal(20, #debug)
  end)

  it("pages back 10 lines before a timestamp and forward 10 after it", function()
    local last = assert(agent.logs:flow(rid, { logLevel = "debug" }))
    local older = assert(agent.logs:flow(rid, { logLevel = "debug", direction = "prev", timestamp = last[1].rows.timestamp }))
    assert.is_true(#older > 0 and #older <= 10)
    for _, l in ipairs(older) do assert.is_true(l.rows.timestamp < last[1].rows.timestamp) end
    local newer = assert(agent.logs:flow(rid, { logLevel = "debug", direction = "next", timestamp = older[1].rows.timestamp }))
    assert.equal(10, #newer)
    assert.is_true(newer[1].rows.timestamp > older[1].rows.timestamp)
    -- a timestamp without a usable direction: 400
    local err = refused(400, agent.logs:flow(rid, { timestamp = last[1].rows.timestamp, direction = "up" }))
    assert.equal("Missing or invalid 'direction' parameter. Use 'prev' or 'next'.", err.body.error)
  end)

  it("each_flow walks the whole log back and forth, each line once", function()
    local back, fwd = {}, {}
    for l in agent.logs:each_flow(rid, { level = "debug" }) do back[#back + 1] = l.rows._id end
    for l in agent.logs:each_flow(rid, { level = "debug", direction = "next" }) do fwd[#fwd + 1] = l.rows._id end
    assert.equal(24, #back) -- 12 messages, an info and a debug line each (the sandbox's stand-in)
    assert.equal(#back, #fwd)
    for i = 1, #back do assert.equal(back[i], fwd[#fwd + 1 - i]) end
  end)

  it("tail gives the last lines, then the new ones, and ends when the log stays quiet", function()
    local before = #assert(agent.logs:flow(rid))
    local seen = {}
    for l in agent.logs:tail(rid, { interval = 50, idle = 400, max_items = 40 }) do
      seen[#seen + 1] = l.rows.text
      if #seen == 2 then assert(agent.messages:send(rid, { text = "late news" })) end
    end
    assert.equal(before + 1, #seen) -- the last lines, then the new one
    assert.truthy(seen[#seen]:find("late news", 1, true))
  end)

  it("needs the agent role, and reads a webhook's log with type=webhook", function()
    local lines = assert(agent.logs:flow(rid, { type = "webhook" }))
    assert.same({}, lines) -- no webhook has this id
  end)
end)

describe("knowledge base (routes/kb.js, routes/unanswered.js, routes/answered.js)", function()
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
  end)

  it("lists namespaces, making the Default one first (its id is the project's)", function()
    local list = assert(admin.namespaces:list())
    assert.equal(1, #list)
    assert.equal("Default", list[1].name)
    assert.equal(PID, list[1].id)
    assert.is_true(list[1].default)
    assert.is_nil(list[1]._id) -- kb.js drops _id and __v
    assert.equal(256, list[1].preview_settings.max_tokens)
    refused(403, agent.namespaces:list()) -- admin, or a bot or subscription token
  end)

  it("creates, renames, counts, exports, imports and deletes a namespace", function()
    admin.namespaces:list()
    local ns = assert(admin.namespaces:create("Policies"))
    assert.is_false(ns.default)
    assert.equal("Policies", ns.name)
    local err = refused(400, admin.namespaces:create("Hybrid", { hybrid = "yes" }))
    assert.equal("Value not accepted for 'hybrid' field. Expected boolean.", err.body.error)
    local upd = assert(admin.namespaces:update(ns.id, { name = "Store policies" }))
    assert.equal("Store policies", upd.name)
    assert(admin.kb:add(ns.id, { type = "text", name = "Returns", source = "returns", content = "30 days to return" }))
    assert(admin.kb:add(ns.id, { type = "faq", name = "Ship?", source = "Ship?", content = "Ship?\nYes" }))
    local counted = by(assert(admin.namespaces:list{ count = true }), "id")
    assert.equal(2, counted[ns.id].count)
    local dump = assert(admin.namespaces:export(ns.id))
    assert.equal("Store policies", dump.name)
    assert.equal(2, #dump.contents)
    local other = assert(admin.namespaces:create("Copy"))
    assert.same({ success = true, message = "Contents imported successfully" }, assert(admin.namespaces:import(other.id, dump)))
    assert.equal(2, assert(admin.kb:list(other.id)).count)
    err = refused(400, admin.namespaces:import(other.id, { name = "no contents" }))
    assert.equal("Imported json must contain the contents array", err.body.error)
    assert.same({ success = true, message = "All contents deleted successfully" },
      assert(admin.namespaces:delete(other.id, { contents_only = true })))
    assert.equal(0, assert(admin.kb:list(other.id)).count)
    assert.same({ success = true, message = "Namespace deleted succesfully" }, assert(admin.namespaces:delete(ns.id)))
    err = refused(403, admin.namespaces:delete(PID)) -- the default one
    assert.equal("Default namespace cannot be deleted", err.body.error)
    refused(404, admin.namespaces:export(ns.id))
  end)

  it("adds contents one at a time or many, lists them with the server's pagination, updates and deletes", function()
    local ns = assert(admin.namespaces:create("Contents"))
    local res = assert(admin.kb:add(ns.id, { type = "url", name = "Home", source = "https://example.com/" }))
    -- findOneAndUpdate with rawResult: { lastErrorObject, value }; status -1 until scheduled
    assert.is_false(res.lastErrorObject.updatedExisting)
    assert.equal(-1, res.value.status)
    assert.equal(2, res.value.scrape_type) -- a url without scrape_type 0 or 4 gets 2
    assert.equal("never", res.value.refresh_rate)
    local again = assert(admin.kb:add(ns.id, { type = "url", name = "Home page", source = "https://example.com/" }))
    assert.is_true(again.lastErrorObject.updatedExisting)
    assert.equal(res.value._id, again.value._id)
    local urls = {}
    for i = 1, 4 do urls[i] = "https://example.com/p" .. i end
    local added = assert(admin.kb:add_urls(ns.id, urls, { tags = { "site" } }))
    assert.equal(4, #added)
    assert.same({ "site" }, added[1].tags)
    local csv = assert(admin.kb:import_csv(ns.id, "Do you ship?;Yes\nCan I return?;Within 30 days\n"))
    assert.equal(2, #csv)
    assert.equal("faq", csv[1].type)
    local page = assert(admin.kb:list(ns.id, { limit = 3 }))
    assert.equal(7, page.count)
    assert.equal(3, #page.kbs)
    assert.equal(3, page.query.limit)
    local ids = {}
    for c in admin.kb:each(ns.id, { limit = 3 }) do ids[#ids + 1] = c._id end
    assert.equal(7, #ids)
    assert.equal(2, assert(admin.kb:list(ns.id, { type = "faq" })).count)
    local got = assert(admin.kb:get(res.value._id))
    assert.equal("Home page", got.name)
    local upd = assert(admin.kb:update(got._id, ns.id, { type = "text", name = "Home", source = "https://example.com/",
      content = "Welcome" }))
    assert.equal("Welcome", upd.content)
    local err = refused(400, admin:put("/kb/" .. got._id, { name = "no namespace" }))
    assert.equal("Missing 'namespace' body parameter", err.body.error)
    assert(admin.kb:delete(upd._id))
    err = refused(404, admin.kb:get(upd._id))
    assert.equal("Content not found with id " .. upd._id .. " for project " .. PID, err.body.error)
    err = refused(400, admin:get("/kb"))
    assert.equal("queryParam 'namespace' is not defined", err.body.error)
    local many = {}
    for i = 1, 301 do many[i] = "https://example.com/m" .. i end
    err = refused(403, admin:post("/kb/multi?namespace=" .. ns.id, { list = many }))
    assert.equal("Too many urls. Can't index more than 300 urls at a time.", err.body.error)
  end)

  it("reads a sitemap, imports it, reports scrape status and re-scrapes a content", function()
    local ns = assert(admin.namespaces:create("Sitemap"))
    local found = assert(admin.kb:sitemap("https://shop.example/sitemap.xml"))
    assert.is_true(#found.sites > 0)
    local added = assert(admin.kb:import_sitemap(ns.id, "https://shop.example/sitemap.xml"))
    -- kb.js: the pages' url contents, then the sitemap content itself
    local sm = added[#added]
    assert.equal("sitemap", sm.type)
    assert.equal(#found.sites + 1, #added)
    assert.equal(sm._id, added[1].sitemap_origin_id)
    local err = refused(403, admin:post("/kb/sitemap/import?namespace=" .. ns.id, { type = "url", source = "x" }))
    assert.equal("Endpoint available for sitemap type only.", err.body.error)
    local st_ = assert(admin.kb:scrape_status(ns.id, added[1]._id))
    assert.is_number(st_.status_code)
    assert.same({ success = true, message = "Content queued for reindexing" },
      assert(admin.kb:scrape{ id = added[1]._id, namespace = ns.id, type = "url", source = added[1].source }))
    -- deleting the sitemap takes its pages with it
    assert(admin.kb:delete(sm._id))
    assert.truthy(eventually(function() return assert(admin.kb:list(ns.id)).count == 0 end))
  end)

  it("asks a namespace and keeps the question as answered or unanswered, with counts and exports", function()
    local ns = assert(admin.namespaces:create("Ask"))
    assert(admin.kb:add(ns.id, { type = "text", name = "Returns", source = "returns",
      content = "Unused items can be returned within 30 days." }))
    local yes = assert(admin.kb:ask(ns.id, "Can unused items be returned?"))
    assert.is_true(yes.success)
    assert.is_string(yes.answer)
    local no = assert(admin.kb:ask(ns.id, "Zebra quantum velocity?"))
    assert.is_false(no.success)
    -- kbQuestionService.trackKbQaResult: success true -> answered, false -> unanswered
    assert.same({ count = 1 }, assert(admin.answered:count(ns.id)))
    assert.same({ count = 1 }, assert(admin.unanswered:count(ns.id)))
    local q = assert(admin.unanswered:add(ns.id, "Do you price match?", { request_id = "r1" }))
    assert.equal("Do you price match?", q.question)
    local page = assert(admin.unanswered:list(ns.id))
    assert.equal(2, page.count)
    assert.equal(20, page.query.limit) -- routes/unanswered.js: 20 by default
    local upd = assert(admin.unanswered:update(q._id, "Do you match prices?"))
    assert.equal("Do you match prices?", upd.question)
    local csv = assert(admin.unanswered:export(ns.id))
    assert.equal("id,namespace,question,request_id,createdAt", csv:match("^[^\n]+"))
    assert.truthy(csv:find("Do you match prices?", 1, true))
    local js = assert(admin.answered:export(ns.id, { mode = "json" }))
    assert.truthy(js:find('"count": 1', 1, true) or js:find('"count":1', 1, true))
    local err = refused(400, admin.answered:export(ns.id, { mode = "xml" }))
    assert.equal("Invalid format. Use mode=json or mode=csv", err.body.error)
    local a = assert(admin.answered:add(ns.id, "Ship abroad?", "Yes"))
    assert.equal(2, assert(admin.answered:list(ns.id)).count)
    assert.same({ success = true, message = "Question deleted successfully" }, assert(admin.answered:delete(a._id)))
    err = refused(404, admin.answered:delete(a._id))
    assert.equal("Question not found", err.body.error)
    assert.same({ success = true, count = 1, message = "All questions deleted successfully" },
      assert(admin.answered:delete_all(ns.id)))
    assert(admin.unanswered:delete(q._id))
    assert.equal(1, assert(admin.unanswered:delete_all(ns.id)).count)
    err = refused(403, admin.unanswered:list("5f0000000000000000000000"))
    assert.equal("Not allowed. The namespace does not belong to the current project.", err.body.error)
    err = refused(404, admin.kb:ask("5f0000000000000000000000", "x"))
    assert.equal("Namespace not found with id 5f0000000000000000000000", err.body.error)
  end)

  it("names the bots whose flows use a namespace, and gives a content's chunks", function()
    local ns = assert(admin.namespaces:create("Used"))
    local bot = assert(admin.bots:create("KB bot", { type = "tilebot" }))
    assert(admin.faqs:create(bot._id, { intent_display_name = "ask", question = "q",
      actions = { { _tdActionType = "askgptv2", namespace = ns.id } } }))
    local list = assert(admin.namespaces:chatbots(ns.id))
    assert.same({ { _id = bot._id, name = "KB bot" } }, list)
    local c = assert(admin.kb:add(ns.id, { type = "text", name = "T", source = "t", content = "some text" })).value
    assert.is_table(assert(admin.namespaces:chunks(ns.id, c._id)))
  end)
end)

describe("data tables (routes/dataTable.js, services/dataTableService.js)", function()
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
  end)

  it("creates a table with a schema, adds, renames and drops columns", function()
    local t = assert(admin.tables:create("orders", { schema = { { name = "order_id", type = "string" },
      { name = "total", type = "number" } } }))
    assert.equal("orders", t.name)
    assert.equal(2, #t.schema)
    assert.matches("^col_", t.schema[1].id)
    assert.same({ rows = 0, sizeBytes = 0 }, t.stats)
    local err = refused(400, admin.tables:create("bad", { schema = { { name = "has space", type = "string" } } }))
    assert.equal("Invalid column at index 0: Column name must contain only letters, numbers and underscore, with no spaces",
      err.body.message)
    err = refused(400, admin.tables:create(" "))
    assert.equal("name is required", err.body.message)
    local t2 = assert(admin.tables:add_column(t._id, "shipped", "boolean"))
    assert.equal(3, #t2.schema)
    err = refused(409, admin.tables:add_column(t._id, "shipped", "boolean"))
    assert.equal("Column name already exists: shipped", err.body.message)
    local t3 = assert(admin.tables:rename_column(t._id, t2.schema[3].id, "sent"))
    assert.equal("sent", t3.schema[3].name)
    local t4 = assert(admin.tables:delete_column(t._id, t3.schema[3].id))
    assert.equal(2, #t4.schema)
    err = refused(404, admin.tables:delete_column(t._id, "col_missing"))
    assert.equal("Column not found", err.body.message)
    local list = assert(admin.tables:list())
    assert.equal(t._id, list[1]._id)
    assert(admin.tables:update(t._id, { name = "orders_2026" }))
    assert.equal("orders_2026", assert(admin.tables:get(t._id)).name)
    refused(403, agent.tables:list()) -- admin, or a bot or subscription token
  end)

  it("inserts, lists with conditions, updates, upserts and deletes rows", function()
    local t = assert(admin.tables:create("stock", { schema = { { name = "sku", type = "string" },
      { name = "qty", type = "number" }, { name = "active", type = "boolean" } } }))
    local r1 = assert(admin.tables:insert(t._id, { sku = "A1", qty = "5" }))
    assert.equal(5, r1.data.qty) -- a number column takes "5" as 5
    assert.equal(tiledesk.null, r1.data.active) -- every column, null when unset
    assert(admin.tables:insert(t._id, { sku = "B2", qty = 50, active = true }))
    assert(admin.tables:insert(t._id, { sku = "C3", qty = 500, active = "false" }))
    local err = refused(400, admin.tables:insert(t._id, { colour = "red" }))
    assert.equal("Column colour does not exist", err.body.message)
    err = refused(400, admin.tables:insert(t._id, { qty = "many" }))
    assert.equal("Invalid value for column qty: expected number", err.body.message)
    local rows = assert(admin.tables:rows(t._id))
    assert.equal(3, #rows)
    assert.equal("C3", rows[1].sku) -- newest first
    local big = assert(admin.tables:rows(t._id, { conditions = { { column = "qty", operator = "greater_than", value = 10 } } }))
    assert.equal(2, #big)
    local any = assert(admin.tables:rows(t._id, { must_match = "any", conditions = {
      { column = "sku", operator = "starts_with", value = "a" }, { column = "active", operator = "equal", value = true } } }))
    assert.equal(2, #any)
    err = refused(400, admin.tables:rows(t._id, { conditions = { { column = "sku", operator = "greater_than", value = "A" } } }))
    assert.equal("Operator greater_than is not supported for string columns", err.body.message)
    local one = assert(admin.tables:update_rows(t._id, { id_row = r1._id, data = { qty = 6 } }))
    assert.equal(6, one.data.qty)
    local several = assert(admin.tables:update_rows(t._id, { conditions = {
      { column = "qty", operator = "greater_or_equal", value = 50 } }, data = { active = false } }))
    assert.equal(2, #several)
    local up = assert(admin.tables:upsert(t._id, { conditions = { { column = "sku", operator = "equal", value = "D4" } },
      data = { sku = "D4", qty = 1 } }))
    assert.equal("D4", up.data.sku)
    assert.equal(4, #assert(admin.tables:rows(t._id)))
    err = refused(409, admin.tables:upsert(t._id, { conditions = { { column = "active", operator = "equal", value = false } },
      data = { qty = 0 } }))
    assert.equal("Multiple rows match the conditions", err.body.message)
    err = refused(400, admin.tables:delete_rows(t._id, {}))
    assert.equal("id_row or conditions is required", err.body.message)
    assert.equal(r1._id, assert(admin.tables:delete_rows(t._id, { id_row = r1._id }))._id)
    err = refused(404, admin.tables:delete_rows(t._id, { id_row = r1._id }))
    assert.equal("Row not found", err.body.error)
    local gone = assert(admin.tables:delete_rows(t._id, { conditions = { { column = "qty", operator = "exists" } } }))
    assert.equal(3, #gone)
    local after = assert(admin.tables:get(t._id))
    assert.equal(0, after.stats.rows)
    assert.same({ success = true, message = "Table deleted successfully" }, assert(admin.tables:delete(t._id)))
    err = refused(404, admin.tables:get(t._id))
    assert.equal("Table not found", err.body.error)
  end)
end)

describe("triggers (pubmodules/trigger/triggerRoute.js, start.js, default.js)", function()
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
  end)

  it("lists the built-in triggers a project starts with", function()
    local list = assert(admin.triggers:list())
    local codes = by(list, "code")
    for _, code in ipairs({ "s_new_conversation_01", "s_online_welcome_01", "s_offline_welcome_01",
      "s_closed_operating_hours_01", "s_invite_bot_01", "s_checkout_page_01", "s_ticketing_taking_01" }) do
      assert.is_table(codes[code], code)
    end
    assert.equal("Online Welcome Greeting", codes.s_online_welcome_01.name)
    assert.is_false(codes.s_checkout_page_01.enabled)
    refused(403, agent.triggers:list())
  end)

  it("creates (enabled), gets, replaces, deletes and resets", function()
    local t = assert(admin.triggers:create{ name = "VIP", trigger = { key = "request.create", name = "Request create event" },
      conditions = { all = { { key = "request.first_text", fact = "json", path = "first_text", operator = "equal",
        value = "vip" } } }, actions = { { key = "message.send", parameters = { text = "Hi VIP" } } } })
    assert.is_true(t.enabled)
    assert.equal(PID, t.id_project)
    assert.equal("VIP", assert(admin.triggers:get(t._id)).name)
    -- PUT sets every field: one left out becomes null (findByIdAndUpdate with the body's fields)
    local upd = assert(admin.triggers:update(t._id, { name = "VIP 2", enabled = false }))
    assert.equal("VIP 2", upd.name)
    assert.is_false(upd.enabled)
    assert.equal(tiledesk.null, upd.actions)
    local del = assert(admin.triggers:delete(t._id))
    assert.equal(t._id, del._id)
    local err = refused(404, admin.triggers:get(t._id))
    assert.equal("Object not found.", err.body.msg)
    local codes = by(assert(admin.triggers:list()), "code")
    assert(admin.triggers:update(codes.s_online_welcome_01._id, { name = "Changed" }))
    local reset = assert(admin.triggers:reset("s_online_welcome_01"))
    assert.equal("Online Welcome Greeting", reset.name)
    assert.equal(3, reset.version)
    local n = 0
    for tr in admin.triggers:each() do
      if tr.code == "s_online_welcome_01" then n = n + 1 end
    end
    assert.equal(1, n)
  end)
end)

describe("widget boot data and the current waiting time (routes/widget.js, routes/public-analytics.js)", function()
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
  end)

  it("answers without credentials: project, available agents, departments, ip, bots' rules", function()
    local anon = tiledesk.new{ base_url = st.http_url, project_id = PID, on_request = record }
    local boot = assert(anon.widgets:get())
    assert.equal(PID, boot.project._id)
    assert.is_nil(boot.project.jwtSecret)
    assert.is_table(boot.user_available)
    assert.is_true(#boot.departments > 0)
    for _, d in ipairs(boot.departments) do assert.equal(1, d.status) end
    assert.is_string(boot.ip)
    assert.is_table(boot.botsRules)
    local waiting = assert(anon.widgets:waiting_time())
    assert.is_table(waiting)
    if waiting[1] then assert.equal(PID, waiting[1]._id) end
  end)
end)

describe("webhook dev mode (routes/webhooks.js preload, routes/webhook.js /:webhook_id/dev)", function()
  setup(function()
    helper.reset()
    admin, agent = as("admin"), as("agent")
  end)

  it("runs the draft flow only while dev mode is on, logging under the preloaded request id", function()
    local bot = assert(admin.bots:create("Dev bot", { type = "tilebot" }))
    local hook = assert(admin.webhooks:create(bot._id, { block_id = "b1" }))
    local err = refused(422, admin.webhooks:run_dev(hook.webhook_id, { a = 1 }))
    assert.equal("Development webhook is currently turned off", err.body.message)
    assert.equal(13001, err.body.code)
    local dev = assert(admin.webhooks:preload(hook.webhook_id))
    assert.is_true(dev.success)
    assert.equal("automation-request-" .. PID .. "-", dev.request_id:sub(1, #PID + 20))
    assert(admin.webhooks:run_dev(hook.webhook_id, { a = 1 }))
    local lines = assert(agent.logs:flow(hook.webhook_id, { type = "webhook", logLevel = "debug" }))
    assert.is_true(#lines > 0)
    assert.equal(dev.request_id, lines[1].request_id)
    assert.same({ success = true, message = "Development webhook stopped" }, assert(admin.webhooks:stop_dev(hook.webhook_id)))
    refused(422, admin.webhooks:run_dev(hook.webhook_id))
    refused(404, admin.webhooks:run_dev("nosuchwebhook"))
    refused(403, agent.webhooks:preload(hook.webhook_id))
  end)
end)

describe("email recipients (routes/email.js, utils/recipientEmailUtil.js)", function()
  it("queues mail to an address, to the owners and admins (@...) and to a group by name", function()
    helper.reset()
    admin = as("admin")
    local group = assert(admin.groups:create("Escalations", { members = { st.users.agent._id } }))
    for _, to in ipairs({ "ann@example.com", "ann@example.com, bob@example.com", "@admins", group.name }) do
      assert.same({ queued = true }, assert(admin.emails:send(to, "text", { subject = "s" })), to)
    end
  end)
end)

describe("this file", function()
  it("called every route of these areas", function()
    local areas = { logs = true, namespaces = true, kb = true, unanswered = true, answered = true, tables = true,
      triggers = true, widgets = true }
    local extra = { ["bots.import"] = true, ["faqs.ops_update"] = true, ["faqs.upload_csv"] = true,
      ["webhooks.preload"] = true, ["webhooks.stop_dev"] = true, ["webhooks.run_dev"] = true }
    local missing, n = {}, 0
    for _, r in ipairs(routes.list) do
      if areas[r.res] or extra[r.res .. "." .. r.name] then
        n = n + 1
        local op = r.op
        if r.skip then
          local res, name = r.call:match("^client%.([%w_]+):([%w_]+)%(")
          op = res .. ":" .. name .. "()"
        end
        if not calls[op] then missing[#missing + 1] = op end
      end
    end
    assert.is_true(n > 40)
    assert.same({}, missing)
  end)
end)
