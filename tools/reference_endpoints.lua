-- Lists every endpoint of an API reference's endpoint tables (markdown), one "METHOD /path" a
-- line, sorted: path parameters become {}, project-scoped paths start with /{pid}. CRUD rows
-- stand for list, create, get, update and delete; ANY stays ANY.
--   lua5.4 tools/reference_endpoints.lua REFERENCE.md > docs/reference-endpoints.txt
-- spec/unit/reference_spec.lua checks that the route table reaches, or lists as left out, every
-- line of docs/reference-endpoints.txt.
local M = {}

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true, ANY = true, CRUD = true }

-- Mounts of the server that are not project-scoped: a path starting with one is absolute.
local GLOBAL = { auth = true, users = true, projects = true, testauth = true, users_util = true,
  requests_util = true, public = true, webhook = true, files = true, images = true, modules = true,
  chat21 = true, flows = true, jwt = true }

-- "/{pid}/x/{id}?path=…" -> "/{pid}/x/{}"; "/projects/{pid}" -> "/projects/{}"
function M.normalize(path)
  path = path:gsub("[?].*$", ""):gsub("^/{pid}/", "\1"):gsub("{[^}]*}", "{}"):gsub("^\1", "/{pid}/")
  if #path > 1 then path = path:gsub("/$", "") end
  return path
end

local function methods_of(cell)
  local out = {}
  for m in cell:gmatch("%u+") do
    if not METHODS[m] then return nil end
    out[#out + 1] = m
  end
  return #out > 0 and out or nil
end

local function add(set, method, path)
  path = M.normalize(path)
  if method == "CRUD" then
    for _, e in ipairs({ { "GET", path }, { "POST", path }, { "GET", path .. "/{}" }, { "PUT", path .. "/{}" },
      { "DELETE", path .. "/{}" } }) do
      set[e[1] .. " " .. e[2]] = true
    end
  else
    set[method .. " " .. path] = true
  end
end

-- The root of a path for relative alternatives: "/{pid}/groups/enable/{id}" -> "/{pid}/groups".
local function root(path)
  if path:match("^/{pid}/") then return path:match("^(/{pid}/[^/]+)") end
  return path:match("^(/[^/]+)")
end

-- One table row: the method cell, the path cell and the notes cell.
local function read_row(set, mcell, pcell, notes)
  local methods = methods_of(mcell)
  if not methods then return end
  pcell = pcell:gsub("`", ""):gsub("%b()", ""):gsub("\194\183", ",") -- U+00B7, the "·" between alternatives
  local first
  for alt in (pcell .. ", "):gmatch("(.-)%s*,%s+") do
    alt = alt:match("^%s*(.-)%s*$")
    local own_method, rest = alt:match("^(%u+)%s+(/.*)$")
    local path = rest or alt
    if path:sub(1, 1) == "/" and not path:find("...", 1, true) then
      local head = path:match("^/([^/]+)")
      if first and not path:match("^/{pid}/") and not GLOBAL[head] then
        path = root(first) .. path -- relative to the row's resource: "/disable/{id}"
      end
      first = first or path
      if own_method then
        add(set, own_method, path)
      else
        for _, m in ipairs(methods) do add(set, m, path) end
      end
    end
  end
  -- "also `GET/PUT/DELETE /{id}`, `POST /`": more methods under a collection's own path (on
  -- other rows the notes are relative to a mount the table does not name: left to the reader)
  local also = notes and notes:match("also (.*)$")
  if also and first and root(first) == first then
    for item in also:gmatch("`([^`]+)`") do
      local ms, rel = item:match("^([%u/]+)%s+(/%S*)$")
      if ms then
        for m in ms:gmatch("%u+") do
          if METHODS[m] then add(set, m, first .. (rel == "/" and "" or rel)) end
        end
      end
    end
  end
end

-- Reads the reference text; returns the sorted list of "METHOD /path".
function M.extract(text)
  local section = ("\n" .. text):match("\n## 2%.(.-)\n## 3%.")
  assert(section, "no section 2 in the reference")
  local set = {}
  for line in section:gmatch("[^\n]+") do
    local cells = {}
    for cell in line:gmatch("|([^|]*)") do cells[#cells + 1] = cell:match("^%s*(.-)%s*$") end
    if #cells >= 3 and line:sub(1, 1) == "|" then read_row(set, cells[1], cells[2], cells[#cells - 1]) end
  end
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- The endpoints of `list` that the route table (tiledesk.routes) neither reaches nor leaves out.
-- A left-out entry with method ANY stands for every method; one whose path ends in /* for every
-- path below it.
function M.uncovered(list, routes)
  local known, paths, prefixes = {}, {}, {}
  local function add_known(method, path)
    path = M.normalize(path)
    local pre = path:match("^(.*)/%*$")
    if pre then prefixes[#prefixes + 1] = { method = method, path = pre }
    else
      known[method .. " " .. path] = true
      paths[path] = true
    end
  end
  for _, r in ipairs(routes.list) do
    add_known(r.method, (r.scope == "global" and "" or "/{pid}") .. r.path)
  end
  for _, c in ipairs(routes.client_calls) do add_known(c.method, c.path) end
  for _, c in ipairs(routes.left_out) do add_known(c.method, c.path) end
  local out = {}
  for _, e in ipairs(list) do
    local method, path = e:match("^(%u+) (.*)$")
    -- the reference's ANY is reached by a route of any method on that path
    local ok = known[e] or known["ANY " .. path] or (method == "ANY" and paths[path])
    for _, p in ipairs(prefixes) do
      if (p.method == "ANY" or p.method == method) and (path == p.path or path:sub(1, #p.path + 1) == p.path .. "/") then
        ok = true
      end
    end
    -- "/{pid}/kb/namespace…": the reference's shorthand for the routes below a path
    local stem = path:match("^(.-)\226\128\166$")
    if stem then
      for p in pairs(paths) do
        if p:sub(1, #stem) == stem then ok = true end
      end
      for _, p in ipairs(prefixes) do
        if p.path:sub(1, #stem) == stem then ok = true end
      end
    end
    if not ok then out[#out + 1] = e end
  end
  return out
end

-- Reads docs/reference-endpoints.txt (or another such file) into a list.
function M.read_list(path)
  local f = assert(io.open(path, "rb"))
  local list = {}
  for line in f:lines() do
    if line ~= "" and line:sub(1, 1) ~= "#" then list[#list + 1] = line end
  end
  f:close()
  return list
end

if arg and arg[0] and arg[0]:match("reference_endpoints%.lua$") then
  local path = arg[1]
  if not path then
    io.stderr:write("usage: lua5.4 tools/reference_endpoints.lua REFERENCE.md > docs/reference-endpoints.txt\n")
    os.exit(2)
  end
  local text = require("tools.common").must_read(path)
  io.write("# Endpoints of the API reference, made by tools/reference_endpoints.lua\n")
  for _, e in ipairs(M.extract(text)) do io.write(e, "\n") end
end

return M
