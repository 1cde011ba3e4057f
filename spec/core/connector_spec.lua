-- tiledesk.connector against the sandbox: a channel user signs in with a custom token, talks in
-- one open conversation of the channel, and an agent's reply with buttons comes back through a
-- message.create resthook as text and buttons for the channel.
local helper = require("spec.helper")
local connector = require("tiledesk.connector")
local webhook = require("tiledesk.webhook")
local message = require("tiledesk.message")

local st = helper.sandbox()
local PID = st.project_id

describe("tiledesk.connector with the sandbox", function()
  local admin, conn, hook_secret
  setup(function()
    helper.reset()
    admin = helper.signed_in("admin")
    local secret = assert(admin.keys:generate()).jwtSecret
    conn = connector.new{ base_url = st.http_url .. "/v3", project_id = PID, secret = secret, channel = "sms" }
    hook_secret = assert(admin.subscriptions:create("message.create", st.control_url .. "/sink/conn-msg")).secret
  end)

  it("forwards channel messages into one open conversation of the channel", function()
    local user = { id = "+393330000001", firstname = "Ada", lastname = "L" }
    local m1 = assert(conn:forward(user, "hello from sms"))
    local m2 = assert(conn:forward(user, message.text("second")))
    assert.equal(m1.request.request_id, m2.request.request_id)
    assert.equal("sms", m1.request.channel.name)
    assert.equal("sms-+393330000001", m1.sender)
    assert.equal("Ada L", m1.senderFullname)
    assert.equal("sms-+393330000001", m1.request.lead.lead_id)
    -- another user gets a conversation of their own
    local m3 = assert(conn:forward({ id = "+393330000002" }, "hi"))
    assert.are_not.equal(m1.request.request_id, m3.request.request_id)
    -- a closed conversation is not reused
    assert(admin.requests:close(m3.request.request_id))
    local m4 = assert(conn:forward({ id = "+393330000002" }, "back again"))
    assert.are_not.equal(m3.request.request_id, m4.request.request_id)
  end)

  it("turns an agent's reply delivered by webhook into text and buttons, and skips the user's own", function()
    local user = { id = "+393330000003", firstname = "Bea" }
    local first = assert(conn:forward(user, "need help"))
    local rid = first.request.request_id
    assert(admin.messages:send(rid, message.buttons("Which plan?", { "Basic", message.url_button("Compare",
      "https://example.com/plans") })))
    -- the deliveries of this conversation (polled: at most 50 x 100 ms)
    local outs
    for _ = 1, 50 do
      outs = {}
      for _, d in ipairs(helper.nonempty(helper.control("GET", "/sink/conn-msg").deliveries)) do
        local ev = assert(webhook.parse(d.body, d.headers, { secret = hook_secret }))
        if ev.payload.recipient == rid then outs[#outs + 1] = conn:to_channel(ev) or false end
      end
      if #outs >= 2 then break end
      require("tiledesk.core").sleep_ms(100)
    end
    assert.equal(2, #outs)
    assert.is_false(outs[1]) -- the user's own message came from the channel
    local out = outs[2]
    assert.equal("+393330000003", out.user_id)
    assert.equal(rid, out.request_id)
    assert.equal("Which plan?", out.text)
    assert.same({ { label = "Basic", kind = "text", value = "Basic" },
      { label = "Compare", kind = "url", value = "https://example.com/plans" } }, out.buttons)
  end)

  it("a wrong project secret is refused and nothing is posted", function()
    local bad = connector.new{ base_url = st.http_url .. "/v3", project_id = PID, secret = "not-the-secret", channel = "sms" }
    local before = #helper.control("GET", "/log").entries
    local sent, msg, err = bad:forward({ id = "+39" }, "x")
    assert.is_nil(sent)
    assert.equal(401, err.status)
    assert.matches("signin_with_custom_token", msg)
    local after = helper.control("GET", "/log?since=0").entries
    assert.is_true(#after > before)
    for i = before + 1, #after do assert.are_not.equal("POST", after[i].path:match("/messages$") and after[i].method) end
  end)

  it("raises on misuse", function()
    assert.has_error(function() connector.new{ project_id = PID, secret = "s", channel = "s m s" } end,
      "tiledesk.connector.new(): option channel must be letters, digits, - or _")
    assert.has_error(function() conn:forward({}, "x") end,
      "connector:forward(): user must be a table with an id (the channel's id of the person)")
    assert.equal("tiledesk.Connector (sms)", tostring(conn))
  end)
end)
