-- tiledesk.webhook.parse: resthook deliveries as the server sends them (shared secret in
-- x-hook-secret, a token signed with it for the subscription), and every refusal.
local webhook = require("tiledesk.webhook")
local jwt = require("tiledesk.jwt")
local json = require("tiledesk.json")

local SECRET = "4b1f0c2e-hook-secret"
local SUB = "6560f0a1000000000000abcd"
local NOW = 1764500000000

local function token(over, secret)
  local claims = { _id = SUB, event = "message.create", target = "https://bot.test/hook", id_project = "p1",
    sub = "subscription", aud = "https://tiledesk.com/subscriptions/" .. SUB, iss = "https://tiledesk.com",
    iat = math.floor(NOW / 1000), jti = "7d1e" }
  for k, v in pairs(over or {}) do claims[k] = v end
  return jwt.sign(claims, secret or SECRET)
end

local function delivery(over)
  local env = { timestamp = NOW, payload = { _id = "m1", text = "hello", request = { request_id = "support-group-p1-x" } },
    hook = { _id = SUB, event = "message.create", target = "https://bot.test/hook", id_project = "p1" },
    token = token() }
  for k, v in pairs(over or {}) do env[k] = v end
  return assert(json.encode(env))
end

local HEADERS = { ["Content-Type"] = "application/json", ["X-Hook-Secret"] = SECRET, ["User-Agent"] = "tiledesk-webhooks" }

local function opts(extra)
  local o = { secret = SECRET, now = NOW }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function refused(reason, status, body, headers, o)
  local ev, msg, err = webhook.parse(body, headers or HEADERS, o or opts())
  assert.is_nil(ev)
  assert.matches("^tiledesk%.webhook%.parse%(%): ", msg)
  assert.equal("invalid", err.kind)
  assert.equal(reason, err.reason, msg)
  assert.equal(status, err.status)
  assert.is_nil(msg:find(SECRET, 1, true))
  return msg
end

