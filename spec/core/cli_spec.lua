-- The `tiledesk` command (bin/tiledesk) run as its users run it, against the sandbox: a child
-- process with a clean environment, stdout and stderr apart, the exit status checked; progress
-- under a pseudo-terminal (util-linux `script`) and without one; Ctrl-C (SIGINT) and --resume.
-- The interpreter is the one running this spec (bin/tiledesk picks the matching build dir).
local helper = require("spec.helper")
local csv = require("tiledesk.csv")
local tiledesk = require("tiledesk")

local st = helper.sandbox()
local admin = st.users.admin

local ROOT = helper.abs_root

local q = helper.shell_quote

local slurp = helper.take_file

local INTERP = helper.interpreter_path()

local HOME -- an empty home, so no credentials file of the machine is read
local SECRETS = { admin.password, st.users.owner.password }

local function env_of(vars)
  local parts = { "env -i", "PATH=" .. q(os.getenv("PATH") or "/usr/bin:/bin"), "HOME=" .. q(HOME) }
  if os.getenv("TD_BUILD_DIR") then parts[#parts + 1] = "TD_BUILD_DIR=" .. q(os.getenv("TD_BUILD_DIR")) end
  for k, v in pairs(vars or {}) do parts[#parts + 1] = k .. "=" .. q(v) end
  return table.concat(parts, " ")
end

local ADMIN_ENV = { TILEDESK_URL = st.http_url, TILEDESK_PROJECT_ID = st.project_id, TILEDESK_EMAIL = admin.email,
  TILEDESK_PASSWORD = admin.password }

local function no_secret(...)
  for _, text in ipairs({ ... }) do
    for _, s in ipairs(helper.nonempty(SECRETS)) do assert.is_nil(text:find(s, 1, true), "a password was printed") end
  end
end

-- Runs `tiledesk <args>` (args already quoted); returns status, stdout, stderr.
local function run(args, vars, opts)
  opts = opts or {}
  local out, err, code = os.tmpname(), os.tmpname(), os.tmpname()
  local cmd = string.format("%s %s %s %s", env_of(vars or ADMIN_ENV), q(INTERP), q(ROOT .. "bin/tiledesk"), args)
  if opts.pty then -- stderr (and stdout) on a pseudo-terminal: script writes what the terminal showed
    cmd = string.format("cd %s && env -u LD_PRELOAD script -qec %s /dev/null >%s 2>%s; echo $? >%s", q(ROOT), q(cmd),
      q(err), q(out), q(code))
  else
    cmd = string.format("cd %s && %s >%s 2>%s; echo $? >%s", q(ROOT), cmd, q(out), q(err), q(code))
  end
  os.execute(cmd)
  local status = tonumber((slurp(code):match("%d+")))
  local o, e = slurp(out), slurp(err)
  no_secret(o, e)
  return status, o, e
end

local function client()
  return tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = admin.email,
    password = admin.password, retries = 0 }
end

local control = helper.control

local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

local function tmpfile(text, mode)
  local path = os.tmpname()
  if text then helper.write_file(path, text) end
  if mode then os.execute("chmod " .. mode .. " " .. q(path)) end
  return path
end

describe("the tiledesk command", function()
  setup(function()
    helper.reset()
    HOME = os.tmpname()
    os.remove(HOME)
    os.execute("mkdir -p " .. q(HOME))
  end)
  teardown(function()
    os.execute("rm -rf " .. q(HOME))
    helper.reset()
  end)

  it("prints its usage and version, and exits 2 with one line on misuse", function()
    local code, out = run("--help")
    assert.equal(0, code)
    assert.matches("usage: tiledesk", out)
    assert.matches("Exit status: 0 done, 1 runtime failure, 2 misuse, 130 interrupted", out, 1, true)
    code, out = run("--version")
    assert.equal(0, code)
    assert.equal("tiledesk " .. tiledesk._VERSION .. "\n", out)
    local err, _
    code, out, err = run("conversation list")
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("^tiledesk: unknown command conversation %(commands: api, bots, conversations, leads, messages, whoami%)\n", err)
    code, _, err = run("conversations list --frobnicate")
    assert.equal(2, code)
    assert.matches("^tiledesk: unknown option %-%-frobnicate\n", err)
    code, _, err = run("whoami --out x.csv")
    assert.equal(2, code)
    assert.matches("^tiledesk: whoami: %-%-out does not apply\n", err)
    code, _, err = run("conversations list --limit many")
    assert.equal(2, code)
    assert.matches("^tiledesk: %-%-limit many: expected a whole number from 1\n", err)
  end)

  it("names the missing credentials and exits 2 without calling anyone", function()
    local code, out, err = run("whoami", { TILEDESK_URL = st.http_url, TILEDESK_EMAIL = admin.email })
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("^tiledesk: set TILEDESK_PROJECT_ID and TILEDESK_PASSWORD %(TILEDESK_EMAIL is set%) %(credentials from the environment%)\n", err)
  end)

  it("says who is signed in, as a table and as JSON", function()
    local code, out, err = run("whoami")
    assert.equal(0, code, err)
    local l = lines(out)
    assert.equal(2, #l)
    assert.matches("^EMAIL%s+NAME%s+USER_ID%s+PROJECT_ID", l[1])
    assert.truthy(l[2]:find(admin.email, 1, true))
    assert.truthy(l[2]:find(st.project_id, 1, true))
    code, out = run("whoami --json --log")
    assert.equal(0, code)
    local me = assert(tiledesk.json_decode(out))
    assert.equal(admin.email, me.email)
    assert.equal(admin._id, me.user_id)
  end)

  it("reads a profile from a credentials file only you can read, as ssh does", function()
    local _
    local text = "# sandbox\n[sbx]\nurl = " .. st.http_url .. "\nproject_id = " .. st.project_id
      .. "\nemail = " .. admin.email .. "\npassword = " .. admin.password .. "\n"
    local path = tmpfile(text, "644")
    local vars = { TILEDESK_CREDENTIALS = path }
    local code, out, err = run("whoami --profile sbx --json", vars)
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("tiledesk: credentials file " .. path .. " is open to others (mode 644): run chmod 600 " .. path .. "\n",
      err:match("^[^\n]*\n"))
    os.execute("chmod 640 " .. q(path))
    assert.equal(2, (run("whoami --profile sbx", vars)))
    os.execute("chmod 600 " .. q(path))
    code, out, err = run("whoami --profile sbx --json", vars)
    assert.equal(0, code, err)
    assert.equal(admin.email, tiledesk.json_decode(out).email)
    code, _, err = run("whoami --profile nope", vars)
    assert.equal(2, code)
    assert.matches("^tiledesk: no profile %[nope%] in ", err)
    -- the profile [default] serves when the environment names no project
    helper.write_file(path, (text:gsub("%[sbx%]", "[default]")))
    code, out = run("whoami --json", vars)
    assert.equal(0, code)
    assert.equal(admin.email, tiledesk.json_decode(out).email)
    helper.write_file(path, "[x]\nusername = a\n")
    code, _, err = run("whoami --profile x", vars)
    assert.equal(2, code)
    assert.matches("line 2: unknown key username", err)
    os.remove(path)
  end)

  it("lists conversations as a table, JSON lines and CSV, dates in ISO 8601 and --timezone", function()
    local c = client()
    local page = assert(c.requests:list{ status = "100,200", limit = 5 })
    c:close()
    assert.is_true(#page.requests == 5)
    local code, out, err = run("conversations list --limit 5")
    assert.equal(0, code, err)
    local l = lines(out)
    assert.equal(6, #l)
    assert.matches("^REQUEST_ID%s+STATUS%s+CREATED", l[1])
    for i, conv in ipairs(page.requests) do
      assert.truthy(l[i + 1]:find(conv.request_id, 1, true), l[i + 1])
    end
    code, out = run("conversations list --limit 5 --json")
    assert.equal(0, code)
    l = lines(out)
    assert.equal(5, #l)
    for i, line in ipairs(l) do
      local conv = assert(tiledesk.json_decode(line))
      assert.equal(page.requests[i].request_id, conv.request_id)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", conv.createdAt)
    end
    code, out = run("conversations list --limit 5 --csv --timezone -03:30")
    assert.equal(0, code)
    local rows = {}
    for row in csv.rows(out) do rows[#rows + 1] = row end
    assert.equal(6, #rows)
    assert.same({ "request_id", "status", "createdAt", "department.name", "lead.fullname", "first_text" }, rows[1])
    for i = 2, 6 do
      assert.equal(page.requests[i - 1].request_id, rows[i][1])
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%-03:30$", rows[i][3])
    end
    local ok_time, time = pcall(require, "tiledesk.time")
    if ok_time then
      code, out = run("conversations list --limit 1 --json --timezone Asia/Kolkata")
      assert.equal(0, code)
      local conv = tiledesk.json_decode(out)
      assert.matches("%+05:30$", conv.createdAt)
      assert.equal(time.parse(page.requests[1].createdAt), time.parse(conv.createdAt))
    end
  end)

  it("shows a conversation with its messages, sends a message and closes it", function()
    local c = client()
    local conv = assert(c.requests:start{ text = "CLI: where is order #77?" })
    local code, out, err = run("messages send " .. q(conv.request_id) .. " " .. q("It left today, with a \"tracking\" link"))
    assert.equal(0, code, err)
    assert.matches("^sent %x+ to " .. conv.request_id:gsub("%p", "%%%0"), out)
    code, out = run("conversations show " .. q(conv.request_id))
    assert.equal(0, code)
    assert.matches("request_id:%s+" .. conv.request_id:gsub("%p", "%%%0"), out)
    assert.truthy(out:find("CLI: where is order #77?", 1, true))
    assert.truthy(out:find('It left today, with a "tracking" link', 1, true))
    code, out = run("conversations show " .. q(conv.request_id) .. " --json")
    assert.equal(0, code)
    local shown = tiledesk.json_decode(out)
    assert.equal(2, #shown.messages)
    code, out = run("conversations close " .. q(conv.request_id))
    assert.equal(0, code)
    assert.equal("closed " .. conv.request_id .. "\n", out)
    assert.equal(1000, assert(c.requests:get(conv.request_id)).status)
    c:close()
    -- a runtime failure: exit 1, one line with the server's words (routes/request.js: an
    -- owner's close of an unknown conversation fails in the service, a 500)
    code, out, err = run("conversations close no-such-conversation")
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("tiledesk: requests:close(): HTTP 500 Internal Server Error: Error closing request\n", err)
  end)

  it("exports every conversation to a file, with plain progress lines when stderr is no terminal", function()
    local c = client()
    local total = assert(c.requests:list{ status = "all", limit = 1 }).count
    c:close()
    assert.is_true(total > 100)
    local path = os.tmpname()
    local code, out, err = run("conversations export --status all --page-size 50 --out " .. q(path))
    assert.equal(0, code, err)
    assert.equal("", out)
    assert.is_nil(err:find("\r", 1, true))
    assert.truthy(err:find("conversations export: 50/" .. total .. " (", 1, true), err)
    assert.truthy(err:find("conversations export: " .. total .. "/" .. total .. " (100%)", 1, true), err)
    local ids, n = {}, 0
    for rec in csv.records(io.open(path, "rb")) do
      assert.is_nil(ids[rec.request_id])
      ids[rec.request_id] = true
      n = n + 1
    end
    assert.equal(total, n)
    os.remove(path)
  end)

  it("draws a progress bar with the count, rate and time left under a terminal", function()
    local path = os.tmpname()
    local code, _, term = run("leads export --page-size 20 --out " .. q(path), nil, { pty = true })
    assert.equal(0, code, term)
    local c = client()
    local count = assert(c.leads:list{ limit = 1 }).count
    c:close()
    assert.truthy(term:find("\rleads export [####", 1, true), term)
    assert.truthy(term:find(" 20/" .. count .. " ", 1, true), term)
    assert.matches("%d+%.%d/s %d+:%d%d left", term)
    assert.truthy(term:find(count .. "/" .. count .. " 100%", 1, true), term)
    os.remove(path)
  end)

  it("leaves whole records on Ctrl-C, and --resume finishes the export without repeating one", function()
    local c = client()
    local total = assert(c.requests:list{ status = "all", limit = 1 }).count
    c:close()
    -- slow pages, so the export is still running when the signal comes
    control("POST", "/faults", { path = "/requests$", action = { type = "delay", ms = 250 }, count = 1000 })
    local path = os.tmpname()
    local out, err, code, pidf = os.tmpname(), os.tmpname(), os.tmpname(), os.tmpname()
    local cmd = string.format("%s %s %s conversations export --status all --page-size 10 --out %s",
      env_of(ADMIN_ENV), q(INTERP), q(ROOT .. "bin/tiledesk"), q(path))
    -- the command in the background (its pid noted), the signal once 25 records are on disk
    os.execute(string.format("cd %s && (%s >%s 2>%s & echo $! >%s; wait $! ; echo $? >%s) &", q(ROOT), cmd, q(out),
      q(err), q(pidf), q(code)))
    local pid
    for _ = 1, 200 do
      pid = pid or tonumber((helper.read_file(pidf) or ""):match("%d+"))
      local text = helper.read_file(path) or ""
      local _, nl = text:gsub("\n", "")
      if pid and nl > 25 then break end
      os.execute("sleep 0.1")
    end
    assert.is_number(pid)
    os.execute("kill -INT " .. pid)
    local status
    for _ = 1, 300 do
      status = tonumber((helper.read_file(code) or ""):match("%d+"))
      if status then break end
      os.execute("sleep 0.1")
    end
    control("DELETE", "/faults")
    assert.equal(130, status)
    local e = slurp(err)
    slurp(out)
    os.remove(code)
    os.remove(pidf)
    local held = tonumber(e:match("interrupted; [^\n]* holds (%d+) whole records: run the same command with %-%-resume"))
    assert.is_number(held, e)
    assert.is_true(held >= 25 and held < total)
    local text = assert(helper.read_file(path))
    assert.equal("\r\n", text:sub(-2))
    local n = 0
    for _ in csv.records(text) do n = n + 1 end -- every record whole: the reader raises otherwise
    assert.equal(held, n)
    -- a partial record (a machine stopped mid-write) is cut off by --resume
    local f = assert(io.open(path, "ab"))
    f:write('support-group-partial,100,"2026-11-')
    f:close()
    local rc, _, rerr = run("conversations export --status all --page-size 50 --resume --out " .. q(path))
    assert.equal(0, rc, rerr)
    assert.truthy(rerr:find("(" .. held .. " were there already)", 1, true), rerr)
    local ids, m = {}, 0
    for rec in csv.records(io.open(path, "rb")) do
      assert.is_nil(ids[rec.request_id], "repeated " .. rec.request_id)
      ids[rec.request_id] = true
      m = m + 1
    end
    assert.equal(total, m)
    os.remove(path)
  end)

  it("imports leads from CSV idempotently, and exports them", function()
    local path = tmpfile("\239\187\191email,fullname,company,plan\r\n"
      .. "cli.ann@example.com,Ann Lee,Acme,pro\r\n"
      .. "cli.bob@example.com,\"Bob, Jr.\",,free\r\n")
    local code, out, err = run("leads import " .. q(path))
    assert.equal(0, code, err)
    assert.equal("2 created, 0 updated, 0 unchanged (2 in " .. path .. ")\n", out)
    code, out = run("leads import " .. q(path))
    assert.equal(0, code)
    assert.equal("0 created, 0 updated, 2 unchanged (2 in " .. path .. ")\n", out)
    helper.write_file(path, "email,plan\ncli.bob@example.com,pro\n")
    code, out = run("leads import " .. q(path) .. " --json")
    assert.equal(0, code)
    assert.same({ created = 0, updated = 1, unchanged = 0, total = 1 }, tiledesk.json_decode(out))
    local c = client()
    local bob = assert(c.leads:find_by_email("cli.bob@example.com"))
    assert.equal("Bob, Jr.", bob.fullname)
    assert.equal("pro", bob.attributes.plan)
    c:close()
    -- a bad file changes nothing and names the line
    helper.write_file(path, "email,fullname\ncli.cy@example.com,Cy\n,No Email\n")
    code, out, err = run("leads import " .. q(path))
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("tiledesk: " .. path .. ": line 3: no email\n", err:match("^[^\n]*\n"))
    c = client()
    assert.is_false(c.leads:find_by_email("cli.cy@example.com"))
    c:close()
    os.remove(path)
    local out_path = os.tmpname()
    code, out, err = run("leads export --out " .. q(out_path))
    assert.equal(0, code, err)
    assert.equal("", out)
    local found = 0
    for rec in csv.records(io.open(out_path, "rb")) do
      if rec.email == "cli.ann@example.com" then
        found = found + 1
        assert.equal("Ann Lee", rec.fullname)
        assert.equal("pro", tiledesk.json_decode(rec.attributes).plan)
      end
    end
    assert.equal(1, found)
    os.remove(out_path)
  end)

  it("exports a bot as JSON and imports it, as a new bot or into one", function()
    local _
    local c = client()
    local bot = assert(c.bots:create("CLI bot", { description = "exported by the CLI spec" }))
    assert(c.faqs:create(bot._id, { question = "Hours?", answer = "9 to 5" }))
    local path = os.tmpname()
    local code, out, err = run("bots export " .. q(bot._id) .. " --out " .. q(path))
    assert.equal(0, code, err)
    assert.equal("", out)
    local exported = assert(tiledesk.json_decode(assert(helper.read_file(path))))
    assert.equal("CLI bot", exported.name)
    code, out, err = run("bots import " .. q(path))
    assert.equal(0, code, err)
    local id = out:match("^imported (%x+) CLI bot\n$")
    assert.is_string(id, out)
    assert.are_not.equal(bot._id, id)
    local copy = assert(c.bots:get(id))
    assert.equal("CLI bot", copy.name)
    local n = 0
    for faq in c.faqs:each(id) do
      n = n + 1
      assert.equal("9 to 5", faq.answer)
    end
    assert.equal(1, n)
    -- into an existing bot, its old intents replaced
    local target = assert(c.bots:create("Target bot"))
    assert(c.faqs:create(target._id, { question = "Old?", answer = "old" }))
    code, _, err = run("bots import " .. q(path) .. " --bot " .. q(target._id) .. " --replace --json")
    assert.equal(0, code, err)
    local answers = {}
    for faq in c.faqs:each(target._id) do answers[#answers + 1] = faq.answer end
    assert.same({ "9 to 5" }, answers)
    code, _, err = run("bots import " .. q(path) .. " --replace")
    assert.equal(2, code)
    assert.matches("^tiledesk: bots import: %-%-replace needs %-%-bot ID\n", err)
    c:close()
    os.remove(path)
  end)

  it("makes any call with api METHOD PATH [JSON]", function()
    local _
    local code, out, err = run("api GET " .. q("/requests?status=all&limit=2"))
    assert.equal(0, code, err)
    local page = assert(tiledesk.json_decode(out))
    assert.equal(2, #page.requests)
    code, out = run("api POST /leads " .. q('{"fullname":"Api Lead","email":"api.lead@example.com"}'))
    assert.equal(0, code)
    assert.equal("Api Lead", tiledesk.json_decode(out).fullname)
    code, _, err = run("api POST /leads " .. q('{"fullname":'))
    assert.equal(2, code)
    assert.matches("^tiledesk: api: the body is not JSON", err)
    code, out, err = run("api GET /leads/000000000000000000000000")
    assert.equal(1, code)
    assert.equal("", out)
    assert.matches("^tiledesk: api GET /leads/000000000000000000000000: HTTP %d%d%d [^\n]+\n$", err)
    code, out = run("api GET " .. q("/projects/" .. st.project_id) .. " --global")
    assert.equal(0, code)
    assert.equal(st.project_id, tiledesk.json_decode(out)._id)
  end)
end)
