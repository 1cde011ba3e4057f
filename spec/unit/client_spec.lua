-- The Lua client with a fake transport: options, request shaping, auth policy, retries on a
-- fake clock, error shaping and redaction. No sockets.
local helper = require("spec.helper")
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")
local client_mod = require("tiledesk.client")

local PID = "65a1b2c3d4e5f60718293a4b"
local SECRET_PW = "s3cr3t-Pa55word!"
local SECRET_TOKEN = "JWT eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXNlY3JldA"

local function new(opts)
  local fake = Fake.new()
  local o = { base_url = "https://api.test/v3", project_id = PID, transport = fake }
  for k, v in pairs(opts or {}) do o[k] = v end
  return tiledesk.new(o), fake
end

local strings_in = helper.strings_in

local function assert_no_secret(...)
  local all = strings_in({ ... })
  for _, s in ipairs(helper.nonempty(all)) do
    assert.is_nil(s:find(SECRET_PW, 1, true), "password leaked in: " .. s)
    assert.is_nil(s:find("c2lnbmF0dXJlLXNlY3JldA", 1, true), "token leaked in: " .. s)
  end
end

describe("tiledesk.new", function()
  it("rejects unknown options and wrong types", function()
    assert.has_error(function() tiledesk.new{ project_id = PID, timeot = 5 } end,
      "tiledesk.new(): unknown option 'timeot'")
    assert.has_error(function() tiledesk.new{ project_id = 5 } end, "tiledesk.new(): option 'project_id' must be a string (got number)")
    assert.has_error(function() tiledesk.new{ timeout = "fast" } end,
      "tiledesk.new(): option 'timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647 (got string)")
    assert.has_error(function() tiledesk.new{ auth = "bearer" } end, "tiledesk.new(): option 'auth' must be \"jwt\" or \"basic\" (got string)")
    assert.has_error(function() tiledesk.new{ retries = -1 } end, "tiledesk.new(): option 'retries' must be an integer from 0 to 100 (got number)")
    assert.has_error(function() tiledesk.new{ log = "yes" } end, "tiledesk.new(): option 'log' must be a function or true (got string)")
    assert.has_error(function() tiledesk.new{ base_url = "ftp://x" } end, "tiledesk.new(): option 'base_url' must be an http(s) URL")
    assert.has_error(function() tiledesk.new{ base_url = "http://x/?a=b" } end,
      "tiledesk.new(): option 'base_url' must be an http(s) URL without query, fragment or spaces")
    assert.has_error(function() tiledesk.new{ email = "a@b.c" } end, "tiledesk.new(): options 'email' and 'password' go together") -- password missing
    assert.has_error(function() tiledesk.new{ auth = "basic" } end, "tiledesk.new(): auth 'basic' needs email and password")
    assert.has_error(function() tiledesk.new("x") end, "tiledesk.new(): options must be a table (got string)")
    assert.has_error(function() tiledesk.new{ transport = { send = print } } end,
      "tiledesk.new(): option 'transport' must be a transport object with a 'set_credentials' method (got table)")
  end)

  it("checks every documented option's type", function()
    local n = 0
    for name, _ in pairs(helper.nonempty(client_mod.OPTIONS)) do
      n = n + 1
      local o = { transport = Fake.new() }
      o[name] = coroutine.create(function() end)
      local ok, msg = pcall(tiledesk.new, o)
      assert.is_false(ok, name)
      -- the message names the option (the transport option is checked for what it can do)
      assert.matches("tiledesk.new(): option '" .. name .. "'", msg, 1, true)
      assert.matches("(got thread)", msg, 1, true)
    end
    assert.is_true(n > 10, "the option list looks cut: " .. n)
  end)

  it("copies options and keeps no secret in the client table", function()
    local opts = { project_id = PID, email = "a@b.c", password = SECRET_PW, transport = Fake.new() }
    local c = tiledesk.new(opts)
    opts.project_id = "changed"
    assert.equal(PID, c.project_id)
    for _, s in ipairs(helper.nonempty(strings_in(c))) do
      assert.is_nil(s:find(SECRET_PW, 1, true))
    end
    assert.equal("tiledesk.Client(base_url=https://api.tiledesk.com/v3, project=" .. PID .. ", auth=none)", tostring(c))
  end)

  it("tostring shows base URL, project and auth kind only", function()
    local c = new{ token = SECRET_TOKEN }
    local s = tostring(c)
    assert.matches("auth=jwt", s, 1, true)
    assert_no_secret(s)
  end)

  it("creates no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    for _, m in ipairs({ "tiledesk", "tiledesk.client", "tiledesk.url", "tiledesk.json", "tiledesk.error",
      "tiledesk.pager", "tiledesk.routes", "tiledesk.resources", "tiledesk.util", "tiledesk.transport.curl" }) do
      package.loaded[m] = nil
      require(m)
    end
    for k in pairs(helper.nonempty(_G)) do assert.is_true(before[k] ~= nil, "new global: " .. tostring(k)) end
  end)
