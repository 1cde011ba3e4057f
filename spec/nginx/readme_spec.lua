-- The OpenResty example the README links to (docs/openresty.md), run as a user would paste it: its
-- nginx.conf and handler taken from the page, only the checkout path, the ports and the sandbox's
-- credentials put in.
local helper = require("spec.helper")
local nginx = require("spec.support.nginx")

local st = helper.sandbox()


-- replaces every `from` (a plain string) by `to`; the README must contain it
local function put(text, from, to)
  local i = text:find(from, 1, true)
  assert(i, "the README example no longer contains " .. from)
  local out = text:gsub(from:gsub("%p", "%%%0"), (to:gsub("%%", "%%%%")))
  return out
end

describe("docs/openresty.md, the README's OpenResty example", function()
  local inst, lua_copy
  teardown(function()
    if inst then inst.stop() end
    if lua_copy then os.execute("rm -rf " .. helper.shell_quote(lua_copy)) end
  end)

  it("the nginx.conf and handler run as pasted, against the sandbox", function()
    local text = assert(helper.read_file(helper.root .. "docs/openresty.md"))
    assert.truthy(helper.read_file(helper.root .. "README.md"):find("(docs/openresty.md)", 1, true), "the README links it")
    local conf = assert(text:match("\n```nginx\n(.-)\n```"), "no ```nginx block")
    local handler = assert(text:match("\n```lua\n(%-%- open_conversations%.lua\n.-)\n```"), "no handler block")
    local root = helper.root:sub(1, 1) == "/" and helper.root or (io.popen("pwd"):read("*l") .. "/" .. helper.root)
    root = root:gsub("/%./", "/"):gsub("/$", "")
    local port = nginx.base_port() + 30
    -- nginx started as root runs its workers as nobody, who may not read the checkout (a clone
    -- under /root, as on a fresh CI machine): /path/to/tiledesk becomes a readable copy of lua/
    local p = io.popen("d=$(mktemp -d) && cp -R " .. helper.shell_quote(root .. "/lua") .. ' "$d"/ && chmod -R a+rX "$d" && echo "$d"')
    lua_copy = assert(p:read("*l"), "could not copy lua/ to a temporary directory")
    p:close()
    conf = put(conf, "/path/to/tiledesk", lua_copy)
    conf = put(conf, "127.0.0.1:8080", "127.0.0.1:" .. port)
    handler = put(handler, "http://127.0.0.1:8765", st.http_url)
    handler = put(handler, '"6560f0a10000000000000007"', '"' .. st.project_id .. '"')
    handler = put(handler, '"agent@sandbox.test"', '"' .. st.users.agent.email .. '"')
    handler = put(handler, '"agent-pass-123"', '"' .. st.users.agent.password .. '"')
    inst = nginx.start_files{ offset = 30, name = "readme",
      files = { ["nginx.conf"] = conf .. "\n", ["open_conversations.lua"] = handler .. "\n" } }
    local status, _, body = helper.http("GET", inst.url .. "/open")
    assert.equal(200, status, body .. inst.error_log())
    local count = tonumber(body:match("^(%d+) open conversations\n"))
    assert.is_number(count, body)
    assert.is_true(count > 5)
    local lines = select(2, body:gsub("\nsupport%-group%-", ""))
    assert.equal(5, lines)
  end)
end)
