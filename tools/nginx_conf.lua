-- The nginx.conf of the nginx instances we start ourselves (Debian's nginx and its Lua module,
-- 127.0.0.1 only, a prefix directory holding the pid, the logs and the temp files): the bot
-- server of tools/bot.lua and the instances of the nginx specs (spec/support/nginx.lua).
local M = {}

-- Runs a command without the caller's LD_PRELOAD (the sanitizer runs of the specs preload ASan,
-- under which ps and friends can hang); returns its output and whether it succeeded.
function M.sh(cmd)
  local p = assert(io.popen("env -u LD_PRELOAD " .. cmd .. " 2>&1"))
  local out = p:read("*a")
  local ok, _, code = p:close()
  return out, ok == true or ok == 0 or code == 0
end

-- Debian's multiarch triplet: where the Lua 5.1 C modules (cjson) live for nginx's LuaJIT.
function M.multiarch()
  return (M.sh("gcc -print-multiarch || dpkg-architecture -qDEB_HOST_MULTIARCH"):match("[%w_-]+")) or "x86_64-linux-gnu"
end

-- render{ dir, root, listen, init, workers = 1, log_level = "warn", connections = 256, access_log = path|nil (off),
--   comment, lua_path = { entries }, lua_cpath = { entries }, http = { lines }, server = { lines } } -> text
-- root: the repository's absolute path, ending in "/" (its lua/ goes first on the Lua path); init: the
-- init_by_lua_block's code; listen: what follows "listen 127.0.0.1:" (the port, and options).
function M.render(o)
  local root = o.root
  local path = { root .. "lua/?.lua", root .. "lua/?/init.lua" }
  for _, p in ipairs(o.lua_path or {}) do path[#path + 1] = p end
  path[#path + 1] = "/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;;" -- ";;": then nginx's default
  local cpath = {}
  for _, p in ipairs(o.lua_cpath or {}) do cpath[#cpath + 1] = p end
  cpath[#cpath + 1] = "/usr/lib/" .. M.multiarch() .. "/lua/5.1/?.so;;"
  local dir = o.dir
  local lines = {
    "# " .. (o.comment or "Rendered by tools/nginx_conf.lua: 127.0.0.1 only."),
    "worker_processes " .. (o.workers or 1) .. ";",
    M.sh("id -u"):match("^0%s") and "user root;" or "",
    "daemon on;",
    "pid " .. dir .. "/nginx.pid;",
    "error_log " .. dir .. "/error.log " .. (o.log_level or "warn") .. ";",
    "load_module /usr/lib/nginx/modules/ndk_http_module.so;",
    "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;",
    "events { worker_connections " .. (o.connections or 256) .. "; }",
    "http {",
    "  access_log " .. (o.access_log or "off") .. ";",
  }
  for _, t in ipairs({ "body", "proxy", "fastcgi", "uwsgi", "scgi" }) do
    lines[#lines + 1] = "  " .. (t == "body" and "client_body" or t) .. "_temp_path " .. dir .. "/tmp/" .. t .. ";"
  end
  local rest = {
    "  client_body_buffer_size 1m;",
    "  lua_socket_log_errors off;",
    '  lua_package_path "' .. table.concat(path, ";") .. '";',
    '  lua_package_cpath "' .. table.concat(cpath, ";") .. '";',
  }
  for _, l in ipairs(rest) do lines[#lines + 1] = l end
  for _, l in ipairs(o.http or {}) do lines[#lines + 1] = "  " .. l end
  lines[#lines + 1] = "  init_by_lua_block { " .. o.init .. " }"
  lines[#lines + 1] = "  server {"
  lines[#lines + 1] = "    listen 127.0.0.1:" .. o.listen .. ";"
  for _, l in ipairs(o.server or {}) do lines[#lines + 1] = "    " .. l end
  lines[#lines + 1] = "  }"
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n") .. "\n"
end

return M
