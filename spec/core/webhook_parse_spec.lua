-- tiledesk.webhook.parse on deliveries the sandbox really made: a subscription whose target is a
-- sandbox sink records body and headers; parse accepts them as they came and refuses them altered.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local webhook = require("tiledesk.webhook")
local json = require("tiledesk.json")

local st = helper.sandbox()
local PID = st.project_id

local wait_sink = helper.wait_sink

describe("webhook.parse with sandbox deliveries", function()
  local admin, secret, deliveries
  setup(function()
    helper.reset()
    admin = helper.signed_in("admin")
    local sub = assert(admin.subscriptions:create("request.create", st.control_url .. "/sink/parse-req"))
    secret = sub.secret
    assert(admin.requests:start{ text = "webhook parse spec" })
    deliveries = wait_sink("parse-req", 1)
  end)

  it("accepts the delivery as it came", function()
    assert.is_true(#deliveries >= 1)
    local d = deliveries[1]
    local ev = assert(webhook.parse(d.body, d.headers, { secret = secret }))
    assert.equal("request.create", ev.event)
    assert.equal("webhook parse spec", ev.payload.first_text)
    assert.is_number(ev.timestamp)
    -- the token acts as the subscription: it may read the conversation
    local as_sub = tiledesk.new{ base_url = st.http_url .. "/v3", project_id = PID, token = "JWT " .. ev.token }
    assert.equal(ev.payload.request_id, assert(as_sub.requests:get(ev.payload.request_id)).request_id)
  end)

  it("refuses it with the wrong or no secret, replayed, or too late (the payload itself is not signed)", function()
    local d = deliveries[1]
    local env = json.decode(d.body)
    env.payload.first_text = "altered"
    local ok, _, err = webhook.parse(json.encode(env), d.headers, { secret = secret })
    -- the payload is not signed: only the secret and the token vouch for the sender, so an
    -- altered payload with the right secret passes; the seen store still refuses the original twice
    assert.is_table(ok, err and err.reason)
    assert.is_nil((webhook.parse(d.body, d.headers, { secret = secret .. "x" })))
    local h = {}
    for k, v in pairs(d.headers) do h[k] = v end
    h["x-hook-secret"] = nil
    assert.equal("secret", select(3, webhook.parse(d.body, h, { secret = secret })).reason)
    local seen = webhook.memory_store()
    assert(webhook.parse(d.body, d.headers, { secret = secret, seen = seen }))
    assert.equal("replay", select(3, webhook.parse(d.body, d.headers, { secret = secret, seen = seen })).reason)
    local later = env.timestamp + 301000
    assert.equal("stale", select(3, webhook.parse(d.body, d.headers, { secret = secret, now = later })).reason)
  end)
end)
