-- The client's reading of two answers, from the server's source: which 401 means "sign in again"
-- (passport's plain-text `Unauthorized`, middleware/passport.js) and which answers mean "no such
-- object" (err.kind "not_found"). No sockets.
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")

local PID = "65a1b2c3d4e5f60718293a4b"
local SIGNED = { success = true, token = "JWT eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", user = { _id = "u1" } }

local function with_password()
  local fake = Fake.new()
  local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, email = "a@x.test",
    password = "Pa55word-1" }
  fake:queue(200, SIGNED)
  return c, fake
end

local function paths(fake)
  local out = {}
  for i, r in ipairs(fake.requests) do out[i] = r.method .. " " .. r.url:gsub("^https://api.test/v3", "") end
  return out
end

describe("a 401", function()
  it("in passport's plain text signs in again and repeats the call once", function()
    local c, fake = with_password()
    fake:queue(200, {})
    assert(c:get("/x"))
    fake:queue(401, "Unauthorized", { ["www-authenticate"] = 'Basic realm="Users"' })
    fake:queue(200, SIGNED)
    fake:queue(200, { ok = true })
    assert.same({ ok = true }, c:get("/x"))
    assert.same({ "POST /auth/signin", "GET /" .. PID .. "/x", "GET /" .. PID .. "/x", "POST /auth/signin",
      "GET /" .. PID .. "/x" }, paths(fake))
  end)

  local json_401s = {
    { "a wrong old password", "PUT", "/users/changepsw", { success = false, msg = "Authentication failed. Wrong password." },
      "users:change_password(): HTTP 401 Unauthorized: Authentication failed. Wrong password." },
    { "the project's IP filter", "GET", "/" .. PID .. "/requests", { err = "error project ip filter" },
      "requests:list(): HTTP 401 Unauthorized: error project ip filter" },
    { "a refused permission", "GET", "/" .. PID .. "/requests", { success = false, error = "Unauthorized",
      message = "You don't have the permission" }, "requests:list(): HTTP 401 Unauthorized: You don't have the permission" },
  }

  it("in JSON returns the server's words, with no new sign-in and no repeat", function()
    assert.is_true(#json_401s > 0)
    for _, case in ipairs(json_401s) do
      local c, fake = with_password()
      fake:queue(401, case[4])
      local v, msg, err
      if case[3] == "/users/changepsw" then
        v, msg, err = c.users:change_password("wrong-old-1", "new-pass-2")
      else
        v, msg, err = c.requests:list()
      end
      assert.is_nil(v, case[1])
      assert.equal(case[5], msg, case[1])
      assert.equal("http", err.kind, case[1])
      assert.equal(401, err.status, case[1])
      assert.equal(1, err.attempts, case[1])
      assert.same({ "POST /auth/signin", case[2] .. " " .. case[3] }, paths(fake), case[1])
    end
  end)

  it("that is a page or any other text is not passport's either", function()
    local c, fake = with_password()
    fake:queue(401, "<html><body>Unauthorized by the proxy</body></html>", { ["content-type"] = "text/html" })
    local v, msg, err = c:get("/x")
    assert.is_nil(v)
    assert.equal("GET /x: HTTP 401 Unauthorized: Unauthorized by the proxy", msg)
    assert.equal(401, err.status)
    assert.equal(2, #fake.requests)
  end)
end)

describe("no such object", function()
  local cases = {
    { "a 404", 404, { success = false, msg = "Object not found." }, "GET /x: HTTP 404 Not Found: Object not found." },
    { "express's 404 page", 404, "<html><body><pre>Cannot GET /v3/x</pre></body></html>",
      "GET /x: HTTP 404 Not Found: Cannot GET /v3/x" },
    { "a 200 null", 200, "null", "GET /x: not found (the server answered null)" },
    { "the project prefix check", 400, { error = "Project not found with id: " .. PID },
      "GET /x: HTTP 400 Bad Request: Project not found with id: " .. PID },
    { "a 200 that says so", 200, { success = false, msg = "User not found." }, "GET /x: not found: User not found." },
  }

  it("returns nil, msg, err with err.kind not_found", function()
    assert.is_true(#cases > 0)
    for _, case in ipairs(cases) do
      local fake = Fake.new()
      local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, token = "JWT t" }
      local body = case[3]
      fake:queue(case[2], body, { ["content-type"] = type(body) == "table" and "application/json"
        or body == "null" and "application/json" or "text/html" })
      local v, msg, err = c:get("/x")
      assert.is_nil(v, case[1])
      assert.equal(case[4], msg, case[1])
      assert.equal("not_found", err.kind, case[1])
      assert.equal(case[2], err.status, case[1])
      assert.equal(msg, tostring(err))
    end
  end)

  it("other refusals keep kind http", function()
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, token = "JWT t" }
    fake:queue(400, { error = "Invalid project id: x" })
    fake:queue(403, { success = false, msg = "you dont belong to the project." })
    fake:queue(200, { success = false, msg = "Requests quota exceeded" })
    local _, _, e1 = c:get("/x")
    local _, _, e2 = c:get("/x")
    assert.equal("http", e1.kind)
    assert.equal("http", e2.kind)
    -- a 2xx {success:false} that does not say "not found" is the server's answer, returned as is
    assert.same({ success = false, msg = "Requests quota exceeded" }, c:get("/x"))
    -- client:request returns every answer as it came
    fake:queue(200, "null", { ["content-type"] = "application/json" })
    local res = assert(c:request{ method = "GET", path = "/x" })
    assert.equal(200, res.status)
    assert.equal("null", res.body)
  end)
end)
