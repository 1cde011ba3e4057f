-- tiledesk.ratelimit: the token bucket over a store, waiting on the transport's clock; the
-- store interface a shared store (lua_shared_dict, Redis) implements.
local helper = require("spec.helper")
local ratelimit = require("tiledesk.ratelimit")
local memory = require("tiledesk.ratelimit.memory")
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")
assert(helper)

describe("rate limiter", function()
  it("takes a second's worth at once, then waits for the refill", function()
    local clock = Fake.new()
    local lim = ratelimit.new{ per_minute = 120 } -- 2 a second, burst 2
    for _ = 1, 4 do assert.is_true(lim:acquire(clock)) end
    assert.same({ 500, 500 }, clock.sleeps)
  end)

  it("gives up rather than wait past a deadline", function()
    local clock = Fake.new()
    local lim = ratelimit.new{ per_minute = 60 }
    assert.is_true(lim:acquire(clock, 100))
    local ok, msg, err = lim:acquire(clock, 100)
    assert.is_nil(ok)
    assert.equal("rate limiter: a token comes only after the call's deadline", msg)
    assert.same({ kind = "timeout", wait_ms = 1000 }, err)
    assert.same({}, clock.sleeps)
  end)

  it("fails the call, unsent and not retried, when the store fails", function()
    local store = { take = function() return nil, "redis: connection refused", { kind = "limiter" } end }
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test", project_id = "p", token = "JWT x", transport = fake,
      rate_limit = 60, rate_limit_store = store }
    local v, msg, err = c:get("/x")
    assert.is_nil(v)
    assert.equal("GET /x: rate limiter: redis: connection refused", msg)
    assert.equal("limiter", err.kind)
    assert.equal(1, err.attempts)
    assert.equal(0, #fake.requests)
  end)

  it("keeps its state in the store it is given, so clients can share one budget", function()
    local calls = {}
    local store = memory.new()
    local spy = { take = function(_, key, per_minute, capacity, now)
      calls[#calls + 1] = { key, per_minute, capacity, now }
      return store:take(key, per_minute, capacity, now)
    end }
    local fake = Fake.new()
    local a = tiledesk.new{ base_url = "https://api.test", project_id = "p", token = "JWT x", transport = fake,
      rate_limit = 60, rate_limit_store = spy, rate_limit_key = "project-p" }
    local b = tiledesk.new{ base_url = "https://api.test", project_id = "p", token = "JWT x", transport = fake,
      rate_limit = 60, rate_limit_store = spy, rate_limit_key = "project-p" }
    fake:queue(200, {})
    fake:queue(200, {})
    assert(a:get("/x"))
    assert(b:get("/x"))
    assert.same({ 1000 }, fake.sleeps) -- b waited for a's token
    assert.equal(3, #calls)
    assert.same({ "project-p", 60, 1, 0 }, calls[1])
  end)

  it("refuses a store without take, and a store without a rate", function()
    assert.has_error(function() tiledesk.new{ rate_limit = 10, rate_limit_store = {} } end,
      "tiledesk.new(): option 'rate_limit_store' must be a store object with a 'take' method (see docs/design.md) (got table)")
    assert.has_error(function() tiledesk.new{ rate_limit_key = "k" } end,
      "tiledesk.new(): options 'rate_limit_store' and 'rate_limit_key' need 'rate_limit'")
  end)

  it("memory store: a clock going back refills nothing", function()
    local s = memory.new()
    assert.equal(0, s:take("k", 60, 1, 5000))
    assert.equal(1000, s:take("k", 60, 1, 4000))
    assert.equal(0, s:take("k", 60, 1, 5000))
  end)
end)
