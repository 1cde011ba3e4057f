-- Content codings: the core asks for those its libcurl decodes (one Accept-Encoding line of its
-- own) and hands back the decoded body; a caller's Accept-Encoding goes out instead. The server
-- is spec/support/gzip_server.lua, a child process on the sandbox's port + 6 (TD_AUX_PORT + 1
-- overrides it), bound to 127.0.0.1, bounded to 20 s.
local helper = require("spec.helper")
local core = require("tiledesk.core")
local cjson = require("cjson")

local st = helper.sandbox()
local PORT = (tonumber(os.getenv("TD_AUX_PORT")) or (tonumber(st.http_url:match(":(%d+)$")) + 5)) + 1
local URL = "http://127.0.0.1:" .. PORT

describe("content codings", function()
  local server
  setup(function()
    server = assert(io.popen(helper.interpreter() .. " '" .. helper.root .. "spec/support/gzip_server.lua' " .. PORT .. " 20", "r"))
    assert.equal("ready", server:read("*l"))
  end)
  teardown(function()
    pcall(helper.http, "GET", URL .. "/quit")
    server:close()
  end)

  it("asks for gzip, once, and hands back the decoded body", function()
    local c = core.new{}
    for _ = 1, 2 do -- the second on the kept header list and connection
      local status, headers, body = c:perform{ url = URL .. "/x" }
      assert.equal(200, status)
      assert.equal("gzip", headers["content-encoding"])
      assert.same({ gzip = true, n = 3 }, cjson.decode(body))
      local accepted = headers["x-accept-encoding"]
      assert.is_string(accepted) -- one line: a repeated header would come back as a table
      assert.equal("gzip", accepted) -- one coding asked for (libcurl still decodes all it knows)
    end
    c:close()
  end)

  it("sends the caller's Accept-Encoding instead of its own", function()
    local c = core.new{}
    local status, headers, body = c:perform{ url = URL .. "/x", headers = { ["Accept-Encoding"] = "identity" } }
    assert.equal(200, status)
    assert.equal("identity", headers["x-accept-encoding"])
    assert.is_nil(headers["content-encoding"])
    assert.same({ gzip = true, n = 3 }, cjson.decode(body))
    c:close()
  end)
end)
