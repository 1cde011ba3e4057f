-- The recipes of the README (examples/*.lua) run as their users run them, against the sandbox:
-- a child interpreter, the sandbox's state file, the exit status and the data they change or
-- write checked with the SDK.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local csv = require("tiledesk.csv")

local st = helper.sandbox()

local ROOT = helper.abs_root
local STATE = (os.getenv("TD_SANDBOX_DIR") or (ROOT .. ".sandbox")) .. "/state.json"

local q = helper.shell_quote
local slurp = helper.take_file

local INTERP = helper.interpreter_path()

-- Runs examples/<script> --state STATE <args>; returns status, stdout, stderr.
local function run(script, args)
  local out, err, code = os.tmpname(), os.tmpname(), os.tmpname()
  os.execute(string.format("cd %s && env -u LUA_PATH -u LUA_CPATH %s %s --state %s %s >%s 2>%s; echo $? >%s", q(ROOT),
    q(INTERP), q(ROOT .. "examples/" .. script), q(STATE), args or "", q(out), q(err), q(code)))
  return tonumber((slurp(code):match("%d+"))), slurp(out), slurp(err)
end

local function client(role)
  local u = st.users[role or "admin"]
  return tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = u.email, password = u.password }
end

describe("recipes", function()
  before_each(helper.reset)
  teardown(helper.reset)

  it("export_closed_last_week writes each closed conversation of the week with its transcript", function()
    local c = client()
    local want = {}
    for conv in c.requests:each{ status = 1000, start_date = os.time() - 7 * 86400, filterRangeField = "closed_at" } do
      want[conv.request_id] = conv
    end
    assert.truthy(next(want), "the sandbox has no conversation closed this week")
    local path = os.tmpname()
    local code, out, err = run("export_closed_last_week.lua", "--out " .. q(path))
    assert.equal(0, code, err)
    local got, n = {}, 0
    for rec in csv.records(io.open(path, "rb")) do
      n = n + 1
      got[rec.request_id] = true
      assert.truthy(want[rec.request_id], rec.request_id .. " was not closed this week")
      local lines = 0
      for _ in (rec.transcript .. "\n"):gmatch("%[[^\n]*\n") do lines = lines + 1 end
      assert.equal(tonumber(rec.messages), lines)
      assert.is_true(lines > 0)
    end
    for id in pairs(helper.nonempty(want)) do assert.truthy(got[id], id .. " is missing") end
    assert.matches("^" .. n .. " conversations closed in the last 7 days written to ", out)
    c:close()
    os.remove(path)
  end)

  it("assign_fewest_open gives each unassigned conversation of the department to the least loaded agent", function()
    local c = client()
    local agents = {}
    for m in c.team:each() do
      if m.role == "agent" and m.user_available then agents[m.id_user._id] = 0 end
    end
    local billing
    for d in c.departments:each() do if d.name == "Billing" then billing = d._id end end
    local waiting = {}
    for conv in c.requests:each{ status = 100 } do
      if conv.department and conv.department._id == billing then waiting[#waiting + 1] = conv.request_id end
    end
    assert.is_true(#waiting > 0)
    local code, out, err = run("assign_fewest_open.lua", "--dept Billing --apply")
    assert.equal(0, code, err)
    local _, lines = out:gsub(" %-> ", "")
    assert.equal(#waiting, lines)
    local receivers = {}
    for id in pairs(agents) do receivers[id] = false end
    for _, rid in ipairs(waiting) do
      local conv = assert(c.requests:get(rid))
      assert.equal(200, conv.status)
      assert.equal(1, #conv.participants)
      assert.is_not_nil(agents[conv.participants[1]], "given to no available agent")
      receivers[conv.participants[1]] = true
    end
    for conv in c.requests:each{ status = 200 } do
      for _, p in ipairs(conv.participants or {}) do
        if agents[p] then agents[p] = agents[p] + 1 end
      end
    end
    -- water-filling: whoever received one ends at most one above the least loaded agent
    local least = math.huge
    for _, n in pairs(agents) do least = math.min(least, n) end
    for id, got in pairs(helper.nonempty(receivers)) do
      if got then assert.is_true(agents[id] <= least + 1, id .. " has " .. agents[id] .. ", the least " .. least) end
    end
    c:close()
  end)

  it("import_leads is idempotent: a rerun changes nothing, a changed row updates one lead", function()
    local path = os.tmpname()
    helper.write_file(path, "\239\187\191email,fullname,company,plan\r\nrecipe.ann@example.com,Ann Lee,Acme,pro\r\n"
      .. "recipe.bob@example.com,\"Lee, Bob\",,\"free\"\r\n")
    local code, out, err = run("import_leads.lua", "--csv " .. q(path))
    assert.equal(0, code, err)
    assert.equal("2 created, 0 updated, 0 unchanged\n", out)
    assert.truthy(err:find("2/2 leads", 1, true))
    code, out = run("import_leads.lua", "--csv " .. q(path))
    assert.equal(0, code)
    assert.equal("0 created, 0 updated, 2 unchanged\n", out)
    helper.write_file(path, "email,plan\nrecipe.bob@example.com,pro\n")
    code, out = run("import_leads.lua", "--csv " .. q(path))
    assert.equal(0, code)
    assert.equal("0 created, 1 updated, 0 unchanged\n", out)
    local c = client()
    local bob = assert(c.leads:find_by_email("recipe.bob@example.com"))
    assert.equal("Lee, Bob", bob.fullname)
    assert.equal("pro", bob.attributes.plan)
    c:close()
    os.remove(path)
  end)

  it("first_response_times credits the first teammate who answers, per day", function()
    local guest = assert(tiledesk.signin_anonymously{ base_url = st.http_url, project_id = st.project_id })
    local conv = assert(guest.requests:start{ text = "Recipe: is anyone there?" })
    local agent = client("agent")
    assert(agent.messages:send_text(conv.request_id, "Yes, how can I help?"))
    local day = conv.createdAt:sub(1, 10)
    local function per_agent()
      local code, out, err = run("first_response_times.lua", "--day " .. day .. " --json")
      assert.equal(0, code, err)
      local t = {}
      for line in out:gmatch("[^\n]+") do
        local r = assert(tiledesk.json_decode(line))
        t[r.agent] = r
      end
      return t
    end
    local rows = per_agent()
    local mine = rows[st.users.agent.email]
    assert.is_table(mine)
    assert.is_true(mine.conversations >= 1)
    assert.is_true(mine.median_s >= 0 and mine.mean_s >= 0)
    -- one more answered conversation counts once more
    local conv2 = assert(guest.requests:start{ text = "Recipe: and now?" })
    assert(agent.messages:send_text(conv2.request_id, "Still here."))
    assert.equal(mine.conversations + (conv2.createdAt:sub(1, 10) == day and 1 or 0),
      per_agent()[st.users.agent.email].conversations)
    guest:close()
    agent:close()
  end)

  -- The minimal bot of the README's recipes: examples/faq_bot.lua, one file of intents, run here by
  -- tiledesk.bot in a plain script (the curl transport) on deliveries as the server sends them to
  -- an external bot; spec/core/bot_demo_spec.lua serves the same file in nginx (./dev bot-demo).
  it("faq_bot, a minimal bot, answers from its intents and hands off to a human", function()
    local bot = require("tiledesk.bot")
    local faq = assert(bot.load(ROOT .. "examples/faq_bot.lua"))
    local admin = client()
    local b = assert(admin.bots:create("Recipe FAQ bot", { type = "external", url = "http://127.0.0.1:9/nobody" }))
    local d = assert(admin.departments:create{ name = "Recipe FAQ bot department", id_bot = b._id, routing = "assigned" })
    local guest = assert(tiledesk.signin_anonymously{ base_url = st.http_url, project_id = st.project_id, firstname = "Rita" })
    local conv = assert(guest.requests:start{ text = "How much does it cost?", departmentid = d._id })
    local rid = conv.request_id
    local token = assert(admin.bots:token(b._id)).jwt
    local function deliver(text, attributes)
      local body = tiledesk.json_encode{ timestamp = os.time() * 1000, token = token, hook = { _id = b._id, name = "Recipe FAQ bot" },
        payload = { _id = "recipe-" .. text:gsub("%W", ""), sender = "visitor", text = text, attributes = attributes,
          recipient = rid, id_project = st.project_id, request = { request_id = rid, id_project = st.project_id } } }
      local ctx = assert(bot.context(body, { base_url = st.http_url, verify_token = true }))
      local report, msg = bot.handle(faq, ctx)
      ctx.finish()
      return assert(report, msg)
    end
    local function intent(name)
      for _, it in ipairs(faq.intents) do if it.name == name then return it end end
    end
    local function bot_texts()
      local out = {}
      for _, m in ipairs(assert(admin.messages:list(rid))) do
        if m.sender == "bot_" .. b._id or m.sender == b._id then out[#out + 1] = m.text end
      end
      return out
    end

    local report = deliver("How much does it cost?")
    assert.equal("prices", report.intent)
    local texts = bot_texts()
    assert.equal(1, #texts)
    assert.equal(intent("prices").reply:match("^[^\n]+"), texts[1]:match("^[^\n]+"))
    local before = assert(admin.requests:get(rid))
    assert.equal("prices", before.attributes.faq_topic)
    assert.truthy(table.concat(before.participants, " "):find("bot_" .. b._id, 1, true), "the department routed to the bot")

    report = deliver("Talk to a human", { action = "human" })
    assert.equal("human", report.intent)
    texts = bot_texts()
    assert.equal(intent("human").reply, texts[2])
    local participants = assert(admin.requests:get(rid)).participants
    assert.is_true(#participants > 0)
    for _, p in ipairs(participants) do assert.is_nil(p:match("^bot_"), "the bot handed the conversation off") end
    guest:close()
    admin:close()
  end)
end)
