-- Serves a bot file locally inside nginx (the non-blocking transport) and registers it.
--   lua5.4 tools/bot.lua serve BOT.lua [--port 8790] [--dir DIR] [--base-url URL]
--                                 [--sandbox STATE.json] [--verify-token] [--name NAME]
--   lua5.4 tools/bot.lua stop [--dir DIR]
-- serve renders DIR/nginx.conf (127.0.0.1 only, one worker), starts nginx and prints the bot's URL
-- (a random secret last segment). With --sandbox it also creates an external bot with that URL and
-- a department routed to it in that sandbox (admin of its state file), and prints their ids.
-- Used by ./dev bot serve|stop and ./dev bot-demo.
local ROOT = arg[0]:match("^(.*)tools/[^/]*$") or "./"
if ROOT == "" then ROOT = "./" end
package.path = ROOT .. "lua/?.lua;" .. ROOT .. "lua/?/init.lua;" .. ROOT .. "?.lua;" .. package.path
package.cpath = ROOT .. "build/?.so;" .. package.cpath

local crypto = require("tiledesk.crypto")
local conf = require("tools.nginx_conf")
local common = require("tools.common")

local function die(msg)
  io.stderr:write("bot: ", msg, "\n")
  os.exit(1)
end

local sh = conf.sh -- without the caller's LD_PRELOAD

local q, read, write = common.quote, common.read, common.write

local function abs(path)
  if path:sub(1, 1) == "/" then return path end
  return (sh("pwd"):gsub("%s+$", "")) .. "/" .. path
end

local function parse_args(list)
  local o, pos = {}, {}
  local i = 1
  while i <= #list do
    local a = list[i]
    local name = a:match("^%-%-([%w%-]+)$")
    if name == "verify-token" then
      o.verify_token = true
    elseif name then
      o[name:gsub("%-", "_")] = list[i + 1] or die("--" .. name .. " needs a value")
      i = i + 1
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return o, pos
end

local function random_hex(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local s = f:read(n)
  f:close()
  return crypto.hex(s)
end

local function pid_of(dir)
  local pid = tonumber((read(dir .. "/nginx.pid") or ""):match("%d+"))
  if not pid then return nil end
  local args = read("/proc/" .. pid .. "/cmdline")
  if args and args:find(dir .. "/nginx.conf", 1, true) then return pid end
  return nil
end

local function stop(dir)
  local pid = pid_of(dir)
  if not pid then return false end
  sh("kill " .. pid)
  for _ = 1, 50 do
    if not pid_of(dir) then return true end
    sh("sleep 0.1")
  end
  return true
end

local function nameserver()
  local resolv = read("/etc/resolv.conf") or ""
  local ns = resolv:match("\nnameserver%s+([%d%.]+)") or resolv:match("^nameserver%s+([%d%.]+)")
  return ns or "127.0.0.1"
end

local function render(dir, port)
  return conf.render{ dir = dir, root = abs(ROOT), listen = tostring(port), log_level = "info",
    access_log = dir .. "/access.log", comment = "Rendered by tools/bot.lua: the bot of " .. dir .. "/config.lua, 127.0.0.1 only.",
    http = { "client_max_body_size 6m;", "server_tokens off;", "resolver " .. nameserver() .. " ipv6=off;",
      "lua_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;", "lua_ssl_verify_depth 5;",
      "lua_shared_dict tiledesk_bot_seen 2m;" },
    init = 'require("tiledesk.bot_nginx").setup(dofile("' .. dir .. '/config.lua"))',
    server = { 'location = /health { return 200 "ok\\n"; }',
      'location /bot/ { content_by_lua_block { require("tiledesk.bot_nginx").handle() } }' } }
end

-- Creates the external bot and a department routed to it in the sandbox of state_file.
local function register(state_file, url, name)
  local cjson = require("cjson")
  local st = cjson.decode(read(state_file) or die("no sandbox state at " .. state_file))
  local tiledesk = require("tiledesk")
  local u = st.users.admin
  local admin = tiledesk.new{ base_url = st.http_url .. "/v3", project_id = st.project_id, email = u.email, password = u.password }
  local b = assert(admin.bots:create(name, { type = "external", url = url, description = "served by tools/bot.lua" }))
  local d = assert(admin.departments:create{ name = name .. " department", id_bot = b._id, routing = "assigned" })
  admin:close()
  return b, d, st
end

local function serve(o, pos)
  local bot_file = pos[2] or die("serve: give the bot file (a Lua file returning a table of intents or a function)")
  bot_file = abs(bot_file)
  local ok, why = require("tiledesk.bot").load(bot_file)
  if not ok then die(why) end
  local dir = abs(o.dir or (ROOT .. ".bot"))
  local port = tonumber(o.port or "8790") or die("--port must be a number")
  stop(dir)
  sh("mkdir -p " .. q(dir .. "/tmp"))
  local secret = random_hex(16)
  local base_url = o.base_url
  local st
  if o.sandbox then
    local cjson = require("cjson")
    st = cjson.decode(read(abs(o.sandbox)) or die("no sandbox state at " .. o.sandbox))
    base_url = base_url or (st.http_url .. "/v3")
  end
  base_url = base_url or "https://api.tiledesk.com/v3"
  write(dir .. "/config.lua", "return " .. string.format("{ bot_file = %q, base_url = %q, path_secret = %q, "
    .. "verify_token = %s, seen_dict = \"tiledesk_bot_seen\" }\n", bot_file, base_url, secret, tostring(o.verify_token == true)))
  sh("chmod 600 " .. q(dir .. "/config.lua"))
  write(dir .. "/nginx.conf", render(dir, port))
  local nginx = os.getenv("NGINX") or "nginx"
  local out, started = sh(nginx .. " -p " .. q(dir) .. " -c " .. q(dir .. "/nginx.conf") .. " -e " .. q(dir .. "/error.log"))
  if not started then die("nginx did not start: " .. out .. (read(dir .. "/error.log") or ""):sub(-2000)) end
  local url = "http://127.0.0.1:" .. port .. "/bot/" .. secret
  for _ = 1, 50 do
    if pid_of(dir) then break end
    sh("sleep 0.1")
  end
  print("bot: serving " .. bot_file)
  print("bot: local URL " .. url .. "  (nginx pid " .. tostring(pid_of(dir)) .. ", logs in " .. dir .. ")")
  if o.sandbox then
    local b, d = register(abs(o.sandbox), url, o.name or "Lua bot")
    print("bot: registered in the sandbox as bot " .. b._id .. ", department " .. d._id .. " routes to it")
    write(dir .. "/registration.json", require("cjson").encode({ url = url, bot_id = b._id, department_id = d._id }))
  end
  print("bot: for a real Tiledesk project, expose this server publicly (HTTPS), then set your external bot's url to")
  print("bot:   https://<public host>/bot/" .. secret .. "   (PUT /{project_id}/faq_kb/{bot_id} {\"url\": ...})")
end

local o, pos = parse_args(arg)
local cmd = pos[1]
if cmd == "serve" then
  serve(o, pos)
elseif cmd == "stop" then
  local dir = abs(o.dir or (ROOT .. ".bot"))
  print(stop(dir) and ("bot: stopped " .. dir) or ("bot: not running in " .. dir))
else
  io.stderr:write("usage: lua5.4 tools/bot.lua serve BOT.lua [--port N] [--dir DIR] [--base-url URL] [--sandbox STATE]"
    .. " [--verify-token] [--name NAME]\n       lua5.4 tools/bot.lua stop [--dir DIR]\n")
  os.exit(2)
end
