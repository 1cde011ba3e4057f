-- Starts and stops nginx instances of our own for the `nginx` specs: a config rendered into a
-- fresh temporary directory (Debian nginx + its Lua module, 127.0.0.1 only), the SDK and
-- spec/support/nginx_app.lua on the Lua path. Ports: TD_NGINX_PORT (./dev test sets it to the
-- sandbox port + 100), else the sandbox's port + 100; each instance takes base + its offset.
-- Every instance is stopped by its pid (stop, stop_all).
local helper = require("spec.helper")
local cjson = require("cjson")
local socket = require("socket")
local conf = require("tools.nginx_conf")

local M = {}

local running = {}

local sh, quote = conf.sh, helper.shell_quote

function M.base_port()
  local env = tonumber(os.getenv("TD_NGINX_PORT") or "")
  if env then return env end
  local sandbox_port = tonumber(helper.sandbox().http_url:match(":(%d+)$"))
  return sandbox_port + 100
end

-- The config (tools/nginx_conf.lua): nginx_app.lua serves every location; opts.http and
-- opts.server: extra directives (text) at the http and server levels.
local function render(dir, opts, app_config)
  local root = helper.abs_root
  return conf.render{ dir = dir, root = root, workers = opts.workers, log_level = opts.log_level, connections = 512,
    lua_path = { root .. "?.lua" },
    -- build-luajit: the C core for LuaJIT, only for the spec that shows the curl transport blocking
    lua_cpath = { root .. "build-luajit/?.so" },
    http = { "lua_ssl_verify_depth 3;", opts.http },
    init = "require('spec.support.nginx_app').init([==[" .. cjson.encode(app_config) .. "]==])",
    listen = opts.port .. (opts.reuseport and " reuseport" or ""),
    server = { "location / { content_by_lua_block { require('spec.support.nginx_app').handle() } }", opts.server } }
end

local function wait_port(port, want_open)
  for _ = 1, 200 do
    local s = socket.tcp()
    s:settimeout(0.2)
    local ok = s:connect("127.0.0.1", port)
    s:close()
    if (ok ~= nil) == want_open then return true end
    socket.sleep(0.05)
  end
  return false
end

local function alive(pid)
  local _, ok = sh("kill -0 " .. pid)
  return ok
end

-- Runs nginx on the config already written in dir; returns the instance.
local function launch(dir, port, name, level)
  local out, ok = sh("nginx -p " .. quote(dir) .. " -c " .. quote(dir .. "/nginx.conf"))
  if not ok then
    local log = helper.read_file(dir .. "/error.log") or ""
    sh("rm -rf " .. quote(dir))
    error("nginx did not start: " .. out .. log, level + 1)
  end
  local pid
  for _ = 1, 100 do
    pid = tonumber((helper.read_file(dir .. "/nginx.pid") or ""):match("%d+"))
    if pid then break end
    socket.sleep(0.05)
  end
  assert(pid, "nginx wrote no pid file")
  local inst = { port = port, pid = pid, dir = dir, url = "http://127.0.0.1:" .. port, name = name }
  function inst.stop()
    if inst.stopped then return end
    inst.stopped = true
    sh("kill -QUIT " .. pid)
    for _ = 1, 200 do
      if not alive(pid) then break end
      socket.sleep(0.05)
    end
    if alive(pid) then sh("kill -KILL " .. pid) end
    running[inst] = nil
    if not os.getenv("TD_NGINX_KEEP") then sh("rm -rf " .. quote(dir)) end
  end
  function inst.error_log()
    return helper.read_file(dir .. "/error.log") or ""
  end
  running[inst] = true
  assert(wait_port(port, true), "nginx does not listen on " .. port .. ": " .. inst.error_log())
  return inst
end

local function fresh_dir(port)
  if wait_port(port, false) == false then error("port " .. port .. " is busy (set TD_NGINX_PORT)", 3) end
  local dir = sh("mktemp -d"):gsub("%s+$", "")
  assert(dir:match("^/"), "mktemp -d failed: " .. dir)
  sh("mkdir -p " .. quote(dir .. "/tmp"))
  return dir
end

local write = helper.write_file

-- start{ name, offset, workers, http, server, config } -> instance { url, port, pid, dir, stop }
-- config: extra values for nginx_app.init (the sandbox state is always there).
function M.start(opts)
  local port = M.base_port() + (opts.offset or 0)
  local dir = fresh_dir(port)
  local st = helper.sandbox()
  local app_config = { sandbox = st, name = opts.name or "nginx", port = port }
  for k, v in pairs(opts.config or {}) do app_config[k] = v end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.port = port
  write(dir .. "/nginx.conf", render(dir, o, app_config))
  return launch(dir, port, o.name, 2)
end

-- start_files{ offset, files = { ["nginx.conf"] = text, [name] = text } }: a config given whole
-- (the README's), in a fresh prefix directory readable by nginx's workers.
function M.start_files(opts)
  local port = M.base_port() + (opts.offset or 0)
  local dir = fresh_dir(port)
  sh("chmod 755 " .. quote(dir))
  for name, text in pairs(opts.files) do write(dir .. "/" .. name, text) end
  return launch(dir, port, opts.name or "files", 2)
end

function M.stop_all()
  for inst in pairs(running) do inst.stop() end
end

-- HTTP to an instance: method, path, JSON body (table) -> status, decoded JSON (or nil), headers, text
function M.call(inst, method, path, body, headers)
  return helper.http_json(method, inst.url .. path, body, headers)
end

-- the ngx transport's adapter for spec/nginx/contract_spec.lua (one shared instance, offset 0)
local contract_inst
function M.contract_adapter()
  return { name = "ngx", network = true, run = function(steps)
    if not contract_inst then contract_inst = M.start{ name = "contract", offset = 0 } end
    local status, json, _, text = M.call(contract_inst, "POST", "/contract", { steps = steps })
    assert(status == 200, "nginx /contract answered " .. tostring(status) .. ": " .. tostring(text)
      .. contract_inst.error_log())
    return json.results
  end }
end

function M.stop_contract()
  if contract_inst then contract_inst.stop() contract_inst = nil end
end

return M
