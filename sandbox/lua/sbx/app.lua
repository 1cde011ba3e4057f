-- The sandbox's content handler: version prefixes, the control path, faults, the project-id
-- check (before auth), authentication, role checks, dispatch, and the request log.
local json = require("sbx.json")
local util = require("sbx.util")
local store = require("sbx.store")
local errors = require("sbx.errors")
local jwt = require("sbx.jwt")
local crypto = require("sbx.crypto")
local router_mod = require("sbx.router")

local _M = {}

local config = {}
local router = router_mod.new()
local seq = 0

-- the first path segments that are not a project id (app.js mounts)
local GLOBAL = { auth = true, users = true, projects = true, testauth = true, users_util = true,
  requests_util = true, public = true, webhook = true, files = true, images = true, modules = true,
  chat21 = true, favicon = true, ["favicon.ico"] = true }

local ROLE_RANK = { guest = 1, user = 2, teammate = 3, agent = 4, supervisor = 5, admin = 6, owner = 7 }
_M.ROLE_RANK = ROLE_RANK

-- one module per SDK area (sbx/api/<area>.lua), each a table of handlers and a route list
local API_MODULES = { "auth", "users", "projects", "team", "requests", "messages", "leads", "departments", "groups",
  "bots", "faqs", "canned", "tags", "subscriptions", "webhooks", "events", "keys", "activities", "analytics", "labels",
  "properties", "segments", "roles", "campaigns", "emails", "quotes", "files",
  "bot_import", "flow_logs", "kb", "tables", "triggers", "widget", "webhook_dev" }

function _M.config() return config end
function _M.router() return router end

function _M.init(opts)
  config.dir = opts.dir
  config.port = opts.port
  config.tls_port = opts.tls_port
  config.http_url = "http://127.0.0.1:" .. opts.port
  config.https_url = "https://localhost:" .. opts.tls_port
  config.wrong_host_url = "https://localhost:" .. opts.wrong_port
  -- a fresh global secret per start: tokens of an older run are forgeries now
  config.global_secret = crypto.hex(crypto.random(32))
  for _, name in ipairs(API_MODULES) do
    router:mount(name, require("sbx.api." .. name))
  end
  require("sbx.control").register(router)
  store.add_seeder(require("sbx.conv").reset)
  store.add_seeder(require("sbx.seed_core"))
  store.add_seeder(require("sbx.seed"))
  store.reset()
end

---------------------------------------------------------------------------------------------
-- responses

local function send(status, body, ctype, extra_headers)
  ngx.status = status
  if extra_headers then
    for k, v in pairs(extra_headers) do ngx.header[k] = v end
  end
  if type(body) == "table" or body == json.null then -- json.null: a JSON null answer (res.json(null))
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    body = json.encode(body)
  elseif body == nil then
    body = ""
  else
    ngx.header["Content-Type"] = ctype or "text/plain; charset=utf-8"
  end
  ngx.header["Content-Length"] = #body
  ngx.print(body)
  return status, body
end
_M.send = send

-- Express's finalhandler page: the raw path, percent-encoded where a URL may not hold the
-- character, then HTML-escaped.
local HTML_ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }
local function html_404(method, raw_path)
  -- encodeurl: a '%' not starting an escape becomes %25; characters outside
  -- !%&'()*+,-./0-9:;=?@A-Z[]_a-z~ are escaped
  -- (a path of letters, digits and /._-~ alone is its own encoding and needs no HTML escape)
  local encoded = raw_path
  if raw_path:find("[^%w/%._~%-]") then
    encoded = raw_path:gsub("%%(%x?%x?)", function(h)
      if #h == 2 then return "%" .. h end
      return "%25" .. h
    end):gsub("[^%w!%%&'%(%)%*%+,%-%./:;=%?@%[%]_~]", function(c)
      return string.format("%%%02X", c:byte())
    end)
  end
  local text = "Cannot " .. method .. " " .. encoded
  if text:find("[&<>\"']") then text = text:gsub("[&<>\"']", HTML_ESC) end
  return 404, '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
    .. "</head>\n<body>\n<pre>" .. text .. "</pre>\n</body>\n</html>\n",
    "text/html; charset=utf-8"
