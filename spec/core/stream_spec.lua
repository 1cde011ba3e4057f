-- Streaming a body into a sink (issue 14): chunks handed over between curl multi steps, never
-- from a libcurl callback, with the Lua heap flat whatever the size (asserted with
-- collectgarbage("count"), not with time), a failing sink aborting cleanly, error bodies kept.
local helper = require("spec.helper")
local core = require("tiledesk.core")

local st = helper.sandbox()
local HTTP = st.http_url
local MB = 1024 * 1024

local function bytes_url(n, chunked)
  return HTTP .. "/__sandbox/bytes?n=" .. n .. (chunked and "&chunked=1" or "")
end

-- Streams n bytes into a counting sink; returns the byte count, the largest chunk, the peak of
-- the Lua heap above where it started (KiB), and perform's results.
local function stream(c, n, chunked)
  collectgarbage()
  collectgarbage()
  local base = collectgarbage("count")
  local total, largest, peak, xs = 0, 0, 0, true
  local s, h, b = c:perform{ url = bytes_url(n, chunked), timeout_ms = 120000, sink = function(chunk)
    total = total + #chunk
    if #chunk > largest then largest = #chunk end
    if chunk:find("[^x]") then xs = false end
    local now = collectgarbage("count") - base
    if now > peak then peak = now end
  end }
  return total, largest, peak, s, h, b, xs
end

