-- Resource helpers over client:batch against the sandbox: messages:list_many and :each/:pages
-- with prefetch keep their calls in flight together (the sandbox's barrier fault releases a wave
-- only when n calls are waiting in it: no stopwatch), and answer what single calls answer.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()
local PID = st.project_id

local control, fault = helper.control, helper.fault

local function client_for(extra)
  local u = st.users.owner
  local opts = { base_url = st.http_url .. "/v3", project_id = PID, email = u.email, password = u.password,
    retry_base_ms = 5, retry_max_ms = 20 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  local c = tiledesk.new(opts)
  assert(c:signin())
  return c
end

-- The calls logged after `since` that met a barrier: n of them, all released in one wave.
local function assert_one_wave(since, n)
  local met = {}
  for _, e in ipairs(control("GET", "/log?since=" .. since .. "&limit=2000").entries) do
    if e.barrier then met[#met + 1] = e end
  end
  assert.equal(n, #met)
  for _, e in ipairs(met) do
    assert.equal("released", e.barrier.outcome)
    assert.equal(met[1].barrier.wave, e.barrier.wave)
  end
end

describe("helpers over client:batch", function()
  setup(function() control("POST", "/reset") end)
  before_each(function() control("DELETE", "/faults") end)
  after_each(function() control("DELETE", "/faults") end)

  it("messages:list_many fetches the transcripts together, in order, as messages:list does", function()
    local c = client_for({ retries = 0 })
    local page = assert(c.requests:list{ status = "all", limit = 4 })
    local ids = {}
    for i, r in ipairs(page.requests) do ids[i] = r.request_id end
    assert.equal(4, #ids)
    local one_by_one = {}
    for i, rid in ipairs(ids) do one_by_one[i] = assert(c.messages:list(rid)) end
    assert.is_true(#one_by_one[1] > 0)

    local since = control("GET", "/log?limit=1").last_seq
    fault("/requests/[^/]+/messages$", { type = "barrier", n = 4, timeout_ms = 10000 }, 4)
    local results, failed = c.messages:list_many(ids, { concurrency = 4 })
    assert.equal(0, failed)
    for i, r in ipairs(results) do
      assert.equal(ids[i], r.request_id)
      assert.same(one_by_one[i], r.res)
    end
    assert_one_wave(since, 4)

    -- one at a time, a wave of 2 never fills: each call fails on its own, in its place
    control("DELETE", "/faults")
    fault("/requests/[^/]+/messages$", { type = "barrier", n = 2, timeout_ms = 300 }, 2)
    results, failed = c.messages:list_many({ ids[1], ids[2], ids[3] }, { concurrency = 1 })
    assert.equal(2, failed)
    assert.equal(504, results[1].err.status)
    assert.equal(504, results[2].err.status)
    assert.same(one_by_one[3], results[3].res)
    c:close()
  end)

  -- the list calls logged after `since`: { seq, page } each, oldest first
  local function list_calls(since)
    local out = {}
    for _, e in ipairs(control("GET", "/log?since=" .. since .. "&limit=2000").entries) do
      if e.method == "GET" and e.path == "/" .. PID .. "/requests" then
        out[#out + 1] = { seq = e.seq, page = tonumber(helper.query_of("?" .. (e.query or "")).page) or 0 }
      end
    end
    return out
  end

  local function all_pages(c, query)
    local p, got = c.requests:pages(query), {}
    while true do
      local pg, msg = p:next()
      if not pg then
        assert.is_nil(msg)
        return got
      end
      got[#got + 1] = pg
    end
  end

  it("prefetch sets the next pages going as each page is handed out, and gives the same pages", function()
    local c = client_for({ retries = 0 })
    local plain = all_pages(c, { status = "all", limit = 5, max_items = 20 })
    assert.equal(4, #plain)

    local since = control("GET", "/log?limit=1").last_seq
    local p = c.requests:pages{ status = "all", limit = 5, max_items = 20, prefetch = 3 }
    local first = assert(p:next())
    assert.same(plain[1].items, first.items)
    -- the caller works on page 0: a call of its own, on another connection, marks the moment
    local marker = control("GET", "/log?limit=1").last_seq
    -- pages 1, 2 and 3 reached the server while the caller held page 0, before it asked for page 1
    local early = list_calls(since)
    assert.equal(4, #early)
    local asked = {}
    for i, e in ipairs(early) do
      assert.is_true(e.seq <= marker)
      asked[i] = e.page
    end
    table.sort(asked)
    assert.same({ 0, 1, 2, 3 }, asked)
    for k = 2, 4 do
      local pg = assert(p:next())
      assert.equal(k - 1, pg.number)
      assert.same(plain[k].items, pg.items)
    end
    assert.is_nil(p:next()) -- max_items: no fifth page was asked for
    assert.equal(4, #list_calls(since))
    c:close()
  end)

  it("prefetch leaves the client free: its own calls and batches run while pages are under way", function()
    local c = client_for({ retries = 0 })
    local plain = all_pages(c, { status = "all", limit = 3 })
    assert.is_true(#plain >= 5)
    local p = c.requests:pages{ status = "all", limit = 3, prefetch = 2 }
    local got = { assert(p:next()) }
    -- pages 1 and 2 are under way on the client's curl multi; the client makes calls of its own
    local deps = assert(c:get("/departments"))
    assert.is_true(#deps > 0)
    local results, failed = c:batch({ { method = "GET", path = "/departments" }, { method = "GET", path = "/requests",
      query = { status = "all", limit = 3, page = 4 } } }, { concurrency = 2 })
    assert.equal(0, failed)
    assert.same(plain[5].items, results[2].res.json.requests)
    while true do
      local pg, msg = p:next()
      if not pg then
        assert.is_nil(msg)
        break
      end
      got[#got + 1] = pg
    end
    assert.equal(#plain, #got)
    for i, pg in ipairs(got) do
      assert.equal(i - 1, pg.number)
      assert.same(plain[i].items, pg.items)
    end
    c:close()
  end)

  it("prefetch: a for loop left early drops the pages under way where the loop can close (Lua 5.4)", function()
    local c = client_for({ retries = 0 })
    -- page 0 answers at once (the first fault that matches wins), pages 1 and 2 only after 3 s:
    -- they are still under way when the loop is left
    fault("/requests$", { type = "delay", ms = 0 }, 1, "GET")
    fault("/requests$", { type = "delay", ms = 3000 }, 2, "GET")
    local seen = 0
    for _ in c.requests:each{ status = "all", limit = 5, prefetch = 2 } do
      seen = seen + 1
      if seen == 3 then break end
    end
    assert.equal(3, seen)
    -- page 0 was handed out and pages 1 and 2 set going; the loop's close cancels them on 5.4,
    -- where 5.1 and LuaJIT (no to-be-closed values) leave them to finish unread
    local left = c._transport.handle:pending()
    if _VERSION == "Lua 5.4" then assert.equal(0, left) else assert.equal(2, left) end
    -- the client goes on as before
    assert.equal(5, #assert(c.requests:list{ status = "all", limit = 5 }).requests)
    c:close()
  end)

  it("prefetch asks again for pages left waiting longer than half the time a call allows", function()
    -- pages of 100 conversations (about 270 kB: more than a socket holds unread), a call timeout
    -- of 1 s, and a caller that works 1.3 s on page 0: transfers nobody drove that long would
    -- end as timeouts the moment they are driven again (curl 28), so they are asked for anew
    local core = require("tiledesk.core")
    local c = client_for({ retries = 0, timeout = 1000 })
    local query = { status = "all", limit = 100, max_items = 300 }
    local plain = all_pages(c, query)
    assert.equal(3, #plain)
    assert.equal(100, #plain[2].items)
    local since = control("GET", "/log?limit=1").last_seq
    query.prefetch = 2
    local p = c.requests:pages(query)
    assert.same(plain[1].items, assert(p:next()).items)
    core.sleep_ms(1300)
    for k = 2, 3 do
      local pg, msg = p:next()
      assert(pg, msg)
      assert.same(plain[k].items, pg.items)
    end
    assert.is_nil(p:next())
    -- pages 1 and 2 went out with page 0 (the server may or may not have seen them whole), then
    -- again when asked for: the last two list calls are pages 1 and 2
    local asked = {}
    for i, e in ipairs(list_calls(since)) do asked[i] = e.page end
    assert.is_true(#asked >= 3)
    assert.equal(0, asked[1])
    local last_two = { asked[#asked - 1], asked[#asked] }
    table.sort(last_two)
    assert.same({ 1, 2 }, last_two)
    c:close()
  end)
end)