end

local function unauthorized()
  return 401, "Unauthorized", "text/plain; charset=utf-8", { ["WWW-Authenticate"] = 'Basic realm="Users"' }
end

---------------------------------------------------------------------------------------------
-- authentication

local function find_user_by_email(email)
  email = tostring(email):lower()
  return store.coll("users"):find_one(function(u) return u.email == email and u.status == 100 end)
end
_M.find_user_by_email = find_user_by_email

-- String.prototype.split(" ") of JavaScript: empty pieces kept.
local function js_split(str, sep)
  local out, i = {}, 1
  while true do
    local j = str:find(sep, i, true)
    if not j then out[#out + 1] = str:sub(i) return out end
    out[#out + 1] = str:sub(i, j - 1)
    i = j + #sep
  end
end

-- Node's Buffer.from(s, "base64") is lenient: it skips foreign characters and missing padding.
local function lenient_base64(value)
  local b = value:gsub("%-", "+"):gsub("_", "/"):gsub("[^%w%+/]", "")
  if #b % 4 == 1 then b = b:sub(1, -2) end
  if #b % 4 > 0 then b = b .. string.rep("=", 4 - #b % 4) end
  return ngx.decode_base64(b) or ""
end

-- passport-http's Basic strategy. Returns principal; or nil, 400 (a header it calls malformed:
-- fewer than two space-separated parts, or credentials without ':'); or nil (challenge, 401).
local function basic_strategy(header)
  if not header then return nil end
  -- parts[1] of the split, without the split: a "JWT ..." header goes no further
  local space = header:find(" ", 1, true)
  if not space then return nil, 400 end
  if not header:sub(1, space - 1):lower():find("basic", 1, true) then return nil end
  local parts = js_split(header, " ")
  local creds = js_split(lenient_base64(parts[2]), ":")
  if #creds < 2 then return nil, 400 end
  local email, password = creds[1], creds[2]
  if email == "" or password == "" then return nil end
  local u = find_user_by_email(email)
  if not u or not crypto.equal(u.password, password) then return nil end
  return { kind = "user", id = u._id, user = u }
end

-- passport-jwt: the token of "JWT <token>" (scheme in any case; the first two runs of
-- non-blanks, as its /(\S+)\s+(\S+)/ reads them), else ?secret_token=.
-- header text -> its JWT token or false, kept (a function of the text alone; bounded as sbx.jwt's
-- memos are): a client sends the same header call after call.
local header_tokens, n_header_tokens = {}, 0

local function jwt_token(header, query_token)
  if header then
    local value = header_tokens[header]
    if value == nil then
      local scheme
      scheme, value = header:match("(%S+)%s+(%S+)")
      value = scheme ~= nil and scheme:lower() == "jwt" and value
      if n_header_tokens >= jwt.MEMO_MAX then header_tokens, n_header_tokens = {}, 0 end
      header_tokens[header], n_header_tokens = value, n_header_tokens + 1
    end
    if value then return value end
  end
  if type(query_token) == "table" then query_token = query_token[1] end
  if type(query_token) == "string" and query_token ~= "" then return query_token end
  return nil
end

local function jwt_strategy(value)
  local sub, aud = jwt.subject(value)
  local secret, kind
  if sub == "user" or sub == "guest" then
    secret, kind = config.global_secret, sub
  elseif sub == "userexternal" then
    local pid = type(aud) == "string" and aud:match("^https://tiledesk%.com/projects/(%x+)$")
    local project = pid and store.coll("projects"):get(pid)
    if not project or not project.jwtSecret then return nil end
    secret, kind = project.jwtSecret, sub
  elseif sub == "bot" then
    local bid = type(aud) == "string" and aud:match("^https://tiledesk%.com/bots/(%x+)$")
    local bot = bid and store.coll("faq_kb"):get(bid)
    if not bot then return nil end
    secret, kind = bot.secret, sub
  elseif sub == "subscription" then
    local sid = type(aud) == "string" and aud:match("^https://tiledesk%.com/subscriptions/(%x+)$")
    local s = sid and store.coll("subscriptions"):get(sid)
    if not s then return nil end
    secret, kind = s.secret, sub
  else
    return nil
  end
  local verified = jwt.verify(value, secret)
  if not verified then return nil end
  local id = verified._id or (type(verified._doc) == "table" and verified._doc._id)
  if id == nil then return nil end
  local p = { kind = kind, id = tostring(id), payload = verified }
  if kind == "user" then
    local u = store.coll("users"):get(p.id)
    if not u or u.status ~= 100 then return nil end
    p.user = u
  elseif kind == "bot" then
    p.bot = store.coll("faq_kb"):get(p.id)
    if not p.bot then return nil end
  elseif kind == "subscription" then
    p.sub = store.coll("subscriptions"):get(p.id)
    if not p.sub then return nil end
  else
    -- guest and userexternal tokens resolve to their payload, nothing looked up
    p.user = verified
  end
  return p
end

-- passport.authenticate(['basic','jwt']). Returns principal, or nil, status (400 when the
-- first failing strategy said so, else 401). principal = { kind, id, user, bot, sub, payload }
local function authenticate(header, query_token)
  if type(header) == "table" then header = header[1] end -- node keeps the first Authorization
  if header == "" then header = nil end
  local p, status = basic_strategy(header)
  if p then return p end
  local token = jwt_token(header, query_token)
  p = token and jwt_strategy(token)
  if p then return p end
  return nil, status or 401
end
_M.authenticate = authenticate

-- middleware/valid-token.js, after passport: the header must split on " " into two parts.
local function valid_token(header)
  if type(header) == "table" then header = header[1] end
  if type(header) ~= "string" or header == "" then return false end
  -- two parts: exactly one " "
  local space = header:find(" ", 1, true)
  return space ~= nil and header:find(" ", space + 1, true) == nil
end

-- The token the server would issue for a user document.
function _M.user_token(u)
  return "JWT " .. jwt.sign({ _id = u._id, email = u.email, firstname = u.firstname, lastname = u.lastname,
    emailverified = u.emailverified, iat = ngx.time(), aud = "https://tiledesk.com",
    iss = "https://tiledesk.com", sub = "user", jti = store.uuid() }, config.global_secret)
end

function _M.sign_with_global(payload)
  return jwt.sign(payload, config.global_secret)
end

-- The project_user of a principal in a project (nil when not a member). As has-role.js looks
-- it up: users by id_user, guest and custom-token (userexternal) principals by uuid_user, and
-- only active memberships (status "active": trashed or not, as projectUserService.get asks;
-- a soft delete disables too). Whatever a token's payload says, membership is this document.
function _M.membership(principal, pid)
  local field = principal.kind == "user" and "id_user" or "uuid_user"
  local id = principal.id
  -- the first match in store order, as find_one gives it (a plain loop: no closure per call)
  local docs = store.coll("project_users"):all()
  for i = 1, #docs do
    local pu = docs[i]
    if pu.id_project == pid and pu[field] == id and pu.status == "active" then return pu end
  end
  return nil
end

-- A custom role of the project (collection roles, made through /:pid/roles), by name.
function _M.custom_role(pid, name)
  if type(name) ~= "string" or ROLE_RANK[name] then return nil end
  return store.coll("roles"):find_one(function(r)
    return r.id_project == pid and r.name == name and (r.status or 100) < 1000
  end)
end

-- Whether a member holds a permission name through a custom role ('*' grants all).
function _M.has_permission(pu, perm)
  local list = pu and pu.permissions
  if type(list) ~= "table" then return false end
  return util.contains(list, "*") or util.contains(list, perm)
end

local function authorize(route, ctx)
  local opts = route.opts
  local p = ctx.principal
  if not ctx.pid then return true end
  if p.kind == "bot" or p.kind == "subscription" then
    local owner = p.bot or p.sub
    if opts.types and util.contains(opts.types, p.kind) and owner and owner.id_project == ctx.pid then
      return true
    end
    -- has-role.js: a bot or subscription the route's types do not admit is looked up as a member
    -- (by its _id), which it never is
    return false, errors.not_member()
  end
  local pu = _M.membership(p, ctx.pid)
  if not pu then return false, errors.not_member() end
  ctx.principal.pu = pu
  ctx.principal.role = pu.role
  if opts.role then
    local rank = ROLE_RANK[pu.role]
    if rank then
      if rank < ROLE_RANK[opts.role] then return false, errors.role() end
    elseif opts.role ~= "guest" and not (opts.perm and _M.has_permission(pu, opts.perm)) then
      -- a custom role passes by permission names, never by rank
      return false, errors.permission()
    end
  end
  return true
end

-- Path parameters holding a Mongo _id: the server casts them, and a malformed one is a
-- CastError answered with a 500 (docs/server-api.md §4), before any 404.
local OID_PARAMS = { id = true, puid = true, mid = true }
local CAST_MSG = { GET = "Error getting object.", POST = "Error getting object.", PUT = "Error updating object.",
  PATCH = "Error updating object.", DELETE = "Error deleting object." }

local function bad_object_id(route, ctx)
  if route.opts.oid == false then return nil end
  for name in pairs(OID_PARAMS) do
    local v = ctx.params[name]
    if v ~= nil and not util.is_oid(v) and not (route.opts.oid_except and route.opts.oid_except(v)) then
      return CAST_MSG[ctx.method] or CAST_MSG.GET
    end
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- the request

local function read_body()
  ngx.req.read_body()
  local data = ngx.req.get_body_data()
  if not data then
    local file = ngx.req.get_body_file()
    if file then
      local f = io.open(file, "rb")
      if f then data = f:read("*a") f:close() end
    end
  end
  return data
end

local function url_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end


-- body-parser: json (strict: an object or an array at the top) and urlencoded (extended, as
-- qs reads it: a[b]=1, a[]=1, repeated keys), both before anything else looks at the request.
local function form_unescape(v)
  return url_decode((v:gsub("%+", " ")))
end

local function form_decode(raw)
  local out = {}
  local n = 0
  for pair in raw:gmatch("[^&]+") do
    n = n + 1
    if n > 1000 then break end -- qs parameterLimit
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = form_unescape(k), form_unescape(v)
    if k ~= "" then
      local path = { k }
      local base, rest = k:match("^([^%[]+)(%[.*%])$")
      if base and rest:gsub("%[[^%]]*%]", "") == "" then
        path = { base }
        for sub in rest:gmatch("%[([^%]]*)%]") do path[#path + 1] = sub end
      end
      local t = out
      for i = 1, #path - 1 do
        local key = path[i]
        if key == "" then key = #t + 1 end
        if type(t[key]) ~= "table" then t[key] = path[i + 1] == "" and json.arr() or {} end
        t = t[key]
      end
      local last = path[#path]
      if last == "" then
        t[#t + 1] = v
      elseif t[last] == nil then
        t[last] = v
      elseif type(t[last]) == "table" and getmetatable(t[last]) == json.array_mt then
        t[last][#t[last] + 1] = v
      elseif type(t[last]) == "string" then
        t[last] = json.arr{ t[last], v }
      end
    end
  end
  return out
end

-- Returns nil when fine, else the 500 of Express's error handler.
local function parse_body(ctx)
  local raw = ctx.raw_body
  if not raw or raw == "" then return nil end
  local ct = util.header_value(ctx.headers, "content-type")
  local media = ct:match("^%s*([^;%s]+)") or ""
  media = media:lower()
  if media == "application/json" or media:match("^[%w%.%-]+/[%w%.%-]+%+json$") then
    local first = raw:match("^[ \t\r\n]*(.)")
    local v = (first == "{" or first == "[") and json.decode(raw) or nil
    if v == nil then return 500, { err = "error" } end -- malformed, or not an object/array
    ctx.body = v
  elseif media == "application/x-www-form-urlencoded" then
    ctx.body = form_decode(raw)
  end
  return nil
end

-- middleware/ipFilter.js, on every /:projectid/ path before its routes: the project's allow
-- list (ipFilterEnabled, ipFilter), its deny list (ipFilterDenyEnabled, ipFilterDeny) and its
-- banned users by the _id of the token (decoded, not verified); each a JSON 401. The client's
-- address is the first X-Forwarded-For entry, else the peer's; the entries are read as
-- express-ipfilter reads them (sbx/ipfilter.lua: CIDR blocks of both kinds, else the text).
local ip_listed = require("sbx.ipfilter").listed

local function ip_filter(ctx)
  local p = ctx.project
  local ip = ngx.var.remote_addr
  local fwd = util.header_value(ctx.headers, "x-forwarded-for")
  if fwd ~= "" then ip = fwd:match("^([^,]*)") end
  if p.ipFilterEnabled == true and type(p.ipFilter) == "table" and #p.ipFilter > 0 and not ip_listed(ip, p.ipFilter) then
    return 401, { err = "error project ip filter" }
  end
  if p.ipFilterDenyEnabled == true and type(p.ipFilterDeny) == "table" and #p.ipFilterDeny > 0
    and ip_listed(ip, p.ipFilterDeny) then
    return 401, { err = "error project deny ip filter" }
  end
  local banned = type(p.bannedUsers) == "table" and p.bannedUsers or {}
  if #banned > 0 then
    local parts = js_split(util.header_value(ctx.headers, "authorization"), " ")
    local payload
    if #parts == 2 then payload = select(2, jwt.peek(parts[2])) end
    local id = type(payload) == "table" and payload._id
    for _, u in ipairs(banned) do
      if id and type(u) == "table" and u.id == id then return 401, { err = "error projectBanUserFilter by id" } end
    end
  end
  return nil
end

-- cors() with its defaults, mounted first: any origin, and OPTIONS answered as a preflight.
local CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"

local function preflight(ctx)
  local extra = { ["Access-Control-Allow-Methods"] = CORS_METHODS }
  local asked = ctx.headers["access-control-request-headers"]
  if type(asked) == "table" then asked = table.concat(asked, ",") end
  if asked then
    extra["Access-Control-Allow-Headers"] = asked
    extra["Vary"] = "Access-Control-Request-Headers"
  end
  return 204, nil, nil, extra
end

local function dispatch(ctx)
  if ctx.method == "OPTIONS" then return preflight(ctx) end
  local status, body = parse_body(ctx)
  if status then return status, body end
  local segs = ctx.segs
  if #segs == 0 then
    return 200, "Hello from Tiledesk server (sandbox). It's UP. See the documentation here http://developer.tiledesk.com",
      "text/html; charset=utf-8"
  end
  -- project id check, before auth
  local first = segs[1]
  local is_control = first == "__sandbox"
  if not is_control and not GLOBAL[first] then
    if not util.is_oid(first) then
      return 400, { error = "Invalid project id: " .. first }
    end
    local project = store.coll("projects"):get(first)
    if not project or project.status ~= 100 then
      return 400, { error = "Project not found with id: " .. first }
    end
    ctx.pid, ctx.project = first, project
    local st, b = ip_filter(ctx)
    if st then return st, b end
  end
  local route, params = router:match(ctx.method, segs)
  if not route then return html_404(ctx.method, ctx.raw_path) end
  ctx.params, ctx.route = params, route
  if ctx.pid == nil and params.pid then ctx.pid = params.pid end
  local header = ctx.headers.authorization
  if route.opts.auth ~= false then
    local p, failed = authenticate(header, ctx.query.secret_token)
    if not p then
      if failed == 400 then return 400, "Bad Request", "text/plain; charset=utf-8" end
      return unauthorized()
    end
    if not valid_token(header) then return errors.forbidden() end
    ctx.principal = p
    local ok, st, b = authorize(route, ctx)
    if not ok then return st, b end
  else
    -- optional auth: handlers may still look at who calls
    ctx.principal = authenticate(header)
  end
  local cast = bad_object_id(route, ctx)
  if cast then return errors.server(cast) end
  return route.handler(ctx)
end

-- The calls known to write nothing to the store, whatever they are answered (their path and
-- method alone decide; a fault on one of them writes nothing either): the conversation lists,
-- GET /:pid/requests and /:pid/requests/me. Text kept from documents (store.generation) stays
-- good across them; any other call may write, and counts as a writer.
local function read_only(method, segs)
  if method ~= "GET" or segs[2] ~= "requests" then return false end
  local n, first = #segs, segs[1]
  if GLOBAL[first] or first == "__sandbox" then return false end
  return n == 2 or (n == 3 and segs[3] == "me")
end

-- The log phase of every call (nginx.conf): a writer's end, however its content phase ended
-- (an answer, an error, ngx.exit of a fault).
function _M.finish()
  local ctx = ngx.ctx
  if ctx.sbx_writer then
    ctx.sbx_writer = nil
    store.end_write()
  end
end

function _M.handle()
  seq = seq + 1
  local my_seq = seq
  ngx.header["X-Sandbox-Connection"] = ngx.var.connection
  ngx.header["X-Sandbox-Request"] = my_seq
  ngx.header["Access-Control-Allow-Origin"] = "*"
  local method = ngx.req.get_method()
  local raw_uri = ngx.var.request_uri or "/"
  local raw_path, raw_query = raw_uri:match("^([^?]*)%??(.*)$")
  local segs = {}
  for s in raw_path:gmatch("[^/]+") do
    if s:find("%", 1, true) then s = url_decode(s) end
    segs[#segs + 1] = s
  end
  if segs[1] and segs[1]:match("^v[123]$") then
    table.remove(segs, 1)
    raw_path = raw_path:gsub("^/*[^/]+", "", 1)
    if raw_path == "" then raw_path = "/" end
  end
  local path = "/" .. table.concat(segs, "/")
  -- every call but the read-only ones counts as a writer until its log phase (finish)
  if not read_only(method, segs) then
    ngx.ctx.sbx_writer = true
    store.begin_write()
  end
  local headers = ngx.req.get_headers(100)
  local ctx = {
    method = method, path = path, raw_path = raw_path, segs = segs, query = ngx.req.get_uri_args(200),
    raw_query = raw_query, headers = headers, raw_body = read_body(), seq = my_seq,
  }
  local control = require("sbx.control")
  local entry
  if segs[1] ~= "__sandbox" then
    -- control.log_request keeps a redacted copy of the headers and body
    entry = control.log_request{ seq = my_seq, method = method, path = path, query = raw_query,
      headers = headers, body = ctx.raw_body, connection = tonumber(ngx.var.connection) }
    local fault = control.take_fault(method, path)
    if fault then
      local handled, status = control.apply_fault(fault, ctx, dispatch, send)
      if handled then
        if entry then entry.status = status end
        return
      end
    end
  end
  local ok, status, body, ctype, extra = pcall(dispatch, ctx)
  if not ok then
    ngx.log(ngx.ERR, "sandbox handler error: ", status)
    status, body, ctype, extra = 500, { err = "error" }, nil, nil
  end
  send(status, body, ctype, extra)
  if entry then entry.status = status end
end

-- Used by fault actions that need the real answer first.
_M.dispatch = dispatch

return _M
