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

local API_MODULES = { "auth", "users", "projects", "project_users", "requests", "messages", "leads",
  "departments", "bots", "misc" }

function _M.config() return config end
function _M.router() return router end

function _M.init(opts)
  config.dir = opts.dir
  config.port = opts.port
  config.tls_port = opts.tls_port
  config.http_url = "http://127.0.0.1:" .. opts.port
  config.https_url = "https://localhost:" .. opts.tls_port
  -- a fresh global secret per start: tokens of an older run are forgeries now
  config.global_secret = crypto.hex(crypto.random(32))
  for _, name in ipairs(API_MODULES) do
    require("sbx.api." .. name)(router)
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
  for k, v in pairs(extra_headers or {}) do ngx.header[k] = v end
  if type(body) == "table" then
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

local function html_404(method, path)
  return 404, '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
    .. "</head>\n<body>\n<pre>Cannot " .. method .. " " .. path .. "</pre>\n</body>\n</html>\n",
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

-- Returns principal or nil (401). principal = { kind, id, user, bot, sub, payload }
local function authenticate(header)
  if type(header) ~= "string" or header == "" then return nil end
  local scheme, value = header:match("^(%S+)%s+(.+)$")
  if not scheme then return nil end
  scheme = scheme:lower()
  if scheme == "basic" then
    local pair = ngx.decode_base64(value)
    if not pair then return nil end
    local email, password = pair:match("^([^:]*):(.*)$")
    if not email then return nil end
    local u = find_user_by_email(email)
    if not u or not crypto.equal(u.password, password) then return nil end
    return { kind = "user", id = u._id, user = u }
  elseif scheme == "jwt" then
    local _, payload = jwt.peek(value)
    if not payload then return nil end
    local sub, aud = payload.sub, payload.aud
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
      p.user = verified
    end
    return p
  end
  return nil
end
_M.authenticate = authenticate

-- The token the server would issue for a user document.
function _M.user_token(u)
  return "JWT " .. jwt.sign({ _id = u._id, email = u.email, firstname = u.firstname, lastname = u.lastname,
    emailverified = u.emailverified, iat = ngx.time(), aud = "https://tiledesk.com",
    iss = "https://tiledesk.com", sub = "user", jti = store.uuid() }, config.global_secret)
end

function _M.sign_with_global(payload)
  return jwt.sign(payload, config.global_secret)
end

-- The project_user of a principal in a project (nil when not a member).
function _M.membership(principal, pid)
  local pus = store.coll("project_users")
  if principal.kind == "user" then
    return pus:find_one(function(pu)
      return pu.id_project == pid and pu.id_user == principal.id and pu.status ~= "disabled" and not pu.trashed
    end)
  end
  return pus:find_one(function(pu)
    return pu.id_project == pid and pu.uuid_user == principal.id and not pu.trashed
  end)
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
    return false, errors.forbidden("you dont have the required role.")
  end
  local pu = _M.membership(p, ctx.pid)
  if not pu then
    -- custom-token users carry their role in the token
    if p.kind == "userexternal" and p.payload.role and ROLE_RANK[p.payload.role] then
      pu = { role = p.payload.role, id_project = ctx.pid, uuid_user = p.id }
    else
      return false, errors.not_member()
    end
  end
  ctx.principal.pu = pu
  ctx.principal.role = pu.role
  if opts.role and (ROLE_RANK[pu.role] or 0) < ROLE_RANK[opts.role] then
    return false, errors.role()
  end
  return true
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

local function redact_headers(h)
  local out = {}
  for k, v in pairs(h) do
    if k == "authorization" and type(v) == "string" then
      out[k] = (v:match("^(%S+)") or "") .. " [redacted]"
    else
      out[k] = v
    end
  end
  return out
end

local function dispatch(ctx)
  local segs = ctx.segs
  if #segs == 0 then
    return 200, "Hello from Tiledesk server (sandbox). It's UP. See the documentation here http://developer.tiledesk.com",
      "text/html; charset=utf-8"
  end
  -- project id check, before auth
  local first = segs[1]
  local is_control = first == "__sandbox"
  if not is_control and not GLOBAL[first] then
    if not first:match("^%x+$") or #first ~= 24 then
      return 400, { error = "Invalid project id: " .. first }
    end
    local project = store.coll("projects"):get(first)
    if not project or project.status ~= 100 then
      return 400, { error = "Project not found with id: " .. first }
    end
    ctx.pid, ctx.project = first, project
  end
  local route, params = router:match(ctx.method, segs)
  if not route then return html_404(ctx.method, ctx.path) end
  ctx.params = params
  if ctx.pid == nil and params.pid then ctx.pid = params.pid end
  if route.opts.auth ~= false then
    local p = authenticate(ctx.headers.authorization)
    if not p then return unauthorized() end
    ctx.principal = p
    local ok, status, body = authorize(route, ctx)
    if not ok then return status, body end
  else
    -- optional auth: handlers may still look at who calls
    ctx.principal = authenticate(ctx.headers.authorization)
  end
  if ctx.raw_body and ctx.raw_body ~= "" and not ctx.body_error then
    local ct = ctx.headers["content-type"] or ""
    if type(ct) == "table" then ct = ct[1] end
    if ct:find("json", 1, true) then
      local v = json.decode(ctx.raw_body)
      if v == nil then return 500, { err = "error" } end -- express: malformed JSON
      ctx.body = v
    elseif ct:find("x-www-form-urlencoded", 1, true) then
      ctx.body = ngx.decode_args(ctx.raw_body, 200)
    end
  end
  return route.handler(ctx)
end

function _M.handle()
  seq = seq + 1
  local my_seq = seq
  ngx.header["X-Sandbox-Connection"] = ngx.var.connection
  ngx.header["X-Sandbox-Request"] = my_seq
  local method = ngx.req.get_method()
  local raw_uri = ngx.var.request_uri or "/"
  local raw_path, raw_query = raw_uri:match("^([^?]*)%??(.*)$")
  local segs = {}
  for s in raw_path:gmatch("[^/]+") do segs[#segs + 1] = url_decode(s) end
  if segs[1] and segs[1]:match("^v[123]$") and segs[1] ~= "__sandbox" then table.remove(segs, 1) end
  local path = "/" .. table.concat(segs, "/")
  local headers = ngx.req.get_headers(100)
  local ctx = {
    method = method, path = path, segs = segs, query = ngx.req.get_uri_args(200), raw_query = raw_query,
    headers = headers, raw_body = read_body(), seq = my_seq,
  }
  local control = require("sbx.control")
  local entry
  if segs[1] ~= "__sandbox" then
    entry = control.log_request{ seq = my_seq, method = method, path = path, query = raw_query,
      headers = redact_headers(headers), body = ctx.raw_body, connection = tonumber(ngx.var.connection) }
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
