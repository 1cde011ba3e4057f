-- The SDK inside a real nginx (Debian nginx + ngx_lua, LuaJIT), against the sandbox: the handlers
-- of spec/support/nginx_app.lua run the calls, this file checks what they answer and what the
-- sandbox saw. One nginx worker.
local helper = require("spec.helper")
local nginx = require("spec.support.nginx")
local routes = require("tiledesk.routes")

local st = helper.sandbox()
local PID = st.project_id
local OWNER = st.users.owner

local inst

local APP = "require('spec.support.nginx_app')"
local function server_extras()
  return table.concat({
    "    lua_ssl_trusted_certificate " .. st.ca_file .. ";",
    "    location /other-ca/ { lua_ssl_trusted_certificate " .. st.other_ca_file .. "; content_by_lua_block { "
      .. APP .. ".handle() } }",
    "    location /dead-dns/ { resolver 127.0.0.1:" .. (nginx.base_port() + 98) .. " ipv6=off; resolver_timeout 300ms; "
      .. "content_by_lua_block { " .. APP .. ".handle() } }",
    "    location = /phase/log { content_by_lua_block { ngx.say('ok') } log_by_lua_block { " .. APP
      .. ".forbidden_call('log') } }",
    "    location = /phase/header_filter { content_by_lua_block { ngx.say('ok') } header_filter_by_lua_block { "
      .. APP .. ".forbidden_call('header_filter') } }",
    "    location = /phase/body_filter { content_by_lua_block { ngx.say('ok') } body_filter_by_lua_block { "
      .. "if ngx.arg[2] then " .. APP .. ".forbidden_call('body_filter') end } }",
    "    location = /phase/set { set_by_lua_block $r { " .. APP .. ".forbidden_call('set') return 'x' } "
      .. "content_by_lua_block { ngx.say('ok') } }",
  }, "\n")
end

local control = helper.control

local fault = helper.fault

local function post(path, body)
  local status, json, _, text = nginx.call(inst, "POST", path, body)
  assert.equal(200, status, tostring(text) .. inst.error_log())
  return json
end

local function call(body, path)
  return post(path or "/call", body).results
end

