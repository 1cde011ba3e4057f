-- The example scripts (examples/*.lua) run as their users run them: lua5.4 in a child
-- process against the sandbox's state file, stdout and stderr captured apart, the exit
-- status checked. The data they change is checked with the SDK.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()
local PID = st.project_id

local ROOT = helper.abs_root
local STATE = (os.getenv("TD_SANDBOX_DIR") or (ROOT .. ".sandbox")) .. "/state.json"
local SCRIPTS = { "demo.lua", "close_idle.lua", "export_conversations.lua", "sync_leads.lua", "bot_deploy.lua" }

local control = helper.control

local q = helper.shell_quote

local slurp = helper.take_file

-- Runs examples/<script> with the argument string args (already quoted); returns
-- exit status, stdout, stderr. with_state = false leaves out --state.
local function run(script, args, with_state)
  local out, err, code = os.tmpname(), os.tmpname(), os.tmpname()
  local cmd = string.format("cd %s && LUA_PATH=%s LUA_CPATH=%s lua5.4 %s %s %s >%s 2>%s; echo $? >%s",
    q(ROOT), q(ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;;"), q(ROOT .. "build/?.so;;"),
    q(ROOT .. "examples/" .. script), with_state == false and "" or ("--state " .. q(STATE)), args or "",
    q(out), q(err), q(code))
  os.execute(cmd)
  local status = tonumber((slurp(code):match("%d+")))
  return status, slurp(out), slurp(err)
end

local function client(role)
  local u = st.users[role or "owner"]
  return tiledesk.new{ base_url = st.http_url, project_id = PID, email = u.email, password = u.password, retries = 0 }
end

local function write_tmp(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- RFC 4180 records of a CSV text (quoted fields may hold commas, "" and line breaks)
local function csv_rows(text)
  local rows, row, field = {}, {}, {}
  local i, n, quoted = 1, #text, false
  while i <= n do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' and text:sub(i + 1, i + 1) == '"' then
        field[#field + 1] = '"'
        i = i + 1
      elseif c == '"' then
        quoted = false
      else
        field[#field + 1] = c
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      row[#row + 1] = table.concat(field)
      field = {}
    elseif c == "\n" then
      row[#row + 1] = table.concat(field)
      rows[#rows + 1] = row
      row, field = {}, {}
    elseif c ~= "\r" then
      field[#field + 1] = c
    end
    i = i + 1
  end
  assert.is_false(quoted, "a quoted field never closed")
  if #field > 0 or #row > 0 then
    row[#row + 1] = table.concat(field)
    rows[#rows + 1] = row
  end
  return rows
end

-- ISO 8601 UTC -> epoch seconds (no local time zone involved)
local function epoch(iso)
  local y, m, d, h, mi, s = tostring(iso):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
  assert.is_string(y, "not an ISO date: " .. tostring(iso))
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  local a = math.floor((14 - m) / 12)
  local yy, mm = y + 4800 - a, m + 12 * a - 3
  local jdn = d + math.floor((153 * mm + 2) / 5) + 365 * yy + math.floor(yy / 4) - math.floor(yy / 100)
    + math.floor(yy / 400) - 32045
  return (jdn - 2440588) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

describe("example scripts", function()
  setup(function() control("POST", "/reset") end)
  teardown(function() control("POST", "/reset") end)
  before_each(function() control("DELETE", "/faults") end)

  describe("command line", function()
    for _, script in ipairs(helper.nonempty(SCRIPTS)) do
      it(script .. " --help prints its usage on stdout and exits 0", function()
        local code, out, err = run(script, "--help", false)
        assert.equal("", err)
        assert.equal(0, code, err)
        assert.matches("^usage: " .. script:gsub("%.", "%%."), out)
        assert.matches("%-%-state FILE", out)
      end)

      it(script .. " refuses an unknown option with exit status 2", function()
        local code, out, err = run(script, "--no-such-option")
        assert.equal(2, code, err)
        assert.equal("", out)
        assert.matches("unknown option %-%-no%-such%-option", err)
        assert.matches("usage: " .. script:gsub("%.", "%%."), err)
      end)
    end

    it("export_conversations refuses a date it cannot read and an unknown format", function()
      local code, out, err = run("export_conversations.lua", "--from 2026-01-01")
      assert.equal(1, code)
      assert.equal("", out)
      assert.matches("%-%-from must be a date as DD/MM/YYYY", err)
      code, out, err = run("export_conversations.lua", "--format xml")
      assert.equal("", out)
      assert.equal(1, code)
      assert.matches("%-%-format must be jsonl or csv", err)
    end)
  end)

  describe("export_conversations", function()
    local c
    setup(function() c = client("owner") end)

    it("--format csv: one RFC 4180 row per conversation, closed ones included", function()
      local tmp = os.tmpname()
      local code, out, err = run("export_conversations.lua", "--format csv --from 01/01/2000 --to 31/12/2099 --out " .. q(tmp))
      local rows = csv_rows(slurp(tmp))
      assert.equal(0, code, err)
      assert.equal("", out)
      assert.same({ "request_id", "created_at", "status", "department", "lead", "email", "first_text", "messages" }, rows[1])
      local total = assert(c.requests:list{ status = "all", limit = 1 }).count
      assert.equal(total + 1, #rows)
      assert.matches("exported " .. total .. " of " .. total .. " conversations", err)
      local ids, closed, last = {}, 0, ""
      for i = 2, #rows do
        local r = rows[i]
        assert.equal(8, #r, "row " .. i)
        assert.matches("^support%-group%-" .. PID .. "%-", r[1])
        assert.is_nil(ids[r[1]], "duplicate " .. r[1])
        ids[r[1]] = true
        assert.is_true(r[2] >= last, "oldest first")
        last = r[2]
        if r[3] == "1000" then closed = closed + 1 end
      end
      assert.equal(assert(c.requests:list{ status = "1000", limit = 1 }).count, closed)
      assert.is_true(closed > 0)
      -- a row matches the conversation it stands for
      local one = assert(c.requests:get(rows[2][1]))
      assert.equal(one.createdAt, rows[2][2])
      assert.equal(tostring(one.status), rows[2][3])
      assert.equal(one.first_text, rows[2][7])
      assert.equal(one.department.name, rows[2][4])
    end)

    it("a narrower --from/--to gives fewer rows, all inside the range (csv with --messages, and jsonl)", function()
      local now = os.time()
      local from_t, to_t = now - 40 * 86400, now - 20 * 86400
      local from, to = os.date("!%d/%m/%Y", from_t), os.date("!%d/%m/%Y", to_t)
      local lo, hi = os.date("!%Y-%m-%d", from_t), os.date("!%Y-%m-%d", to_t)
      local total = assert(c.requests:list{ status = "all", limit = 1 }).count
      local expected = assert(c.requests:list{ status = "all", limit = 1, start_date = from, end_date = to,
        timezone = "UTC" }).count
      assert.is_true(expected > 0 and expected < total, expected .. " of " .. total)

      local tmp = os.tmpname()
      local code, out, err = run("export_conversations.lua", string.format("--format csv --messages --from %s --to %s --out %s",
        q(from), q(to), q(tmp)))
      local rows = csv_rows(slurp(tmp))
      assert.equal(0, code, err)
      assert.equal("", out)
      assert.equal(expected + 1, #rows)
      assert.matches("exported " .. expected .. " of " .. expected .. " conversations", err)
      for i = 2, #rows do
        local day = rows[i][2]:sub(1, 10)
        assert.is_true(day >= lo and day <= hi, rows[i][2] .. " outside " .. lo .. ".." .. hi)
      end
      assert.equal(tostring(#assert(c.messages:list(rows[2][1]))), rows[2][8])

      code, out, err = run("export_conversations.lua", string.format("--from %s --to %s", q(from), q(to)))
      assert.equal(0, code, err)
      local n = 0
      for line in out:gmatch("[^\n]+") do
        n = n + 1
        local r = assert(tiledesk.json_decode(line))
        local day = r.created_at:sub(1, 10)
        assert.is_true(day >= lo and day <= hi, r.created_at)
      end
      assert.equal(expected, n)
    end)
  end)

  describe("sync_leads", function()
    it("applies the good rows and reports each bad one on stderr, exit status 1", function()
      local csv = write_tmp(table.concat({
        "email,plan,note",
        'prospect1@example.org,gold,"line one',
        'line two"',
        "prospect2@example.org,silver,ok,one too many",
        "nobody@example.invalid,x,y",
        'prospect3@example.org,"bronze, plus","say ""hi"""',
        "",
      }, "\n"))
      local code, out, err = run("sync_leads.lua", "--csv " .. q(csv))
      os.remove(csv)
      assert.equal(1, code, err)
      assert.matches("2 leads updated, 2 rows failed", out)
      assert.matches("row 1: updated ", out)
      assert.matches("row 4: updated ", out)
      assert.matches("row 2 %(line 4%): 4 fields where the header has 3", err)
      assert.matches("row 3 %(line 5%): no lead with email nobody@example%.invalid", err)
      assert.is_nil(err:find("row 1", 1, true))
      assert.is_nil(err:find("row 4", 1, true))
      local c = client("owner")
      local p1 = assert(c.leads:find_by_email("prospect1@example.org"))
      assert.equal("gold", p1.attributes.plan)
      assert.equal("line one\nline two", p1.attributes.note)
      assert.equal("import", p1.attributes.source)
      local p3 = assert(c.leads:find_by_email("prospect3@example.org"))
      assert.equal("bronze, plus", p3.attributes.plan)
      assert.equal('say "hi"', p3.attributes.note)
      local p2 = assert(c.leads:find_by_email("prospect2@example.org"))
      assert.is_nil(p2.attributes.plan)
      assert.is_nil(p2.attributes.note)
    end)

    it("keeps the rows before a quote left open, reports it, exit status 1", function()
      local csv = write_tmp('email,tier\r\nprospect5@example.org,A\r\nprospect6@example.org,"B\r\n')
      local code, out, err = run("sync_leads.lua", "--csv " .. q(csv))
      os.remove(csv)
      assert.equal(1, code, err)
      assert.matches("1 leads updated, 1 rows failed", out)
      assert.matches("a quoted field is never closed", err)
      local c = client("owner")
      assert.equal("A", assert(c.leads:find_by_email("prospect5@example.org")).attributes.tier)
      assert.is_nil(assert(c.leads:find_by_email("prospect6@example.org")).attributes.tier)
    end)

    it("a file where every row works exits 0", function()
      local csv = write_tmp("email,tier\nprospect7@example.org,C\n")
      local code, out, err = run("sync_leads.lua", "--csv " .. q(csv))
      os.remove(csv)
      assert.equal(0, code, err)
      assert.equal("", err)
      assert.matches("1 leads updated, 0 rows failed", out)
      assert.equal("C", assert(client("owner").leads:find_by_email("prospect7@example.org")).attributes.tier)
    end)
  end)

  describe("close_idle", function()
    it("lists, then with --apply closes the idle conversations, reporting a failure and exit status 1", function()
      local c = client("admin")
      local days = 30
      local cutoff = os.time() - days * 86400
      local idle, recent = {}, {}
      for r in c.requests:each{ status = "100,200,300" } do
        local t = epoch(r.updatedAt)
        if t < cutoff - 120 then idle[r.request_id] = true
        elseif t > cutoff + 120 then recent[#recent + 1] = r.request_id end
      end
      local n_idle = 0
      for _ in pairs(idle) do n_idle = n_idle + 1 end
      assert.is_true(n_idle >= 3, "idle " .. n_idle)
      assert.is_true(#recent > 0)

      -- dry run: lists them, changes nothing
      local code, out, err = run("close_idle.lua", "--days " .. days)
      assert.equal(0, code, err)
      local listed = {}
      for rid in out:gmatch("would close (%S+)") do listed[#listed + 1] = rid end
      assert.equal(n_idle, #listed)
      for _, rid in ipairs(helper.nonempty(listed)) do
        assert.is_true(idle[rid], rid)
        assert.is_true(assert(c.requests:get(rid)).status < 1000)
      end

      -- --apply with the first close failing on the server
      control("POST", "/faults", { method = "PUT", path = "/requests/[^/]+/close$", count = 1,
        action = { type = "status", status = 500 } })
      code, out, err = run("close_idle.lua", "--apply --days " .. days)
      assert.equal(1, code, err)
      local failed = err:match("failed (%S+): requests:close%(%): HTTP 500")
      assert.is_string(failed, err)
      assert.is_true(idle[failed])
      local closed = {}
      for rid in out:gmatch("closed (support%-group%-%S+)") do closed[#closed + 1] = rid end
      assert.equal(n_idle - 1, #closed)
      assert.matches(string.format("closed %d, failed 1", n_idle - 1), out)
      for _, rid in ipairs(helper.nonempty(closed)) do
        assert.is_true(idle[rid], rid)
        assert.equal(1000, assert(c.requests:get(rid)).status)
      end
      assert.is_true(assert(c.requests:get(failed)).status < 1000)
      for _, rid in ipairs(helper.nonempty(recent)) do assert.is_true(assert(c.requests:get(rid)).status < 1000, rid) end

      -- again: only the one that failed is left, and it closes
      code, out, err = run("close_idle.lua", "--apply --days " .. days)
      assert.equal(0, code, err)
      assert.equal("", err)
      assert.matches("closed " .. failed:gsub("%-", "%%-"), out)
      assert.matches("closed 1, failed 0", out)
      assert.equal(1000, assert(c.requests:get(failed)).status)

      -- nothing idle any more
      code, out = run("close_idle.lua", "--apply --days " .. days)
      assert.equal(0, code)
      assert.matches("^0 open conversations idle", out)
      assert.matches("closed 0, failed 0", out)
      for _, rid in ipairs(helper.nonempty(recent)) do assert.is_true(assert(c.requests:get(rid)).status < 1000, rid) end
    end)
  end)

  describe("demo", function()
    it("signs in, shows the newest open conversation, notes and closes it, as the sandbox then says", function()
      control("POST", "/reset")
      local before = assert(client("admin").requests:list{ status = "100,200,300", limit = 1 }).count
      local code, out, err = run("demo.lua", "")
      assert.equal(0, code, err)
      assert.equal("", err)
      assert.matches("^signed in as Adam Admin <admin@sandbox%.test>\n", out)
      assert.matches(before .. " open conversations; the 5 most recently updated:", out, 1, true)
      local rid = out:match("\nconversation (support%-group%-%x+%-%x+) from ")
      assert.is_string(rid, out)
      local conv = assert(client("admin").requests:get(rid))
      assert.equal(1000, conv.status)
      assert.equal("Reviewed by the tiledesk-lua demo; closing.", conv.notes[#conv.notes].text)
      assert.matches("closed it: status 1000 at " .. conv.closed_at:gsub("[%-%.]", "%%%0"), out)
      assert.matches("open conversations now: " .. (before - 1) .. " %(was " .. before .. "%)\n$", out)
    end)
  end)

  describe("bot_deploy", function()
    local function names(c, bot_id)
      local out = {}
      for _, f in ipairs(assert(c.faqs:list(bot_id))) do out[#out + 1] = f.intent_display_name end
      table.sort(out)
      return out
    end

    it("exports a bot to a file and deploys the file as a new bot, then over it with --replace", function()
      local c = client("admin")
      local bot = assert(c.bots:create("Deployed", { type = "tilebot", description = "v1" }))
      assert(c.faqs:create(bot._id, { intent_display_name = "hours", question = "Opening hours?", answer = "9 to 5" }))
      assert(c.faqs:create(bot._id, { intent_display_name = "ship", question = "Do you ship?", answer = "Yes" }))
      local file = os.tmpname()
      local code, out, err = run("bot_deploy.lua", "export " .. q(bot._id) .. " " .. q(file))
      assert.equal(0, code, err)
      assert.matches("^exported " .. bot._id .. " %(Deployed, 2 intents%) to ", out)
      local text = slurp(file)
      -- the file is the server's export text, as GET /faq_kb/exportjson gives it (routes/faq_kb.js)
      local exported = assert(tiledesk.json_decode(text))
      assert.equal("Deployed", exported.name)
      assert.equal(2, #exported.intents)
      file = write_tmp(text)
      code, out, err = run("bot_deploy.lua", "import " .. q(file))
      assert.equal(0, code, err)
      local new_id = out:match("^created bot (%x+) %(Deployed%)\n$")
      assert.is_string(new_id, out)
      assert.are_not.equal(bot._id, new_id)
      assert.same({ "hours", "ship" }, names(c, new_id))
      exported.description = "v2"
      exported.intents = { { intent_display_name = "returns", question = "Returns?", answer = "30 days" } }
      os.remove(file)
      file = write_tmp(require("cjson").encode(exported))
      code, out, err = run("bot_deploy.lua", "import " .. q(file) .. " --into " .. q(new_id) .. " --replace")
      os.remove(file)
      assert.equal(0, code, err)
      assert.equal("updated bot " .. new_id .. " (Deployed)\n", out)
      assert.same({ "returns" }, names(c, new_id))
      assert.equal("v2", assert(c.bots:get(new_id)).description)
    end)

    it("refuses what it cannot do, exit status 1 and a message on stderr", function()
      local code, out, err = run("bot_deploy.lua", "import /no/such/file.json")
      assert.equal(1, code)
      assert.equal("", out)
      assert.matches("cannot read /no/such/file%.json", err)
      local _
      code, _, err = run("bot_deploy.lua", "import x.json --replace")
      assert.equal(1, code)
      assert.matches("%-%-replace and %-%-overwrite need %-%-into BOT_ID", err)
      local file = write_tmp("[1, 2]")
      code, _, err = run("bot_deploy.lua", "import " .. q(file))
      os.remove(file)
      assert.equal(1, code)
      assert.matches("is not an exported bot", err)
      code, _, err = run("bot_deploy.lua", "export 6560f0a1ffffffffffffffff " .. q(os.tmpname()))
      assert.equal(1, code)
      assert.matches("^.-bots:export%(%): HTTP 404", err)
    end)
  end)
end)
