-- A write goes out at most once (issue 9), fd and memory exhaustion are their own kind, and
-- proxy = false ignores the environment's proxies. The server that resets a reused connection
-- after reading a POST is spec/support/reset_server.lua, started here as a child process on
-- the sandbox's port + 5 (TD_AUX_PORT overrides it), bound to 127.0.0.1, bounded to 20 s.
local helper = require("spec.helper")
local core = require("tiledesk.core")
local cjson = require("cjson")

local st = helper.sandbox()
local AUX_PORT = tonumber(os.getenv("TD_AUX_PORT")) or (tonumber(st.http_url:match(":(%d+)$")) + 5)
local AUX = "http://127.0.0.1:" .. AUX_PORT

local function start_server()
  local p = assert(io.popen(helper.interpreter() .. " '" .. helper.root .. "spec/support/reset_server.lua' " .. AUX_PORT .. " 20", "r"))
  assert.equal("ready", p:read("*l"))
  return p
end

local function stop_server(p)
  pcall(helper.http, "GET", AUX .. "/quit")
  p:close()
end

-- How many POSTs the server received, asked on a connection of its own.
local function posts_seen()
  local status, body = helper.http_json("GET", AUX .. "/count")
  assert.equal(200, status)
  return body.posts
end

local FD_LIMIT = "bash '" .. helper.root .. "spec/support/fd_limit.sh' 48"
-- child code: opens files until no descriptor is left (the 48 of FD_LIMIT), keeping them in `files`
local EXHAUST = [[
  local files = {}
  for i = 1, 200 do
    local f = io.open("/dev/null")
    if not f then break end
    files[i] = f
  end
]]

describe("a write sent at most once", function()
  local server
  before_each(function() server = start_server() end)
  after_each(function() stop_server(server) end)

  it("is not sent again by libcurl when the reused connection dies after the server read it", function()
    local c = core.new{}
    assert.equal(200, (c:perform{ url = AUX .. "/first" }))
    local s, msg, err = c:perform{ method = "POST", url = AUX .. "/refund", body = '{"amount":5}', once = true,
      headers = { ["content-type"] = "application/json" } }
    assert.is_nil(s)
    assert.equal("unknown_outcome", err.kind, msg)
    assert.matches("^POST http://127%.0%.0%.1:%d+/refund: unknown_outcome %(.*the server may have processed it", msg)
    assert.equal(1, posts_seen())
    -- the client goes on working on a new connection
    assert.equal(200, (c:perform{ url = AUX .. "/after" }))
    c:close()
  end)

  it("refuses the resend of a body-less write too", function()
    local c = core.new{}
    assert.equal(200, (c:perform{ url = AUX .. "/first" }))
    local s, msg, err = c:perform{ method = "POST", url = AUX .. "/close", once = true }
    assert.is_nil(s)
    assert.equal("unknown_outcome", err.kind, msg)
    assert.equal(1, posts_seen())
    c:close()
  end)

  it("is resent by libcurl as before when the write may be repeated (retry = true)", function()
    local c = core.new{}
    assert.equal(200, (c:perform{ url = AUX .. "/first" }))
    local s, _, body = c:perform{ method = "POST", url = AUX .. "/refund", body = "{}" }
    assert.equal(200, s)
    assert.same({ posts = 2 }, cjson.decode(body))
    assert.equal(2, posts_seen())
    c:close()
  end)
end)

describe("a write made through the client", function()
  local server
  before_each(function() server = start_server() end)
  after_each(function() stop_server(server) end)

  local function client()
    return require("tiledesk").new{ base_url = AUX, token = "JWT x", retry_base_ms = 1 }
  end

  it("goes out once and reports that its outcome is unknown", function()
    local c = client()
    assert(c:get("/first", nil, { project = false }))
    local v, msg, err = c:post("/refund", { amount = 5 }, { project = false })
    assert.is_nil(v)
    assert.equal("unknown_outcome", err.kind, msg)
    assert.equal(1, err.attempts)
    assert.matches("^POST /refund: POST http://127%.0%.0%.1:%d+/refund: unknown_outcome %(.*may have processed it", msg)
    assert.equal(1, posts_seen())
  end)

  it("is sent again by libcurl when the call says retry = true, as before", function()
    local c = client()
    assert(c:get("/first", nil, { project = false }))
    local v = assert(c:post("/refund", { amount = 5 }, { project = false, retry = true }))
    assert.equal(2, v.posts)
    assert.equal(2, posts_seen())
  end)
end)

describe("exhausted resources", function()
  it("report running out of file descriptors as kind resource, not a refused connection", function()
    local out = helper.lua_child(string.format([[
      local core = require("tiledesk.core")
      local c = core.new{}
    ]] .. EXHAUST .. [[
      local s, msg, err = c:perform{ url = %q }
      print("first", tostring(s), err and err.kind, msg)
      for _, f in ipairs(files) do f:close() end
      print("after", (c:perform{ url = %q }))
    ]], st.http_url .. "/__sandbox/echo", st.http_url .. "/__sandbox/echo"), FD_LIMIT)
    assert.matches("first\tnil\tresource\tGET http://127%.0%.0%.1:%d+/__sandbox/echo: resource %(no socket: Too many open files", out)
    assert.matches("after\t200", out)
  end)

  it("are not retried as a connect failure by the client", function()
    local out = helper.lua_child(string.format([[
      local tiledesk = require("tiledesk")
      local client = tiledesk.new{ base_url = %q, project_id = %q, token = "JWT x", retries = 3, retry_base_ms = 1 }
    ]] .. EXHAUST .. [[
      local res, msg, err = client:request{ method = "GET", path = "/__sandbox/echo", project = false }
      print("got", tostring(res), err and err.kind, err and err.attempts)
    ]], st.http_url, st.project_id), FD_LIMIT)
    assert.matches("got\tnil\tresource\t1", out)
  end)
end)

