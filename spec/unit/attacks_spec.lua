-- Attacks on the Lua client, each reproduced: paths that leave the project, header bytes,
-- hostile error bodies, units that round to "no limit", a timeout that did not cover the call,
-- secrets shown by URLs, headers, bodies and echoes, credentials over plain http. No sockets.
local helper = require("spec.helper")
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")
local E = require("tiledesk.error")

local PID = helper.PID
local TOKEN = "JWT eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.dG9rZW4tc2lnbmF0dXJl"
local PASSWORD = "Pa55word-never-shown"

local new = helper.fake_client

local function raises(msg, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "did not raise: " .. msg)
  assert.equal(msg, (tostring(err):gsub("^[^:]+:%d+: ", "")))
end

describe("paths stay where the caller put them", function()
  it("refuses . and .. segments, plain or percent-encoded, and #, before anything is sent", function()
    local c, fake = new()
    local dot = "client:delete(): 'path' contains a '%s' segment (a dot segment would leave the path; encode ids with "
      .. "tiledesk.path)"
    local cases = { { "/leads/../../users", ".." }, { "/leads/%2e%2e/%2E%2E/users", "%2e%2e" },
      { "/leads/./x", "." }, { "/leads/%2E", "%2E" }, { "/leads/.%2e?x=1", ".%2e" } }
    assert.is_true(#cases > 0)
    for _, case in ipairs(cases) do
      local path, seg = case[1], case[2]
      local ok, err = pcall(c.delete, c, path)
      assert.is_false(ok)
      assert.equal(dot:format(seg), (tostring(err):gsub("^[^:]+:%d+: ", "")))
    end
    raises("client:get(): 'path' contains '#' (encode it as %23, e.g. with tiledesk.path)", c.get, c, "/requests#x?y=1")
    raises("client:request(): 'path' contains a '..' segment (a dot segment would leave the path; encode ids with "
      .. "tiledesk.path)", c.request, c, { method = "DELETE", path = "/leads/../../users" })
    -- an id is one segment, never a dot segment
    raises("leads:delete(): bad argument #1 'lead_id' (must not be '..' (a dot segment would leave the path))",
      c.leads.delete, c.leads, "..")
    assert.equal(0, #fake.requests)
    -- dots inside a segment and in the query are data
    fake:queue(200, {})
    fake:queue(200, {})
    assert(c:get("/files/a.b...c"))
    assert(c:get("/x", { q = "../.." }))
    assert.equal("https://api.test/v3/" .. PID .. "/x?q=..%2F..", fake:last().url)
  end)

  it("refuses the same in base_url", function()
    raises("tiledesk.new(): option 'base_url' must be an http(s) URL whose path contains a '..' segment",
      tiledesk.new, { base_url = "https://api.test/v3/../admin" })
    raises("tiledesk.new(): option 'base_url' must be an http(s) URL whose path contains a '%2E' segment",
      tiledesk.new, { base_url = "https://api.test/%2E/v3" })
    raises("tiledesk.new(): option 'base_url' must be an http(s) URL without query, fragment or spaces",
      tiledesk.new, { base_url = "https://api.test/v3#x" })
  end)

  it("refuses every control byte but TAB in header values, and names that are not tokens", function()
    local c, fake = new()
    local bytes = { "\0", "\1", "\8", "\10", "\13", "\27", "\31", "\127" }
    assert.is_true(#bytes > 0)
    for _, b in ipairs(bytes) do
      raises("client:get(): header 'x-a' contains a control character (only TAB is allowed)", c.get, c, "/x", nil,
        { headers = { ["x-a"] = "a" .. b .. "b" } })
    end
    raises("client:get(): header name 'x a' is not an HTTP token", c.get, c, "/x", nil, { headers = { ["x a"] = "v" } })
    raises("client:get(): header name 'x:a' is not an HTTP token", c.get, c, "/x", nil, { headers = { ["x:a"] = "v" } })
    assert.equal(0, #fake.requests)
    fake:queue(200, {})
    assert(c:get("/x", nil, { headers = { ["x-a"] = "a\tb" } }))
    assert.equal("a\tb", fake:last().headers["x-a"])
  end)
end)

describe("hostile error bodies", function()
  -- the largest subject any Lua pattern function (not a plain find) is run on during fn()
  local function largest_pattern_subject(fn)
    local max = 0
    local saved = {}
    for _, name in ipairs{ "find", "match", "gmatch", "gsub" } do
      local orig = string[name]
      saved[name] = orig
      string[name] = function(s, p, a, b, ...) -- luacheck: ignore 122
        if not (name == "find" and b == true) and type(s) == "string" and #s > max then max = #s end
        return orig(s, p, a, b, ...)
      end
    end
    local ok, r1, r2, r3 = pcall(fn)
    for name, orig in pairs(helper.nonempty(saved)) do string[name] = orig end -- luacheck: ignore 122
    assert(ok, r1)
    return max, r1, r2, r3
  end

  local MB4 = 4 * 1024 * 1024
  local bodies = {
    { "text/html", string.rep("<", MB4) },
    { "text/html", string.rep("<pre>", math.floor(MB4 / 5)) },
    { "text/html", "<pre>" .. string.rep("<", MB4) },
    { "text/html", string.rep("<a", math.floor(MB4 / 2)) .. ">" },
    { "application/json", '{"msg":"' .. string.rep("<", MB4) .. '"}' },
  }

  it("read the server's words from a bounded prefix, with no pattern over the whole body", function()
    assert.is_true(#bodies > 0)
    for _, b in ipairs(bodies) do
      local lines = {}
      local c, fake = new{ log = function(l) lines[#lines + 1] = l end }
      fake:queue(500, b[2], { ["content-type"] = b[1] })
      local max, v, msg, err = largest_pattern_subject(function() return c:get("/x") end)
      assert.is_nil(v)
      assert.equal(500, err.status)
      assert.is_true(#msg < 300, msg)
      assert.matches("^GET /x: HTTP 500 Internal Server Error", msg)
      assert.is_true(max <= E.TEXT_PREFIX, b[1] .. ": a pattern ran over " .. max .. " bytes")
      assert.equal(1, #lines)
    end
  end)

  it("escape control bytes of the server's text in messages and log lines", function()
    local lines = {}
    local c, fake = new{ log = function(l) lines[#lines + 1] = l end }
    fake:queue(400, "bad\27[2K\27[1Ainput\0", { ["content-type"] = "text/plain" })
    local _, msg = c:get("/x")
    assert.equal("GET /x: HTTP 400 Bad Request: bad\\x1B[2K\\x1B[1Ainput\\x00", msg)
    fake:queue(422, { msg = "forged\rtiledesk: GET /admin -> 200\27]0;title\7" })
    local _, msg2 = c:get("/x")
    assert.equal("GET /x: HTTP 422 Unprocessable Entity: forged tiledesk: GET /admin -> 200\\x1B]0;title\\x07", msg2)
    fake:queue_error("transport", "GET x: weird \27[31m reason")
    local _, msg3 = c:get("/x")
    assert.equal("GET /x: GET x: weird \\x1B[31m reason", msg3)
    assert.equal(3, #lines)
    for _, l in ipairs(lines) do assert.is_nil(l:find("[%c]"), l) end
  end)
end)

describe("units", function()
  it("refuse fractions of a millisecond or a byte instead of meaning 'no limit'", function()
    raises("tiledesk.new(): option 'timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647; "
      .. "0.5 s is 500 ms (got number)", tiledesk.new, { timeout = 0.5 })
    raises("tiledesk.new(): option 'connect_timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647; "
      .. "2.5 s is 2500 ms (got number)", tiledesk.new, { connect_timeout = 2.5 })
    raises("tiledesk.new(): option 'attempt_timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647 "
      .. "(got number)", tiledesk.new, { attempt_timeout = -1 })
    raises("tiledesk.new(): option 'max_body_size' must be a whole number of bytes from 0 to 9000000000000000 (got number)",
      tiledesk.new, { max_body_size = 0.5 })
    raises("tiledesk.new(): option 'retry_base_ms' must be a whole number of milliseconds (ms) from 0 to 2147483647; "
      .. "0.2 s is 200 ms (got number)", tiledesk.new, { retry_base_ms = 0.2 })
    local c = new()
    raises("client:get(): 'timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647; 1.5 s is 1500 ms "
      .. "(got number)", c.get, c, "/x", nil, { timeout = 1.5 })
    raises("client:with(): option 'timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647; "
      .. "0.5 s is 500 ms (got number)", c.with, c, { timeout = 0.5 })
    -- 0 still means no limit
    local c0, fake = new{ timeout = 0, max_body_size = 0 }
    fake:queue(200, {})
    assert(c0:get("/x"))
    assert.equal(0, fake:last().timeout_ms)
  end)
end)

describe("timeout covers the whole call", function()
  it("one deadline across attempts and backoff: each attempt gets what is left", function()
    local c, fake = new{ timeout = 1000, retries = 5, retry_base_ms = 100, retry_max_ms = 100 }
    fake.handler = function(req, f)
      f.clock = f.clock + math.min(300, req.timeout_ms) -- each attempt takes 300 ms, then times out
      return nil, "GET x: timeout", { kind = "timeout" }
    end
    local v, msg, err = c:get("/x")
    assert.is_nil(v)
    assert.equal("timeout", err.kind)
    assert.is_true(fake.clock <= 1000, "the call ran " .. fake.clock .. " ms")
    assert.is_true(#fake.requests >= 2)
    local at = 0
    for i, r in ipairs(fake.requests) do
      assert.equal(1000 - r.at, r.timeout_ms, "attempt " .. i)
      assert.is_true(r.at >= at)
      at = r.at
    end
    assert.matches("%(after " .. #fake.requests .. " attempts%)$", msg)
  end)

  it("a wait that would pass the deadline is not taken: the answer comes back at once", function()
    local c, fake = new{ timeout = 3000 }
    fake:queue(503, { msg = "busy" }, { ["retry-after"] = "5" })
    local v, _, err = c:get("/x")
    assert.is_nil(v)
    assert.equal(503, err.status)
    assert.equal(5, err.retry_after)
    assert.same({}, fake.sleeps)
  end)

  it("the repeat after a new sign-in and the sign-in itself share the call's deadline", function()
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, email = "a@x.test",
      password = PASSWORD, timeout = 2000 }
    local n = 0
    fake.handler = function(req, f)
      n = n + 1
      f.clock = f.clock + 500
      if req.url:find("/auth/signin", 1, true) then
        return 200, { ["content-type"] = "application/json" }, '{"token":"JWT abcdefgh' .. n .. '","user":{}}'
      end
      if n == 2 then return 401, { ["content-type"] = "text/plain" }, "Unauthorized" end
      return 200, { ["content-type"] = "application/json" }, "{}"
    end
    assert(c:get("/x"))
    local urls, limits = {}, {}
    for i, r in ipairs(fake.requests) do urls[i], limits[i] = r.url:match("/v3(/[^?]*)"), r.timeout_ms end
    assert.same({ "/auth/signin", "/" .. PID .. "/x", "/auth/signin", "/" .. PID .. "/x" }, urls)
    assert.same({ 2000, 1500, 1000, 500 }, limits)
    -- nothing left for another sign-in: the call ends with kind timeout, unsent
    fake.requests = {}
    n = 1
    local v, msg, err = c:get("/x", nil, { timeout = 500 })
    assert.is_nil(v)
    assert.equal("timeout", err.kind)
    assert.equal("GET /x: signin(): the call's timeout passed before attempt 1", msg)
  end)

  it("attempt_timeout limits each attempt inside the call's timeout", function()
    local c, fake = new{ timeout = 10000, attempt_timeout = 3000, retry_base_ms = 0 }
    fake.handler = function(_, f)
      f.clock = f.clock + 3000
      return nil, "GET x: timeout", { kind = "timeout" }
    end
    local _, _, err = c:get("/x")
    assert.equal("timeout", err.kind)
    local limits = {}
    for i, r in ipairs(fake.requests) do limits[i] = r.timeout_ms end
    assert.same({ 3000, 3000, 3000, 1000 }, limits)
  end)
end)

describe("one redaction list, failing closed", function()
  local SECRETS = { TOKEN, TOKEN:sub(5), PASSWORD, "api-key-value-1", "refresh-value-2", "jwt-secret-value-3",
    "private-key-value-4", "location-token-5", "custom-jwt-value-6", "deep-password-7", "authz-value-8" }

  local function watched(opts)
    local lines, seen = {}, {}
    local o = { log = function(l) lines[#lines + 1] = l end, on_request = function(i) seen[#seen + 1] = i end,
      on_response = function(i) seen[#seen + 1] = i end }
    for k, v in pairs(opts or {}) do o[k] = v end
    local c, fake = new(o)
    return c, fake, lines, seen
  end

  local function assert_clean(...)
    local all = helper.strings_in({ ... })
    assert.is_true(#all > 0)
    for _, s in ipairs(all) do
      for _, secret in ipairs(helper.nonempty(SECRETS)) do
        assert.is_nil(s:find(secret, 1, true), "a secret leaked in: " .. s)
      end
    end
  end

  local function deep(n, leaf)
    local t = leaf
    for _ = 1, n do t = { nested = t } end
    return t
  end

  local cases = {
    { "query parameters named as secrets", function(c, fake)
      fake:queue(500, { msg = "no" })
      return c:get("/x", { api_key = "api-key-value-1", refresh_token = "refresh-value-2", jwtSecret = "jwt-secret-value-3",
        privateKey = "private-key-value-4" })
    end },
    { "the same names in bodies", function(c, fake)
      fake:queue(400, { msg = "no", echo = { apiKey = "api-key-value-1", ["refresh-token"] = "refresh-value-2" } })
      return c:post("/x", { jwtSecret = "jwt-secret-value-3", private_key = "private-key-value-4" })
    end },
    { "an authorization key in a response body", function(c, fake)
      fake:queue(403, { msg = "no", request = { headers = { Authorization = "authz-value-8" } } })
      return c:get("/x")
    end },
    { "a Location header with ?token=", function(c, fake)
      fake:queue(302, "", { location = "https://api.test/next?token=location-token-5&x=1" })
      return c:get("/x")
    end },
    { "a password 33 levels deep and deeper", function(c, fake)
      fake:queue(422, deep(40, { password = "deep-password-7" }))
      return c:post("/x", deep(35, { password = "deep-password-7" }))
    end },
    { "a custom token echoed in a text error", function(c, fake)
      fake:queue(401, "jwt malformed: custom-jwt-value-6", { ["content-type"] = "text/plain" })
      return c:signin_with_custom_token("custom-jwt-value-6")
    end },
    { "the held token echoed in a text error", function(c, fake)
      fake:queue(400, "bad header " .. TOKEN:sub(5) .. " (no)", { ["content-type"] = "text/plain" })
      return c:get("/x")
    end },
    { "the held token echoed in a JSON error", function(c, fake)
      fake:queue(400, { msg = "bad " .. TOKEN, data = { [TOKEN:sub(5)] = "as a key" } })
      return c:get("/x")
    end },
  }

  it("hides every case from the client, its hooks, logs and errors", function()
    assert.is_true(#cases > 0)
    for _, case in ipairs(cases) do
      local c, fake, lines, seen = watched{ token = TOKEN }
      local r1, r2, r3 = case[2](c, fake)
      assert.is_true(#fake.requests > 0, case[1])
      assert.is_true(#lines > 0 and #seen > 0, case[1])
      assert_clean(c, tostring(c), lines, seen, r1, r2, r3, tostring(r3))
    end
  end)

  it("hides the password echoed in a failed sign-in", function()
    local fake = Fake.new()
    local lines = {}
    local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, email = "a@x.test",
      password = PASSWORD, log = function(l) lines[#lines + 1] = l end }
    fake:queue(401, { success = false, msg = "Authentication failed for password " .. PASSWORD })
    local v, msg, err = c:get("/x")
    assert.is_nil(v)
    assert.matches("Authentication failed", msg)
    assert_clean(c, lines, msg, err, tostring(err))
  end)
end)

describe("plain http", function()
  it("refuses to send credentials to a remote host in plain text, unless allowed", function()
    local fake = Fake.new()
    raises("tiledesk.new(): credentials would cross the network in plain text to http://api.example.com/v3: use https, "
      .. "or allow_insecure_http = true", tiledesk.new, { base_url = "http://api.example.com/v3", token = "JWT x",
        transport = fake })
    raises("tiledesk.new(): credentials would cross the network in plain text to http://10.0.0.5:8080: use https, "
      .. "or allow_insecure_http = true", tiledesk.new, { base_url = "http://10.0.0.5:8080", email = "a@b.c",
        password = "p", transport = fake })
    raises("tiledesk.signin_anonymously(): the token would cross the network in plain text to http://api.example.com: "
      .. "use https, or allow_insecure_http = true", tiledesk.signin_anonymously, { base_url = "http://api.example.com",
        project_id = PID, transport = fake })
    local bare = tiledesk.new{ base_url = "http://api.example.com", transport = fake }
    raises("client:signin_with_custom_token(): the token would cross the network in plain text to http://api.example.com: "
      .. "use https, or allow_insecure_http = true", bare.signin_with_custom_token, bare, "abc")
    assert.equal(0, #fake.requests)
    -- loopback, https and an explicit opt-in are fine
    for _, u in ipairs{ "http://127.0.0.1:8765", "http://localhost:1/v3", "http://[::1]:80", "https://api.example.com" } do
      assert(tiledesk.new{ base_url = u, token = "JWT x", transport = fake })
    end
    assert(tiledesk.new{ base_url = "http://api.example.com", token = "JWT x", allow_insecure_http = true,
      transport = fake })
  end)

  it("takes proxy = false (ignore http_proxy and friends) and refuses other non-strings", function()
    raises("tiledesk.new(): option 'proxy' must be a proxy URL, or false to ignore http_proxy and friends (got boolean)",
      tiledesk.new, { proxy = true })
    assert(new{ proxy = false })
  end)
end)
