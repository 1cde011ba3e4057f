-- Shared by the example scripts: tiny argument parsing and a client from the command line,
-- the TILEDESK_* environment, or a sandbox state file (--state .sandbox/state.json).
local tiledesk = require("tiledesk")

local M = {}

-- Parses --name value and --flag; returns opts, positional.
function M.args(argv, flags)
  local opts, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name = a:match("^%-%-([%w%-_]+)$")
    if name then
      name = name:gsub("%-", "_")
      if flags and flags[name] then
        opts[name] = true
      else
        i = i + 1
        if argv[i] == nil then error("missing value for --" .. name, 0) end
        opts[name] = argv[i]
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
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
  else
    cfg.base_url = opts.base_url or os.getenv("TILEDESK_BASE_URL")
    cfg.project_id = opts.project or os.getenv("TILEDESK_PROJECT_ID")
    cfg.email = opts.email or os.getenv("TILEDESK_EMAIL")
    cfg.password = opts.password or os.getenv("TILEDESK_PASSWORD")
    cfg.token = opts.token or os.getenv("TILEDESK_TOKEN")
    if not cfg.project_id then error("--project (or TILEDESK_PROJECT_ID) is required", 0) end
  end
  return tiledesk.new(cfg)
end

function M.die(msg)
  io.stderr:write(arg and arg[0] or "example", ": ", tostring(msg), "\n")
  os.exit(1)
end

return M
