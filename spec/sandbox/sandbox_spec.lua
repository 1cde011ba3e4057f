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
      for i, h in ipairs(helper.nonempty(refused)) do
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
      helper.answers(403, helper.ROLE, req("GET", "/" .. PID .. "/requests", nil, h))
      local _, mine = req("GET", "/" .. PID .. "/requests/me", nil, h)
      assert.equal(1, mine.count)
      -- routes/auth.js: check('id_project').notEmpty() (express-validator 6)
      helper.answers(422, { errors = { { location = "body", msg = "Invalid value", param = "id_project" } } },
        req("POST", "/auth/signinAnonymously", {}))
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
      helper.answers(401, "Unauthorized", req("POST", "/auth/signinWithCustomToken", nil, { authorization = "JWT " .. expired }))
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
      for _, r in ipairs(helper.nonempty(p0b.requests)) do assert.is_true(r.status < 1000 and r.status ~= 50 and r.status ~= 150) end
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
      for _, r in ipairs(helper.nonempty(botdept.requests)) do assert.equal(st.bot._id, r.department.id_bot) end
      local some = all.requests[1]
      local email = some.lead.email
      if email then
        local _, byemail = req("GET", base .. "&snap_lead_email=" .. email, nil, h)
        for _, r in ipairs(helper.nonempty(byemail.requests)) do assert.equal(email, r.lead.email) end
      end
      local _, long = req("GET", base .. "&duration=5&duration_op=gt", nil, h)
      local _, short = req("GET", base .. "&duration=5&duration_op=lt", nil, h)
      assert.equal(all.count, long.count + short.count)
      assert.is_true(long.count > 0)
      for _, r in ipairs(helper.nonempty(long.requests)) do assert.is_true(r.duration > 5 * 60000) end
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
      -- routes/department.js PUT: update.id_bot = req.body.id_bot, undefined stored as null
      -- (mongoose 5 passes it to the driver, which writes undefined as null)
      local _, u = req("PUT", "/" .. PID .. "/departments/" .. d._id, { name = "No bot now" }, h)
      assert.equal(require("cjson").null, u.id_bot)
      assert.is_false(u.hasBot)
    end)
  end)

  describe("control path", function()
    local socket = require("socket")

    local function fault(body)
      local s, j = req("POST", "/__sandbox/faults", body)
      assert.equal(200, s)
      return j
    end

    local function log_entries(query)
      local s, j = req("GET", "/__sandbox/log" .. (query and ("?" .. query) or ""))
      assert.equal(200, s)
      return j.entries, j.last_seq
    end

    -- The newest log entry whose raw query is q.
    local function entry_for(q)
      local found
      for _, e in ipairs((log_entries())) do if e.query == q then found = e end end
      return found
    end

    local function sh(cmd)
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      return out
    end

    -- curl's exit code (and what it printed with -w) for one call
    local function curl(args)
      return sh("curl -s -o /dev/null " .. args .. " 2>/dev/null; echo \" rc=$?\"")
    end

    local DEPTS = B .. "/" .. PID .. "/departments"

    describe("statuses", function()
      it("answers 429 with and without Retry-After", function()
        fault{ path = "/departments$", action = { type = "status", status = 429, retry_after = 3 } }
        local s, j, h = req("GET", "/" .. PID .. "/departments")
        assert.equal(429, s)
        assert.same({ message = "Rate limit exceeded" }, j)
        assert.equal("3", h["retry-after"])
        fault{ path = "/departments$", action = { type = "status", status = 429 } }
        s, j, h = req("GET", "/" .. PID .. "/departments")
        assert.equal(429, s)
        assert.same({ message = "Rate limit exceeded" }, j)
        assert.is_nil(h["retry-after"])
      end)

      it("answers 500 {err}, a proxy's HTML 502 and 504, and the server's JSON 503", function()
        fault{ path = "/departments$", action = { type = "status", status = 500 } }
        local s, j, h = req("GET", "/" .. PID .. "/departments")
        assert.equal(500, s)
        assert.same({ err = "error" }, j)
        assert.matches("^application/json", h["content-type"])
        for _, code in ipairs({ 502, 504 }) do
          fault{ path = "/departments$", action = { type = "status", status = code } }
          local s2, j2, h2, text = req("GET", "/" .. PID .. "/departments")
          assert.equal(code, s2)
          assert.is_nil(j2)
          assert.matches("^text/html", h2["content-type"])
          assert.matches("<h1>" .. code .. " ", text, 1, true)
        end
        fault{ path = "/departments$", action = { type = "status", status = 503 } }
        s, j = req("GET", "/" .. PID .. "/departments")
        assert.equal(503, s)
        assert.same({ success = false, msg = "Service Unavailable" }, j)
      end)

      it("makes the default body follow content_type, and keeps a given body", function()
        fault{ path = "/departments$", action = { type = "status", status = 503, content_type = "text/plain" } }
        local s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(503, s)
        assert.is_nil(j)
        assert.equal("text/plain", h["content-type"])
        assert.equal("503 Service Unavailable\n", text)
        fault{ path = "/departments$", action = { type = "status", status = 429, content_type = "text/html" } }
        s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(429, s)
        assert.is_nil(j)
        assert.equal("text/html", h["content-type"])
        assert.matches("<h1>429 Too Many Requests</h1>", text, 1, true)
        fault{ path = "/departments$", action = { type = "status", status = 503, content_type = "text/plain",
          body = "Down for maintenance" } }
        s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(503, s)
        assert.is_nil(j)
        assert.equal("text/plain", h["content-type"])
        assert.equal("Down for maintenance", text)
        fault{ path = "/departments$", action = { type = "status", status = 418, body = { teapot = true } } }
        s, j = req("GET", "/" .. PID .. "/departments")
        assert.equal(418, s)
        assert.same({ teapot = true }, j)
      end)

      it("has a text/plain 503 maintenance page preset", function()
        fault{ path = "/departments$", action = { type = "maintenance" } }
        local s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(503, s)
        assert.is_nil(j)
        assert.matches("^text/plain", h["content-type"])
        assert.matches("maintenance", text)
        assert.is_nil(h["retry-after"])
        fault{ path = "/departments$", action = { type = "status", status = 503, preset = "maintenance", retry_after = 120 } }
        local s2, _, h2, text2 = req("GET", "/" .. PID .. "/departments")
        assert.equal(503, s2)
        assert.equal(text, text2)
        assert.equal("120", h2["retry-after"])
        assert.equal(400, (req("POST", "/__sandbox/faults",
          { path = "x", action = { type = "status", preset = "nonsense" } })))
      end)
    end)

    describe("matching", function()
      it("applies a fault exactly `count` times, then stops", function()
        local f = fault{ path = "/departments$", count = 3, action = { type = "status", status = 503 } }
        for i = 1, 3 do
          assert.equal(503, (req("GET", "/" .. PID .. "/departments")), "call " .. i)
          local _, list = req("GET", "/__sandbox/faults")
          if i < 3 then
            assert.equal(f.id, list[1].id)
            assert.equal(3 - i, list[1].count)
          else
            assert.equal(0, #list)
          end
        end
        for _ = 1, 2 do assert.equal(200, (req("GET", "/" .. PID .. "/departments"))) end
      end)

      it("matches the Lua pattern against the path without its /vN prefix, and the method", function()
        fault{ path = "^/%x+/leads$", method = "post", count = 2, action = { type = "status", status = 502 } }
        assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
        assert.equal(200, (req("GET", "/" .. PID .. "/leads", nil, basic("agent"))))
        assert.equal(502, (req("POST", "/v3/" .. PID .. "/leads", { fullname = "x" }, basic("agent"))))
        assert.equal(502, (req("POST", "/" .. PID .. "/leads", { fullname = "x" }, basic("agent"))))
        assert.equal(200, (req("POST", "/" .. PID .. "/leads", { fullname = "x" }, basic("agent"))))
        -- the first matching fault wins; the others wait their turn
        fault{ path = "/departments$", action = { type = "status", status = 502 } }
        fault{ path = "/departments$", action = { type = "status", status = 504 } }
        assert.equal(502, (req("GET", "/" .. PID .. "/departments")))
        assert.equal(504, (req("GET", "/" .. PID .. "/departments")))
        assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
      end)

      it("rejects malformed faults", function()
        helper.answers(400, { error = "unknown fault type explode" },
        req("POST", "/__sandbox/faults", { path = "x", action = { type = "explode" } }))
        helper.answers(400, { error = "need {path = <lua pattern>, action = {type = ...}, count?, method?}" },
        req("POST", "/__sandbox/faults", { action = { type = "status" } }))
        helper.answers(400, { error = "bad Lua pattern" }, req("POST", "/__sandbox/faults", { path = "[", action = { type = "status" } }))
        helper.answers(400, { error = "count must be at least 1" },
        req("POST", "/__sandbox/faults", { path = "x", count = 0, action = { type = "status" } }))
      end)
    end)

    describe("bodies", function()
      it("truncates the real JSON answer to half, with a matching Content-Length", function()
        fault{ path = "/departments$", action = { type = "truncate" } }
        local s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(200, s)
        assert.is_nil(j)
        assert.matches("^%[{", text)
        assert.equal(tostring(#text), h["content-length"])
        local _, full = req("GET", "/" .. PID .. "/departments")
        assert.equal(math.floor(#cjson.encode(full) / 2), #text)
      end)

      it("truncates the 500 of a handler that raises, and logs its status", function()
        -- without a fault the raising handler gives the server's 500
        local s, j = req("GET", "/" .. PID .. "/__sandbox/raise")
        assert.equal(500, s)
        assert.same({ err = "error" }, j)
        fault{ path = "/__sandbox/raise$", action = { type = "truncate" } }
        local s2, j2, h2, text = req("GET", "/" .. PID .. "/__sandbox/raise?t=1")
        assert.equal(500, s2)
        assert.is_nil(j2)
        assert.matches("^application/json", h2["content-type"])
        assert.equal(string.sub('{"err":"error"}', 1, 7), text)
        local e = entry_for("t=1")
        assert.equal(500, e.status)
        assert.equal("truncate", e.fault.type)
      end)

      it("sends a non-JSON 200 and oversized bodies of the exact size", function()
        fault{ path = "/departments$", action = { type = "non_json" } }
        local s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(200, s)
        assert.is_nil(j)
        assert.matches("^text/html", h["content-type"])
        assert.matches("<html>", text)
        fault{ path = "/departments$", action = { type = "oversize", bytes = 100000 } }
        s, j, h, text = req("GET", "/" .. PID .. "/departments")
        assert.equal(200, s)
        assert.equal(100000, #text)
        assert.equal("100000", h["content-length"])
        assert.equal(100000 - 11, #j.data)
        local out = curl("-w '%{http_code} %{size_download}' " .. B .. "/__sandbox/bytes?n=3000001")
        assert.matches("^200 3000001 rc=0", out)
      end)

      it("streams big bodies without building them in the worker's memory", function()
        local function worker_hwm_kb()
          local _, state = req("GET", "/__sandbox/state")
          local pids = sh(string.format("ps -o pid= --ppid %d", state.pid))
          local total = 0
          for pid in pids:gmatch("%d+") do
            local status = helper.read_file("/proc/" .. pid .. "/status") or ""
            total = total + (tonumber(status:match("VmHWM:%s*(%d+)")) or 0)
          end
          return total
        end
        local before = worker_hwm_kb()
        assert.is_true(before > 0, "no nginx worker found")
        local n = 160 * 1048576
        fault{ path = "/departments$", action = { type = "oversize", bytes = n } }
        assert.matches("^200 " .. n .. " rc=0", curl("-w '%{http_code} %{size_download}' --max-time 300 " .. DEPTS))
        assert.matches("^200 " .. n .. " rc=0", curl("-w '%{http_code} %{size_download}' --max-time 300 "
          .. B .. "/__sandbox/bytes?n=" .. n))
        -- one string of that size (and its copy in the output chain) would raise the peak by 160 MB or more
        assert.is_true(worker_hwm_kb() - before < 64 * 1024, "the worker's peak memory grew by a body's size")
      end)
    end)

    describe("time and connections", function()
      it("delays by at least the given time, then answers normally", function()
        fault{ path = "/departments$", action = { type = "delay", ms = 300 } }
        local t0 = socket.gettime()
        assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
        assert.is_true(socket.gettime() - t0 >= 0.3)
      end)

      it("hangs without answering until the client gives up, and closes without an answer at the cap", function()
        fault{ path = "/departments$", action = { type = "hang", ms = 5000 } }
        assert.matches("rc=28", curl("--max-time 1 '" .. DEPTS .. "?hang=1'")) -- curl: operation timed out
        fault{ path = "/departments$", action = { type = "hang", ms = 200 } }
        local t0 = socket.gettime()
        assert.matches("rc=52", curl("--max-time 30 '" .. DEPTS .. "?hang=2'")) -- curl: empty reply from server
        assert.is_true(socket.gettime() - t0 >= 0.2)
        local e = entry_for("hang=2")
        assert.equal(444, e.status)
        assert.equal("hang", e.fault.type)
      end)

      it("resets the connection mid-body with a TCP RST, or drops it with a FIN", function()
        fault{ path = "/departments$", action = { type = "reset" } }
        local out = curl("-w '%{http_code} %{size_download}' --max-time 10 '" .. DEPTS .. "?cut=rst'")
        assert.matches("^200 %d+ rc=56", out) -- curl: recv failure, connection reset by peer
        assert.is_true(tonumber(out:match("^200 (%d+)")) > 0)
        assert.equal("rst", entry_for("cut=rst").fault.closed_with)
        fault{ path = "/departments$", action = { type = "drop" } }
        out = curl("-w '%{http_code} %{size_download}' --max-time 10 '" .. DEPTS .. "?cut=fin'")
        assert.matches("^200 %d+ rc=18", out) -- curl: transfer closed with outstanding read data remaining
        assert.equal("fin", entry_for("cut=fin").fault.closed_with)
        assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
      end)
    end)

    describe("barrier", function()
      local tmp
      before_each(function()
        tmp = os.tmpname()
        os.remove(tmp)
        assert(os.execute("mkdir -p '" .. tmp .. "'"))
      end)
      after_each(function()
        os.execute("rm -rf '" .. tmp .. "'")
      end)

      -- One curl in the background: its headers go to <tag>.hdr, its exit code to <tag>.done.
      local function spawn(tag)
        local c = { tag = tag, hdr = tmp .. "/" .. tag .. ".hdr", done = tmp .. "/" .. tag .. ".done" }
        assert(os.execute(string.format("(curl -s -D '%s' -o /dev/null --max-time 60 '%s?c=%s'; echo $? > '%s.tmp'; "
          .. "mv '%s.tmp' '%s') >/dev/null 2>&1 &", c.hdr, DEPTS, tag, c.done, c.done, c.done)))
        return c
      end
      local function done(c) return helper.read_file(c.done) ~= nil end
      -- Polls the log until the call tagged `tag` has arrived (bounded: 800 x 25 ms).
      local function arrived(tag)
        for _ = 1, 800 do
          if entry_for("c=" .. tag) then return true end
          socket.sleep(0.025)
        end
        error("call " .. tag .. " never reached the sandbox")
      end
      local function finish(c)
        for _ = 1, 2400 do
          if done(c) then break end
          socket.sleep(0.025)
        end
        assert.is_true(done(c), "call " .. c.tag .. " never finished")
        local h = {}
        local text = helper.read_file(c.hdr) or ""
        c.status = tonumber(text:match("^HTTP/%S+ (%d+)"))
        for k, v in text:gmatch("\n([%w-]+):%s*([^\r\n]*)") do h[k:lower()] = v end
        c.headers, c.seq = h, tonumber(h["x-sandbox-request"])
        return c
      end

      it("holds each wave of n calls until the n-th arrives, then releases the whole wave", function()
        fault{ path = "/departments$", count = 6, action = { type = "barrier", n = 3, timeout_ms = 30000 } }
        for wave = 1, 2 do
          local calls = {}
          for k = 1, 3 do
            -- the calls before the n-th are all still held, each one after it has arrived
            for i = 1, k - 1 do assert.is_false(done(calls[i]), calls[i].tag .. " was not held") end
            local tag = "w" .. wave .. "-" .. k
            calls[k] = spawn(tag)
            arrived(tag)
          end
          for k = 1, 3 do finish(calls[k]) end
          for k = 1, 3 do
            local c = calls[k]
            assert.equal(200, c.status)
            assert.equal("released", c.headers["x-sandbox-barrier"])
            assert.equal(tostring(wave), c.headers["x-sandbox-barrier-wave"])
            -- released when the log already held the third call: none left before it was sent
            assert.is_true(tonumber(c.headers["x-sandbox-log-seq"]) >= calls[3].seq, c.tag)
          end
          local e = entry_for("c=w" .. wave .. "-1")
          assert.same({ wave = wave, position = 1, outcome = "released", log_seq = calls[3].seq }, e.barrier)
        end
        -- six calls used the fault up: the seventh is not held
        local _, list = req("GET", "/__sandbox/faults")
        assert.equal(0, #list)
        local s, _, h = req("GET", "/" .. PID .. "/departments")
        assert.equal(200, s)
        assert.is_nil(h["x-sandbox-barrier"])
      end)

      it("gives up on a wave that does not fill in time with a 504 for each held call", function()
        fault{ path = "/departments$", count = 2, action = { type = "barrier", n = 3, timeout_ms = 300 } }
        local c1 = spawn("t1")
        arrived("t1")
        local c2 = spawn("t2")
        finish(c1)
        finish(c2)
        for _, c in ipairs({ c1, c2 }) do
          assert.equal(504, c.status)
          assert.equal("timeout", c.headers["x-sandbox-barrier"])
          local e = entry_for("c=" .. c.tag)
          assert.equal(504, e.status)
          assert.equal("timeout", e.barrier.outcome)
        end
        assert.equal(200, (req("GET", "/" .. PID .. "/departments")))
      end)
    end)

    describe("request log", function()
      before_each(function() req("DELETE", "/__sandbox/log") end)

      -- A plain HTTP/1.1 connection to the sandbox, and a GET on it read to the end of its body.
      local function keep_alive()
        local c = assert(socket.connect("127.0.0.1", tonumber(B:match(":(%d+)$"))))
        c:settimeout(10)
        return c
      end
      local function get_on(c, path)
        assert(c:send("GET " .. path .. " HTTP/1.1\r\nHost: sandbox\r\n\r\n"))
        local len
        for _ = 1, 100 do
          local line = assert(c:receive("*l"))
          if line == "" then break end
          len = len or tonumber(line:lower():match("^content%-length:%s*(%d+)"))
        end
        assert(c:receive(len))
      end

      it("logs every call with a growing seq, the raw URI and the path; limit and since select", function()
        req("GET", "/" .. PID .. "/requests?limit=1", nil, basic("agent"))
        req("GET", "/v3/" .. PID .. "/departments?x=1")
        req("POST", "/v1/" .. PID .. "/leads", { fullname = "Logged" }, basic("agent"))
        local all = log_entries()
        assert.equal(3, #all)
        local e = all[1]
        assert.equal("GET", e.method)
        assert.equal("/" .. PID .. "/requests", e.path)
        assert.equal("/" .. PID .. "/requests?limit=1", e.uri)
        assert.equal("limit=1", e.query)
        assert.equal("Basic [redacted]", e.headers.authorization)
        assert.is_number(e.connection)
        assert.equal(200, e.status)
        assert.equal("/v3/" .. PID .. "/departments?x=1", all[2].uri)
        assert.equal("/" .. PID .. "/departments", all[2].path)
        assert.equal('{"fullname":"Logged"}', all[3].body)
        assert.is_true(all[1].seq < all[2].seq and all[2].seq < all[3].seq)
        local newest = log_entries("limit=2")
        assert.equal(2, #newest)
        assert.equal(all[2].seq, newest[1].seq)
        assert.equal(all[3].seq, newest[2].seq)
        local since, last = log_entries("since=" .. all[1].seq)
        assert.equal(2, #since)
        assert.equal(all[3].seq, last)
        assert.equal(0, #log_entries("since=" .. all[3].seq))
        local both = log_entries("since=" .. all[1].seq .. "&limit=1")
        assert.equal(1, #both)
        assert.equal(all[3].seq, both[1].seq)
        req("POST", "/__sandbox/reset")
        assert.equal(0, #log_entries())
      end)

      it("redacts passwords in bodies, credentials after the scheme word, and cookie values", function()
        local u = st.users.agent
        req("POST", "/auth/signin", { email = u.email, password = u.password })
        helper.http("POST", B .. "/v2/auth/signin", "email=" .. u.email .. "&password=" .. u.password,
          { ["content-type"] = "application/x-www-form-urlencoded" })
        req("PUT", "/users/changepassword", { oldpassword = u.password, newpassword = "nope" },
          { authorization = "JWT aaa.bbb.ccc" })
        req("GET", "/" .. PID .. "/departments", nil, { cookie = "sid=s3cret; theme=dark" })
        local all = log_entries()
        assert.equal(4, #all)
        for _, e in ipairs(all) do
          assert.is_nil(cjson.encode(e):find(u.password, 1, true))
        end
        assert.same({ email = u.email, password = "[redacted]" }, cjson.decode(all[1].body))
        assert.equal("email=" .. u.email .. "&password=[redacted]", all[2].body)
        assert.equal("/v2/auth/signin", all[2].uri)
        assert.equal("/auth/signin", all[2].path)
        assert.same({ oldpassword = "[redacted]", newpassword = "[redacted]" }, cjson.decode(all[3].body))
        assert.equal("JWT [redacted]", all[3].headers.authorization)
        assert.equal("sid=[redacted]; theme=[redacted]", all[4].headers.cookie)
      end)

      it("keeps at most 64 KiB of a body and notes the original length", function()
        local big = cjson.encode({ fullname = "Big", attributes = { blob = string.rep("y", 100000) } })
        req("POST", "/" .. PID .. "/leads", big, basic("agent"))
        local e = log_entries()[1]
        assert.equal(65536, #e.body)
        assert.equal(big:sub(1, 65536), e.body)
        assert.is_true(e.body_truncated)
        assert.equal(#big, e.body_length)
      end)

      it("keeps the newest 2000 calls once more came, in seq order, and since and limit select among them", function()
        local total = 2000 + 7
        local c = keep_alive()
        for i = 1, total do get_on(c, "/nothing?k=" .. i) end
        c:close()
        local all, last = log_entries()
        assert.equal(2000, #all)
        assert.equal("/nothing?k=8", all[1].uri)
        assert.equal("/nothing?k=" .. total, all[2000].uri)
        assert.equal(all[2000].seq, last)
        for i = 2, #all do assert.equal(all[i - 1].seq + 1, all[i].seq) end
        local since = log_entries("since=" .. all[1500].seq)
        assert.equal(500, #since)
        assert.equal(all[1501].seq, since[1].seq)
        local newest = log_entries("limit=3")
        assert.same({ all[1998].seq, all[1999].seq, all[2000].seq }, { newest[1].seq, newest[2].seq, newest[3].seq })
      end)

      it("gives calls on one keep-alive connection one connection id, and other connections others", function()
        local function two_on_one(tag)
          local c = keep_alive()
          for i = 1, 2 do get_on(c, "/" .. PID .. "/departments?k=" .. tag .. i) end
          c:close()
        end
        two_on_one("a")
        two_on_one("b")
        local a1, a2 = entry_for("k=a1"), entry_for("k=a2")
        local b1, b2 = entry_for("k=b1"), entry_for("k=b2")
        assert.equal(a1.connection, a2.connection)
        assert.equal(b1.connection, b2.connection)
        assert.are_not.equal(a1.connection, b1.connection)
      end)
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

describe("sandbox script", function()
  local socket = require("socket")
  local script = helper.root .. "sandbox/bin/sandbox"

  local function sh(cmd)
    local p = assert(io.popen(cmd .. " 2>&1; echo \"rc=$?\""))
    local out = p:read("*a")
    p:close()
    return out, tonumber(out:match("rc=(%d+)%s*$"))
  end

  local function free_port_pair()
    local first = 19600 + (os.time() % 50) * 2
    for i = 0, 49 do
      local p = 19600 + (first - 19600 + i * 2) % 100
      local a, b = socket.bind("127.0.0.1", p), socket.bind("127.0.0.1", p + 1)
      if a then a:close() end
      if b then b:close() end
      if a and b then return p end
    end
    error("no free port pair in 19600-19699")
  end

  local function exists(path) return os.execute("test -e '" .. path .. "'") == true end

  it("starts, reports, stops; status makes no directory; a stale pid file names nothing it kills", function()
    local tmp = os.tmpname()
    os.remove(tmp)
    local dir = tmp .. "/runtime"
    local port = free_port_pair()
    local function run(args) return sh("TD_SANDBOX_DIR='" .. dir .. "' '" .. script .. "' " .. args) end
    local sleeper
    finally(function()
      run("stop")
      if sleeper then os.execute("kill " .. sleeper .. " 2>/dev/null") end
      os.execute("rm -rf '" .. tmp .. "'")
    end)

    local out, rc = run("status")
    assert.equal(1, rc, out)
    assert.matches("not running", out)
    assert.is_false(exists(tmp), "status made " .. tmp)
    out, rc = run("stop")
    assert.equal(0, rc, out)
    assert.is_false(exists(tmp), "stop made " .. tmp)

    -- the CA and certificates of the sandbox these specs run against (made once per run by
    -- ./dev test): a start with them in place makes no key
    local tls = st.ca_file:match("^(.*)/ca%.pem$")
    assert(os.execute("mkdir -p '" .. dir .. "/tls' && cp -p '" .. tls .. "'/*.pem '" .. tls .. "'/*.key '" .. dir .. "/tls/'"))
    out, rc = run("start " .. port)
    assert.equal(0, rc, out)
    assert.is_nil(out:find("new server certificate", 1, true), out)
    assert.equal(helper.read_file(st.ca_file), helper.read_file(dir .. "/tls/ca.pem"))
    local state = cjson.decode(helper.read_file(dir .. "/state.json"))
    assert.equal("http://127.0.0.1:" .. port, state.http_url)
    -- the certificate names 127.0.0.1 too: both https URLs verify with the sandbox's CA
    local san = sh("openssl x509 -in '" .. dir .. "/tls/server.pem' -noout -ext subjectAltName")
    assert.matches("DNS:localhost", san)
    assert.matches("IP Address:127.0.0.1", san, 1, true)
    for _, host in ipairs({ "localhost", "127.0.0.1" }) do
      out = sh("curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert '" .. state.ca_file .. "' https://"
        .. host .. ":" .. (port + 1) .. "/__sandbox/echo")
      assert.matches("^200rc=0", out)
    end
    out, rc = run("status")
    assert.equal(0, rc, out)
    assert.matches("running %(pid " .. math.floor(state.pid) .. "%)", out)
    out, rc = run("stop")
    assert.equal(0, rc, out)
    assert.matches("stopped", out)
    assert.is_false(exists(dir .. "/nginx.pid"))

    -- a pid file naming a live process that is not this sandbox's nginx: never killed
    local p = assert(io.popen("sleep 60 >/dev/null 2>&1 & echo $!"))
    sleeper = p:read("*l")
    p:close()
    local other_nginx = math.floor(st.pid) -- the sandbox these specs run against
    for _, pid in ipairs({ sleeper, tostring(other_nginx) }) do
      local f = assert(io.open(dir .. "/nginx.pid", "w"))
      f:write(pid, "\n")
      f:close()
      out, rc = run("status")
      assert.equal(1, rc, out)
      assert.matches("stale pid file", out)
      f = assert(io.open(dir .. "/nginx.pid", "w"))
      f:write(pid, "\n")
      f:close()
      out, rc = run("stop")
      assert.equal(0, rc, out)
      assert.matches("stale pid file", out)
      assert.is_false(exists(dir .. "/nginx.pid"))
      assert.is_true(os.execute("kill -0 " .. pid) == true, "pid " .. pid .. " was killed")
    end
    assert.equal(200, (helper.http("GET", st.http_url .. "/__sandbox/echo")))

    -- a server certificate from before IP:127.0.0.1 is issued again from the same CA
    local ca = helper.read_file(dir .. "/tls/ca.pem")
    assert(os.execute("cd '" .. dir .. "/tls' && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      .. "-nodes -subj /CN=localhost "
      .. "-keyout server.key -out old.csr 2>/dev/null && printf 'subjectAltName=DNS:localhost\\n' > old.ext && "
      .. "openssl x509 -req -in old.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile old.ext "
      .. "-out server.pem 2>/dev/null && rm -f old.csr old.ext ca.srl"))
    assert.is_nil(sh("openssl x509 -in '" .. dir .. "/tls/server.pem' -noout -ext subjectAltName"):find("IP Address"))
    out, rc = run("start " .. port)
    assert.equal(0, rc, out)
    assert.matches("new server certificate", out)
    assert.equal(ca, helper.read_file(dir .. "/tls/ca.pem"))
    assert.matches("IP Address:127.0.0.1",
      sh("openssl x509 -in '" .. dir .. "/tls/server.pem' -noout -ext subjectAltName"), 1, true)
    out = sh("curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert '" .. dir .. "/tls/ca.pem' https://127.0.0.1:"
      .. (port + 1) .. "/__sandbox/echo")
    assert.matches("^200rc=0", out)
    out, rc = run("stop")
    assert.equal(0, rc, out)
  end)
end)
