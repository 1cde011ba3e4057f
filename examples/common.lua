-- Shared by the example scripts: tiny argument parsing and a client from the command line,
-- the TILEDESK_* environment, or a sandbox state file (--state .sandbox/state.json).
-- from a checkout, the checkout's SDK (lua/ and the build dir of this interpreter) comes first
do
  local root = ((arg and arg[0] and arg[0]:match("^(.*)/[^/]*$")) or ".") .. "/.."
  local f = io.open(root .. "/lua/tiledesk/init.lua", "rb")
  if f then
    f:close()
    local build = rawget(_G, "jit") and "build-luajit" or (_VERSION == "Lua 5.1" and "build-5.1" or "build")
    package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
    package.cpath = root .. "/" .. build .. "/?.so;" .. package.cpath
  end
end
local tiledesk = require("tiledesk")

local M = {}

-- The options every example takes to reach Tiledesk (or the sandbox).
local CONNECTION = { "state", "role", "base_url", "project", "email", "password", "token" }
M.CONNECTION_HELP = [[
Connection (one of):
  --state FILE          a sandbox state file (.sandbox/state.json), with --role owner|admin|agent (admin)
  --base-url URL --project ID --email E --password P | --token T
                        a real project; or the TILEDESK_URL, TILEDESK_PROJECT_ID, TILEDESK_EMAIL,
                        TILEDESK_PASSWORD, TILEDESK_TOKEN (and TILEDESK_TIMEZONE) variables
  --log                 one line per HTTP call on stderr]]

-- Parses the command line. spec = { usage = text, flags = { name = true }, options = { name = true } }
-- (names with _ for -). --help prints the usage and exits; an unknown option or a missing
-- value prints the usage to stderr and exits 2. Returns opts, positional.
function M.args(argv, spec)
  local known = { log = "flag", help = "flag" }
  for _, n in ipairs(CONNECTION) do known[n] = "value" end
  for n in pairs(spec.flags or {}) do known[n] = "flag" end
  for n in pairs(spec.options or {}) do known[n] = "value" end
  local function usage(to, code, why)
    if why then to:write((arg and arg[0] or "example"), ": ", why, "\n") end
    to:write(spec.usage, "\n", M.CONNECTION_HELP, "\n")
    os.exit(code)
  end
  local opts, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" then a = "--help" end
    local name = a:match("^%-%-([%w%-_]+)$")
    if name then
      name = name:gsub("%-", "_")
      local kind = known[name]
      if not kind then usage(io.stderr, 2, "unknown option " .. a) end
      if kind == "flag" then
        opts[name] = true
      else
        i = i + 1
        if argv[i] == nil then usage(io.stderr, 2, "missing value for " .. a) end
        opts[name] = argv[i]
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  if opts.help then usage(io.stdout, 0) end
  return opts, pos
end

local function read_json(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot read " .. path .. ": " .. tostring(err), 0) end
  local text = f:read("*a")
  f:close()
  local v = tiledesk.json_decode(text)
  if type(v) ~= "table" then error(path .. " is not JSON", 0) end
  return v
end

-- opts: state, role (owner|admin|agent), base_url, project, email, password, token, log
function M.client(opts)
  local cfg = { log = opts.log and true or nil }
  if opts.state then
    local st = read_json(opts.state)
    local user = st.users[opts.role or "admin"]
    if not user then error("no user '" .. tostring(opts.role) .. "' in " .. opts.state, 0) end
    cfg.base_url, cfg.project_id = st.http_url, st.project_id
    cfg.email, cfg.password = user.email, user.password
  else -- the command line's values, else the environment's
    local given = { TILEDESK_URL = opts.base_url, TILEDESK_PROJECT_ID = opts.project, TILEDESK_EMAIL = opts.email,
      TILEDESK_PASSWORD = opts.password, TILEDESK_TOKEN = opts.token }
    cfg.getenv = function(name) return given[name] or os.getenv(name) end
    local c, msg = tiledesk.from_env(cfg)
    if not c then error(msg .. " (or the matching --base-url, --project, --email, --password, --token; or --state)", 0) end
    return c
  end
  return tiledesk.new(cfg)
end

function M.die(msg)
  io.stderr:write(arg and arg[0] or "example", ": ", tostring(msg), "\n")
  os.exit(1)
end

return M
