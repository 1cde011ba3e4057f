-- The conversation list keeps the text of each conversation's populated view while nothing
-- writes (sbx.store.generation, json.keep): a page answered again is the same bytes, and every
-- write to a record the view populates (the conversation, its requester and the requester's
-- user, lead, department, agents, bots, tags, notes, participants, status), a reset and a
-- write under a fault all show in the next page.
local helper = require("spec.helper")
local cjson = require("cjson")

local st = helper.sandbox()
local api = helper.api

local PAGE = "/requests?limit=5&status=all"

-- The page's text, as the owner sees it.
local function page_text(query)
  local status, _, _, text = api("owner", "GET", query or PAGE)
  assert.equal(200, status, text)
  return text
end

-- The page's text, twice in a row: the second answer (kept text) must be the first's bytes.
local function page()
  local first = page_text()
  assert.equal(first, page_text())
  return first, cjson.decode(first).requests
end

-- PUT /users (the caller's own profile; no project in the path) as `who`
local function put_me(who, body)
  return (helper.http_json("PUT", st.http_url .. "/users", body, helper.auth(who)))
end

local function dept_named(name)
  local status, list = api("owner", "GET", "/departments/allstatus")
  assert.equal(200, status)
  assert.is_true(#list > 0)
  for _, d in ipairs(list) do
    if d.name == name then return d end
  end
  error("no department " .. name)
end

-- A new conversation (the newest: first on the page) with the agent among its participants.
local function newest(extra)
  local body = { first_text = "kept text check", participants = { st.users.agent._id } }
  for k, v in pairs(extra or {}) do body[k] = v end
  local status, r = api("owner", "POST", "/requests", body)
  assert.equal(200, status)
  return r
end

-- Runs write(), then checks that the page changed and that `seen(first item)` holds.
local function shows(write, seen)
  local before = page()
  write()
  local after, items = page()
  assert.are_not.equal(before, after)
  assert.is_true(#items > 0)
  assert.is_true(seen(items[1]), after:sub(1, 400))
end

describe("sandbox conversation list, kept text", function()
  before_each(helper.reset)
  after_each(function()
    helper.control("DELETE", "/faults")
    helper.reset()
  end)

  it("starts every timer through store.timer_at, which counts its callback as a writer", function()
    local files = io.popen("find " .. helper.shell_quote(helper.root .. "sandbox/lua") .. " -name '*.lua'")
    local n = 0
    for path in files:lines() do
      n = n + 1
      if not path:match("/sbx/store%.lua$") then
        assert.is_nil(helper.read_file(path):find("ngx.timer.at(", 1, true), path)
      end
    end
    files:close()
    assert.is_true(n > 10)
  end)

  it("answers a page again with the same bytes, for every page and member", function()
    for _, q in ipairs({ PAGE, "/requests", "/requests?limit=7&status=all&page=3",
      "/requests?status=all&sort=updatedAt&direction=1&limit=9", "/requests?status=100,200&limit=20&page=1" }) do
      local a = page_text(q)
      assert.equal(a, page_text(q))
      assert.is_true(#cjson.decode(a).requests > 0, q)
    end
    local status, _, _, a = api("agent", "GET", PAGE)
    assert.equal(200, status)
    local _, _, _, b = api("agent", "GET", PAGE)
    assert.equal(a, b)
  end)

  it("shows a change of the conversation itself (PATCH, tags, notes, participants, close)", function()
    local r = newest()
    local rid = r.request_id
    shows(function() assert.equal(200, (api("owner", "PATCH", "/requests/" .. rid, { priority = "high", subject = "Kept" }))) end,
      function(x) return x.request_id == rid and x.priority == "high" and x.subject == "Kept" end)
    shows(function() assert.equal(200, (api("owner", "PUT", "/requests/" .. rid .. "/tag", { { tag = "kept", color = "#000" } }))) end,
      function(x) return #x.tags == 1 and x.tags[1].tag == "kept" end)
    shows(function() assert.equal(200, (api("owner", "POST", "/requests/" .. rid .. "/notes", { text = "a kept note" }))) end,
      function(x) return #x.notes == 1 and x.notes[1].text == "a kept note" end)
    shows(function()
      assert.equal(200, (api("owner", "POST", "/requests/" .. rid .. "/participants", { member = st.users.admin._id })))
    end, function(x) return #x.participatingAgents == 2 and x.participatingAgents[2]._id == st.users.admin._id end)
    shows(function() assert.equal(200, (api("owner", "PUT", "/requests/" .. rid .. "/close"))) end,
      function(x) return x.status == 1000 end)
  end)

  it("shows a change of each populated record: requester, its user, lead, department, agent, bot", function()
    local support = dept_named("Billing")
    local r = newest{ departmentid = support._id }
    assert.equal(support._id, r.department._id)
    shows(function() assert.equal(200, (api("owner", "PUT", "/project_users", { user_available = false }))) end,
      function(x) return x.requester.user_available == false end)
    shows(function() assert.equal(200, put_me("owner", { firstname = "Kept" })) end,
      function(x) return x.requester.id_user.firstname == "Kept" end)
    shows(function() assert.equal(200, (api("owner", "PUT", "/leads/" .. r.lead._id, { fullname = "Kept Lead" }))) end,
      function(x) return x.lead.fullname == "Kept Lead" end)
    shows(function() assert.equal(200, (api("owner", "PUT", "/departments/" .. support._id, { name = "Kept Dept" }))) end,
      function(x) return x.department.name == "Kept Dept" end)
    shows(function() assert.equal(200, put_me("agent", { lastname = "Kept" })) end,
      function(x) return x.participatingAgents[1].lastname == "Kept" and x.participatingAgents[1].fullName:match("Kept$") ~= nil end)
    local bot_id = st.bot._id
    shows(function()
      assert.equal(200, (api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", { id = bot_id })))
    end, function(x) return #x.participatingBots == 1 and x.participatingBots[1]._id == bot_id end)
    shows(function() assert.equal(200, (api("owner", "PUT", "/faq_kb/" .. bot_id, { name = "Kept Bot" }))) end,
      function(x) return x.participatingBots[1].name == "Kept Bot" end)
  end)

  it("counts a new conversation and loses a deleted one, for each member's view and a search", function()
    local function list(who, q)
      local status, b, _, text = api(who, "GET", q or PAGE)
      assert.equal(200, status, text)
      local _, again, _, text2 = api(who, "GET", q or PAGE)
      assert.equal(text, text2)
      return b, again
    end
    local owner_n, agent_n = list("owner").count, list("agent").count
    local r = newest()
    local b = list("owner")
    assert.equal(owner_n + 1, b.count)
    assert.equal(r.request_id, b.requests[1].request_id)
    local a = list("agent")
    assert.equal(agent_n + 1, a.count)
    assert.equal(r.request_id, a.requests[1].request_id)
    -- a search finds it once its subject holds the word, with its score
    local search = "/requests?status=all&full_text=zebracorn&limit=5"
    assert.equal(0, list("owner", search).count)
    assert.equal(200, (api("owner", "PATCH", "/requests/" .. r.request_id, { subject = "zebracorn" })))
    local found = list("owner", search)
    assert.equal(1, found.count)
    assert.equal(r.request_id, found.requests[1].request_id)
    assert.is_number(found.requests[1].score)
    assert.equal(200, (api("owner", "DELETE", "/requests/" .. r.request_id)))
    assert.equal(owner_n, list("owner").count)
    assert.equal(agent_n, list("agent").count)
    assert.are_not.equal(r.request_id, list("owner").requests[1].request_id)
    assert.equal(0, list("owner", search).count)
  end)

  it("shows a new conversation, a reset, and a write made under a fault", function()
    local seeded = page()
    local r
    shows(function() r = newest() end, function(x) return x.request_id == r.request_id end)
    -- a fault that answers instead of the route writes nothing: the page stays the same bytes
    helper.fault("^/[%x]+/requests/[^/]+$", { type = "status", status = 500 }, 1, "PATCH")
    local before = page()
    assert.equal(500, (api("owner", "PATCH", "/requests/" .. r.request_id, { priority = "low" })))
    assert.equal(before, page())
    -- one that cuts the real answer short: the write is done, and shows
    helper.fault("^/[%x]+/requests/[^/]+$", { type = "truncate" }, 1, "PATCH")
    shows(function() api("owner", "PATCH", "/requests/" .. r.request_id, { priority = "low" }) end,
      function(x) return x.request_id == r.request_id and x.priority == "low" end)
    helper.reset()
    local after_reset = cjson.decode((page())).requests
    assert.same(cjson.decode(seeded).requests[1].request_id, after_reset[1].request_id)
  end)
end)
