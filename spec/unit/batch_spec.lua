-- tiledesk.batch with the fake transport (no start/wait there: each send is made on the spot,
-- the calls still interleave on the fake clock): order, per-call results, retries and the
-- rate limiter exactly as for single calls, hooks, and the client left as it was.
local helper = require("spec.helper")

local function new(opts)
  return helper.fake_client(opts, { retry_base_ms = 100, retry_max_ms = 100 })
end

local function gets(n)
  local calls = {}
  for i = 1, n do calls[i] = { method = "GET", path = "/items/" .. i } end
  return calls
end

local function n_of(rec) return tonumber(rec.url:match("/items/(%d+)")) end

-- A fake transport's cancel(id) over its queue of transfers ({ id = ... } each).
local function canceller(queue)
  return function(_, id)
    for k = #queue, 1, -1 do
      if queue[k].id == id then table.remove(queue, k) end
    end
  end
end

-- The lane's run_many on the fake, as the core's: up to n URLs in flight, answered in the order
-- they went out (through send, which records them); it returns at once when an answer is no
-- response or a status outside 2xx, handing the URLs still in flight over to the fake's
-- start/wait (tagged with their index, status nil and head the transfer's id). started[i]: the
-- fake clock when URL i went out, or what started_at(i, clock) says. Returns the log of its
-- calls ({ n = in flight asked, urls = how many }).
local function with_run_many(fake, started_at)
  local seen, queue, last = {}, {}, 0
  fake.start = function(_, req, tag)
    seen.tags = seen.tags or {}
    seen.tags[#seen.tags + 1] = type(tag) == "number" and tag or type(tag)
    last = last + 1
    queue[#queue + 1] = { req = req, tag = tag, id = last }
    return last
  end
  fake.wait = function(self)
    local t = table.remove(queue, 1)
    if not t then return end
    return t.tag, self:send(t.req)
  end
  fake.cancel = canceller(queue)
  fake.run_many = function(self, req, urls, n)
    seen[#seen + 1] = { n = n, urls = #urls }
    local st, hd, bd, ct, t0 = {}, {}, {}, {}, {}
    local going, nxt, stop = {}, 1, false
    local function with_url(i)
      local r = {}
      for key, v in pairs(req) do r[key] = v end
      r.url = urls[i]
      return r
    end
    while true do
      while not stop and nxt <= #urls and #going < n do
        t0[nxt] = started_at and started_at(nxt, self.clock) or self.clock
        going[#going + 1] = nxt
        nxt = nxt + 1
      end
      if stop or not going[1] then break end
      local i = table.remove(going, 1)
      local s, h, b = self:send(with_url(i))
      st[i], hd[i], bd[i], ct[i] = s or false, h, b, false
      if not s or s < 200 or s >= 300 then stop = true end
    end
    for _, i in ipairs(going) do hd[i] = self:start(with_url(i), i) end
    return nxt - 1, st, hd, bd, ct, t0
  end
  return seen
end

local function strip_where(e) return (tostring(e):gsub("^[^\n]-%.lua:%d+: ", "")) end

describe("client:batch (fake transport)", function()
  it("requires no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded["tiledesk.batch"] = nil
    require("tiledesk.batch")
    for k in pairs(helper.nonempty(_G)) do assert.is_true(before[k], "new global " .. tostring(k)) end
  end)

  it("returns each call's result in order, and counts the failures", function()
    local c, fake = new()
    fake.handler = function(rec)
      local n = n_of(rec)
      if n == 2 then return nil, "GET " .. rec.url .. ": connect", { kind = "connect" } end
      return 200, { ["content-type"] = "application/json" }, '{"n":' .. n .. "}"
    end
    local results, failed = c:batch(gets(5), { concurrency = 2 })
    assert.equal(5, #results)
    assert.equal(1, failed)
    for i = 1, 5 do
      if i == 2 then
        assert.is_nil(results[i].res)
        assert.equal("connect", results[i].err.kind)
        local _, msg, err = c:request(gets(2)[2]) -- the same call on its own
        assert.equal(msg, results[i].msg)
        assert.equal(err.attempts, results[i].err.attempts)
      else
        assert.equal(i, results[i].res.json.n)
      end
    end
  end)

  it("retries inside the batch on the client's policy while the other calls go on", function()
    local c, fake = new{ retries = 1 }
    local seen = {}
    fake.handler = function(rec)
      local n = n_of(rec)
      seen[n] = (seen[n] or 0) + 1
      if n == 1 and seen[n] == 1 then return 503, {}, "" end
      return 200, {}, "{}"
    end
    -- the backoff's jitter held at the middle (full jitter may draw 0 ms): 100 ms * 0.5
    local random = math.random
    rawset(math, "random", function() return 0.5 end)
    local ok, results = pcall(c.batch, c, gets(3), { concurrency = 3 })
    rawset(math, "random", random)
    assert(ok, results)
    assert.equal(2, results[1].res.attempts)
    assert.equal(1, results[2].res.attempts)
    -- call 1 slept its backoff; calls 2 and 3 went out meanwhile, before its second attempt
    local order = {}
    for _, r in ipairs(fake.requests) do order[#order + 1] = n_of(r) end
    assert.same({ 1, 2, 3, 1 }, order)
    assert.equal(0, fake.requests[3].at)
    assert.equal(50, fake.requests[4].at)
  end)

  it("shares the client's rate limit: no more calls than the limit allows, however many are in flight", function()
    local c, fake = new{ rate_limit = 60 } -- one a second, a bucket of one
    fake.handler = function() return 200, {}, "{}" end
    local results, failed = c:batch(gets(5), { concurrency = 5 })
    assert.equal(0, failed)
    assert.equal(5, #fake.requests)
    for i = 2, #fake.requests do
      assert.is_true(fake.requests[i].at - fake.requests[i - 1].at >= 1000,
        "call " .. i .. " at " .. fake.requests[i].at)
    end
    assert.equal(5, #results)
  end)

  it("runs hooks for every call and hands the client back as it was, even after a raise", function()
    local seen = 0
    local c, fake = new{ on_request = function() seen = seen + 1 end }
    fake.handler = function() return 200, {}, "{}" end
    local transport = c._transport
    c:batch(gets(4))
    assert.equal(4, seen)
    assert.equal(transport, c._transport)
    assert.has_error(function()
      c:batch({ { method = "GET", path = "/ok" }, function() error("boom") end })
    end)
    assert.equal(transport, c._transport)
    local ok, e = pcall(c.batch, c, { function() return c:batch({}) end })
    assert.is_false(ok)
    assert.matches("a batch is already running on this client", e)
    assert.equal(200, assert(c:request{ method = "GET", path = "/after" }).status)
  end)

  it("raises when a transport's wait hands back something else than the tag start was given", function()
    local c, fake = new()
    fake.handler = function() return 200, {}, "{}" end
    local queue, last = {}, 0
    fake.start = function() -- a transport of before tags: its wait names the transfer by id
      last = last + 1
      queue[#queue + 1] = last
      return last
    end
    fake.wait = function()
      local id = table.remove(queue, 1)
      if id then return id, 200, {}, "{}" end
    end
    fake.cancel = function(_, id)
      for k = #queue, 1, -1 do
        if queue[k] == id then table.remove(queue, k) end
      end
    end
    local transport = c._transport
    local ok, e = pcall(c.batch, c, gets(3))
    assert.is_false(ok)
    assert.equal("client:batch(): the transport's wait handed back a number, not the tag start was given",
      tostring(e):gsub("^[^\n]-%.lua:%d+: ", ""))
    assert.equal(3, last)
    assert.same({}, queue) -- the two still in flight were stopped
    assert.equal(transport, c._transport)
    fake.start, fake.wait, fake.cancel = nil, nil, nil
    assert.equal(200, assert(c:request{ method = "GET", path = "/after" }).status)
    -- a table that is not a call's record
    fake.start = function() return 1 end
    fake.wait = function() return {}, 200, {}, "{}" end
    fake.cancel = function() end
    ok, e = pcall(c.batch, c, gets(1))
    assert.is_false(ok)
    assert.equal("client:batch(): the transport's wait handed back a table that is not the tag start was given",
      tostring(e):gsub("^[^\n]-%.lua:%d+: ", ""))
    assert.equal(transport, c._transport)
  end)

  it("hands each job the results of its own transfers when two jobs share the transport's waits", function()
    local batch = require("tiledesk.batch")
    local c, fake = new()
    fake.handler = function(rec) return 200, { ["content-type"] = "application/json" }, '{"n":' .. n_of(rec) .. "}" end
    -- a transport with curl multi's start/wait: transfers end in the order they started, none
    -- within a wait(0) (so that what a spawned job starts is still in flight when it returns)
    local queue, started = {}, 0
    fake.start = function(_, req, tag)
      started = started + 1
      queue[#queue + 1] = { tag = tag, url = req.url, id = started }
      return started
    end
    fake.wait = function(_, ms)
      if ms == 0 or not queue[1] then return end
      local t = table.remove(queue, 1)
      return t.tag, fake.handler({ method = "GET", url = t.url })
    end
    fake.cancel = canceller(queue)
    local first = batch.spawn(c, gets(3), 3) -- /items/1..3, all three in flight
    assert.equal(3, #queue)
    -- a batch run meanwhile: its waits hand back the spawned job's three transfers first
    local calls = {}
    for i = 1, 2 do calls[i] = { method = "GET", path = "/items/" .. (10 + i) } end
    local results, failed = c:batch(calls, { concurrency = 2 })
    assert.equal(0, failed)
    assert.same({ 11, 12 }, { results[1].res.json.n, results[2].res.json.n })
    assert.equal(0, #queue)
    local mine = first:join()
    assert.same({ 1, 2, 3 }, { mine[1].res.json.n, mine[2].res.json.n, mine[3].res.json.n })
    -- a cancelled job's transfers are stopped, and what another wait would hand back is dropped
    local dropped = batch.spawn(c, gets(2), 2)
    assert.equal(2, #queue)
    dropped:cancel()
    assert.equal(0, #queue)
    assert.equal(1, #c:batch(gets(1)))
  end)
  it("makes a batch of plain requests through the transport's run_many; a failure and the calls after it go on as single calls", function()
    local c, fake = new{ retries = 1 }
    local seen = with_run_many(fake)
    local tries = {}
    fake.handler = function(rec)
      local n = n_of(rec)
      tries[n] = (tries[n] or 0) + 1
      if n == 3 and tries[n] == 1 then return 503, {}, "" end
      if n == 5 then return nil, "GET " .. rec.url .. ": connect", { kind = "connect" } end
      return 200, { ["content-type"] = "application/json" }, '{"n":' .. n .. "}"
    end
    local random = math.random
    rawset(math, "random", function() return 0.5 end) -- (the backoff's jitter at the middle)
    local ok, results, failed = pcall(c.batch, c, gets(6), { concurrency = 4 })
    rawset(math, "random", random)
    assert(ok, results)
    assert.same({ n = 4, urls = 6 }, seen[1])
    assert.equal(1, #seen)
    assert.equal(6, #results)
    assert.equal(1, failed)
    for _, i in ipairs({ 1, 2, 3, 4, 6 }) do assert.equal(i, results[i].res.json.n) end
    assert.equal(2, results[3].res.attempts) -- retried on the client's policy, once the lane stopped
    assert.equal(1, results[1].res.attempts)
    -- 1 to 4 went out at once; the lane returned at 3's 503, 4 to 6 in flight then: they came back
    -- through wait (tagged with their index), while 3 slept its backoff; then 3 and 5 (no
    -- response) tried again, as single calls do
    local order = {}
    for _, r in ipairs(fake.requests) do order[#order + 1] = n_of(r) end
    assert.same({ 1, 2, 3, 4, 5, 6, 3, 5 }, order)
    assert.same({ 4, 5, 6, "table", "table" }, seen.tags)
    assert.equal(2, results[5].err.attempts)
    -- each result as the same call made on its own
    local res = c:request(gets(6)[1])
    local single = fake.requests[#fake.requests]
    assert.equal(res.url, results[1].res.url)
    assert.equal(res.body, results[1].res.body)
    local _, msg, err = c:request(gets(5)[5])
    assert.is_nil(results[5].res)
    assert.equal(msg, results[5].msg)
    assert.equal(err.kind, results[5].err.kind)
    -- a request of the lane carries what client:request sends
    for _, k in ipairs({ "method", "url", "timeout_ms", "connect_timeout_ms", "once", "auth" }) do
      assert.equal(single[k], fake.requests[1][k], k)
    end
  end)

  it("goes on with a lane call that got no response as a single call would", function()
    local c, fake = new{ retries = 1 }
    local seen = with_run_many(fake)
    local tries = 0
    fake.handler = function(rec)
      if n_of(rec) == 1 then
        tries = tries + 1
        if tries == 1 then return nil, "GET " .. rec.url .. ": connect", { kind = "connect" } end
      end
      return 200, { ["content-type"] = "application/json" }, '{"n":' .. n_of(rec) .. "}"
    end
    local random = math.random
    rawset(math, "random", function() return 0.5 end)
    local ok, results, failed = pcall(c.batch, c, gets(3), { concurrency = 2 })
    rawset(math, "random", random)
    assert(ok, results)
    assert.equal(1, #seen)
    assert.equal(0, failed)
    assert.equal(2, results[1].res.attempts) -- the lane stopped at once, and call 1 tried again
    assert.same({ 2, 3 }, { results[2].res.json.n, results[3].res.json.n })
  end)

  it("counts a lane call's deadline from when it went out", function()
    for _, case in ipairs({ { ago = 0, attempts = 2 }, { ago = 990, attempts = 1 } }) do
      local c, fake = new{ retries = 1, timeout = 1000 }
      with_run_many(fake, function(i, now) return i == 2 and now - case.ago or now end)
      fake.handler = function(rec)
        if n_of(rec) == 2 then return 503, {}, "" end
        return 200, {}, "{}"
      end
      local random = math.random
      rawset(math, "random", function() return 0.5 end) -- a 50 ms backoff: past a deadline 10 ms away
      local ok, results = pcall(c.batch, c, gets(3))
      rawset(math, "random", random)
      assert(ok, results)
      assert.equal(503, results[2].res.status)
      assert.equal(case.attempts, results[2].res.attempts, "started " .. case.ago .. " ms before")
    end
  end)

  it("checks every request table before the lane sends anything, with the message the other way gives", function()
    local c, fake = new()
    local seen = with_run_many(fake)
    fake.handler = function() return 200, {}, "{}" end
    local calls = gets(3)
    calls[3].bogus = true
    local ok, e = pcall(c.batch, c, calls)
    assert.is_false(ok)
    local want = "client:batch(): call #3: client:request(): unknown field 'bogus'"
    assert.equal(want, strip_where(e))
    assert.equal(0, #fake.requests)
    assert.is_nil(seen[1])
    -- the same batch without the lane raises the same, when it reaches call 3
    fake.run_many = nil
    ok, e = pcall(c.batch, c, calls)
    assert.is_false(ok)
    assert.equal(want, strip_where(e))
  end)

  it("leaves a batch that is not all plain requests of one method to the calls' own way", function()
    local c, fake = new()
    local seen = with_run_many(fake)
    fake.handler = function(rec) return 200, {}, '{"n":' .. (n_of(rec) or 0) .. "}" end
    local mixed = {
      gets(2),
      { { method = "GET", path = "/items/1" }, { method = "DELETE", path = "/items/2" } },
      { { method = "GET", path = "/items/1" }, function() return c:get("/items/2") end },
      { { method = "GET", path = "/items/1" }, { method = "GET", path = "/items/2", headers = { ["x-a"] = "b" } } },
    }
    for k, calls in ipairs(mixed) do
      local results, failed = c:batch(calls)
      assert.equal(0, failed)
      assert.equal(2, #results, k)
    end
    assert.same({ n = 16, urls = 2 }, seen[1]) -- only the first batch took the lane
    assert.equal(1, #seen)
  end)
end)