describe("streaming into a sink", function()
  it("hands a large body over in bounded chunks, with the heap flat whatever the size", function()
    local c = core.new{ max_body_size = 1000 } -- a streamed 2xx body is not limited by max_body_size
    for _, case in ipairs({ { 4 * MB, false }, { 16 * MB, true } }) do
      local total, largest, _, s, h, b, xs = stream(c, case[1], case[2])
      assert.equal(200, s)
      assert.equal("", b) -- the body went to the sink
      assert.is_table(h)
      assert.equal(case[1], total)
      assert.is_true(xs)
      assert.is_true(largest <= 64 * 1024 + 16 * 1024, "largest chunk " .. largest)
    end
    c:close()
    -- the heap, measured in a fresh interpreter (what the other specs loaded is not in it):
    -- 4 MB, 48 MB and 200 MB streamed peak at about the same few hundred KiB, where a body held
    -- in memory would take its size
    local out = helper.lua_child(string.format([[
      local core = require("tiledesk.core")
      local c = core.new{}
      for _, n in ipairs({ 4, 48, 200 }) do
        collectgarbage()
        collectgarbage()
        local base, peak, total = collectgarbage("count"), 0, 0
        local s = c:perform{ url = %q .. n * 1048576, sink = function(chunk)
          total = total + #chunk
          local now = collectgarbage("count") - base
          if now > peak then peak = now end
        end }
        print(n, s, total, math.floor(peak))
      end
    ]], HTTP .. "/__sandbox/bytes?n="))
    local rows = 0
    for n, s, total, peak in out:gmatch("(%d+)\t(%d+)\t(%d+)\t(%d+)") do
      rows = rows + 1
      assert.equal("200", s)
      assert.equal(tonumber(n) * MB, tonumber(total))
      assert.is_true(tonumber(peak) < 2048, n .. " MB streamed: heap peak " .. peak .. " KiB")
    end
    assert.equal(3, rows, out)
  end)

  it("writes into an open file", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    local t = require("tiledesk.transport.curl").new{}
    local s, _, b = t:send{ method = "GET", url = bytes_url(3 * MB + 7), sink = f }
    f:close()
    assert.equal(200, s)
    assert.equal("", b)
    f = assert(io.open(path, "rb"))
    local size = f:seek("end")
    f:close()
    os.remove(path)
    assert.equal(3 * MB + 7, size)
    assert.has_error(function() t:send{ method = "GET", url = bytes_url(10), sink = f } end,
      "tiledesk.transport.curl: 'sink' must be a function or an open file (got closed file)")
    t:close()
  end)

  it("aborts the transfer cleanly when the sink fails, and the client goes on", function()
    local c = core.new{}
    local calls = 0
    local s, msg, err = c:perform{ url = bytes_url(8 * MB), sink = function()
      calls = calls + 1
      if calls == 3 then error("disk on fire", 0) end
    end }
    assert.is_nil(s)
    assert.equal("sink", err.kind)
    assert.equal(3, calls)
    assert.matches("^GET http://127%.0%.0%.1:%d+/__sandbox/bytes: sink %(the sink failed: disk on fire%)$", msg)
    -- nil plus a message (what file:write returns) and false abort too
    s, msg, err = c:perform{ url = bytes_url(MB), sink = function() return nil, "No space left on device" end }
    assert.is_nil(s)
    assert.equal("sink", err.kind)
    assert.matches("the sink failed: No space left on device", msg, 1, true)
    s, msg = c:perform{ url = bytes_url(MB), sink = function() return false end }
    assert.is_nil(s)
    assert.matches("the sink failed: it returned false", msg, 1, true)
    -- a sink may not use its own client
    s, msg = c:perform{ url = bytes_url(MB), sink = function() c:perform{ url = HTTP .. "/__sandbox/echo" } end }
    assert.is_nil(s)
    assert.matches("tiledesk.Client is busy", msg, 1, true)
    assert.equal(200, (c:perform{ url = HTTP .. "/__sandbox/echo" }))
    c:close()
  end)

  it("keeps an error body instead of streaming it", function()
    local c = core.new{}
    local called = false
    local s, _, b = c:perform{ url = HTTP .. "/v3/nowhere", sink = function() called = true end }
    assert.is_true(s >= 400)
    assert.is_false(called)
    assert.is_true(#b > 0)
    c:close()
  end)

  it("streams several bodies at once through start and wait", function()
    local c = core.new{}
    local got = { 0, 0, 0 }
    local ids = {}
    for i = 1, 3 do
      ids[c:start{ url = bytes_url(i * MB), sink = function(chunk) got[i] = got[i] + #chunk end }] = i
    end
    local done = 0
    for _ = 1, 10 do
      local id, s = c:wait()
      if not id then break end
      assert.equal(200, s)
      done = done + 1
      assert.is_not_nil(ids[id])
    end
    assert.equal(3, done)
    assert.same({ MB, 2 * MB, 3 * MB }, got)
    assert.equal(0, c:pending())
    c:close()
  end)

  describe("through the client", function()
    local function client(extra)
      local u = st.users.admin
      local o = { base_url = HTTP .. "/v3", project_id = st.project_id, email = u.email, password = u.password }
      for k, v in pairs(extra or {}) do o[k] = v end
      return require("tiledesk").new(o)
    end

    it("streams a call's body into a file with { sink = file }", function()
      local c = client()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      assert.is_true(c:get("/__sandbox/bytes", { n = 5 * MB + 3 }, { project = false, sink = f }))
      f:close()
      assert.equal(5 * MB + 3, #helper.read_file(path))
      -- a resource method streams through a client:with{ sink } view: the leads' CSV export
      f = assert(io.open(path, "wb"))
      assert.is_true(c:with{ sink = f }.leads:csv())
      f:close()
      local csv = helper.read_file(path)
      os.remove(path)
      assert.equal(assert(c.leads:csv()), csv)
      assert.truthy(csv:find("\n", 1, true))
      c:close()
    end)

    it("returns the sink's failure as the call's error, not retried", function()
      local c = client{ retry_base_ms = 1 }
      local calls = 0
      local ok, msg, err = c:get("/__sandbox/bytes", { n = 4 * MB }, { project = false, sink = function()
        calls = calls + 1
        return nil, "quota exceeded"
      end })
      assert.is_nil(ok)
      assert.equal("sink", err.kind)
      assert.equal(1, calls)
      assert.equal(1, err.attempts)
      assert.matches("the sink failed: quota exceeded", msg, 1, true)
      assert.has_error(function() c:get("/x", nil, { sink = "file.csv" }) end,
        "client:get(): 'sink' must be a function or an open file (got string)")
      c:close()
    end)
  end)
end)
