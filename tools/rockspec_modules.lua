-- Lists lua/tiledesk/**/*.lua as rockspec module entries, or (with --write) rewrites the block
-- between the LUA MODULES markers of rockspec/tiledesk-scm-1.rockspec. Used by ./dev rockspec
-- and by spec/unit/rockspec_spec.lua, so the rockspec cannot drift from the tree.
local M = {}

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
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  local head, tail = text:match("^(.-%-%- LUA MODULES BEGIN[^\n]*\n).-(\n%s*%-%- LUA MODULES END.*)$")
  assert(head, "markers not found in " .. path)
  f = assert(io.open(path, "wb"))
  f:write(head, M.block(root), tail)
  f:close()
end

if arg and arg[0] and arg[0]:match("rockspec_modules%.lua$") then
  if arg[1] == "--write" then
    M.write("rockspec/tiledesk-scm-1.rockspec", ".")
  else
    print(M.block("."))
  end
end

return M
