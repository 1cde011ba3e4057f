-- tiledesk.new's transport options really reach the C core: TLS verification and its CA
-- options, the proxy, the user agent and the timeout, each seen working and failing through
-- the Lua client against the sandbox.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()
local HTTPS = st.https_url
local owner = st.users.owner

local function client(extra)
  local o = { base_url = st.http_url, project_id = st.project_id, auth = "basic", email = owner.email,
    password = owner.password, retries = 0 }
  for k, v in pairs(extra) do o[k] = v end
  return tiledesk.new(o)
end

local control = helper.control

local function last_entry()
  local e = control("GET", "/log?limit=1").entries
  return e[#e]
end

describe("tiledesk.new options reach the transport", function()
  before_each(function() control("DELETE", "/faults") end)

  it("verifies TLS by default, with cafile or capath, and only ssl_verify = false skips it", function()
    local v, msg, err = client{ base_url = HTTPS }:get("/departments")
    assert.is_nil(v)
    assert.equal("tls", err.kind, msg)
    assert.is_table(assert(client{ base_url = HTTPS, cafile = st.ca_file }:get("/departments")))
    local _, _, err2 = client{ base_url = HTTPS, cafile = st.other_ca_file }:get("/departments")
    assert.equal("tls", err2.kind)
    assert.is_table(assert(client{ base_url = HTTPS, ssl_verify = false }:get("/departments")))
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p '" .. dir .. "' && cp '" .. st.ca_file .. "' '" .. dir .. "/ca.pem' && openssl rehash '"
      .. dir .. "' 2>/dev/null"))
    local ok, res = pcall(function() return assert(client{ base_url = HTTPS, capath = dir }:get("/departments")) end)
    os.execute("rm -rf '" .. dir .. "'")
    assert.is_true(ok, tostring(res))
  end)

  it("goes through the proxy given", function()
    -- the sandbox answers absolute-form requests, so it stands in for a forward proxy
    local c = client{ base_url = "http://tiledesk.invalid", proxy = st.http_url, allow_insecure_http = true }
    assert.is_table(assert(c:get("/departments")))
    assert.equal("tiledesk.invalid", last_entry().headers.host)
    local v, msg, err = client{ proxy = "http://127.0.0.1:1" }:get("/departments")
    assert.is_nil(v)
    assert.equal("connect", err.kind, msg)
  end)

  it("sends the user agent, tiledesk-lua/<version> by default", function()
    assert(client{}:get("/departments"))
    assert.equal("tiledesk-lua/" .. tiledesk._VERSION, last_entry().headers["user-agent"])
    assert.equal("tiledesk-lua/" .. tiledesk._VERSION, require("tiledesk.transport.curl").default_user_agent())
    assert(client{ user_agent = "my-script/2" }:get("/departments"))
    assert.equal("my-script/2", last_entry().headers["user-agent"])
  end)

  it("gives up after the timeout with kind timeout", function()
    control("POST", "/faults", { path = "/departments$", action = { type = "delay", ms = 3000 }, count = 1 })
    local v, msg, err = client{ timeout = 300 }:get("/departments")
    assert.is_nil(v)
    assert.equal("timeout", err.kind, msg)
    assert.matches("^GET /departments: GET http://127%.0%.0%.1:%d+/[%x]+/departments: timeout", msg)
  end)

  it("is refused by the server with a wrong password, in basic mode, as plain text", function()
    local v, msg, err = client{ password = "wrong-password" }:get("/departments/allstatus")
    assert.is_nil(v)
    assert.equal(401, err.status)
    assert.equal("GET /departments/allstatus: HTTP 401 Unauthorized", msg)
    assert.is_nil(msg:find("wrong-password", 1, true))
  end)
end)