end)

describe("client:request", function()
  it("builds project-scoped URLs, encodes queries, sends JSON", function()
    local c, fake = new{ token = SECRET_TOKEN }
    fake:queue(200, { ok = true })
    local res = assert(c:request{ method = "POST", path = "/leads", query = { tags = { "a b", "c" }, all = true },
      body = { fullname = "X" } })
    assert.equal(200, res.status)
    assert.same({ ok = true }, res.json)
    local r = fake:last()
    assert.equal("POST", r.method)
    assert.equal("https://api.test/v3/" .. PID .. "/leads?all=true&tags=a%20b&tags=c", r.url)
    assert.equal("application/json", r.headers["content-type"])
    assert.equal("application/json", r.headers.accept)
    assert.same({ fullname = "X" }, r.json)
    assert.equal("jwt", r.auth_kind)
  end)

  it("uses global paths with project = false, and raises without a project id", function()
    local c, fake = new{ token = SECRET_TOKEN }
    fake:queue(200, {})
    assert(c:request{ method = "GET", path = "/users", project = false })
    assert.equal("https://api.test/v3/users", fake:last().url)
    local nop = tiledesk.new{ transport = Fake.new(), token = SECRET_TOKEN }
    assert.has_error(function() nop:request{ method = "GET", path = "/leads" } end, "GET /leads: a project-scoped call needs the 'project_id' option")
  end)

  it("returns res for any status and nil, msg, err only without a response", function()
    local c, fake = new{ token = SECRET_TOKEN, retries = 0 }
    fake:queue(404, { success = false, msg = "Object not found." })
    local res = assert(c:request{ method = "GET", path = "/leads/1" })
    assert.equal(404, res.status)
    fake:queue_error("connect", "GET https://api.test/v3/x: connect (refused)")
    local r2, msg, err = c:request{ method = "GET", path = "/x" }
    assert.is_nil(r2)
    assert.matches("^GET /x: ", msg)
    assert.equal("connect", err.kind)
    assert.equal(1, err.attempts)
    assert.equal("GET", err.method)
  end)

  it("raises on misuse", function()
    local c = new{ token = SECRET_TOKEN }
    assert.has_error(function() c:request{ method = "get", path = "/x" } end, "client:request(): 'method' must be an upper-case HTTP method")
    assert.has_error(function() c:request{ method = "GET", path = "x" } end, "client:request(): 'path' must be a string starting with /")
    assert.has_error(function() c:request{ method = "GET", path = "/x", bogus = 1 } end, "client:request(): unknown field 'bogus'")
    assert.has_error(function() c:request{ method = "GET", path = "/x y" } end, "client:request(): 'path' contains spaces or control characters")
    assert.has_error(function() c:request{ method = "GET", path = "/x", query = { b = print } } end,
      "GET /x: query value for 'b' must be a string, number, boolean or array of those (got function)")
    assert.has_error(function() c:request{ method = "POST", path = "/x", body = { f = function() end } } end,
      "POST /x: body cannot be encoded as JSON: Cannot serialise function: type not supported")
  end)
end)

