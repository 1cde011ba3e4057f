-- client:batch over curl multi against the sandbox: order, per-call errors built as for single
-- calls, retries inside a batch, N calls really in flight (the sandbox's barrier fault releases
-- a wave only when n calls are waiting in it), and connections reused (X-Sandbox-Connection).
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()
local PID = st.project_id

local control, fault = helper.control, helper.fault

local function client_for(extra, base)
  local u = st.users.admin
  local opts = { base_url = (base or st.http_url) .. "/v3", project_id = PID, email = u.email, password = u.password,
    retry_base_ms = 5, retry_max_ms = 20 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return tiledesk.new(opts)
end

local function gets(n, path)
  local calls = {}
  for i = 1, n do calls[i] = { method = "GET", path = path or "/departments/allstatus", query = { i = i } } end
  return calls
end

local function distinct(results, header)
  local seen, n = {}, 0
  for _, r in ipairs(helper.nonempty(results)) do
    local v = assert(r.res, r.msg).headers[header]
    if not seen[v] then seen[v], n = true, n + 1 end
  end
  return n
end

describe("client:batch", function()
  setup(function() control("POST", "/reset") end)
  before_each(function() control("DELETE", "/faults") end)

  it("returns the results in the order of the calls, each a result or its own error", function()
    local c = client_for()
    local missing = "/requests/" .. string.rep("0", 24)
    local calls = {
      { method = "GET", path = "/departments/allstatus" },
      function() return c:get(missing) end,
      { method = "GET", path = "/leads", query = { limit = 1 } },
      function() return c.users:me() end,
      { method = "GET", path = missing },
    }
    local results, failed = c:batch(calls, { concurrency = 3 })
    assert.equal(5, #results)
    assert.equal(1, failed)
    assert.equal(200, results[1].res.status)
    assert.is_table(results[1].res.json)
    assert.is_nil(results[2].res)
    -- the same message and error as the same call made on its own
    local _, msg, err = c:get(missing)
    assert.equal(msg, results[2].msg)
    assert.equal("not_found", results[2].err.kind) -- a 404: no such object
    assert.equal(err.status, results[2].err.status)
    assert.equal(200, results[3].res.status)
    assert.equal(st.users.admin.email, results[4].res.email)
    assert.equal(404, results[5].res.status) -- client:request returns any status
    c:close()
  end)

  it("retries a call inside the batch as a single call would, the others untouched", function()
    local c = client_for()
    assert(c:signin())
    fault("/departments/allstatus$", { type = "status", status = 503 }, 2)
    local results, failed = c:batch(gets(6), { concurrency = 6 })
    assert.equal(0, failed)
    -- two 503s were answered, each to some call of the six, which tried again
    local retried = 0
    for i, r in ipairs(helper.nonempty(results)) do
      assert.equal(200, r.res.status, i)
      retried = retried + r.res.attempts - 1
    end
    assert.equal(2, retried)
    -- a POST is not repeated inside a batch either
    fault("/leads$", { type = "status", status = 503 }, 1, "POST")
    results = c:batch({ { method = "POST", path = "/leads", body = { fullname = "batch" } } })
    assert.equal(503, results[1].res.status)
    assert.equal(1, results[1].res.attempts)
    c:close()
  end)

  it("keeps n calls in flight at once (the barrier opens only when n are waiting)", function()
    local c = client_for({ retries = 0 })
    assert(c:signin())
    fault("/departments/allstatus$", { type = "barrier", n = 8, timeout_ms = 10000 }, 8)
    local results, failed = c:batch(gets(8), { concurrency = 8 })
    assert.equal(0, failed)
    for i, r in ipairs(helper.nonempty(results)) do
      assert.equal(200, r.res.status, i)
      assert.equal("released", r.res.headers["x-sandbox-barrier"])
    end
    -- with 4 in flight a wave of 8 never fills: the barrier times out
    control("DELETE", "/faults")
    fault("/departments/allstatus$", { type = "barrier", n = 8, timeout_ms = 500 }, 8)
    results = c:batch(gets(4), { concurrency = 4 })
    for i, r in ipairs(helper.nonempty(results)) do
      assert.equal(504, r.res.status, i)
      assert.equal("timeout", r.res.headers["x-sandbox-barrier"])
    end
    c:close()
  end)

  it("reuses connections: HTTP/1.1 at most one per call in flight, HTTP/2 one for all", function()
    local c = client_for()
    assert(c:signin())
    local results = c:batch(gets(40), { concurrency = 4 })
    assert.equal(40, #results)
    local n = distinct(results, "x-sandbox-connection")
    assert.is_true(n >= 1 and n <= 4, n .. " connections")
    -- 16 in flight: the connections last the whole batch, never closed and made anew when ends
    -- come in a burst (libcurl's default cache would shrink with the transfers still in it)
    results = c:batch(gets(400), { concurrency = 16 })
    assert.equal(400, #results)
    n = distinct(results, "x-sandbox-connection")
    assert.is_true(n <= 16, n .. " connections for 16 in flight")
    c:close()
    local tls = client_for({ cafile = st.ca_file }, st.https_url)
    assert(tls:signin())
    results = tls:batch(gets(40), { concurrency = 8 })
    assert.equal(1, distinct(results, "x-sandbox-connection"))
    -- and those streams are in flight together: a barrier of 8 opens
    fault("/departments/allstatus$", { type = "barrier", n = 8, timeout_ms = 10000 }, 8)
    results = tls:batch(gets(8), { concurrency = 8 })
    for i, r in ipairs(helper.nonempty(results)) do assert.equal("released", r.res.headers["x-sandbox-barrier"], i) end
    assert.equal(1, distinct(results, "x-sandbox-connection"))
    tls:close()
  end)

  it("raises on misuse with a clear message, and leaves the client usable", function()
    local c = client_for()
    local function raises(msg, ...)
      local ok, e = pcall(c.batch, c, ...)
      assert.is_false(ok)
      assert.equal(msg, (tostring(e):gsub("^[^:]*:%d+: ", "")))
    end
    raises("client:batch(): 'calls' must be an array of request tables or functions", "x")
    raises("client:batch(): call #2 must be a request table or a function (got string)", { {}, "x" })
    raises("client:batch(): unknown option 'n' (concurrency)", {}, { n = 1 })
    raises("client:batch(): 'concurrency' must be an integer from 1 to 1024", {}, { concurrency = 0 })
    raises("client:batch(): call #1: client:request(): 'method' must be an upper-case HTTP method",
      { { method = "get", path = "/x" } })
    local results = c:batch({})
    assert.same({}, results)
    assert.equal(200, assert(c:request{ method = "GET", path = "/departments/allstatus" }).status)
    c:close()
  end)

  it("core: cancel, close and collection with transfers in flight free everything once", function()
    local core = require("tiledesk.core")
    local url = st.http_url .. "/__sandbox/bytes?n=" .. 4 * 1024 * 1024
    local c = core.new{}
    local a = c:start{ url = url }
    local b = c:start{ url = url, sink = function() end }
    local d = c:start{ url = st.http_url .. "/__sandbox/echo" }
    assert.equal(3, c:pending())
    c:cancel(b)
    c:cancel(12345) -- unknown: ignored
    assert.equal(2, c:pending())
    local seen = {}
    for _ = 1, 5 do
      local id, status = c:wait()
      if not id then break end
      assert.equal(200, status)
      seen[#seen + 1] = id
    end
    table.sort(seen)
    assert.same({ a, d }, seen)
    assert.is_nil((c:wait(0)))
    -- closed with two in flight (one streaming): released at once, and later calls raise
    c:start{ url = url }
    c:start{ url = url, sink = function() end }
    c:close()
    assert.is_true(c:is_closed())
    assert.has_error(function() c:wait() end, "tiledesk.Client is closed")
    -- dropped with transfers in flight: the collector releases it
    for _ = 1, 5 do
      local x = core.new{}
      x:start{ url = url, sink = function() end }
      x:start{ url = st.http_url .. "/__sandbox/echo" }
    end
    collectgarbage()
    collectgarbage()
    local again = core.new{}
    assert.equal(200, (again:perform{ url = st.http_url .. "/__sandbox/echo" }))
    again:close()
  end)

  it("core: wait hands back the tag start was given, and keeps no tag once it is handed back, cancelled or closed", function()
    local core = require("tiledesk.core")
    local echo = st.http_url .. "/__sandbox/echo"
    local c = core.new{}
    -- tagged and untagged transfers side by side: each wait names its transfer the way it was started
    local tags = { { name = "a" }, { name = "b" }, { name = "c" } }
    local plain = c:start{ url = echo .. "?plain" }
    for i, tag in ipairs(tags) do assert.equal("number", type(c:start({ url = echo .. "?i=" .. i }, false, tag))) end
    local got = {}
    for _ = 1, 5 do
      local key, status, _, body = c:wait(10000)
      if key == nil then break end
      assert.equal(200, status)
      if type(key) == "table" then
        got[key.name] = body:match('"query":"([^"]*)"')
      else
        assert.equal(plain, key)
        got.plain = body:match('"query":"([^"]*)"')
      end
    end
    assert.same({ a = "i=1", b = "i=2", c = "i=3", plain = "plain" }, got)
    -- a tag is let go once wait handed it back, once its transfer is cancelled, and on close
    local weak = setmetatable({}, { __mode = "k" })
    local function tagged_start(url, others)
      local tag = {}
      weak[tag] = true
      return c:start({ url = url }, others, tag)
    end
    local function held()
      collectgarbage()
      collectgarbage()
      local n = 0
      for _ in pairs(weak) do n = n + 1 end
      return n
    end
    for _ = 1, 40 do -- (many rounds on few slots: the tags stay an array of the slots)
      tagged_start(echo, true)
      assert.equal("table", type((c:wait(10000))))
    end
    assert.equal(0, held(), "a tag handed back by wait is still held")
    -- two in flight at once (two slots): one handed back, the other cancelled
    local big = st.http_url .. "/__sandbox/bytes?n=" .. 4 * 1024 * 1024
    tagged_start(echo, true)
    local slow = tagged_start(big, false)
    assert.equal("table", type((c:wait(10000))))
    c:cancel(slow)
    assert.equal(0, c:pending())
    assert.equal(0, held(), "a tag of a cancelled transfer is still held")
    tagged_start(big)
    assert.equal(1, c:pending())
    assert.equal(1, held())
    c:close()
    assert.equal(0, held(), "a tag of a transfer in flight at close is still held")
    -- a tag is what start was given, whatever its type (false and nil are none: wait gives the id)
    local c2 = core.new{}
    local id = c2:start({ url = echo }, false, false)
    assert.equal(id, (c2:wait(10000)))
    c2:start({ url = echo }, true, "label")
    assert.equal("label", (c2:wait(10000)))
    c2:close()
  end)
  it("makes a batch of plain requests in the core's run_many; a 404 and the calls after it as single calls", function()
    local c = client_for()
    assert(c:signin())
    local t = c._transport
    local used = { start = 0, run_many = 0 }
    for _, m in ipairs({ "start", "run_many" }) do
      local f = t[m]
      t[m] = function(...)
        used[m] = used[m] + 1
        return f(...)
      end
    end
    local missing = "/requests/" .. string.rep("0", 24)
    local calls = gets(30)
    calls[10] = { method = "GET", path = missing }
    local results, failed = c:batch(calls, { concurrency = 4 })
    assert.equal(30, #results)
    assert.equal(0, failed) -- client:request returns a 404 as a result
    for i, r in ipairs(helper.nonempty(results)) do
      if i == 10 then
        assert.equal(404, r.res.status)
      else
        assert.equal(200, r.res.status, i)
        assert.matches("[?&]i=" .. i .. "$", r.res.url)
      end
    end
    -- one run_many, which returned at the 404 (the 3 others in flight then came back through
    -- wait): the 404's outcome needed no other attempt, and the calls it had not started (at
    -- least 13 had) went out one by one
    assert.equal(1, used.run_many)
    assert.is_true(used.start >= 1 and used.start <= 30 - 13, used.start .. " started one by one")
    -- each result as the same call made on its own
    local one = assert(c:request(calls[10]))
    assert.equal(one.url, results[10].res.url)
    assert.equal(one.body, results[10].res.body)
    assert.equal(1, results[10].res.attempts)
    one = assert(c:request(calls[3]))
    assert.equal(one.url, results[3].res.url)
    assert.same(one.json, results[3].res.json)
    -- a batch while a spawned job's transfers are in flight goes the calls' own way
    local before = used.start
    fault("/leads$", { type = "delay", ms = 300 }, 3) -- (still in flight when the batch starts)
    local job = require("tiledesk.batch").spawn(c, gets(3, "/leads"), 3)
    results = c:batch(gets(5), { concurrency = 5 })
    assert.equal(5, #results)
    assert.equal(2, used.run_many) -- asked, and it said not now: the five were started one by one
    assert.equal(3 + 5, used.start - before)
    for i, r in ipairs(helper.nonempty(job:join())) do assert.equal(200, r.res.status, i) end
    for i, r in ipairs(helper.nonempty(results)) do assert.matches("[?&]i=" .. i .. "$", r.res.url) end
    c:close()
  end)
end)
