-- Lists lua/tiledesk/**/*.lua as rockspec module entries, or (with --write) rewrites the block
-- between the LUA MODULES markers of rockspec/tiledesk-scm-1.rockspec and writes the versioned
-- rockspec/tiledesk-<VERSION>-1.rockspec from it (the same build, the released version, the git
-- tag v<VERSION> as source). Used by ./dev rockspec and by spec/unit/rockspec_spec.lua, so the
-- rockspecs cannot drift from the tree or from VERSION, the one place the version is written.
local common = require("tools.common")
local M = {}

-- The version, as written in the file VERSION at the root.
function M.version(root)
  local v = common.must_read((root or ".") .. "/VERSION"):gsub("%s+$", "")
  assert(v:match("^%d+%.%d+%.%d+$"), "VERSION must read MAJOR.MINOR.PATCH, not " .. v)
  return v
end

-- The versioned rockspec's text, made from the scm-1 rockspec's.
function M.versioned(scm_text, version)
  local text, n = scm_text:gsub('\nversion = "scm%-1"\n', '\nversion = "' .. version .. '-1"\n', 1)
  assert(n == 1, "the scm rockspec lacks version = \"scm-1\"")
  text, n = text:gsub('(\nsource = {\n%s*url = "[^"\n]*",\n)', '%1  tag = "v' .. version .. '",\n', 1)
  assert(n == 1, "the scm rockspec lacks a source = { url = ... } block")
  return "-- Generated from tiledesk-scm-1.rockspec by ./dev rockspec; do not edit.\n" .. text
end

function M.versioned_path(version) return "rockspec/tiledesk-" .. version .. "-1.rockspec" end

function M.lua_files(root)
  root = root or "."
  local p = io.popen('cd "' .. root .. '" && find lua/tiledesk -name "*.lua" -type f | LC_ALL=C sort')
  local files = {}
  for line in p:lines() do files[#files + 1] = line end
  p:close()
  return files
end

function M.module_name(file)
  local name = file:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
  return name
end

function M.block(root)
  local out = {}
  for _, f in ipairs(M.lua_files(root)) do
    out[#out + 1] = string.format('    [%q] = %q,', M.module_name(f), f)
  end
  return table.concat(out, "\n")
end

function M.write(path, root)
  local text = common.must_read(path)
  local head, tail = text:match("^(.-%-%- LUA MODULES BEGIN[^\n]*\n).-(\n%s*%-%- LUA MODULES END.*)$")
  assert(head, "markers not found in " .. path)
  common.write(path, head .. M.block(root) .. tail)
end

-- Writes the versioned rockspec and removes versioned ones of other versions.
function M.write_versioned(root)
  root = root or "."
  local text = common.must_read(root .. "/rockspec/tiledesk-scm-1.rockspec")
  local version = M.version(root)
  local p = io.popen('cd "' .. root .. '" && ls rockspec/tiledesk-*-1.rockspec')
  for old in p:lines() do
    if old ~= "rockspec/tiledesk-scm-1.rockspec" and old ~= M.versioned_path(version) then os.remove(root .. "/" .. old) end
  end
  p:close()
  common.write(root .. "/" .. M.versioned_path(version), M.versioned(text, version))
end

if arg and arg[0] and arg[0]:match("rockspec_modules%.lua$") then
  if arg[1] == "--write" then
    M.write("rockspec/tiledesk-scm-1.rockspec", ".")
    M.write_versioned(".")
  else
    print(M.block("."))
  end
end

return M
