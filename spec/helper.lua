-- Loaded by busted before every spec file (see .busted). Keeps the specs independent of where
-- busted was started from, and gives the core and sandbox specs the running sandbox's state.
local root = debug.getinfo(1, "S").source:match("^@(.*)spec/helper%.lua$") or "./"
if root == "" then root = "./" end
package.path = root .. "lua/?.lua;" .. root .. "lua/?/init.lua;" .. root .. "?.lua;" .. package.path
-- TD_BUILD_DIR picks the build of the C core for this interpreter (build-5.1, build-luajit)
package.cpath = root .. (os.getenv("TD_BUILD_DIR") or "build") .. "/?.so;" .. package.cpath

local helper = {}
helper.root = root

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end
helper.read_file = read_file

-- The repository root as an absolute path (for commands run from another directory).
helper.abs_root = root:sub(1, 1) == "/" and root or ((os.getenv("PWD") or ".") .. "/" .. (root == "./" and "" or root))

-- A string quoted for sh.
function helper.shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The content of a file (or "") and the file removed: for a child's captured output.
function helper.take_file(path)
  local s = read_file(path) or ""
  os.remove(path)
  return s
end

function helper.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The command that runs this interpreter (for child processes).
function helper.interpreter()
  if rawget(_G, "jit") then return "luajit" end
  return _VERSION == "Lua 5.1" and "lua5.1" or "lua5.4"
end

-- The absolute path of the interpreter running busted (busted's parent process), for commands
-- that run it by path.
function helper.interpreter_path()
  local p = assert(io.popen("readlink /proc/$PPID/exe"))
  local path = p:read("*l")
  p:close()
  return path
end

-- Runs a Lua chunk in a child interpreter with the SDK's paths (and this run's build of the C
-- core), behind an optional command prefix (`env NAME=value`, a limit wrapper); returns its
-- output (stdout and stderr).
function helper.lua_child(code, prefix)
  local build = os.getenv("TD_BUILD_DIR") or "build"
  local boot = string.format("package.path=%q..package.path; package.cpath=%q..package.cpath; ",
    root .. "lua/?.lua;" .. root .. "lua/?/init.lua;", root .. build .. "/?.so;")
  local file = os.tmpname()
  helper.write_file(file, boot .. code)
  local p = assert(io.popen((prefix and (prefix .. " ") or "") .. helper.interpreter() .. " '" .. file .. "' 2>&1"))
  local out = p:read("*a")
  p:close()
  os.remove(file)
  return out
end

local state_cache
-- The sandbox started by ./dev test (or by hand with ./dev sandbox start). Raises with a hint
-- when none is running, so a core spec never silently passes without a server.
function helper.sandbox()
  if state_cache then return state_cache end
  local dir = os.getenv("TD_SANDBOX_DIR") or (root .. ".sandbox")
  local path = dir .. "/state.json"
  local text = read_file(path)
  if not text then
    error("no sandbox state at " .. path .. ": start one with `./dev sandbox start`", 2)
  end
  local cjson = require("cjson.safe")
  local st = cjson.decode(text)
  if type(st) ~= "table" then error("unreadable sandbox state at " .. path, 2) end
  state_cache = st
  return st
end

-- A call to the sandbox's control path (/__sandbox + path); raises unless it answers 200.
function helper.control(method, path, body)
  local status, decoded = helper.http_json(method, helper.sandbox().control_url .. path, body)
  if status ~= 200 then error("sandbox control " .. method .. " " .. path .. " answered HTTP " .. tostring(status), 2) end
  return decoded
end

-- Arms a sandbox fault: the next `count` calls (1 by default) whose path matches get `action`.
function helper.fault(path, action, count, method)
  return helper.control("POST", "/faults", { path = path, action = action, count = count or 1, method = method })
end

