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

  it("prefetch asks for the next pages together once the count is known, and gives the same pages", function()
    local c = client_for({ retries = 0 })
    local plain = {}
    local p = c.requests:pages{ status = "all", limit = 5, max_items = 20 }
    while true do
      local pg, msg = p:next()
      if not pg then
        assert.is_nil(msg)
        break
      end
      plain[#plain + 1] = pg
    end
    assert.equal(4, #plain)

    p = c.requests:pages{ status = "all", limit = 5, max_items = 20, prefetch = 3 }
    local first = assert(p:next())
    assert.same(plain[1].items, first.items)
    -- pages 1, 2 and 3 go out together: a barrier of 3 opens
    local since = control("GET", "/log?limit=1").last_seq
    fault("/requests$", { type = "barrier", n = 3, timeout_ms = 10000 }, 3, "GET")
    for k = 2, 4 do
      local pg = assert(p:next())
      assert.equal(k - 1, pg.number)
      assert.same(plain[k].items, pg.items)
    end
    assert.is_nil(p:next()) -- max_items: no fifth page was asked for
    assert_one_wave(since, 3)
    local log = control("GET", "/log?since=" .. since .. "&limit=2000").entries
    local lists = 0
    for _, e in ipairs(log) do if e.path == "/" .. PID .. "/requests" then lists = lists + 1 end end
    assert.equal(3, lists)
    c:close()
  end)
end)
