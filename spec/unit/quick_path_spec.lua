-- A plain call takes tiledesk.send's quick path (its first attempt made without the call state:
-- send.first, then send.settle or, for a 2xx JSON answer to a verb, the decode in client.lua).
-- Every answer must come out exactly as through the full send loop: each scenario runs on the
-- client (quick path) and on a with{} view of it with no options (the full loop), and the two
-- must agree on what the call returns and on what went out.
local helper = require("spec.helper")
local send = require("tiledesk.send")

local PATH = "/departments/d1"

-- Runs f with send.first watched: returns whether f raised (ok, err) and, per call of
-- send.first, whether the call took the quick path.
local function pack(...) return { n = select("#", ...), ... } end
local unpack = table.unpack or unpack

local function watching_quick(f)
  local taken = {}
  local first = send.first
  send.first = function(...)
    local r = pack(first(...))
    taken[#taken + 1] = r[1] ~= false
    return unpack(r, 1, r.n)
  end
  local ok, a, b, c = pcall(f, taken)
  send.first = first
  return ok, a, b, c, taken
end

-- the requests as sent
local function sent(fake, from)
  local out = {}
  for i = from, #fake.requests do
    local r = fake.requests[i]
    out[#out + 1] = { method = r.method, url = r.url, auth = r.auth,
      auth_kind = r.auth_kind, timeout_ms = r.timeout_ms, connect_timeout_ms = r.connect_timeout_ms, once = r.once,
      headers = r.headers, body = r.body, at = r.at }
  end
  return out
end

-- Runs scenario(fake) then the call on PATH of a fresh client (quick: the quick path), or of a
-- with{} view of it with no options (the full loop), after one call on another path.
local function run(scenario, call, quick, opts)
  local c, fake = helper.fake_client(opts)
  local from
  local ok, a, b, e, taken = watching_quick(function(seen)
    fake:queue(200, { ok = true })
    assert(c:get("/departments/other"))
    from = #fake.requests + 1
    for k in pairs(seen) do seen[k] = nil end
    scenario(fake)
    math.randomseed(7) -- the same backoff jitter in both runs
    local r1, r2, r3 = call(quick and c or c:with{}, PATH)
    return { r1, r2, r3 }, sent(fake, from), fake.sleeps
  end)
  assert(ok, a)
  return a, b, e, taken
end

local function get(c, path) return c:get(path) end
local function request(c, path)
  local res, msg, err = c:request{ method = "GET", path = path }
  if not res then return nil, msg, err end
  return { status = res.status, body = res.body, attempts = res.attempts, url = res.url, headers = res.headers,
    json = res.json, retry_after = res.retry_after }
end
-- client:request with a query table (a secret-named key among them: the URL shown hides it)
local function request_query(c, path)
  local res, msg, err = c:request{ method = "GET", path = path, query = { q = "a b", access_token = "tok-123", n = 2 },
    raw = true }
  if not res then return nil, msg, err end
  return { status = res.status, body = res.body, attempts = res.attempts, url = res.url, headers = res.headers,
    json = res.json, retry_after = res.retry_after }
end
local function delete(c, path) return c:delete(path) end
-- with a query (its values encoded, a list, a number) and a resource's list, which build their URL
local function get_query(c, path) return c:get(path, { q = "a b&c", tags = { "x", "y" }, n = 2 }) end
local function list(c) return c.requests:list{ limit = 5, status = "all" } end

local SCENARIOS = {
  { "a 200 JSON object", function(f) f:queue(200, { _id = "d1", name = "Sales", n = 3 }) end },
  { "a 200 empty body", function(f) f:queue(200, "") end },
  { "a 200 null", function(f) f:queue(200, "null", { ["content-type"] = "application/json" }) end },
  { "a 200 that is not JSON", function(f) f:queue(200, "<html>hi</html>", { ["content-type"] = "text/html" }) end },
  { "a 200 JSON with a wrong content type", function(f) f:queue(200, '{"a":1}', { ["content-type"] = "text/plain" }) end },
  { "a 200 success=false not found", function(f) f:queue(200, { success = false, msg = "Object not found" }) end },
  { "a 200 JSON array", function(f) f:queue(200, '[{"a":1},{"b":2}]', { ["content-type"] = "application/json" }) end },
  { "a 200 JSON number", function(f) f:queue(200, "42", { ["content-type"] = "application/json" }) end },
  { "a 200 success=false in other words", function(f) f:queue(200, { success = false, msg = "quota reached" }) end },
  { "a 200 JSON that does not decode", function(f) f:queue(200, '{"a":', { ["content-type"] = "application/json" }) end },
  { "a 201", function(f) f:queue(201, { created = true }) end },
  { "a 204", function(f) f:queue(204, "") end },
  { "a 304", function(f) f:queue(304, "") end },
  { "a 404 JSON", function(f) f:queue(404, { msg = "Department not found" }) end },
  { "a 500", function(f) f:queue(500, { err = "error" }) end },
  { "a 503 then a 200", function(f) f:queue(503, { success = false, msg = "busy" }):queue(200, { ok = 1 }) end },
  { "a 429 with Retry-After 1 then a 200", function(f) f:queue(429, { message = "slow" }, { ["retry-after"] = "1" }):queue(200, { ok = 2 }) end },
  { "a 429 with a Retry-After beyond retry_max_ms", function(f) f:queue(429, { message = "slow" }, { ["retry-after"] = "99" }) end },
  { "503 four times", function(f) for _ = 1, 4 do f:queue(503, { msg = "busy" }) end end },
  { "a connect failure then a 200", function(f) f:queue_error("connect"):queue(200, { ok = 3 }) end },
  { "a timeout failure, three times", function(f) for _ = 1, 4 do f:queue_error("timeout") end end },
  { "an unknown outcome", function(f) f:queue_error("unknown_outcome") end },
  { "passport's 401, a new sign-in, then a 200", function(f)
    f:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    f:queue(200, { token = "JWT new", user = { _id = "u" } })
    f:queue(200, { ok = 4 })
  end },
  { "a 401 in JSON", function(f) f:queue(401, { success = false, msg = "no permission" }) end },
}

describe("the quick path of plain calls", function()
  it("answers every scenario as the full send loop does, for get, request, delete, a query and a list", function()
    assert.is_true(#SCENARIOS > 0)
    for _, call in ipairs({ get, request, request_query, delete, get_query, list }) do
      for _, sc in ipairs(SCENARIOS) do
        local opts = { email = "a@b.c", password = "pw", token = "JWT t", allow_insecure_http = true }
        local full, full_sent, full_sleeps, full_taken = run(sc[2], call, false, opts)
        local quick, quick_sent, quick_sleeps, taken = run(sc[2], call, true, opts)
        assert.same(full, quick, sc[1])
        assert.same(full_sent, quick_sent, sc[1])
        assert.same(full_sleeps, quick_sleeps, sc[1])
        assert.is_true(#quick_sent > 0, sc[1])
        assert.same({ true }, taken, sc[1]) -- the call took the quick path
        for _, t in ipairs(full_taken) do assert.is_false(t, sc[1]) end -- the view's did not
      end
    end
  end)

  it("is not taken when something is to be done around the call", function()
    local function fake_client(opts, signin)
      local fake = require("spec.support.fake_transport").new()
      local o = { base_url = "https://api.test/v3", project_id = helper.PID, transport = fake, token = "JWT t" }
      if signin then o.token, o.email, o.password = nil, "a@b.c", "pw" end
      for k, v in pairs(opts) do o[k] = v end
      return require("tiledesk").new(o), fake
    end
    local cases = {
      { "a log", { log = function() end } },
      { "an on_request hook", { on_request = function() end } },
      { "an on_response hook", { on_response = function() end } },
      { "a rate limit", { rate_limit = 6000 } },
      { "no token yet", {}, true },
    }
    assert.is_true(#cases > 0)
    for _, case in ipairs(cases) do
      local c, fake = fake_client(case[2], case[3])
      local ok, err, _, _, taken = watching_quick(function()
        if case[3] then fake:queue(200, { token = "JWT x", user = {} }) end
        fake:queue(200, { ok = 1 })
        assert(c:get(PATH))
        if case[3] then c._transport:set_token(nil) end -- signed out again: the next call signs in
        if case[3] then fake:queue(200, { token = "JWT y", user = {} }) end
        fake:queue(200, { ok = 2 })
        assert(c:get(PATH))
      end)
      assert(ok, err)
      assert.is_true(#taken > 0, case[1])
      for _, t in ipairs(taken) do assert.is_false(t, case[1]) end
    end
    -- a with{} view, a call with options and a query url.query refuses take the full loop too
    local c, fake = helper.fake_client()
    fake:queue(200, { ok = 1 }):queue(200, { ok = 2 }):queue(200, { ok = 3 })
    assert(c:get(PATH))
    local ok, err, _, _, taken = watching_quick(function()
      assert(c:with{ retries = 1 }:get(PATH))
      assert(c:get(PATH, nil, { timeout = 500 }))
      local raised, msg = pcall(c.get, c, PATH, { f = function() end })
      assert(not raised and msg:find("query value for 'f'", 1, true), msg)
    end)
    assert(ok, err)
    assert.is_true(#taken > 0)
    for _, t in ipairs(taken) do assert.is_false(t) end
  end)

  it("never hands one request table to two sends at once", function()
    local c, fake = helper.fake_client()
    fake:queue(200, { a = 1 }):queue(200, { b = 1 })
    assert(c:get("/x"))
    assert(c:get("/y"))
    local fake_send, nested = fake.send, false
    fake.send = function(self, req) -- a send made while this one has the table (a batch, a light thread)
      local url = req.url
      if not nested then
        nested = true
        assert.equal(2, assert(c:get("/y")).b)
      end
      assert.equal(url, req.url) -- untouched by the other send
      return fake_send(self, req)
    end
    fake:queue(200, { b = 2 }):queue(200, { a = 2 })
    assert.equal(2, assert(c:get("/x")).a)
    assert.is_true(nested)
    assert.matches("/x$", fake:last().url)
  end)

  it("raises on a closed client as the full loop does", function()
    local c, fake = helper.fake_client()
    fake:queue(200, { ok = 1 })
    assert(c:get(PATH))
    c:close()
    assert.has_error(function() c:get(PATH) end, "GET " .. PATH .. ": the client is closed")
    assert.has_error(function() c:request{ method = "GET", path = PATH } end, "GET " .. PATH .. ": the client is closed")
    -- closed through a with{} view: the client raises too
    local c2, fake2 = helper.fake_client()
    fake2:queue(200, { ok = 1 })
    assert(c2:get(PATH))
    c2:with{ retries = 1 }:close()
    assert.has_error(function() c2:get(PATH) end, "GET " .. PATH .. ": the client is closed")
  end)
end)
