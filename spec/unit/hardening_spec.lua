-- What audits found and the fixes keep: secrets out of hooks, logs and errors on every route
-- that carries one; one-line messages; attempts counted across a new sign-in; the client after
-- close; inputs that could escape a URL; the retry rules at their edges. No sockets.
local helper = require("spec.helper")
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")

local PID = helper.PID
local BOT_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib3QifQ.Ym90LXNpZ25hdHVyZQ"
local PROJECT_SECRET = "cad0f3879c04project-shared-secret"
local HOOK_SECRET = "436e0c1d-hook-secret"
local OLD_PW, NEW_PW = "OldSecret-1", "NewSecret-2"
local SECRETS = { BOT_JWT, "Ym90LXNpZ25hdHVyZQ", PROJECT_SECRET, HOOK_SECRET, OLD_PW, NEW_PW }

local new = helper.fake_client

local strings_in = require("spec.helper").strings_in

local function assert_clean(...)
  for _, s in ipairs(helper.nonempty(strings_in({ ... }))) do
    for _, secret in ipairs(helper.nonempty(SECRETS)) do
      assert.is_nil(s:find(secret, 1, true), "a secret leaked in: " .. s)
    end
  end
end

describe("routes that carry secrets", function()
  local function watched()
    local seen, lines = {}, {}
    local c, fake = new{ log = function(l) lines[#lines + 1] = l end,
      on_request = function(i) seen[#seen + 1] = i end, on_response = function(i) seen[#seen + 1] = i end }
    return c, fake, seen, lines
  end

  it("keep bot tokens, project secrets, hook secrets and passwords out of hooks and logs", function()
    local c, fake, seen, lines = watched()
    fake:queue(200, { jwt = BOT_JWT })
    fake:queue(200, { jwtSecret = PROJECT_SECRET, privateKey = PROJECT_SECRET })
    fake:queue(200, { _id = "s1", event = "request.create", secret = HOOK_SECRET }, { ["x-hook-secret"] = HOOK_SECRET })
    fake:queue(200, { message = "Password change successful" })
    -- the caller still gets every secret it asked for
    assert.equal(BOT_JWT, assert(c.bots:token("b1")).jwt)
    assert.equal(PROJECT_SECRET, assert(c.keys:generate()).jwtSecret)
    assert.equal(HOOK_SECRET, assert(c.subscriptions:create("request.create", "http://hook.test/x")).secret)
    assert(c.users:change_password(OLD_PW, NEW_PW))
    assert.equal(8, #seen)
    assert.equal(4, #lines)
    assert.equal("[redacted]", seen[2].body)
    assert.equal("[redacted]", seen[6].headers["x-hook-secret"])
    assert.equal("[redacted]", seen[7].body)
    assert_clean(seen, lines)
  end)

  it("redact secret keys of any other body shown to hooks", function()
    local c, fake, seen = watched()
    fake:queue(200, { ok = true, nested = { token = BOT_JWT, list = { { password = OLD_PW } } } })
    assert(c:post("/whatever", { password = NEW_PW, name = "kept" }))
    assert.matches('"name":"kept"', seen[1].body)
    assert.matches("%[redacted%]", seen[2].body)
    assert_clean(seen)
  end)

  it("keep a secret out of msg and err when its response is cut short or refused", function()
    local c, fake = new()
    fake:queue(200, '{"jwtSecret":"' .. PROJECT_SECRET, { ["content-type"] = "application/json" })
    local v, msg, err = c.keys:generate()
    assert.is_nil(v)
    assert.equal("decode", err.kind)
    assert.matches("^keys:generate%(%): response is not JSON", msg)
    assert_clean(msg, err)
    fake:queue(500, { err = "error", jwt = BOT_JWT })
    local _, msg2, err2 = c.bots:token("b1")
    assert.matches("^bots:token%(%): HTTP 500", msg2)
    assert_clean(msg2, err2)
  end)

  it("redact secret values in the err.body of any refusal", function()
    local c, fake = new()
    fake:queue(403, { success = false, msg = "nope", token = BOT_JWT })
    local _, msg, err = c:get("/x")
    assert.equal("nope", err.body.msg)
    assert.equal("[redacted]", err.body.token)
    assert_clean(msg, err)
  end)
end)

describe("messages", function()
  it("never carry a token put in a path's query, nor a line break", function()
    local c, fake = new()
    fake:queue(404, "Cannot GET", { ["content-type"] = "text/html" })
    local _, msg, err = c:get("/nothing?token=" .. BOT_JWT .. "&secret_token=" .. PROJECT_SECRET)
    assert.matches("^GET /nothing%?token=%[redacted%]&secret_token=%[redacted%]: HTTP 404", msg)
    assert_clean(msg, err)
    local ok, e = pcall(c.get, c, "/x\r\nX-Injected: 1")
    assert.is_false(ok)
    assert.is_nil(tostring(e):find("\n", 1, true), "a two-line message: " .. tostring(e))
  end)

  it("say which operation failed when the sign-in it needed failed", function()
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test", project_id = PID, transport = fake,
      email = "a@x.test", password = OLD_PW }
    fake:queue(401, { success = false, msg = "Authentication failed. Wrong password." })
    local v, msg, err = c.requests:list()
    assert.is_nil(v)
    assert.equal("requests:list(): signin(): HTTP 401 Unauthorized: Authentication failed. Wrong password.", msg)
    assert.equal(401, err.status)
    assert.equal("https://api.test/auth/signin", err.url)
    assert_clean(msg, err)
  end)

  it("count every attempt, a repeat after a new sign-in included, and say so", function()
    local lines = {}
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test", project_id = PID, transport = fake,
      email = "a@x.test", password = OLD_PW, retries = 0, log = function(l) lines[#lines + 1] = l end }
    fake:queue(200, { token = "JWT one", user = {} })
    fake:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    fake:queue(200, { token = "JWT two", user = {} })
    fake:queue(401, "Unauthorized", { ["content-type"] = "text/plain" })
    local _, msg, err = c:get("/x")
    assert.equal(2, err.attempts)
    assert.matches("%(after 2 attempts%)$", msg)
    assert.matches("^tiledesk: GET /x GET https://api.test/" .. PID .. "/x %-> 401 in %d+ ms %(attempt 1%): the token", lines[2])
    assert.matches("%(attempt 2%): Unauthorized$", lines[4])
  end)

  it("log the server's words and the transport's reason, for 'my bot never answers'", function()
    local lines = {}
    local c, fake = new{ retries = 0, log = function(l) lines[#lines + 1] = l end }
    fake:queue(422, { errors = { "text field is required" } })
    fake:queue_error("connect", "POST https://api.test/v3/x: connect (Connection refused, curl 7)")
    c.messages:send("r1", { type = "text" })
    c.messages:send("r1", { text = "hi" })
    assert.matches("^tiledesk: messages:send%(%) POST https://api.test/v3/" .. PID ..
      "/requests/r1/messages %-> 422 in %d+ ms %(attempt 1%): text field is required$", lines[1])
    assert.matches("%-> connect in %d+ ms %(attempt 1%): .*Connection refused", lines[2])
  end)
end)

describe("the client", function()
  it("after close: tostring works, calls raise, close again is fine, <close> closes it", function()
    local c, fake = new()
    c:close()
    assert.matches("auth=closed", tostring(c))
    assert.has_error(function() c:get("/x") end, "GET /x: the client is closed")
    assert.has_error(function() c.requests:get("r1") end, "requests:get(): the client is closed")
    assert.has_error(function() c:request{ method = "GET", path = "/x" } end, "GET /x: the client is closed")
    c:close()
    assert.is_true(fake.closed)
    if _VERSION == "Lua 5.4" then
      local fake2 = Fake.new()
      assert((load or loadstring)([[
        local tiledesk, fake = ...
        local c <close> = tiledesk.new{ project_id = "p", token = "JWT t", transport = fake }
      ]]))(tiledesk, fake2)
      assert.is_true(fake2.closed)
    end
  end)

  it("sends the default timeouts: 15000 ms for the call, 5000 ms to connect", function()
    local c, fake = new()
    fake:queue(200, {})
    assert(c:get("/x"))
    assert.equal(15000, fake:last().timeout_ms)
    assert.equal(5000, fake:last().connect_timeout_ms)
  end)

  it("refuses a base_url with user:password@, a Bearer token, and a project id that is no segment", function()
    assert.has_error(function() tiledesk.new{ base_url = "http://bob:hunter2@api.test/v3", project_id = PID } end,
      "tiledesk.new(): option 'base_url' must be an http(s) URL without user:password@ (give email and password as options)")
    assert.has_error(function() tiledesk.new{ project_id = PID, token = "Bearer abc" } end,
      "tiledesk.new(): option 'token': Tiledesk refuses 'Bearer'; give the token as the server sent it ('JWT ...')")
    assert.has_error(function() tiledesk.new{ project_id = "" } end, "tiledesk.new(): option 'project_id' must not be empty")
    local ok, e = pcall(function() local c = tiledesk.new{ project_id = PID, bogus = 1 }; return c end)
    assert.is_false(ok)
    assert.matches("hardening_spec.lua:%d+: tiledesk.new%(%): unknown option 'bogus'", e) -- points at the caller
  end)

  it("refuses a project id such as '..' (a dot segment would leave the project)", function()
    assert.has_error(function() new{ project_id = ".." } end,
      "tiledesk.new(): option 'project_id' must not be '..' (a dot segment would leave the path)")
    assert.has_error(function() new{ project_id = "." } end,
      "tiledesk.new(): option 'project_id' must not be '.' (a dot segment would leave the path)")
  end)

  it("refuses a server token with control characters without raising, keeping the client usable", function()
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test", project_id = PID, transport = fake,
      email = "a@x.test", password = OLD_PW }
    fake:queue(200, { token = "JWT bad\r\nX-Injected: yes", user = {} })
    local user, msg, err = c:signin()
    assert.is_nil(user)
    assert.equal("decode", err.kind)
    assert.matches("unusable token", msg)
    assert.equal("none", c:auth_kind())
    fake:queue(200, { token = "JWT good", user = { _id = "u" } })
    assert.same({ _id = "u" }, c:signin())
  end)

  it("never repeats an anonymous sign-in (each one creates a guest)", function()
    local fake = Fake.new()
    fake:queue_error("timeout", "POST x: timeout")
    local c, msg, err = tiledesk.signin_anonymously{ base_url = "https://api.test", project_id = PID, transport = fake }
    assert.is_nil(c)
    assert.equal("timeout", err.kind)
    assert.equal(1, #fake.requests)
    assert.matches("^signin_anonymously%(%): ", msg)
  end)
end)

describe("retries at their edges", function()
  it("retry 502, 503 and 504 for GET, HEAD, PUT, DELETE and OPTIONS", function()
    for _, method in ipairs({ "GET", "HEAD", "PUT", "DELETE", "OPTIONS" }) do
      for _, status in ipairs({ 502, 503, 504, 429 }) do
        local c, fake = new{ retries = 1, retry_base_ms = 10 }
        fake:queue(status, "busy", { ["content-type"] = "text/plain" })
        fake:queue(200, {})
        local res = assert(c:request{ method = method, path = "/x" })
        assert.equal(200, res.status, method .. " " .. status)
        assert.equal(2, #fake.requests, method .. " " .. status)
      end
    end
  end)
end)

describe("client:with", function()
  it("lets resource writes opt into retries, and leaves the client as it was", function()
    local c, fake = new{ retry_base_ms = 10 }
    fake:queue(503, "busy", { ["content-type"] = "text/plain" })
    local v, _, err = c.leads:create{ fullname = "Ann" }
    assert.is_nil(v)
    assert.equal(1, err.attempts) -- a POST is never repeated behind the caller's back
    local r = c:with{ retry = true, timeout = 2500 }
    fake:queue(503, "busy", { ["content-type"] = "text/plain" })
    fake:queue(200, { _id = "l1" })
    assert.equal("l1", assert(r.leads:create{ fullname = "Ann" })._id)
    assert.equal(3, #fake.requests)
    -- one deadline for the call: the repeat gets what the first attempt and the wait left
    assert.equal(2500, fake.requests[2].timeout_ms)
    assert.equal(2500 - fake.sleeps[#fake.sleeps], fake:last().timeout_ms)
    -- the call's own options win over the view's
    fake:queue(200, {})
    assert(r:post("/x", {}, { timeout = 100 }))
    assert.equal(100, fake:last().timeout_ms)
    -- the client itself is unchanged, and views share its connection and state
    fake:queue(503, "busy", { ["content-type"] = "text/plain" })
    assert.is_nil((c.leads:create{ fullname = "Bob" }))
    assert.equal(15000, fake:last().timeout_ms)
    assert.is_nil(rawget(c, "_call_opts"))
    assert.equal(tostring(c), tostring(r))
    r:close()
    assert.is_true(fake.closed)
    assert.has_error(function() c:get("/x") end, "GET /x: the client is closed")
  end)

  it("refuses unknown or wrongly typed options", function()
    local c = new()
    assert.has_error(function() c:with{ retyr = true } end,
      "client:with(): unknown option 'retyr' (retry, retries, timeout, attempt_timeout, sink)")
    assert.has_error(function() c:with{ timeout = "5s" } end,
      "client:with(): option 'timeout' must be a whole number of milliseconds (ms) from 0 to 2147483647 (got string)")
    assert.has_error(function() c:with("x") end, "client:with(): options must be a table (got string)")
    local r = c:with{ retries = 0 }:with{ timeout = 10 }
    assert.same({ retries = 0, timeout = 10 }, rawget(r, "_call_opts"))
  end)
end)

describe("files", function()
  it("upload a chat attachment as multipart/form-data, typed from its name", function()
    local c, fake = new()
    fake:queue(201, { message = "File uploaded successfully", filename = "uploads/users/u/files/x/a b.pdf" })
    local res = assert(c.files:upload("%PDF-1.4 \0binary\r\n--", { name = 'a "b".pdf' }))
    assert.equal("uploads/users/u/files/x/a b.pdf", res.filename)
    local sent = fake:last()
    assert.equal("POST", sent.method)
    assert.equal("https://api.test/v3/" .. PID .. "/files/chat", sent.url)
    local boundary = sent.headers["content-type"]:match("^multipart/form%-data; boundary=(%S+)$")
    assert.truthy(boundary)
    assert.equal("--" .. boundary .. "\r\n" ..
      'Content-Disposition: form-data; name="file"; filename="a _b_.pdf"\r\n' ..
      "Content-Type: application/pdf\r\n\r\n" ..
      "%PDF-1.4 \0binary\r\n--\r\n--" .. boundary .. "--\r\n", sent.body)
  end)

  it("upload assets with an expiration, and give the public address of a file", function()
    local c, fake = new()
    fake:queue(201, { filename = "f" })
    assert(c.files:upload_asset("GIF89a", { name = "logo.gif", expiration = 60 }))
    assert.equal("https://api.test/v3/" .. PID .. "/files/assets?expiration=60", fake:last().url)
    assert.equal("https://api.test/v3/files?path=uploads%2Fa%20b.png", c.files:url("uploads/a b.png"))
  end)

  it("refuse what the server would refuse or could not read, before sending", function()
    local c, fake = new()
    assert.has_error(function() c.files:upload(nil, { name = "a.pdf" }) end, "files:upload(): bad argument #1 'content' (string expected, got nil)")
    assert.has_error(function() c.files:upload("x", { name = "noextension" }) end,
      "files:upload(): option 'name' must be a file name with an extension (the server checks it)")
    assert.has_error(function() c.files:upload("x", { name = "a.unknownext" }) end,
      "files:upload(): option 'type' must be a content type (none is known for a.unknownext)")
    assert.has_error(function() c.files:upload("x", { name = "a.pdf", type = "text/plain\r\nX: 1" }) end,
      "files:upload(): option 'type' must be a content type without control characters")
    assert.has_error(function() c.files:upload("x", { name = "a.pdf", expiration = 5 }) end, "files:upload(): unknown option 'expiration'")
    assert.has_error(function() c.files:upload_asset("x", { name = "a.pdf", expiration = -1 }) end,
      "files:upload_asset(): option 'expiration' must be a number of seconds > 0")
    assert.has_error(function() c.files:url(nil) end, "files:url(): bad argument #1 'filename' (string expected, got nil)")
    assert.equal(0, #fake.requests)
  end)

  it("messages:send_file uploads content first and sends its public address", function()
    local c, fake = new()
    fake:queue(201, { message = "File uploaded successfully", filename = "uploads/u/x/r.pdf" })
    fake:queue(200, { _id = "m1", type = "file" })
    local sent, up = assert(c.messages:send_file("r1", { content = "%PDF-1.4", name = "r.pdf" }, "your receipt"))
    assert.equal("m1", sent._id)
    assert.equal("uploads/u/x/r.pdf", up.filename)
    assert.equal("https://api.test/v3/" .. PID .. "/files/chat", fake.requests[1].url)
    local j = fake:last().json
    assert.same({ text = "your receipt", type = "file",
      metadata = { src = "https://api.test/v3/files?path=uploads%2Fu%2Fx%2Fr.pdf", name = "r.pdf", type = "application/pdf" } }, j)
    -- a refused upload sends no message
    fake:queue(403, { success = false, error = "File extension .pdf is not allowed" })
    local v, msg = c.messages:send_file("r1", { content = "%PDF-1.4", name = "r.pdf" })
    assert.is_nil(v)
    assert.equal("messages:send_file(): files:upload(): HTTP 403 Forbidden: File extension .pdf is not allowed", msg)
    assert.equal(3, #fake.requests)
    assert.has_error(function() c.messages:send_file("r1", { content = "x" }) end,
      "messages:send_file(): bad argument #2 'file': uploading needs a 'name' with its extension")
    assert.has_error(function() c.messages:send_file("r1", { src = "u", content = "x", name = "a.txt" }) end,
      "messages:send_file(): bad argument #2 'file' ({ src = url, ... } or { content = bytes, name = } expected)")
    assert.has_error(function() c.messages:send_file("r1", { src = "u", type = 5 }) end,
      "messages:send_file(): bad argument #2 'file': 'type' must be a string (got number)")
    assert.has_error(function() c.leads:search("a", "b") end, "leads:search(): bad argument #2 'query' (table expected, got string)")
  end)
end)

describe("requests:send_transcript", function()
  it("emails the conversation's transcript when given no text, hidden notices left out", function()
    local c, fake = new()
    fake:queue(200, {
      { createdAt = "2026-11-25T10:04:05.123Z", senderFullname = "Ann", text = "Where is my order?" },
      { createdAt = "2026-11-25T10:04:30.000Z", sender = "system", text = "\\start" },
      { createdAt = "2026-11-25T10:05:00.000Z", senderFullname = "Bob", text = "escalated", attributes = { subtype = "info/support" } },
      { createdAt = "2026-11-25T10:06:00.000Z", senderFullname = "Bob", text = "", type = "file",
        metadata = { name = "receipt.pdf", src = "http://x/files?path=r" } },
    })
    fake:queue(200, { queued = true })
    assert.same({ queued = true }, assert(c.requests:send_transcript("r 1", nil, { subject = "Your chat" })))
    assert.equal("https://api.test/v3/" .. PID .. "/requests/r%201/messages", fake.requests[1].url)
    local sent = fake:last()
    assert.equal("https://api.test/v3/" .. PID .. "/requests/r%201/email/send", sent.url)
    assert.same({ subject = "Your chat", text = "2026-11-25 10:04:05 UTC  Ann: Where is my order?\n"
      .. "2026-11-25 10:06:00 UTC  Bob: [receipt.pdf]" }, sent.json)
    fake:queue(200, { queued = true })
    assert(c.requests:send_transcript("r1", "My own words"))
    assert.same({ text = "My own words" }, fake:last().json)
    assert.has_error(function() c.requests:send_transcript("r1", 5) end,
      "requests:send_transcript(): bad argument #2 'text' (string expected, got number)")
    assert.has_error(function() c.requests:send_transcript("r1", nil, "x") end,
      "requests:send_transcript(): bad argument #3 'opts' (table expected, got string)")
  end)
end)

describe("misuse errors", function()
  it("point at the caller's line, uploads included", function()
    local c = new()
    local ok, e = pcall(function() local r = c.files:upload(5, { name = "a.txt" }); return r end)
    assert.is_false(ok)
    assert.matches("hardening_spec%.lua:%d+: files:upload%(%): bad argument #1", e)
  end)
end)
