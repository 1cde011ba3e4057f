-- The bot of examples/faq_bot.lua served in nginx by tools/bot.lua (the non-blocking transport,
-- --verify-token), registered in the sandbox: the full round trip visitor -> sandbox -> bot ->
-- sandbox as ./dev bot-demo runs it, then forged, garbage, stale, oversized and replayed
-- deliveries posted to the bot's URL, each refused with nothing posted to the sandbox.
-- Also runs examples/sms_connector.lua. Port: the sandbox's port + 150 (TD_BOT_PORT overrides).
local helper = require("spec.helper")
local jwt = require("tiledesk.jwt")
local json = require("tiledesk.json")

local st = helper.sandbox()
local PID = st.project_id
local ROOT = helper.root
local PORT = tonumber(os.getenv("TD_BOT_PORT") or "") or (tonumber(st.http_url:match(":(%d+)$")) + 150)

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  return out, ok == true or ok == 0 or code == 0
end

local q = helper.shell_quote

local state_file = (os.getenv("TD_SANDBOX_DIR") or (ROOT .. ".sandbox")) .. "/state.json"

describe("bot served in nginx (tools/bot.lua, ./dev bot-demo)", function()
  local dir, reg, admin
  setup(function()
    helper.reset()
    dir = sh("mktemp -d"):gsub("%s+$", "")
    local out, ok = sh("lua5.4 " .. q(ROOT .. "tools/bot.lua") .. " serve " .. q(ROOT .. "examples/faq_bot.lua")
      .. " --port " .. PORT .. " --dir " .. q(dir) .. " --sandbox " .. q(state_file) .. " --name 'FAQ bot' --verify-token")
    assert(ok, out)
    assert.matches("bot: local URL http://127%.0%.0%.1:" .. PORT .. "/bot/%x+", out)
    reg = json.decode(helper.read_file(dir .. "/registration.json"))
    admin = helper.signed_in("admin")
  end)
  teardown(function()
    if dir then
      sh("lua5.4 " .. q(ROOT .. "tools/bot.lua") .. " stop --dir " .. q(dir))
      sh("rm -rf " .. q(dir))
    end
  end)

  it("round trip: the visitor's messages reach the bot, its answers and hand-off reach the conversation", function()
    local out, ok = sh("LUA_PATH=" .. q(ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;;") .. " LUA_CPATH="
      .. q(ROOT .. "build/?.so;;") .. " lua5.4 " .. q(ROOT .. "examples/bot_demo.lua")
      .. " --state " .. q(state_file) .. " --registration " .. q(dir .. "/registration.json"))
    assert(ok, out)
    assert.matches("Vera: +Hello, how much does it cost%?", out)
    assert.matches("FAQ bot: +Plans start at 9 EUR a month", out)
    assert.matches("%[Compare plans%] %(url: https://example%.com/plans%)", out)
    assert.matches("%[Talk to a human%] %(action: human%)", out)
    assert.matches("FAQ bot: +Sure, I am handing you over to a colleague%.", out)
    local rid = out:match("conversation (support%-group%-%S+)")
    local conv = assert(admin.requests:get(rid))
    assert.equal("prices", conv.attributes.faq_topic)
    for _, p in ipairs(helper.nonempty(conv.participants)) do assert.is_nil(p:match("^bot_"), "the bot handed off") end
  end)

  it("examples/sms_connector.lua: an SMS in, an agent's answer with buttons back out as an SMS", function()
    local out, ok = sh("LUA_PATH=" .. q(ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;;") .. " LUA_CPATH="
      .. q(ROOT .. "build/?.so;;") .. " lua5.4 " .. q(ROOT .. "examples/sms_connector.lua")
      .. " --state " .. q(state_file))
    assert(ok, out)
    assert.matches("SMS from %+393331234567 is now in conversation support%-group%-", out)
    assert.matches("SMS to %+393331234567:\n  Yes, it left today%. Anything else%?\n  1%) No, thanks\n  2%) Track it: "
      .. "https://example%.com/track/42", out)
  end)

  describe("deliveries that are not the server's", function()
    local rid, url, genuine
    setup(function()
      local conv = assert(admin.requests:start{ text = "spec conversation" })
      rid = conv.request_id
      url = reg.url
      genuine = assert(admin.bots:token(reg.bot_id)).jwt
    end)

    local function envelope(over)
      local env = { timestamp = os.time() * 1000, hook = { _id = reg.bot_id, name = "FAQ bot" }, token = genuine,
        payload = { _id = "x", sender = "visitor", text = "how much?", recipient = rid, id_project = PID,
          request = { request_id = rid, id_project = PID } } }
      for k, v in pairs(over or {}) do env[k] = v end
      return json.encode(env)
    end

    local function posted_messages()
      return #assert(admin.messages:list(rid))
    end

    local function post(to, body)
      local status, decoded = helper.http_json("POST", to, body, { ["content-type"] = "application/json" })
      return status, decoded
    end

    local function settle_and_count(before)
      require("tiledesk.core").sleep_ms(300)
      return posted_messages() - before
    end

    it("refuses a wrong secret segment, garbage, forged tokens, stale and oversized bodies, posting nothing", function()
      local before = posted_messages()
      local forged = jwt.sign({ _id = reg.bot_id, sub = "bot", aud = "https://tiledesk.com/bots/" .. reg.bot_id,
        id_project = PID }, "a guessed secret")
      local cases = {
        { url:gsub("%x$", function(c) return c == "0" and "1" or "0" end), envelope(), 401, "secret segment" },
        { url .. "x", envelope(), 401, "secret segment" },
        { url, "this is not json", 400, "body is not a JSON object" },
        { url, '{"timestamp":1}', 400, "payload missing" },
        { url, envelope{ token = forged }, 401, "the server does not accept the token" },
        { url, envelope{ token = "eyJhbGciOiJub25lIn0.e30." }, 401, "token" },
        { url, envelope{ timestamp = os.time() * 1000 - 600000 }, 400, "older than" },
        { url, envelope{ payload = { text = string.rep("x", 5 * 1024 * 1024 + 10), recipient = rid, id_project = PID } },
          413, "longer than" },
      }
      assert.is_true(#cases > 0)
      for i, c in ipairs(cases) do
        local status, decoded = post(c[1], c[2])
        assert.equal(c[3], status, "case " .. i)
        assert.matches(c[4], decoded.error, 1, true)
      end
      assert.equal(0, settle_and_count(before))
    end)

    it("answers a genuine delivery once, and a replay of it is refused with 200 and nothing posted", function()
      local before = posted_messages()
      local body = envelope()
      local status = post(url, body)
      assert.equal(200, status)
      local n
      for _ = 1, 50 do
        n = posted_messages() - before
        if n >= 1 then break end
        require("tiledesk.core").sleep_ms(100)
      end
      assert.equal(1, n)
      local again, decoded = post(url, body)
      assert.equal(200, again)
      assert.matches("already handled", decoded.error, 1, true)
      assert.equal(1, settle_and_count(before))
    end)
  end)
end)

-- ./dev bot-demo itself, as a child process: its own sandbox on the test sandbox's port + 90
-- (TD_DEMO_PORT), its bot on + 93 (TD_BOT_PORT), taken here on purpose so that it moves to the
-- next free port and says so. Packages are there and the build is done, so it neither installs
-- nor rebuilds. Its output holds the conversation, with the replies of examples/faq_bot.lua's
-- intents; afterwards every process it started is gone and every port it used is free again.
describe("./dev bot-demo", function()
  if _VERSION ~= "Lua 5.4" or rawget(_G, "jit") then
    it("runs under Lua 5.4 only (it is one bash script)", function() assert.truthy(_VERSION) end)
    return
  end
  local socket = require("socket")
  local BASE = tonumber(st.http_url:match(":(%d+)$"))
  local SANDBOX_PORT, BOT_PORT = BASE + 90, BASE + 93
  local faq = dofile(ROOT .. "examples/faq_bot.lua")
  local function intent(name)
    for _, i in ipairs(faq.intents) do if i.name == name then return i end end
    error("examples/faq_bot.lua has no intent " .. name)
  end
  local sandbox_dir, bot_dir

  local function port_free(port)
    local s = socket.tcp()
    local ok = s:connect("127.0.0.1", port)
    s:close()
    return not ok
  end

  local function alive(pid)
    return helper.read_file("/proc/" .. pid .. "/cmdline") ~= nil
  end

  before_each(function()
    sandbox_dir = sh("mktemp -d"):gsub("%s+$", "") .. "/sandbox"
    bot_dir = sh("mktemp -d"):gsub("%s+$", "")
  end)

  after_each(function()
    -- whatever a failing run left behind
    sh("lua5.4 " .. q(ROOT .. "tools/bot.lua") .. " stop --dir " .. q(bot_dir))
    sh("TD_SANDBOX_DIR=" .. q(sandbox_dir) .. " " .. q(ROOT .. "sandbox/bin/sandbox") .. " stop")
    sh("rm -rf " .. q(sandbox_dir:gsub("/sandbox$", "")) .. " " .. q(bot_dir))
  end)

  it("holds a conversation with the FAQ bot, prints it, and stops everything it started", function()
    for p = SANDBOX_PORT, BOT_PORT + 1 do assert.is_true(port_free(p), "port " .. p .. " is taken before the run") end
    local function built_at()
      local p = assert(io.popen("stat -c %.9Y " .. q(helper.abs_root .. "build/tiledesk/core.so") .. " 2>/dev/null"))
      local t = p:read("*l")
      p:close()
      return t
    end
    local before = built_at()
    local blocker = assert(socket.bind("127.0.0.1", BOT_PORT))
    local out, err, code = os.tmpname(), os.tmpname(), os.tmpname()
    os.execute(string.format("cd %s && env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS TD_DEMO_DIR=%s TD_BOT_DIR=%s "
      .. "TD_DEMO_PORT=%d TD_BOT_PORT=%d ./dev bot-demo >%s 2>%s </dev/null; echo $? >%s", q(helper.abs_root), q(sandbox_dir),
      q(bot_dir), SANDBOX_PORT, BOT_PORT, q(out), q(err), q(code)))
    blocker:close()
    code, out, err = tonumber((helper.take_file(code):match("%d+"))), helper.take_file(out), helper.take_file(err)
    local all = out .. "\n--- stderr\n" .. err
    assert.equal(0, code, all)

    -- neither installs nor rebuilds
    assert.is_nil(err:find("installing:", 1, true), all)
    assert.is_string(before, "no build/tiledesk/core.so before the run")
    assert.equal(before, built_at(), "./dev bot-demo rebuilt build/tiledesk/core.so")
    -- the bot moved off its taken port and said so; the sandbox took the free one it was given
    assert.truthy(err:find("bot-demo: port " .. BOT_PORT .. " is taken; the bot uses " .. (BOT_PORT + 1)
      .. " instead (TD_BOT_PORT sets it)", 1, true), all)
    assert.matches("sandbox: running on http://127%.0%.0%.1:" .. SANDBOX_PORT .. " ", out)
    assert.matches("bot: local URL http://127%.0%.0%.1:" .. (BOT_PORT + 1) .. "/bot/%x+", out)

    -- the conversation: the visitor's messages and the bot's replies, as faq_bot.lua's intents give them
    local conversation = assert(out:match("\nconversation support%-group%-%S+\n(.-)\nparticipants now: "), all)
    local lines = {}
    for line in conversation:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local prices, human = intent("prices"), intent("human")
    local first_line = prices.reply:match("^[^\n]+")
    assert.matches("^  Vera: +Hello, how much does it cost%?$", lines[1])
    assert.equal("  FAQ bot:     " .. first_line, lines[2])
    local buttons = {}
    for label, target in prices.reply:gmatch("\n%* ([^\n]+) (%S+)") do
      buttons[#buttons + 1] = target:match("^https?://") and ("[" .. label .. "] (url: " .. target .. ")")
        or ("[" .. label .. "] (action: " .. target:match("^tdIntent:(.+)$") .. ")")
    end
    assert.is_true(#buttons >= 2)
    for i, b in ipairs(buttons) do assert.equal(string.rep(" ", 15) .. b, lines[2 + i]) end
    assert.matches("^  Vera: +Talk to a human$", lines[3 + #buttons])
    assert.equal("  FAQ bot:     " .. human.reply, lines[4 + #buttons])
    assert.equal(4 + #buttons, #lines, all)

    -- every process it started is gone, every port free, and it said what it stopped
    local sandbox_pid = assert(out:match("sandbox: running on %S+ and %S+ %(pid (%d+)%)"), all)
    local bot_pid = assert(out:match("%(nginx pid (%d+),"), all)
    assert.truthy(err:find("bot: stopped " .. bot_dir, 1, true), all)
    assert.truthy(err:find("sandbox: stopped (pid " .. sandbox_pid .. ")", 1, true), all)
    assert.is_false(alive(sandbox_pid), "the sandbox's nginx " .. sandbox_pid .. " still runs")
    assert.is_false(alive(bot_pid), "the bot's nginx " .. bot_pid .. " still runs")
    for p = SANDBOX_PORT, BOT_PORT + 1 do assert.is_true(port_free(p), "port " .. p .. " is still taken") end
    assert.is_nil(helper.read_file(bot_dir .. "/nginx.pid"))
    assert.is_nil(helper.read_file(sandbox_dir .. "/nginx.pid"))
  end)
end)
