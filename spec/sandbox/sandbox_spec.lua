-- The sandbox's own rules, over plain HTTP (luasocket and curl; the SDK is not used here).
local helper = require("spec.helper")
local cjson = require("cjson")

local st = helper.sandbox()
local B = st.http_url
local PID = st.project_id

local b64 = require("mime").b64
local basic = helper.auth

local function req(method, path, body, headers)
  return helper.http_json(method, B .. path, body, headers)
end

local function signin(role)
  local u = st.users[role]
  local status, j = req("POST", "/auth/signin", { email = u.email, password = u.password })
  assert.equal(200, status)
  return j.token
end

describe("sandbox", function()
  setup(function() req("POST", "/__sandbox/reset") end)
  before_each(function() req("DELETE", "/__sandbox/faults") end)

  describe("paths", function()
    it("answers the banner at / and accepts /v1, /v2, /v3 prefixes", function()
      local status, _, h, text = req("GET", "/")
      assert.equal(200, status)
      assert.matches("Hello from Tiledesk server", text)
      assert.truthy(h["x-sandbox-connection"])
      for _, v in ipairs({ "", "/v1", "/v2", "/v3" }) do
        local s, j = req("GET", v .. "/" .. PID .. "/departments")
        assert.equal(200, s)
        assert.is_true(#j >= 3)
      end
    end)

    it("checks the project id before auth, with the server's 400 bodies", function()
      local s, j = req("GET", "/not-an-id/requests")
      assert.equal(400, s)
      assert.same({ error = "Invalid project id: not-an-id" }, j)
      s, j = req("GET", "/aaaaaaaaaaaaaaaaaaaaaaaa/requests")
      assert.equal(400, s)
      assert.same({ error = "Project not found with id: aaaaaaaaaaaaaaaaaaaaaaaa" }, j)
    end)

    it("answers unknown routes with Express's HTML 404", function()
      local s, j, h, text = req("DELETE", "/" .. PID .. "/nothing/here")
      assert.equal(404, s)
      assert.is_nil(j)
      assert.matches("text/html", h["content-type"])
      assert.matches("<pre>Cannot DELETE /" .. PID .. "/nothing/here</pre>", text, 1, true)
    end)
  end)

  describe("auth", function()
    it("accepts Basic and the signed-in JWT, and refuses the rest with plain-text 401", function()
      assert.equal(200, (req("GET", "/" .. PID .. "/requests", nil, basic("agent"))))
      local token = signin("agent")
      assert.matches("^JWT ", token)
      assert.equal(200, (req("GET", "/" .. PID .. "/requests", nil, { authorization = token })))
      assert.equal(200, (req("GET", "/" .. PID .. "/requests", nil, { authorization = token:gsub("^JWT", "jwt") })))
      local jwt = token:sub(5)
      local header, payload = jwt:match("^([^.]+)%.([^.]+)%.")
      local refused = {
        {},
        { authorization = "Bearer " .. jwt },
        { authorization = "JWT " .. header .. "." .. payload .. ".AAAA" },
        { authorization = "JWT " .. header .. "." .. payload .. "." },
        { authorization = "JWT eyJhbGciOiJub25lIn0." .. payload .. "." },
        { authorization = "Basic " .. b64(st.users.agent.email .. ":wrong") },
        { authorization = "JWT garbage" },
      }
      for i, h in ipairs(refused) do
        local s, j, rh, text = req("GET", "/" .. PID .. "/requests", nil, h)
        assert.equal(401, s, "case " .. i)
        assert.is_nil(j)
        assert.equal("Unauthorized", text)
        assert.equal('Basic realm="Users"', rh["www-authenticate"])
      end
    end)

    it("validates sign-in like the server", function()
      local s, j = req("POST", "/auth/signin", { email = "not-an-email", password = "" })
      assert.equal(422, s)
      assert.equal("Invalid value", j.errors[1].msg)
      s, j = req("POST", "/auth/signin", { email = "ghost@sandbox.test", password = "x" })
      assert.equal(401, s)
      assert.same({ success = false, msg = "Authentication failed. User not found." }, j)
      s, j = req("POST", "/auth/signin", { email = st.users.agent.email, password = "x" })
      assert.equal(401, s)
      assert.same({ success = false, msg = "Authentication failed. Wrong password." }, j)
      s, j = req("POST", "/auth/signin", { email = st.users.agent.email:upper(), password = st.users.agent.password })
      assert.equal(200, s)
      assert.same({ "_id", "email", "emailverified", "firstname", "lastname" }, (function()
        local k = {}
        for key in pairs(j.user) do k[#k + 1] = key end
        table.sort(k)
        return k
      end)())
    end)

    it("checks roles and membership with the documented 403 bodies", function()
      local s, j = req("GET", "/" .. PID .. "/activities", nil, basic("agent"))
      assert.equal(403, s)
      assert.same({ success = false, msg = "you dont have the required role." }, j)
      assert.equal(200, (req("GET", "/" .. PID .. "/activities", nil, basic("admin"))))
      local out = { authorization = "Basic " .. b64("outsider@sandbox.test:outsider-pass-123") }
      s, j = req("GET", "/" .. PID .. "/requests", nil, out)
      assert.equal(403, s)
      assert.same({ success = false, msg = "you dont belong to the project." }, j)
    end)

    it("signs in anonymously as a guest who may write but not list", function()
      local s, j = req("POST", "/auth/signinAnonymously", { id_project = PID, firstname = "Ann" })
      assert.equal(200, s)
      assert.matches("^JWT ", j.token)
      assert.equal("Ann", j.user.firstname)
      local h = { authorization = j.token }
      local rid = "support-group-" .. PID .. "-guest0000000000000000000000000001"
      s = req("POST", "/" .. PID .. "/requests/" .. rid .. "/messages", { text = "hi" }, h)
      assert.equal(200, s)
      s = req("GET", "/" .. PID .. "/requests", nil, h)
      assert.equal(403, s)
      local _, mine = req("GET", "/" .. PID .. "/requests/me", nil, h)
      assert.equal(1, mine.count)
      s = req("POST", "/auth/signinAnonymously", {})
      assert.equal(422, s)
    end)

    it("checks custom tokens against the project secret from keys/generate", function()
      local _, keys = req("POST", "/" .. PID .. "/keys/generate", nil, basic("agent"))
      assert.is_string(keys.jwtSecret)
      local function sign(payload, secret)
        local _, j = req("POST", "/__sandbox/sign", { payload = payload, secret = secret })
        return j.token
      end
      local aud = "https://tiledesk.com/projects/" .. PID
      local good = sign({ _id = "ext-9", sub = "userexternal", aud = aud }, keys.jwtSecret)
      local s, j = req("POST", "/auth/signinWithCustomToken", nil, { authorization = "JWT " .. good })
      assert.equal(200, s)
      assert.equal("JWT " .. good, j.token)
      s = req("POST", "/auth/signinWithCustomToken", nil,
        { authorization = "JWT " .. sign({ _id = "ext-9", sub = "userexternal", aud = aud }, "wrong") })
      assert.equal(401, s)
      s, j = req("POST", "/auth/signinWithCustomToken", nil,
        { authorization = "JWT " .. sign({ _id = "ext-9", sub = "userexternal" }, keys.jwtSecret) })
      assert.equal(400, s)
      assert.same({ success = false, msg = "JWT Aud field is required" }, j)
      local expired = sign({ _id = "ext-9", sub = "userexternal", aud = aud, exp = 1000 }, keys.jwtSecret)
      assert.equal(401, (req("POST", "/auth/signinWithCustomToken", nil, { authorization = "JWT " .. expired })))
      -- with an agent role, a real user is made and a user token comes back
      local agentish = sign({ _id = "ext-10", sub = "userexternal", aud = aud, role = "agent",
        email = "ext10@example.com" }, keys.jwtSecret)
      s, j = req("POST", "/auth/signinWithCustomToken", nil, { authorization = "JWT " .. agentish })
      assert.equal(200, s)
      assert.are_not.equal("JWT " .. agentish, j.token)
      assert.equal(200, (req("GET", "/" .. PID .. "/requests", nil, { authorization = j.token })))
    end)
  end)

  describe("conversations", function()
    it("paginates from page 0, 40 by default, resets limit above 100 to 40, hides closed ones", function()
      local h = basic("owner")
      local _, p0 = req("GET", "/" .. PID .. "/requests", nil, h)
      assert.equal(40, p0.perPage)
      assert.equal(40, #p0.requests)
      local _, big = req("GET", "/" .. PID .. "/requests?limit=500", nil, h)
      assert.equal(40, big.perPage)
      local _, p1 = req("GET", "/" .. PID .. "/requests?limit=100&page=1", nil, h)
      local _, p0b = req("GET", "/" .. PID .. "/requests?limit=100&page=0", nil, h)
      assert.are_not.equal(p0b.requests[1].request_id, p1.requests[1].request_id)
      for _, r in ipairs(p0b.requests) do assert.is_true(r.status < 1000 and r.status ~= 50 and r.status ~= 150) end
      local _, all = req("GET", "/" .. PID .. "/requests?status=all&limit=1", nil, h)
      local _, closed = req("GET", "/" .. PID .. "/requests?status=1000&limit=1", nil, h)
      assert.is_true(all.count >= 300)
      assert.is_true(closed.count > 0 and closed.count < all.count)
      assert.is_true(p0.count < all.count)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$", p0.requests[1].createdAt)
    end)

    it("applies the snapshot, working-status and duration filters", function()
      local h = basic("owner")
      local base = "/" .. PID .. "/requests?status=all&limit=100"
      local _, all = req("GET", base, nil, h)
      local _, botdept = req("GET", base .. "&snap_department_id_bot_exists=true", nil, h)
      assert.is_true(botdept.count > 0 and botdept.count < all.count)
      for _, r in ipairs(botdept.requests) do assert.equal(st.bot._id, r.department.id_bot) end
      local some = all.requests[1]
      local email = some.lead.email
      if email then
        local _, byemail = req("GET", base .. "&snap_lead_email=" .. email, nil, h)
        for _, r in ipairs(byemail.requests) do assert.equal(email, r.lead.email) end
      end
      local _, long = req("GET", base .. "&duration=5&duration_op=gt", nil, h)
      local _, short = req("GET", base .. "&duration=5&duration_op=lt", nil, h)
      assert.equal(all.count, long.count + short.count)
      assert.is_true(long.count > 0)
      for _, r in ipairs(long.requests) do assert.is_true(r.duration > 5 * 60000) end
      local rid = all.requests[2].request_id
      req("PATCH", "/" .. PID .. "/requests/" .. rid, { workingStatus = "pending" }, h)
      local _, pending = req("GET", base .. "&workingStatus%5Bin%5D=pending", nil, h)
      assert.equal(1, pending.count)
      assert.equal(rid, pending.requests[1].request_id)
      local _, others = req("GET", base .. "&workingStatus%5Bnin%5D=pending", nil, h)
      assert.equal(all.count - 1, others.count)
    end)

    it("creates a conversation and its lead on the first message; validates", function()
      local h = basic("agent")
      local rid = "support-group-" .. PID .. "-0123456789abcdef0123456789abcdef"
      local s, m = req("POST", "/" .. PID .. "/requests/" .. rid .. "/messages",
        { text = "first!", senderFullname = "Vic Visitor", email = "vic@example.com" }, h)
      assert.equal(200, s)
      assert.equal(rid, m.request.request_id)
      assert.equal("first!", m.request.first_text)
      assert.equal("vic@example.com", m.request.lead.email)
      s, m = req("POST", "/" .. PID .. "/requests/" .. rid .. "/messages", { type = "text" }, h)
      assert.equal(422, s)
      assert.same({ errors = { "text field is required" } }, m)
      s, m = req("POST", "/" .. PID .. "/requests", { subject = "no text" }, h)
      assert.equal(422, s)
      assert.equal("first_text", m.errors[1].param)
      s, m = req("GET", "/" .. PID .. "/requests/support-group-" .. PID .. "-missing", nil, h)
      assert.equal(404, s)
      assert.same({ success = false, msg = "Object not found." }, m)
    end)

    it("soft-deletes leads and canned responses; department PUT clears id_bot", function()
      local h = basic("admin")
      local _, lead = req("POST", "/" .. PID .. "/leads", { fullname = "Soft" }, h)
      local _, deleted = req("DELETE", "/" .. PID .. "/leads/" .. lead._id, nil, h)
      assert.equal(1000, deleted.status)
      local _, d = req("POST", "/" .. PID .. "/departments", { name = "With bot", id_bot = st.bot._id }, h)
      assert.equal(st.bot._id, d.id_bot)
      local _, p = req("PATCH", "/" .. PID .. "/departments/" .. d._id, { description = "x" }, h)
      assert.equal(st.bot._id, p.id_bot)
      local _, u = req("PUT", "/" .. PID .. "/departments/" .. d._id, { name = "No bot now" }, h)
      assert.is_nil(u.id_bot)
    end)
  end)

  describe("control path", function()
    local function fault(body)
      local s, j = req("POST", "/__sandbox/faults", body)
      assert.equal(200, s)
      return j
    end

    it("injects statuses with and without Retry-After, for a count of calls", function()
      fault{ path = "/departments$", count = 2, action = { type = "status", status = 429, retry_after = 3 } }
      local s, j, h = req("GET", "/" .. PID .. "/departments")
      assert.equal(429, s)
      assert.same({ message = "Rate limit exceeded" }, j)
      assert.equal("3", h["retry-after"])
      assert.equal(429, (req("GET", "/" .. PID .. "/departments")))
      assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
      fault{ path = "/departments$", action = { type = "status", status = 503, content_type = "text/plain",
        body = "Down for maintenance" } }
      local s2, _, h2, text = req("GET", "/" .. PID .. "/departments")
      assert.equal(503, s2)
      assert.matches("text/plain", h2["content-type"])
      assert.equal("Down for maintenance", text)
      fault{ path = "/departments$", method = "POST", action = { type = "status", status = 500 } }
      assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
      local s3, j3 = req("POST", "/" .. PID .. "/departments", { name = "x" }, basic("admin"))
      assert.equal(500, s3)
      assert.same({ err = "error" }, j3)
    end)

    it("truncates, sends non-JSON, oversizes and drops connections", function()
      fault{ path = "/departments$", action = { type = "truncate" } }
      local s, j, _, text = req("GET", "/" .. PID .. "/departments")
      assert.equal(200, s)
      assert.is_nil(j)
      assert.matches("^%[{", text)
      fault{ path = "/departments$", action = { type = "non_json" } }
      s, j, _, text = req("GET", "/" .. PID .. "/departments")
      assert.equal(200, s)
      assert.is_nil(j)
      assert.matches("<html>", text)
      fault{ path = "/departments$", action = { type = "oversize", bytes = 100000 } }
      s, _, _, text = req("GET", "/" .. PID .. "/departments")
      assert.equal(200, s)
      assert.equal(100000, #text)
      fault{ path = "/departments$", action = { type = "reset" } }
      local p = io.popen("curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 " .. B .. "/" .. PID
        .. "/departments; echo \" rc=$?\"")
      local out = p:read("*a")
      p:close()
      assert.matches("rc=18", out) -- curl: transfer closed with outstanding read data remaining
    end)

    it("delays, and hangs until the client gives up", function()
      fault{ path = "/departments$", action = { type = "hang", ms = 5000 } }
      local p = io.popen("curl -s -o /dev/null --max-time 1 " .. B .. "/" .. PID .. "/departments; echo rc=$?")
      local out = p:read("*a")
      p:close()
      assert.matches("rc=28", out) -- curl: operation timed out
      fault{ path = "/departments$", action = { type = "delay", ms = 50 } }
      assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
    end)

    it("holds calls at a barrier until n are waiting, then releases them all", function()
      local n = 4
      fault{ path = "/barrier%-test$", action = { type = "barrier", n = n } }
      local cmds = {}
      for i = 1, n do
        cmds[#cmds + 1] = string.format("(curl -s -o /dev/null -w '%%{http_code}\\n' --max-time 8 %s/__sandbox/barrier-test-%d >/dev/null; "
          .. "curl -s -o /dev/null -w '%%{http_code}\\n' --max-time 8 %s/%s/barrier-test) &", B, i, B, PID)
      end
      local p = io.popen("(" .. table.concat(cmds, " ") .. " wait) 2>&1")
      local out = p:read("*a")
      p:close()
      local codes = {}
      for code in out:gmatch("%d%d%d") do codes[#codes + 1] = code end
      assert.equal(n, #codes)
      for _, code in ipairs(codes) do assert.equal("404", code) end -- released, then the unknown route
      local _, log = req("GET", "/__sandbox/log")
      local held = 0
      for _, e in ipairs(log.entries) do if e.path:match("/barrier%-test$") then held = held + 1 end end
      assert.equal(n, held)
    end)

    it("logs every call with its connection, redacting credentials; reset clears it", function()
      req("DELETE", "/__sandbox/log")
      req("GET", "/" .. PID .. "/requests?limit=1", nil, basic("agent"))
      local _, log = req("GET", "/__sandbox/log")
      assert.equal(1, #log.entries)
      local e = log.entries[1]
      assert.equal("GET", e.method)
      assert.equal("/" .. PID .. "/requests", e.path)
      assert.equal("limit=1", e.query)
      assert.equal("Basic [redacted]", e.headers.authorization)
      assert.is_number(e.connection)
      assert.equal(200, e.status)
      local _, since = req("GET", "/__sandbox/log?since=" .. e.seq)
      assert.equal(0, #since.entries)
      req("POST", "/__sandbox/reset")
      local _, after = req("GET", "/__sandbox/log")
      assert.equal(0, #after.entries)
    end)

    it("rejects malformed faults", function()
      assert.equal(400, (req("POST", "/__sandbox/faults", { path = "x", action = { type = "explode" } })))
      assert.equal(400, (req("POST", "/__sandbox/faults", { action = { type = "status" } })))
      assert.equal(400, (req("POST", "/__sandbox/faults", { path = "[", action = { type = "status" } })))
    end)
  end)

  describe("state", function()
    it("describes URLs, CA files, the project and the seeded users", function()
      local _, s = req("GET", "/__sandbox/state")
      assert.equal(B, s.http_url)
      assert.matches("^https://localhost:%d+$", s.https_url)
      assert.truthy(helper.read_file(s.ca_file))
      assert.truthy(helper.read_file(s.other_ca_file))
      for _, role in ipairs({ "owner", "admin", "agent" }) do
        assert.is_string(s.users[role].password)
      end
      assert.equal(cjson.decode(helper.read_file((os.getenv("TD_SANDBOX_DIR") or (helper.root .. ".sandbox"))
        .. "/state.json")).project_id, s.project_id)
    end)
  end)
end)

describe("sandbox operating hours", function()
  local function admin() return helper.auth("admin") end
  local function set_hours(slot)
    local days = {}
    for d = 0, 6 do days[tostring(d)] = { slot } end
    days.tzname = "UTC"
    local status = helper.http_json("PUT", st.http_url .. "/projects/" .. PID,
      { activeOperatingHours = true, operatingHours = cjson.encode(days) }, admin())
    assert.equal(200, status)
  end
  after_each(function()
    helper.http_json("PUT", st.http_url .. "/projects/" .. PID, { activeOperatingHours = false }, admin())
  end)

  it("answers isopen from the hours, and lists no available agents when closed unless raw", function()
    set_hours({ start = "00:00", ["end"] = "24:00" })
    local _, j = helper.http_json("GET", st.http_url .. "/projects/" .. PID .. "/isopen")
    assert.same({ isopen = true }, j)
    local t = os.date("!*t")
    local now_min = t.hour * 60 + t.min
    set_hours(now_min < 600 and { start = "12:00", ["end"] = "13:00" } or { start = "01:00", ["end"] = "02:00" })
    _, j = helper.http_json("GET", st.http_url .. "/projects/" .. PID .. "/isopen")
    assert.same({ isopen = false }, j)
    local _, agents = helper.http_json("GET", st.http_url .. "/projects/" .. PID .. "/users/availables")
    assert.same({}, agents)
    local _, raw = helper.http_json("GET", st.http_url .. "/projects/" .. PID .. "/users/availables?raw=true")
    assert.is_true(#raw >= 2)
  end)
end)
