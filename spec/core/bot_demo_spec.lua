-- The bot of examples/faq_bot.lua served in nginx by tools/bot.lua (the non-blocking transport,
-- --verify-token), registered in the sandbox: the full round trip visitor -> sandbox -> bot ->
-- sandbox as ./dev bot-demo runs it, then forged, garbage, stale, oversized and replayed
-- deliveries posted to the bot's URL, each refused with nothing posted to the sandbox.
-- Also runs examples/sms_connector.lua. Port: the sandbox's port + 150 (TD_BOT_PORT overrides).
local helper = require("spec.helper")
local jwt = require("tiledesk.jwt")
local json = require("tiledesk.json")
local tiledesk = require("tiledesk")

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
    local u = st.users.admin
    admin = tiledesk.new{ base_url = st.http_url .. "/v3", project_id = PID, email = u.email, password = u.password }
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
    for _, p in ipairs(conv.participants) do assert.is_nil(p:match("^bot_"), "the bot handed off") end
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
