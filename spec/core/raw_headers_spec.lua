-- Response headers handed back unparsed (req.raw_headers, docs/design.md "Transport interface"):
-- the C core returns the header block and the Content-Type; the client parses the block only
-- when something reads the headers, and what it then sees is what it saw before.
local helper = require("spec.helper")
local core = require("tiledesk.core")

local st = helper.sandbox()
local HTTP = st.http_url

-- the fields of two header tables, but those that change per response
local function same_fields(a, b)
  local n = 0
  for k, v in pairs(a) do
    if k ~= "date" and not k:find("^x%-sandbox") then
      assert.same(v, b[k], k)
      n = n + 1
    end
  end
  assert.is_true(n > 0)
end

describe("raw response headers", function()
  before_each(function() helper.control("DELETE", "/faults") end)

  it("core: raw_headers gives the block and the content type; core.headers parses it as perform does", function()
    local c = core.new{}
    local url = HTTP .. "/__sandbox/headers"
    local s1, h = c:perform{ url = url }
    local s2, block, body, ctype = c:perform{ url = url, raw_headers = true }
    assert.equal(200, s1)
    assert.equal(200, s2)
    assert.is_string(block)
    assert.matches("^HTTP/1%.1 200", block)
    assert.is_string(body)
    assert.is_string(ctype)
    assert.equal(h["content-type"], ctype)
    local parsed = core.headers(block)
    assert.same({ "one", "two", "three" }, parsed["x-repeat"])
    same_fields(h, parsed)
    same_fields(parsed, h)
    -- without the flag, three results as always
    assert.equal(3, select("#", c:perform{ url = url }))
    -- many in flight: wait hands back the same five
    local id = c:start{ url = url, raw_headers = true }
    local wid, ws, wblock, wbody, wct = c:wait()
    assert.equal(id, wid)
    assert.equal(200, ws)
    assert.matches("^HTTP/1%.1 200", wblock)
    assert.is_string(wbody)
    assert.equal(ctype, wct)
    c:close()
  end)

  it("core: the content type is the block's own; only the final response's block is kept", function()
    local c = core.new{}
    for _, path in ipairs({ "/__sandbox/bytes?n=10", "/__sandbox/echo", "/__sandbox/headers" }) do
      local s, block, _, ctype = c:perform{ url = HTTP .. path, raw_headers = true }
      assert.equal(200, s)
      assert.equal(core.headers(block)["content-type"], ctype, path)
    end
    -- a POST with a body: any interim response is gone, one status line is left
    local s, block = c:perform{ method = "POST", url = HTTP .. "/__sandbox/echo", body = "x", raw_headers = true }
    assert.equal(200, s)
    local _, lines = block:gsub("HTTP/%d", "")
    assert.equal(1, lines)
    assert.has_error(function() core.headers(nil) end)
    c:close()
  end)

  it("core: 'non2xx' leaves a 2xx's block out (false), never its content type, and keeps every other block", function()
    local c = core.new{}
    for _, send in ipairs({
      function(url) return c:perform{ url = url, raw_headers = "non2xx" } end,
      function(url) return c:send("GET", url, nil, nil, nil, nil, nil, nil, nil, "non2xx") end,
      function(url)
        local id = c:start{ url = url, raw_headers = "non2xx" }
        local wid, s, block, body, ctype = c:wait()
        assert.equal(id, wid)
        return s, block, body, ctype
      end,
    }) do
      local s, block, body, ctype = send(HTTP .. "/__sandbox/echo")
      assert.equal(200, s)
      assert.is_false(block)
      assert.is_string(body)
      assert.matches("json", ctype)
      -- a status outside 2xx (a project id the sandbox refuses, as Tiledesk does): the block as with true
      s, block, body, ctype = send(HTTP .. "/nope")
      assert.equal(400, s)
      assert.is_string(block)
      assert.matches("^HTTP/1%.1 400", block)
      assert.equal(core.headers(block)["content-type"], ctype)
      assert.matches("project", body)
    end
    c:close()
  end)

  it("core: the content type follows each answer, whether or not it is the one before", function()
    local c = core.new{}
    local types = {}
    for i, path in ipairs({ "/__sandbox/echo", "/__sandbox/echo", "/__sandbox/bytes?n=3", "/__sandbox/echo",
      "/__sandbox/bytes?n=3", "/__sandbox/bytes?n=3" }) do
      local s, block, _, ctype = c:perform{ url = HTTP .. path, raw_headers = true }
      assert.equal(200, s)
      assert.equal(core.headers(block)["content-type"], ctype, path)
      types[i] = ctype
    end
    assert.equal(types[1], types[2])
    assert.are_not.equal(types[1], types[3])
    assert.equal(types[3], types[5])
    assert.equal(types[1], types[4])
    c:close()
  end)

  it("client: a verb's plain call answers the same alone and in a batch (no header block for its 2xx)", function()
    local c = helper.signed_in("agent")
    local alone = assert(c:get("/departments/allstatus"))
    assert.is_table(alone)
    assert.is_true(#alone > 0)
    local missing = "/requests/" .. string.rep("0", 24)
    local results = c:batch({
      function() return c:get("/departments/allstatus") end,
      function() return c:get(missing) end,
      { method = "GET", path = "/departments/allstatus" },
    }, { concurrency = 3 })
    assert.equal(3, #results)
    assert.same(alone, results[1].res)
    assert.is_nil(results[2].res)
    assert.equal("not_found", results[2].err.kind)
    assert.equal(404, results[2].err.status)
    -- client:request still gives the headers of a 2xx
    assert.matches("json", results[3].res.headers["content-type"])
    c:close()
  end)

  it("client: res.headers, hooks and Retry-After read the same headers as before", function()
    local c = helper.signed_in("agent", { retry_max_ms = 500 })
    assert(c:signin())
    local res = assert(c:request{ method = "GET", path = "/departments" })
    assert.equal(200, res.status)
    assert.is_nil(rawget(res, "headers")) -- not parsed until read
    assert.is_table(res.headers)
    assert.matches("json", res.headers["content-type"])
    assert.equal(res.headers, rawget(res, "headers")) -- parsed once, then a plain field
    assert.is_table(res.json)
    -- a Retry-After beyond retry_max_ms ends the call and is reported
    helper.fault("/departments/allstatus$", { type = "status", status = 503, retry_after = 30 })
    local v, msg, err = c:get("/departments/allstatus")
    assert.is_nil(v)
    assert.matches("503", msg)
    assert.equal(30, err.retry_after)
    c:close()
    -- a hook is shown the table
    local seen = {}
    local h = helper.signed_in("agent", { on_response = function(r) seen[#seen + 1] = r.headers end })
    assert(h:get("/departments"))
    assert.is_true(#seen >= 2) -- the sign-in and the call
    assert.is_table(seen[#seen])
    assert.matches("json", seen[#seen]["content-type"])
    h:close()
  end)
end)