describe("proxies", function()
  it("follow the environment unless proxy = false", function()
    local code = string.format([[
      local core = require("tiledesk.core")
      local s, h, b = core.new{}:perform{ url = "http://tiledesk.invalid/__sandbox/echo" }
      print("env", s, s and require("cjson").decode(b).headers.host)
      local s2, msg, err = core.new{ proxy = false }:perform{ url = "http://tiledesk.invalid/__sandbox/echo",
        connect_timeout_ms = 2000, timeout_ms = 3000 }
      print("off", tostring(s2), err and err.kind)
    ]])
    local out = helper.lua_child(code, "env http_proxy=" .. st.http_url .. " HTTP_PROXY= no_proxy= NO_PROXY=")
    assert.matches("env\t200\ttiledesk%.invalid", out)
    assert.matches("off\tnil\tresolve", out)
  end)
end)

-- child code: a request body the process holds, but cannot hold again: the C core copies a body
-- (libcurl's transfer may outlive the Lua call), and that copy cannot be allocated. Under the
-- address-space limit of MEM_LIMIT the body takes a third of what is left (built by doubling: Lua
-- 5.1 and LuaJIT need 2.5 times its size at the peak), then strings of 1 MiB fill the rest down to
-- half the body's size; what is left is read from /proc/self/status. Under ASan (the largest
-- allocation limited instead) the body is the largest power of two below two thirds of that size:
-- the core's buffer for it, the next power of two, is beyond it.
local MEM_LIMIT = "bash '" .. helper.root .. "spec/support/mem_limit.sh' 393216"
local BIG_BODY = [[
  local limit, largest = tonumber(os.getenv("TD_MEM_LIMIT_KIB")), tonumber(os.getenv("TD_MEM_MAX_ALLOC_KIB"))
  local function free()
    local f = assert(io.open("/proc/self/status"))
    local s = f:read("*a")
    f:close()
    return (limit - tonumber(s:match("VmSize:%s*(%d+)"))) * 1024
  end
  collectgarbage()
  local size = largest and largest * 1024 * 2 / 3 or math.floor(free() / 3)
  local k = 0
  while 65536 * 2 ^ (k + 1) <= size do k = k + 1 end
  local body = string.rep("x", largest and 65536 or math.floor(size / 2 ^ k))
  for _ = 1, k do
    body = body .. body
    collectgarbage()
  end
  collectgarbage()
  local filler, piece = {}, string.rep("y", 1048576 - 8)
  if largest then
    print("body", #body * 2 > largest * 1024, #body < largest * 1024)
  else
    while free() > #body / 2 and #filler < 4096 do
      filler[#filler + 1] = piece .. string.format("%8d", #filler)
    end
    print("body", #body > free(), free() > 16 * 1048576)
  end
]]

describe("running out of memory", function()
  it("is kind resource from the C core, and the client goes on working", function()
    local url = st.http_url .. "/__sandbox/echo"
    local out = helper.lua_child([[
      local core = require("tiledesk.core")
      local c = core.new{}
    ]] .. BIG_BODY .. string.format([[
      local s, msg, err = c:perform{ method = "POST", url = %q, body = body }
      print("first", tostring(s), err and err.kind, err and err.code, msg)
      print("after", (c:perform{ url = %q }))
      body, filler = nil, nil
      collectgarbage()
    ]], url, url), MEM_LIMIT)
    assert.matches("body\ttrue\ttrue", out)
    assert.matches("first\tnil\tresource\t27\tPOST http://127%.0%.0%.1:%d+/__sandbox/echo: resource %(Out of memory, curl 27%)", out)
    assert.matches("after\t200", out)
  end)

  it("is not retried by the client, even for a call that may be repeated", function()
    local out = helper.lua_child(string.format([[
      local tiledesk = require("tiledesk")
      local client = tiledesk.new{ base_url = %q, project_id = %q, token = "JWT x", retries = 3, retry_base_ms = 1 }
    ]], st.http_url, st.project_id) .. BIG_BODY .. [[
      local res, msg, err = client:request{ method = "POST", path = "/__sandbox/echo", project = false, body = body,
        retry = true }
      print("got", tostring(res), err and err.kind, err and err.attempts, msg)
      body, filler = nil, nil
      collectgarbage()
    ]], MEM_LIMIT)
    assert.matches("body\ttrue\ttrue", out)
    assert.matches("got\tnil\tresource\t1\tPOST /__sandbox/echo: POST http://127%.0%.0%.1:%d+/__sandbox/echo: "
      .. "resource %(Out of memory, curl 27%)", out)
  end)
end)