describe("client:call and the verbs", function()
  it("returns decoded JSON on 2xx, true on an empty body, raw text when asked", function()
    local c, fake = new{ token = SECRET_TOKEN }
    fake:queue(200, { a = 1 })
    assert.same({ a = 1 }, c:get("/thing"))
    fake:queue(200, "")
    assert.is_true(c:delete("/thing/1"))
    fake:queue(200, "a;b\n1;2\n", { ["content-type"] = "text/csv" })
    assert.equal("a;b\n1;2\n", c:call("x:csv()", { method = "GET", path = "/leads/csv", raw = true }))
  end)

  local shapes = {
    { 404, { success = false, msg = "Object not found." }, "Object not found." },
    { 403, { success = false, message = "Requests quota exceeded" }, "Requests quota exceeded" },
    { 400, { error = "Invalid project id: x" }, "Invalid project id: x" },
    { 500, { err = "error" }, "error" },
    { 422, { errors = { { value = "", msg = "Invalid value", param = "email", location = "body" } } },
      "Invalid value (email)" },
    { 422, { errors = { "text field is required" } }, "text field is required" },
    { 401, "Unauthorized", "Unauthorized" },
    { 404, '<!DOCTYPE html><html><body><pre>Cannot GET /v3/nope</pre></body></html>', "Cannot GET /v3/nope" },
  }
  for _, s in ipairs(helper.nonempty(shapes)) do
    it("carries the server's text for HTTP " .. s[1] .. " (" .. s[3] .. ")", function()
      local c, fake = new{ token = "JWT x", retries = 0 }
      fake:queue(s[1], s[2], type(s[2]) == "string" and { ["content-type"] = "text/html" } or nil)
      local v, msg, err = c:get("/thing")
      assert.is_nil(v)
      assert.matches("^GET /thing: HTTP " .. s[1], msg)
      assert.truthy(msg:find(s[3], 1, true), msg)
      assert.equal(s[1] == 404 and "not_found" or "http", err.kind)
      assert.equal(s[1], err.status)
      assert.equal(msg, tostring(err))
      assert.equal("https://api.test/v3/" .. PID .. "/thing", err.url)
    end)
  end

  it("reports a 2xx body that is not JSON as kind decode with its first bytes", function()
    local c, fake = new{ token = "JWT x" }
    fake:queue(200, '{"requests":[{"_id":"a"', { ["content-type"] = "application/json" })
    local v, msg, err = c:get("/requests")
    assert.is_nil(v)
    assert.equal("decode", err.kind)
    assert.truthy(msg:find('{"requests":[{"_id":"a"', 1, true), msg)
    fake:queue(200, "<html>hi</html>", { ["content-type"] = "text/html" })
    v, msg, err = c:get("/requests")
    assert.is_nil(v)
    assert.equal("decode", err.kind)
    assert.truthy(msg:find("<html>hi</html>", 1, true))
  end)
end)