-- Plain HTTP through luasocket (independent of the SDK), for the sandbox's own specs.
-- Returns status, headers (lower-case names), body string.
function helper.http(method, url, body, headers)
  local http = require("socket.http")
  local ltn12 = require("ltn12")
  local out = {}
  local hdrs = {}
  for k, v in pairs(headers or {}) do hdrs[k:lower()] = v end
  if body and type(body) == "table" then
    body = require("cjson").encode(body)
    hdrs["content-type"] = hdrs["content-type"] or "application/json"
  end
  if body then hdrs["content-length"] = tostring(#body) end
  local _, status, rheaders = http.request{
    url = url, method = method, headers = hdrs,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(out), redirect = false,
  }
  if type(status) ~= "number" then error("http " .. method .. " " .. url .. ": " .. tostring(status), 2) end
  return status, rheaders or {}, table.concat(out)
end

-- Same, decoding a JSON body (nil when the body is not JSON).
function helper.http_json(method, url, body, headers)
  local status, h, text = helper.http(method, url, body, headers)
  return status, require("cjson.safe").decode(text), h, text
end

-- Authorization header for a seeded role ("owner", "admin", "agent"), a "JWT ..." token,
-- or a ready headers table.
function helper.auth(who)
  if type(who) == "table" then return who end
  if type(who) == "string" and who:match("^JWT ") then return { authorization = who } end
  local u = helper.sandbox().users[who]
  if not u then error("no seeded user " .. tostring(who), 2) end
  return { authorization = "Basic " .. require("mime").b64(u.email .. ":" .. u.password) }
end

-- A project-scoped call to the sandbox as `who` (nil: no credentials). String bodies are
-- sent as JSON text; extra headers are merged in.
function helper.api(who, method, path, body, headers)
  local st = helper.sandbox()
  local h = {}
  for k, v in pairs(who and helper.auth(who) or {}) do h[k] = v end
  for k, v in pairs(headers or {}) do h[k] = v end
  if type(body) == "string" then h["content-type"] = h["content-type"] or "application/json" end
  return helper.http_json(method, st.http_url .. "/" .. st.project_id .. path, body, h)
end

-- The server's refusals its middleware and most routes answer (middleware/has-role.js; the routes'
-- findById misses).
helper.ROLE = { success = false, msg = "you dont have the required role." }
helper.NOT_MEMBER = { success = false, msg = "you dont belong to the project." }
helper.NOT_FOUND = { success = false, msg = "Object not found." }

-- An HTTP answer as the server gives it: `status`, and `words`: the decoded JSON body (compared
-- whole) or, for a body that is no JSON, its text. Takes what helper.api / helper.http_json return.
function helper.answers(status, words, s, decoded, _, text)
  local assert = require("luassert")
  assert.equal(status, s, text)
  if type(words) == "table" then assert.same(words, decoded, text) else assert.equal(words, text) end
end

-- A client of the sandbox's project signed in as a seeded role ("owner", "admin", "agent"), over
-- its /v3 base URL, with `extra` options.
function helper.signed_in(role, extra)
  local st = helper.sandbox()
  local u = st.users[role]
  if not u then error("no seeded user " .. tostring(role), 2) end
  local o = { base_url = st.http_url .. "/v3", project_id = st.project_id, email = u.email, password = u.password }
  for k, v in pairs(extra or {}) do o[k] = v end
  return require("tiledesk").new(o)
end

-- A call that failed with HTTP `status`: checks the nil, msg, err it returned; returns err.
function helper.refused(status, v, msg, err)
  local assert = require("luassert")
  assert.is_nil(v, "expected HTTP " .. status .. ", got a value")
  assert.is_table(err, tostring(msg))
  assert.equal(status == 404 and "not_found" or "http", err.kind, msg) -- a 404 says: no such object
  assert.equal(status, err.status, msg)
  return err
end

