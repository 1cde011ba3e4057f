-- Every resource method against the fake transport: method, path, query and body sent;
-- argument errors; named actions; pagination edge cases; docs/coverage.md in step.
local helper = require("spec.helper")
local routes = require("tiledesk.routes")

local PID = helper.PID

local new = helper.fake_client

local decode_query = helper.query_of

describe("route table", function()
  it("names every route once, with a method, a path and a doc", function()
    local seen = {}
    for _, r in ipairs(helper.nonempty(routes.list)) do
      local key = r.res .. "." .. r.name
      assert.is_nil(seen[key], "duplicate " .. key)
      seen[key] = true
      assert.matches("^[A-Z]+$", r.method)
      assert.matches("^/", r.path)
      assert.is_string(r.doc, key)
      local _, holes = r.path:gsub("{}", "")
      assert.equal(holes, #(r.params or {}), key .. ": params and {} differ")
    end
  end)

  it("is what docs/coverage.md says (run ./dev coverage after changing it)", function()
    local p = io.popen("cd '" .. helper.root .. "' && lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path' tools/coverage.lua")
    local generated = p:read("*a")
    p:close()
    local committed = helper.read_file(helper.root .. "docs/coverage.md")
    assert.is_true(#generated > 1000)
    assert.equal(committed, generated)
  end)

  it("covers every resource the issue names", function()
    for _, name in ipairs({ "users", "projects", "requests", "messages", "leads", "activities", "team", "departments",
      "groups", "bots", "faqs", "canned", "tags", "subscriptions", "events", "keys", "analytics" }) do
      assert.truthy(routes.by_resource[name], name)
      assert.truthy(helper.read_file(helper.root .. "lua/tiledesk/resources/" .. name .. ".lua"), name)
    end
  end)
end)

describe("generated methods", function()
  for _, r in ipairs(helper.nonempty(routes.list)) do
    -- a route whose method is written by hand (skip, or replaced in M.methods) has a named-action spec
    local by_hand = r.skip or (routes.modules[r.res].methods or {})[r.name]
    if not by_hand then it(r.op .. " sends " .. r.method .. " " .. r.path, function()
      local c, fake = new()
      fake:queue(200, r.raw and "a;b\n" or {}, r.raw and { ["content-type"] = "text/csv" } or nil)
      local args, expect_path = {}, r.path
      for i in ipairs(r.params or {}) do
        args[#args + 1] = "id " .. i .. "/x"
      end
      local n = 0
      expect_path = expect_path:gsub("{}", function()
        n = n + 1
        return "id%20" .. n .. "%2Fx"
      end)
      local fields = {}
      for i, f in ipairs(r.fields or {}) do
        local name = f:gsub("%?$", "")
        args[#args + 1] = "v" .. i
        fields[name] = "v" .. i
      end
      local extra
      if r.body == "array" then extra = { "m1", "m2" }
      elseif r.body == "object" or r.body == "required" then extra = { extra_key = "x" }
      elseif r.filters and (r.method == "GET" or r.method == "DELETE") then
        extra = { raw_query = { q1 = "y" } } -- routes that check their filters pass others this way
      else extra = { q1 = "y" } end
      args[#args + 1] = extra
      local res = c[r.res][r.name](c[r.res], (table.unpack or unpack)(args))
      assert.truthy(res)
      local sent = fake:last()
      assert.equal(r.method, sent.method)
      local base = "https://api.test/v3" .. (r.scope == "global" and "" or ("/" .. PID))
      assert.equal(base .. expect_path, sent.url:match("^[^?]*"))
      if r.auth == "none" then assert.equal("none", sent.auth) end
      local q = decode_query(sent.url)
      if r.body == "array" then
        assert.same({ "m1", "m2" }, sent.json)
      elseif r.body == "object" or r.body == "required" then
        local want = { extra_key = "x" }
        for k, v in pairs(fields) do want[k] = v end
        for k, v in pairs(r.with or {}) do want[k] = v end
        assert.same(want, sent.json)
      elseif r.method == "GET" or r.method == "DELETE" then
        assert.equal("y", q.q1)
        -- a route's fields and `with` may be empty (most have none): the loop over every route is the checked one
        for k, v in pairs(fields) do assert.equal(v, q[k]) end
        for k, v in pairs(r.with or {}) do assert.equal(tostring(v), q[k]) end
        assert.is_nil(sent.body)
      elseif next(fields) ~= nil then
        -- a write with fields: they and the extra table make the body, nothing goes in the query
        local want = { q1 = "y" }
        for k, v in pairs(fields) do want[k] = v end
        for k, v in pairs(r.with or {}) do want[k] = v end
        assert.same(want, sent.json)
        assert.is_nil(sent.url:find("?", 1, true))
      else
        assert.equal("y", q.q1)
        assert.is_nil(sent.body)
      end
    end) end
  end

  it("raise on missing or wrongly typed ids, naming the method and the argument", function()
    local c = new()
    assert.has_error(function() c.requests:get() end, "requests:get(): bad argument #1 'request_id' (string expected, got nil)")
    assert.has_error(function() c.requests:get({}) end, "requests:get(): bad argument #1 'request_id' (must be a string or an integer (got table))")
    assert.has_error(function() c.requests:get("") end, "requests:get(): bad argument #1 'request_id' (must not be empty)")
    assert.has_error(function() c.requests:add_note("r1") end, "requests:add_note(): bad argument #2 'text' (a value expected, got nil)")
    assert.has_error(function() c.requests:set_participants("r1", { a = 1 }) end,
      "requests:set_participants(): bad argument #2 'list' (array expected, got table)")
    assert.has_error(function() c.requests:update("r1") end, "requests:update(): bad argument #2 'body' (table expected, got nil)")
    assert.has_error(function() c.leads:list("x") end, "leads:list(): bad argument #1 'query' (table expected, got string)")
    assert.has_error(function() c.leads:get("a", {}, "extra") end, "leads:get(): too many arguments (3 given, at most 2)")
    assert.has_error(function() c.requests.get("r1") end, "requests:get(): call it with a colon (client.requests:get(...))")
  end)

  it("send an empty array as []", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.requests:set_participants("r1", {}))
    assert.equal("[]", fake:last().body)
  end)

  it("default the project id of projects:get()", function()
    local c, fake = new()
    fake:queue(200, { _id = PID })
    assert(c.projects:get())
    assert.equal("https://api.test/v3/projects/" .. PID, fake:last().url)
  end)
end)

describe("named actions", function()
  it("requests:start makes a server-format id and sends the first message", function()
    local c, fake = new()
    fake:queue(200, { _id = "m1", text = "hi", request = { request_id = "rid", status = 200 } })
    local conv, msg = assert(c.requests:start{ text = "hi", departmentid = "d1", attributes = { a = 1 } })
    assert.equal("rid", conv.request_id)
    assert.equal("m1", msg._id)
    local sent = fake:last()
    assert.equal("POST", sent.method)
    local rid = sent.url:match("/requests/([^/]+)/messages$")
    assert.matches("^support%-group%-" .. PID .. "%-%x+$", rid)
    assert.equal(32, #rid:match("%-(%x+)$"))
    assert.same({ text = "hi", departmentid = "d1", attributes = { a = 1 } }, sent.json)
    assert.has_error(function() c.requests:start{} end, "requests:start(): 'text' is required")
    assert.has_error(function() c.requests:start("hi") end, "requests:start(): bad argument #1 (table expected, got string)")
  end)

  it("requests:add_tags accepts strings and {tag=, color=}", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c.requests:add_tags("r 1", { "vip", { tag = "bug", color = "#f00" } }))
    assert.equal("PUT", fake:last().method)
    assert.equal("https://api.test/v3/" .. PID .. "/requests/r%201/tag", fake:last().url)
    assert.same({ { tag = "vip" }, { tag = "bug", color = "#f00" } }, fake:last().json)
    assert.has_error(function() c.requests:add_tags("r1", {}) end, "requests:add_tags(): no tags given")
    assert.has_error(function() c.requests:add_tags("r1", { 5 }) end, "requests:add_tags(): tag #1 must be a string or {tag=, color=}")
  end)

  it("messages:send_as_bot / send_as_agent / send_info / send_file shape the message", function()
    local c, fake = new()
    for _ = 1, 5 do fake:queue(200, {}) end
    c.messages:send_as_bot("r1", { _id = "b1", name = "Bot" }, "hello")
    assert.same({ text = "hello", sender = "bot_b1", senderFullname = "Bot" }, fake:last().json)
    c.messages:send_as_agent("r1", { _id = "u1", firstname = "Al", lastname = "Ice" }, "hey", { attributes = { x = 1 } })
    assert.same({ text = "hey", sender = "u1", senderFullname = "Al Ice", attributes = { x = 1 } }, fake:last().json)
    c.messages:send_info("r1", "joined")
    assert.same({ text = "joined", attributes = { subtype = "info" } }, fake:last().json)
    fake:queue(200, {})
    local attrs = { ticket = 7 }
    c.messages:send_hidden("r1", "escalated", { attributes = attrs })
    assert.same({ text = "escalated", attributes = { subtype = "info/support", ticket = 7 } }, fake:last().json)
    assert.same({ ticket = 7 }, attrs)
    c.messages:send_file("r1", { src = "https://x/y.png", type = "image/png", width = 10, height = 20 })
    local j = fake:last().json
    assert.equal("image", j.type)
    assert.same({ src = "https://x/y.png", type = "image/png", width = 10, height = 20 }, j.metadata)
    c.messages:send_as_user("r1", { id = "lead-1", fullname = "Ann", email = "a@x" }, "hi")
    assert.same({ text = "hi", sender = "lead-1", senderFullname = "Ann", email = "a@x" }, fake:last().json)
    assert.has_error(function() c.messages:send_as_bot("r1", nil, "x") end, "messages:send_as_bot(): bad argument #2 'bot' (bot id expected)")
    assert.has_error(function() c.messages:send_file("r1", "x") end,
      "messages:send_file(): bad argument #2 'file' ({ src = url, ... } or { content = bytes, name = } expected)")
  end)

  it("team:set_availability targets me or a teammate", function()
    local c, fake = new()
    fake:queue(200, {})
    fake:queue(200, {})
    c.team:set_availability(false)
    assert.equal("PUT", fake:last().method)
    assert.equal("https://api.test/v3/" .. PID .. "/project_users", fake:last().url)
    assert.same({ user_available = false }, fake:last().json)
    c.team:set_availability(true, "pu1")
  end)

  it("analytics:report reaches every report of the route table, and only those", function()
    local c, fake = new()
    local n = 0
    for _, r in ipairs(helper.nonempty(routes.by_resource.analytics)) do
      if r.skip then
        n = n + 1
        local name = r.path:match("^/analytics/(.*)$")
        fake:queue(200, {})
        assert(c.analytics:report(name, { raw_query = { lastdays = 7 } }))
        assert.equal("GET", fake:last().method)
      end
    end
    assert.equal(#c.analytics.REPORTS, n)
    assert.has_error(function() c.analytics:report("../../users") end,
      "analytics:report(): bad argument #1 'name' (one of analytics REPORTS expected, got ../../users)")
    assert.has_error(function() c.analytics:report("requests/aggregate/day", "x") end, "analytics:report(): bad argument #2 'query' (table expected)")
  end)

  it("leads:find_by_email gives the lead or false", function()
    local c, fake = new()
    fake:queue(200, { perPage = 1, count = 1, leads = { { _id = "l1" } } })
    assert.same({ _id = "l1" }, c.leads:find_by_email("a@x"))
    fake:queue(200, { perPage = 1, count = 0, leads = {} })
    assert.is_false(c.leads:find_by_email("b@x"))
  end)
end)
