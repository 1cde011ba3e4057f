local helper = require("spec.helper")

describe("rockspec", function()
  local spec_env = {}
  local chunk = assert(loadfile(helper.root .. "rockspec/tiledesk-scm-1.rockspec", "t", spec_env))
  local setfenv = rawget(_G, "setfenv")
  if setfenv then setfenv(chunk, spec_env) end
  chunk()

  it("is a builtin-type 3.0 rockspec for lua >= 5.1 with lua-cjson", function()
    assert.equal("3.0", spec_env.rockspec_format)
    assert.equal("builtin", spec_env.build.type)
    assert.same({ "lua >= 5.1", "lua-cjson" }, spec_env.dependencies)
    assert.same({ library = "curl" }, spec_env.external_dependencies.CURL)
  end)

  it("builds tiledesk.core from exactly the C files in ext/, linked to curl", function()
    local p = io.popen("cd '" .. helper.root .. "' && ls ext/*.c | LC_ALL=C sort")
    local files = {}
    for line in p:lines() do files[#files + 1] = line end
    p:close()
    local core = spec_env.build.modules["tiledesk.core"]
    local listed = {}
    for i, f in ipairs(core.sources) do listed[i] = f end
    table.sort(listed)
    assert.same(files, listed)
    assert.same({ "curl" }, core.libraries)
  end)

  it("lists exactly the Lua modules under lua/tiledesk", function()
    local tool = dofile(helper.root .. "tools/rockspec_modules.lua")
    local expected = {}
    for _, f in ipairs(tool.lua_files(helper.root)) do expected[tool.module_name(f)] = f end
    local listed = {}
    for name, src in pairs(spec_env.build.modules) do
      if type(src) == "string" then listed[name] = src end
    end
    assert.same(expected, listed)
    assert.truthy(listed["tiledesk"])
  end)
end)