local function log_entries(pattern, method)
  local out = {}
  for _, e in ipairs(control("GET", "/log?limit=2000").entries) do
    if e.path:find(pattern) and (not method or e.method == method) then out[#out + 1] = e end
  end
  return out
end

setup(function()
  inst = nginx.start{ name = "sdk", offset = 1,
    http = "  lua_shared_dict spec_results 1m;\n  init_worker_by_lua_block { " .. APP
      .. ".forbidden_call('init_worker') }",
    server = server_extras() }
  -- the init_worker phase's call and its timer run as the worker starts: let them finish first
  for _ = 1, 200 do
    local _, json = nginx.call(inst, "GET", "/results?key=init_worker%2Btimer")
    if json and json.value then break end
    require("socket").sleep(0.05)
  end
end)

teardown(function()
  if inst then inst.stop() end
end)

before_each(function()
  control("DELETE", "/faults")
end)

describe("the SDK inside nginx", function()
  it("signs in with email and password and lists conversations, over cosockets", function()
    local r = post("/signin", {})
    assert.equal(OWNER.email, r.email)
    assert.equal("jwt", r.auth_kind)
    assert.equal(5, r.listed)
    assert.matches("tiledesk.transport.ngx", r.transport, 1, true)
    assert.is_false(r.core_loaded)
    assert.is_nil(r.client:find(OWNER.password, 1, true))
  end)

  it("never loads tiledesk.core", function()
    post("/signin", {})
    local status, json = nginx.call(inst, "GET", "/loaded")
    assert.equal(200, status)
    assert.is_false(json.core)
    local names = table.concat(json.loaded, " ")
    assert.matches("tiledesk.transport.ngx", names, 1, true)
    assert.is_nil(names:find("tiledesk.core", 1, true))
    assert.is_nil(names:find("tiledesk.transport.curl", 1, true))
  end)

  it("makes a call of every area of the route table", function()
    local r = post("/areas", {})
    assert.is_true(#routes.resources > 20)
    assert.equal(#routes.resources, r.count)
    for _, name in ipairs(routes.resources) do
      assert.equal("ok", r.areas[name], name)
    end
  end)

  it("walks every page of the conversations", function()
    local r = post("/pages", {})
    assert.is_true(r.total > 50, "the seed has more than two pages of 25")
    assert.equal(r.total, r.items)
    assert.equal(r.total, r.distinct)
    local pages = math.ceil(r.total / 25)
    assert.is_true(r.gets == pages or r.gets == pages + 1, "GETs: " .. r.gets .. " for " .. pages .. " pages")
  end)

  it("reuses one keepalive connection within a handler and across handlers", function()
    local a = call{ times = 3 }
    local b = call{ times = 1 }
    assert.equal(3, #a)
    for i = 1, 3 do assert.equal(200, a[i].status) end
    assert.is_string(a[1].connection)
    assert.equal(a[1].connection, a[2].connection)
    assert.equal(a[1].connection, a[3].connection)
    assert.equal(a[1].connection, b[1].connection)
  end)

  describe("TLS", function()
    it("verifies the sandbox certificate with the CA of lua_ssl_trusted_certificate", function()
      local r = call{ opts = { base_url = st.https_url }, times = 2 }
      assert.equal(200, r[1].status, r[1].msg)
      assert.equal(200, r[2].status)
      assert.equal(r[1].connection, r[2].connection)
    end)

    it("refuses a certificate of another CA", function()
      -- warm the default pool with a verified connection first: the other location must not take it
      local warm = call{ opts = { base_url = st.https_url } }
      assert.equal(200, warm[1].status, warm[1].msg)
      local r = call({ opts = { base_url = st.https_url }, transport = { pool = "other-ca" } }, "/other-ca/call")
      assert.is_true(r[1].failed, "status " .. tostring(r[1].status))
      assert.equal("tls", r[1].err.kind, r[1].msg)
      assert.matches("lua_ssl_trusted_certificate", r[1].msg, 1, true)
    end)

    it("refuses a certificate of the right CA for another host name", function()
      local r = call{ opts = { base_url = st.wrong_host_url } }
      assert.is_true(r[1].failed, "status " .. tostring(r[1].status))
      assert.equal("tls", r[1].err.kind, r[1].msg)
    end)

    it("connects without verification only when ssl_verify = false is asked for", function()
      local r = call({ opts = { base_url = st.https_url }, transport = { ssl_verify = false, pool = "other-ca" } },
        "/other-ca/call")
      assert.equal(200, r[1].status, r[1].msg)
    end)
  end)

  describe("every error kind of the curl transport", function()
    it("timeout", function()
      fault("^/" .. PID .. "/tags$", { type = "hang", ms = 3000 })
      local r = call{ opts = { timeout = 300, retries = 0 } }
      assert.equal("timeout", r[1].err.kind, r[1].msg)
      assert.matches("^GET /tags: GET http://127%.0%.0%.1:%d+/" .. PID .. "/tags: timeout", r[1].msg)
    end)

    it("connect", function()
      local r = call{ opts = { base_url = "http://127.0.0.1:" .. (nginx.base_port() + 99), retries = 0 } }
      assert.equal("connect", r[1].err.kind, r[1].msg)
      assert.matches("connection refused", r[1].msg, 1, true)
    end)

    it("resolve, explaining the resolver directive", function()
      local r = call{ opts = { base_url = "http://tiledesk-sandbox.invalid", retries = 0, allow_insecure_http = true } }
      assert.equal("resolve", r[1].err.kind, r[1].msg)
      assert.matches("`resolver` directive", r[1].msg, 1, true)
    end)

    it("resolve, when the resolver does not answer", function()
      local r = call({ opts = { base_url = "http://tiledesk-sandbox.invalid", retries = 0, allow_insecure_http = true } }, "/dead-dns/call")
      assert.equal("resolve", r[1].err.kind, r[1].msg)
      assert.matches("could not be resolved", r[1].msg, 1, true)
    end)

    it("transport (a connection reset in the middle of the body)", function()
      fault("^/" .. PID .. "/tags$", { type = "reset" })
      local r = call{ opts = { retries = 0 } }
      assert.equal("transport", r[1].err.kind, r[1].msg)
    end)

    it("too_large (max_body_size)", function()
      fault("^/" .. PID .. "/tags$", { type = "oversize", bytes = 200000 })
      local r = call{ opts = { max_body_size = 10000 } }
      assert.equal("too_large", r[1].err.kind, r[1].msg)
      assert.matches("max_body_size 10000", r[1].msg, 1, true)
    end)

    it("http and decode come from the client as in scripts", function()
      local r = call{ mode = "call", requests = { { method = "GET", path = "/requests/support-group-none" } } }
      assert.equal("not_found", r[1].err.kind)
      assert.equal(404, r[1].err.status)
      fault("^/" .. PID .. "/tags$", { type = "non_json" })
      r = call{ mode = "call", requests = { { method = "GET", path = "/tags" } } }
      assert.equal("decode", r[1].err.kind, r[1].msg)
    end)

    it("chunked and content-length bodies are read whole", function()
      local r = call{ requests = {
        { method = "GET", path = "/__sandbox/bytes", project = false, query = { n = 70000, chunked = 1 } },
        { method = "GET", path = "/__sandbox/bytes", project = false, query = { n = 70001 } } } }
      assert.equal(200, r[1].status, r[1].msg)
      assert.equal("chunked", r[1].chunked)
      assert.equal(70000, r[1].length)
      assert.equal(70001, r[2].length)
      assert.equal(r[1].connection, r[2].connection)
    end)
  end)

  describe("does not block the worker", function()
    -- n handler requests at once (curl processes), each making one SDK call; returns their answers
    local function concurrent(n, body)
      local p = io.popen("mktemp -d")
      local dir = p:read("*l")
      p:close()
      helper.write_file(dir .. "/body.json", require("cjson").encode(body))
      local cmd = "cd " .. dir .. " && for i in $(seq " .. n .. "); do curl -s -m 30 -o out$i -H 'Content-Type: application/json'"
        .. " --data-binary @body.json " .. inst.url .. "/call & done; wait"
      assert(os.execute(cmd))
      local out = {}
      for i = 1, n do
        local text = helper.read_file(dir .. "/out" .. i)
        out[i] = text and require("cjson.safe").decode(text)
      end
      os.execute("rm -rf " .. dir)
      return out
    end

    it("N handlers each waiting on a sandbox barrier that opens only when all N calls are in flight", function()
      local N = 6
      fault("^/" .. PID .. "/tags$", { type = "barrier", n = N, timeout_ms = 5000 }, N, "GET")
      control("DELETE", "/log")
      local out = concurrent(N, { opts = { retries = 0, timeout = 8000 } })
      assert.equal(N, #out)
      for i = 1, N do
        local r = assert(out[i], "handler " .. i .. " gave no JSON").results[1]
        assert.equal(200, r.status, r.msg)
        assert.equal("released", r.barrier, require("cjson").encode(out))
      end
      local held = log_entries("/tags$", "GET")
      assert.equal(N, #held)
    end)

    it("a retry waits with ngx.sleep: another handler's call runs meanwhile and fills the barrier", function()
      -- the first call to arrive gets a 429 (Retry-After: 1) and sleeps before its retry; the other
      -- waits at a barrier of 2 that only that retry can fill, so the sleep must leave the worker free
      fault("^/" .. PID .. "/tags$", { type = "status", status = 429, retry_after = 1 }, 1, "GET")
      fault("^/" .. PID .. "/tags$", { type = "barrier", n = 2, timeout_ms = 5000 }, 2, "GET")
      local out = concurrent(2, { opts = { retries = 2, timeout = 8000 } })
      local attempts = {}
      for i = 1, 2 do
        local r = assert(out[i], "handler " .. i .. " gave no JSON").results[1]
        assert.equal(200, r.status, r.msg)
        assert.equal("released", r.barrier)
        attempts[#attempts + 1] = r.attempts
      end
      table.sort(attempts)
      assert.same({ 1, 2 }, attempts)
    end)

    it("while the curl transport, blocking the worker, cannot fill the same barrier", function()
      local N = 3
      fault("^/" .. PID .. "/tags$", { type = "barrier", n = N, timeout_ms = 700 }, N, "GET")
      local out = concurrent(N, { opts = { retries = 0, timeout = 8000, transport = "curl" } })
      local timeouts = 0
      for i = 1, N do
        local r = assert(out[i], "handler " .. i .. " gave no JSON").results[1]
        assert.equal(504, r.status, r.msg)
        if r.barrier == "timeout" then timeouts = timeouts + 1 end
      end
      assert.equal(N, timeouts)
    end)
  end)

  describe("client:batch inside nginx (light threads)", function()
    it("runs its calls at once: a barrier of 5 opens for a batch of 5 in one handler", function()
      fault("^/" .. PID .. "/tags$", { type = "barrier", n = 5, timeout_ms = 5000 }, 5, "GET")
      local r = post("/batch", { n = 5, opts = { retries = 0 } })
      assert.equal(0, r.failed)
      assert.equal(5, #r.results)
      for i = 1, 5 do assert.equal("released", r.results[i].barrier, r.results[i].msg) end
    end)

    it("keeps to its concurrency: 4 calls, 2 at a time, fill two waves of a barrier of 2", function()
      fault("^/" .. PID .. "/tags$", { type = "barrier", n = 2, timeout_ms = 5000 }, 4, "GET")
      local r = post("/batch", { n = 4, concurrency = 2, opts = { retries = 0 } })
      assert.equal(0, r.failed)
      local waves = {}
      for i = 1, 4 do
        assert.equal("released", r.results[i].barrier, r.results[i].msg)
        waves[#waves + 1] = r.results[i].wave
      end
      table.sort(waves)
      assert.equal(waves[1], waves[2])
      assert.equal(waves[3], waves[4])
      assert.equal(waves[1] + 1, waves[3])
    end)
  end)

  describe("resource helpers over the batch inside nginx", function()
    it("messages:list_many keeps its calls in flight together: a barrier of 3 opens", function()
      local _, page = helper.api("owner", "GET", "/requests?status=all&limit=3")
      local ids = {}
      for i, r in ipairs(page.requests) do ids[i] = r.request_id end
      assert.equal(3, #ids)
      fault("^/" .. PID .. "/requests/[^/]+/messages$", { type = "barrier", n = 3, timeout_ms = 5000 }, 3, "GET")
      local r = post("/helpers", { ids = ids })
      assert.equal(0, r.failed, r.results[1].msg)
      for i = 1, 3 do
        assert.equal(ids[i], r.results[i].request_id)
        assert.is_true(r.results[i].n > 0)
      end
    end)

    it("prefetch asks for the next pages together once the count is known: a barrier of 3 opens", function()
      local r = post("/helpers", { prefetch = 3 })
      assert.is_nil(r.msg)
      assert.same({ 0, 1, 2, 3 }, r.numbers)
    end)
  end)

  describe("a write is never sent twice", function()
    it("a POST whose reused connection dies before any answer is not repeated: unknown_outcome", function()
      fault("^/" .. PID .. "/tags$", { type = "hang", ms = 300 }, 1, "POST")
      control("DELETE", "/log")
      local r = call{ requests = { { method = "GET", path = "/tags" },
        { method = "POST", path = "/tags", body = { tag = "nginx-once", color = "#43B1F2" } } } }
      assert.equal(200, r[1].status)
      assert.is_true(r[2].failed)
      assert.equal("unknown_outcome", r[2].err.kind, r[2].msg)
      assert.equal(1, r[2].err.attempts)
      assert.equal(1, #log_entries("/tags$", "POST"))
    end)

    it("a GET in the same case is repeated on a new connection", function()
      fault("^/" .. PID .. "/tags$", { type = "hang", ms = 300 }, 1, "GET")
      control("DELETE", "/log")
      local r = call{ requests = { { method = "GET", path = "/departments" }, { method = "GET", path = "/tags" } } }
      assert.equal(200, r[2].status, r[2].msg)
      assert.are_not.equal(r[1].connection, r[2].connection)
      assert.equal(2, #log_entries("/tags$", "GET"))
    end)
  end)

  describe("phases without cosockets", function()
    local function result(key)
      for _ = 1, 100 do
        local _, json = nginx.call(inst, "GET", "/results?key=" .. key)
        if json and json.value then return json.value end
        require("socket").sleep(0.05)
      end
      error("no result for " .. key)
    end

    for _, phase in ipairs({ "init_worker", "set", "header_filter", "body_filter", "log" }) do
      it("a call from the " .. phase .. " phase fails with kind config naming ngx.timer.at; a timer works", function()
        if phase ~= "init_worker" then
          local status = nginx.call(inst, "GET", "/phase/" .. phase)
          assert.equal(200, status)
        end
        local v = result(phase)
        assert.is_false(v.ok)
        assert.equal("config", v.err.kind, v.msg)
        assert.matches("ngx.timer.at", v.msg, 1, true)
        assert.matches("'" .. phase .. "' phase", v.msg, 1, true)
        local t = result(phase .. "+timer")
        assert.is_true(t.ok, t.msg)
      end)
    end
  end)

  it("keeps the password and tokens out of answers and the error log", function()
    local r = call{ opts = { log = true }, times = 2 }
    assert.equal(200, r[1].status)
    local bad = call{ opts = { log = true, password = "wrong-" .. OWNER.password, retries = 0 } }
    assert.is_true(bad[1].failed)
    local text = require("cjson").encode({ r, bad })
    local log = inst.error_log()
    assert.matches("tiledesk: ", log, 1, true) -- the SDK's log lines went there
    for _, s in ipairs({ text, log }) do
      assert.is_nil(s:find(OWNER.password, 1, true))
      assert.is_nil(s:find("JWT ey", 1, true))
    end
  end)
end)
