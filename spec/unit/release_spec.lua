-- The version is written once, in VERSION; the Lua module, the C source, the versioned rockspec
-- and the changelog carry the same one (./dev version X.Y.Z writes them all).
local helper = require("spec.helper")
local tool = dofile(helper.root .. "tools/rockspec_modules.lua")

describe("release", function()
  local version = tool.version(helper.root)

  it("has one version, MAJOR.MINOR.PATCH, in VERSION", function()
    assert.matches("^%d+%.%d+%.%d+$", version)
  end)

  it("is the _VERSION of the Lua module and of the C source", function()
    assert.equal(version, require("tiledesk")._VERSION)
    local c = assert(helper.read_file(helper.root .. "ext/td_core.c"))
    local defined = {}
    for v in c:gmatch('\n#define TD_VERSION "([^"]*)"') do defined[#defined + 1] = v end
    assert.same({ version }, defined)
  end)

  it("has a versioned rockspec made from scm-1, and no other", function()
    local scm = assert(helper.read_file(helper.root .. "rockspec/tiledesk-scm-1.rockspec"))
    local committed = helper.read_file(helper.root .. tool.versioned_path(version))
    assert.is_string(committed, "no " .. tool.versioned_path(version) .. ": run ./dev rockspec")
    assert.equal(tool.versioned(scm, version), committed)
    local env = {}
    local loadstring, setfenv = rawget(_G, "loadstring"), rawget(_G, "setfenv")
    local chunk = assert(loadstring and loadstring(committed) or load(committed, "rockspec", "t", env))
    if setfenv then setfenv(chunk, env) end
    chunk()
    assert.equal(version .. "-1", env.version)
    assert.equal("v" .. version, env.source.tag)
    local p = io.popen("cd '" .. helper.root .. "' && ls rockspec")
    local names = {}
    for name in p:lines() do names[#names + 1] = name end
    p:close()
    table.sort(names)
    assert.same({ "tiledesk-" .. version .. "-1.rockspec", "tiledesk-scm-1.rockspec" }, names)
  end)

  it("has a CHANGELOG entry for the version", function()
    local log = assert(helper.read_file(helper.root .. "CHANGELOG.md"))
    local first = log:match("\n## (%d+%.%d+%.%d+)")
    assert.equal(version, first, "the newest released entry of CHANGELOG.md is not " .. version)
  end)
end)