describe("auth", function()
  it("signs in lazily once, then sends the token", function()
    local c, fake = new{ email = "Agent@x.test", password = SECRET_PW }
    fake:queue(200, { success = true, token = SECRET_TOKEN, user = { _id = "u1", email = "agent@x.test" } })
    fake:queue(200, { a = 1 })
    fake:queue(200, { a = 2 })
    assert(c:get("/a"))
    assert(c:get("/b"))
    assert.equal(3, #fake.requests)
    assert.equal("https://api.test/v3/auth/signin", fake.requests[1].url)
    assert.equal("signin", fake.requests[1].auth)
    assert.equal("jwt", fake.requests[2].auth_kind)
    assert.equal(SECRET_TOKEN, fake.token)
  end)

  it("signs in again once on a 401 and repeats the call once, never looping", function()
    local c, fake = new{ email = "a@x.test", password = SECRET_PW }
    fake:queue(200, { success = true, token = "JWT one", user = { _id = "u1" } })
    fake:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    fake:queue(200, { success = true, token = "JWT two", user = { _id = "u1" } })
    fake:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    local v, msg, err = c:get("/x")
    assert.is_nil(v)
    assert.equal(401, err.status)
    assert.matches("Unauthorized", msg)
    assert.equal(4, #fake.requests)
    assert.equal("JWT two", fake.token)
  end)

  it("replaces a stale token given with email and password by signing in", function()
    local c, fake = new{ token = "JWT stale", email = "a@x.test", password = SECRET_PW }
    fake:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    fake:queue(200, { success = true, token = "JWT fresh", user = { _id = "u1" } })
    fake:queue(200, { ok = true })
    assert.same({ ok = true }, c:get("/x"))
    assert.equal("JWT fresh", fake.token)
    assert.equal(3, #fake.requests)
  end)

  it("does not sign in again for a token given by the caller alone", function()
    local c, fake = new{ token = SECRET_TOKEN }
    fake:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    local v = c:get("/x")
    assert.is_nil(v)
    assert.equal(1, #fake.requests)
  end)

  it("client:signin returns the user, or the server's refusal", function()
    local c, fake = new{ email = "a@x.test", password = SECRET_PW }
    fake:queue(200, { success = true, token = SECRET_TOKEN, user = { _id = "u1", email = "a@x.test" } })
    local u = assert(c:signin())
    assert.same({ _id = "u1", email = "a@x.test" }, u)
    fake:queue(401, { success = false, msg = "Authentication failed. Wrong password." })
    local v, msg, err = c:signin()
    assert.is_nil(v)
    assert.equal("signin(): HTTP 401 Unauthorized: Authentication failed. Wrong password.", msg)
    assert.equal(401, err.status)
    assert_no_secret(msg, err)
    assert.has_error(function() new{ token = "JWT x" }:signin() end, "client:signin(): the client was created without email and password")
  end)

  it("basic auth sends credentials on every call and never signs in", function()
    local c, fake = new{ email = "a@x.test", password = SECRET_PW, auth = "basic" }
    fake:queue(200, {})
    assert(c:get("/x"))
    assert.equal(1, #fake.requests)
    assert.equal("basic", fake.requests[1].auth_kind)
  end)

  it("signin_anonymously returns a guest client and its user", function()
    local fake = Fake.new()
    fake:queue(200, { success = true, token = "JWT guest", user = { _id = "g1", firstname = "guest#1" } })
    local c, user = tiledesk.signin_anonymously{ base_url = "https://api.test", project_id = PID, transport = fake,
      firstname = "Ann", attributes = { a = 1 } }
    assert.equal("g1", user._id)
    assert.equal("jwt", c:auth_kind())
    local r = fake:last()
    assert.equal("https://api.test/auth/signinAnonymously", r.url)
    assert.same({ id_project = PID, firstname = "Ann", attributes = { a = 1 } }, r.json)
    assert.equal("none", r.auth_kind)
    assert.truthy(c.requests)
    assert.has_error(function() tiledesk.signin_anonymously{ transport = Fake.new() } end,
      "tiledesk.signin_anonymously(): option 'project_id' is required")
  end)

  it("signin_with_custom_token sends the external JWT and keeps the returned token", function()
    local c, fake = new{}
    fake:queue(200, { success = true, token = "JWT ext", user = { _id = "ext-1" } })
    local u = assert(c:signin_with_custom_token("abc.def.ghi"))
    assert.equal("ext-1", u._id)
    local r = fake:last()
    assert.equal("header", r.auth)
    assert.equal("JWT abc.def.ghi", r.headers.authorization)
    assert.same({ id_project = PID }, r.json)
    assert.equal("JWT ext", fake.token)
    assert.has_error(function() c:signin_with_custom_token(42) end, "client:signin_with_custom_token(): jwt must be a non-empty string")
  end)
end)

describe("retries", function()
  it("retries idempotent methods on 429/502/503/504 and transport timeouts, with backoff", function()
    for _, method in ipairs({ "GET", "PUT", "DELETE" }) do
      local c, fake = new{ token = "JWT x", retries = 3, retry_base_ms = 100, retry_max_ms = 5000 }
      fake:queue(503, { msg = "down" })
      fake:queue_error("timeout")
      fake:queue(502, "bad gateway")
      fake:queue(200, { ok = true })
      local res = assert(c:request{ method = method, path = "/x" })
      assert.equal(200, res.status)
      assert.equal(4, res.attempts)
      assert.equal(3, #fake.sleeps)
      for i, ms in ipairs(fake.sleeps) do
        assert.is_true(ms >= 0 and ms <= 100 * 2 ^ (i - 1), "backoff " .. ms)
      end
    end
  end)

  it("never retries POST or PATCH unless asked, and never a 500", function()
    local c, fake = new{ token = "JWT x" }
    fake:queue(503, { msg = "down" })
    local v, _, err = c:post("/x", { a = 1 })
    assert.is_nil(v)
    assert.equal(1, #fake.requests)
    assert.equal(1, err.attempts)
    fake:queue_error("timeout")
    v, _, err = c:patch("/x", { a = 1 })
    assert.is_nil(v)
    assert.equal("timeout", err.kind)
    assert.equal(2, #fake.requests)
    fake:queue(500, { err = "error" })
    v = c:get("/x")
    assert.is_nil(v)
    assert.equal(3, #fake.requests)
    fake:queue(503, {})
    fake:queue(200, { ok = 1 })
    assert(c:post("/x", { a = 1 }, { retry = true }))
    assert.equal(5, #fake.requests)
  end)

  it("gives up after retries + 1 attempts and says how many", function()
    local c, fake = new{ token = "JWT x", retries = 2 }
    for _ = 1, 3 do fake:queue_error("connect", "GET x: connect") end
    local v, msg, err = c:get("/x")
    assert.is_nil(v)
    assert.equal(3, err.attempts)
    assert.matches("after 3 attempts", msg)
    assert.equal(3, #fake.requests)
  end)

  it("does not retry running out of descriptors or memory (kind resource), even a call that may be repeated", function()
    local c, fake = new{ token = "JWT x", retries = 3 }
    fake:queue_error("resource", "GET https://api.test/v3/x: resource (Out of memory, curl 27)")
    local v, msg, err = c:get("/x", nil, { retry = true })
    assert.is_nil(v)
    assert.equal("resource", err.kind)
    assert.equal(1, err.attempts)
    assert.equal(1, #fake.requests)
    assert.equal("GET /x: GET https://api.test/v3/x: resource (Out of memory, curl 27)", msg)
  end)

  it("honours Retry-After in seconds and as an HTTP date, up to retry_max_ms", function()
    local c, fake = new{ token = "JWT x", retry_max_ms = 5000 }
    fake:queue(429, { message = "Rate limit exceeded" }, { ["retry-after"] = "2" })
    fake:queue(200, {})
    assert(c:get("/x"))
    assert.same({ 2000 }, fake.sleeps)
    -- more than retry_max_ms: no wait, the 429 comes back with retry_after
    fake:queue(429, { message = "Rate limit exceeded" }, { ["retry-after"] = "60" })
    local v, _, err = c:get("/x")
    assert.is_nil(v)
    assert.equal(429, err.status)
    assert.equal(60, err.retry_after)
  end)
end)

describe("rate_limit", function()
  it("waits on the transport's clock instead of failing", function()
    local c, fake = new{ token = "JWT x", rate_limit = 60 } -- one per second, burst 1
    for _ = 1, 3 do fake:queue(200, {}) end
    for _ = 1, 3 do assert(c:get("/x")) end
    assert.same({ 1000, 1000 }, fake.sleeps)
    assert.equal(2000, fake.requests[3].at)
  end)
end)

describe("hooks and log", function()
  it("never show a secret", function()
    local lines, seen = {}, {}
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test", project_id = PID, transport = fake, email = "a@x.test",
      password = SECRET_PW, log = function(l) lines[#lines + 1] = l end,
      on_request = function(info) seen[#seen + 1] = info end,
      on_response = function(info) seen[#seen + 1] = info end }
    fake:queue(200, { success = true, token = SECRET_TOKEN, user = { _id = "u" } })
    fake:queue(503, { msg = "x" })
    fake:queue(200, { ok = true })
    assert(c:get("/requests", { secret_token = "c2lnbmF0dXJlLXNlY3JldA" }))
    assert.equal(3, #lines)
    assert.matches("^tiledesk: signin%(%) POST https://api.test/auth/signin %-> 200 in %d+ ms %(attempt 1%)$", lines[1])
    assert.matches("%-> 503 .*retrying in", lines[2])
    assert.truthy(lines[3]:find("secret_token=[redacted]", 1, true))
    assert.equal(6, #seen)
    assert_no_secret(lines, seen, c, tostring(c))
  end)

  it("redact an authorization header given for a custom-token exchange, and the token answered", function()
    local seen = {}
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test", project_id = PID, transport = fake,
      on_request = function(info) seen[#seen + 1] = info end,
      on_response = function(info) seen[#seen + 1] = info end }
    fake:queue(200, { success = true, token = SECRET_TOKEN, user = { _id = "u" } })
    assert(c:signin_with_custom_token("c2lnbmF0dXJlLXNlY3JldA"))
    assert.equal("JWT [redacted]", seen[1].headers.authorization)
    assert.equal("[redacted]", seen[2].body)
    assert_no_secret(seen)
  end)

  it("keep the guest token of an anonymous sign-in out of hooks", function()
    local seen = {}
    local fake = Fake.new()
    fake:queue(200, { success = true, token = SECRET_TOKEN, user = { _id = "g" } })
    assert(tiledesk.signin_anonymously{ base_url = "https://api.test", project_id = PID, transport = fake,
      on_response = function(info) seen[#seen + 1] = info end })
    assert.equal(1, #seen)
    assert_no_secret(seen)
  end)
end)

describe("helper", function()
  it("finds the repository root", function()
    assert.truthy(helper.read_file(helper.root .. "rockspec/tiledesk-scm-1.rockspec"))
  end)
end)