describe("tiledesk.webhook.parse", function()
  it("accepts a delivery and returns the event", function()
    local ev = assert(webhook.parse(delivery(), HEADERS, opts()))
    assert.equal("message.create", ev.event)
    assert.equal(NOW, ev.timestamp)
    assert.equal("hello", ev.payload.text)
    assert.equal(SUB, ev.hook._id)
    assert.is_string(ev.token)
    assert.matches("^tiledesk:hook:%x+$", ev.key)
  end)

  it("finds x-hook-secret in any case", function()
    assert(webhook.parse(delivery(), { ["x-hook-secret"] = SECRET }, opts()))
    assert(webhook.parse(delivery(), { ["X-HOOK-SECRET"] = SECRET }, opts()))
  end)

  it("refuses forged, missing or repeated secrets", function()
    refused("secret", 401, delivery(), { ["x-hook-secret"] = SECRET .. "x" })
    refused("secret", 401, delivery(), { ["x-hook-secret"] = SECRET:sub(1, -2) })
    refused("secret", 401, delivery(), { ["x-hook-secret"] = "" })
    refused("secret", 401, delivery(), {})
    refused("secret", 401, delivery(), { ["x-hook-secret"] = { SECRET, SECRET } })
    refused("secret", 401, delivery(), { ["x-hook-secret"] = SECRET, ["X-Hook-Secret"] = SECRET })
  end)

  it("refuses forged tokens: another secret, another subscription, alg none, not a subscription token", function()
    refused("token", 401, delivery{ token = token(nil, "other-secret") })
    refused("token", 401, delivery{ token = token{ _id = "6560f0a1000000000000ffff" } })
    refused("token", 401, delivery{ token = token{ aud = "https://tiledesk.com/subscriptions/6560f0a1000000000000ffff" } })
    refused("token", 401, delivery{ token = token{ sub = "bot" } })
    local h, p = token():match("^(.-)%.(.-)%.")
    refused("token", 401, delivery{ token = "eyJhbGciOiJub25lIn0." .. p .. "." })
    refused("token", 401, delivery{ token = h .. "." .. p .. ".AAAA" })
    -- the secret header right but the hook names another subscription
    local env = json.decode(delivery())
    env.hook._id = "6560f0a1000000000000ffff"
    refused("token", 401, json.encode(env))
  end)

  it("refuses garbage and envelopes without their parts", function()
    refused("malformed", 400, "")
    refused("malformed", 400, nil)
    refused("malformed", 400, "not json")
    refused("malformed", 400, "[1,2,3]")
    refused("malformed", 400, '"a string"')
    refused("malformed", 400, "{}")
    refused("malformed", 400, delivery{ timestamp = "yesterday" })
    refused("malformed", 400, delivery{ payload = "x" })
    refused("malformed", 400, delivery{ hook = { event = "message.create" } })
    refused("malformed", 400, delivery{ token = 42 })
    refused("malformed", 400, delivery{ hook = { _id = SUB } })
  end)

  it("refuses oversized bodies before reading them", function()
    local body = delivery{ payload = { text = string.rep("x", 2048) } }
    refused("too_large", 413, body, HEADERS, opts{ max_bytes = 1024 })
    refused("too_large", 413, string.rep("{", webhook.MAX_BYTES + 1))
    assert(webhook.parse(body, HEADERS, opts{ max_bytes = #body }))
  end)

  it("refuses stale and future deliveries beyond max_age (default 300 s)", function()
    refused("stale", 400, delivery{ timestamp = NOW - 300001 })
    refused("stale", 400, delivery{ timestamp = NOW + 300001 })
    assert(webhook.parse(delivery{ timestamp = NOW - 299000 }, HEADERS, opts()))
    assert(webhook.parse(delivery{ timestamp = NOW + 299000 }, HEADERS, opts()))
    refused("stale", 400, delivery{ timestamp = NOW - 61000 }, HEADERS, opts{ max_age = 60 })
  end)

  it("refuses replays with the seen store, and remembers nothing it refused", function()
    local seen = webhook.memory_store{ clock = function() return NOW end }
    local body = delivery()
    refused("secret", 401, body, { ["x-hook-secret"] = "nope" }, opts{ seen = seen })
    refused("stale", 400, delivery{ timestamp = NOW - 400000 }, HEADERS, opts{ seen = seen })
    assert.equal(0, seen:count())
    local ev = assert(webhook.parse(body, HEADERS, opts{ seen = seen }))
    assert.equal(1, seen:count())
    refused("replay", 200, body, HEADERS, opts{ seen = seen })
    -- another delivery is new
    assert(webhook.parse(delivery{ timestamp = NOW + 1 }, HEADERS, opts{ seen = seen }))
    -- forget lets the retry of a failed handling through
    webhook.forget(seen, ev)
    assert(webhook.parse(body, HEADERS, opts{ seen = seen }))
  end)

  it("reports a failing store instead of accepting silently", function()
    local broken = { seen = function() return nil, "connection refused" end }
    local msg = select(2, webhook.parse(delivery(), HEADERS, opts{ seen = broken }))
    assert.equal("tiledesk.webhook.parse(): the seen store failed: connection refused", msg)
  end)

  it("memory_store: seen within ttl_ms, add/get for caches, forget, bounded size", function()
    local t = 1000000
    local s = webhook.memory_store{ max_keys = 2, clock = function() return t end }
    assert.is_false(s:seen("a", 10000))
    assert.is_true(s:seen("a", 10000))
    assert.is_true(s:seen("a", 10000, t + 9999))
    assert.is_false(s:seen("a", 10000, t + 10001))
    t = t + 10001
    assert.is_true(s:add("b", 2, 10))
    assert.same({ false, "exists" }, { s:add("b", 2, 10) })
    assert.equal(2, s:get("b"))
    assert.same({ nil, "memory store full (2 keys)" }, { s:seen("c", 10000) })
    t = t + 20000
    assert.is_nil(s:get("b"))
    assert.is_false(s:seen("c", 10000))
    s:forget("c")
    assert.is_false(s:seen("c", 10000))
  end)

  it("raises on misuse", function()
    assert.has_error(function() webhook.parse("{}", HEADERS, {}) end,
      "tiledesk.webhook.parse(): opts.secret (the subscription secret) is required")
    assert.has_error(function() webhook.parse("{}", nil, opts()) end, "tiledesk.webhook.parse(): headers must be a table")
    assert.has_error(function() webhook.parse({}, HEADERS, opts()) end, "tiledesk.webhook.parse(): body must be a string, got table")
    assert.has_error(function() webhook.parse("{}", HEADERS, opts{ maxage = 3 }) end,
      "tiledesk.webhook.parse(): unknown option maxage")
    assert.has_error(function() webhook.parse("{}", HEADERS, opts{ seen = {} }) end,
      "tiledesk.webhook.parse(): opts.seen must be a store with seen(key, ttl_ms, now_ms) (see docs/design.md)")
  end)
end)