-- The sandbox back to its seed (faults, log and sinks cleared).
-- Date.prototype.toString() of an ISO 8601 UTC instant, in a server process whose zone is UTC
-- (how String() and csv-express write a stored date): worked out here, not by the sandbox.
function helper.js_date(iso)
  local y, mo, d, hh, mm, ss = iso:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local a = mo <= 2 and 1 or 0 -- days since 1970-01-01, from the proleptic Gregorian date
  local yy, mm2 = y - a, mo + 12 * a - 3
  local fl = math.floor -- no // here: the helper is loaded by Lua 5.1 and LuaJIT too
  local days = 365 * yy + fl(yy / 4) - fl(yy / 100) + fl(yy / 400) + fl((153 * mm2 + 2) / 5) + d - 1 - 719468
  local t = days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
  return os.date("!%a %b %d %Y %H:%M:%S", t) .. " GMT+0000 (Coordinated Universal Time)"
end

function helper.reset()
  local status = helper.http_json("POST", helper.sandbox().control_url .. "/reset")
  if status ~= 200 then error("the sandbox reset answered HTTP " .. tostring(status), 2) end
end


-- The deliveries of a sandbox sink once there are at least n (polls at most 50 x 100 ms).
function helper.wait_sink(name, n)
  local sleep = require("tiledesk.core").sleep_ms
  local d
  for _ = 1, 50 do
    d = helper.control("GET", "/sink/" .. name).deliveries
    if #d >= n then return d end
    sleep(100)
  end
  return d
end

-- Every string reachable from v: tables walked (keys too), __tostring of metatables used. The
-- fake transport is skipped: it is where the secrets are meant to live. For redaction specs.
function helper.strings_in(v, out, seen)
  out, seen = out or {}, seen or {}
  if type(v) == "table" and getmetatable(v) and getmetatable(v).__name == "spec.fake_transport" then return out end
  local t = type(v)
  if t == "string" then out[#out + 1] = v
  elseif t == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do helper.strings_in(k, out, seen) helper.strings_in(x, out, seen) end
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = tostring(v) end
  end
  return out
end

-- The query of a URL: name -> value, or an array of values when the name repeats; both decoded.
-- The list (or map) a spec loops over, once asserted to hold something: a loop over an empty list
-- checks nothing and passes. Returns t.
function helper.nonempty(t, what)
  local assert = require("luassert")
  assert.is_table(t, what)
  assert.is_not_nil(next(t), (what or "the list") .. " is empty: a loop over it would check nothing")
  return t
end

-- An activity's actor without its _id, once that _id is checked to be an ObjectId: the actor
-- is a single nested subdocument of a schema without `_id: false` (pubmodules/activities/
-- models/activity.js ActorActivitySchema; its RelatedActivitySchema says `_id: false`), so
-- mongoose gives it an _id of its own.
function helper.actor_of(a)
  local assert = require("luassert")
  assert.is_table(a.actor)
  assert.matches("^%x+$", a.actor._id)
  assert.equal(24, #a.actor._id)
  return { type = a.actor.type, id = a.actor.id, name = a.actor.name }
end

-- The project id of the unit specs' clients.
helper.PID = "65a1b2c3d4e5f60718293a4b"

-- A unit spec's client over a fresh fake transport (spec/support/fake_transport.lua): base_url
-- https://api.test/v3, helper.PID, token "JWT t", then `defaults`, then `opts`. Returns client, fake.
function helper.fake_client(opts, defaults)
  local fake = require("spec.support.fake_transport").new()
  local o = { base_url = "https://api.test/v3", project_id = helper.PID, transport = fake, token = "JWT t" }
  for k, v in pairs(defaults or {}) do o[k] = v end
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("tiledesk").new(o), fake
end

function helper.query_of(u)
  local function dec(x) return (x:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
  local q = {}
  for k, v in (u:match("%?(.*)$") or ""):gmatch("([^&=]+)=([^&]*)") do
    k, v = dec(k), dec(v)
    if q[k] == nil then q[k] = v elseif type(q[k]) == "table" then table.insert(q[k], v) else q[k] = { q[k], v } end
  end
  return q
end

return helper
