-- Runs INSIDE the nginx instances of the `nginx` specs (spec/support/nginx.lua renders the
-- config): each location uses the SDK against the sandbox the way a user's handler would, and
-- answers JSON the spec checks. Nothing here is part of the SDK.
local cjson = require("cjson.safe")

local M = {}
local config

function M.init(json_text)
  config = assert(cjson.decode(json_text))
end

function M.config() return config end

local function reply(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(cjson.encode(t))
end

local function body_json()
  ngx.req.read_body()
  local text = ngx.req.get_body_data()
  if not text then
    local f = ngx.req.get_body_file()
    if f then
      local h = io.open(f, "rb")
      text = h:read("*a")
      h:close()
    end
  end
  return text and cjson.decode(text) or {}
end

-- the sandbox owner's client options (over plain HTTP unless `url` says otherwise)
local function owner_opts(extra)
  local st = config.sandbox
  local o = { base_url = st.http_url, project_id = st.project_id, email = st.users.owner.email,
    password = st.users.owner.password, timeout = 5000, connect_timeout = 2000 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
M.owner_opts = owner_opts

local routes = {}
M.routes = routes

-- the transport contract (spec/support/transport_contract.lua) with a fresh ngx transport
routes["/contract"] = function()
  local b = body_json()
  local t = require("tiledesk.transport.ngx").new{ timeout = 5000, connect_timeout = 2000 }
  local results = require("spec.support.transport_contract").run(t, b.steps or {}, cjson.decode)
  return reply(200, { results = results })
end

-- what the worker has loaded (is tiledesk.core among it?)
routes["/loaded"] = function()
  require("tiledesk")
  local names = {}
  for k in pairs(package.loaded) do
    if type(k) == "string" and (k:find("^tiledesk") or k:find("curl")) then names[#names + 1] = k end
  end
  table.sort(names)
  return reply(200, { loaded = names, core = package.loaded["tiledesk.core"] ~= nil })
end


local tiledesk_mod
local function tiledesk() tiledesk_mod = tiledesk_mod or require("tiledesk") return tiledesk_mod end

-- a client of the sandbox owner; opts override the defaults. tiledesk.new chooses the transport
-- (the ngx one here), unless opts.transport names one; transport_opts: an ngx transport made
-- with these options (pool, ssl_verify, ...) instead.
local function new_client(opts, transport_opts)
  local o = owner_opts(opts)
  if transport_opts then o.transport = require("tiledesk.transport.ngx").new(transport_opts) end
  return tiledesk().new(o)
end
M.new_client = new_client

-- err tables as JSON (no functions, no metatables)
local function plain_err(err)
  if type(err) ~= "table" then return err end
  return { kind = err.kind, status = err.status, attempts = err.attempts, url = err.url, method = err.method }
end

-- /call { opts, transport, requests = { {method, path, query, body, retry, project}, ... } | request,
-- times = 1, mode = "request" | "call" }: client:request (or client:call) as the owner, on one
-- client, in order. Answers each outcome.
routes["/call"] = function()
  local b = body_json()
  local c = new_client(b.opts, b.transport)
  local list = b.requests
  if not list then
    list = {}
    for i = 1, b.times or 1 do list[i] = b.request or { method = "GET", path = "/tags" } end
  end
  local out = {}
  for i, req in ipairs(list) do
    if b.mode == "call" then
      local v, msg, err = c:call("spec()", req)
      out[i] = v ~= nil and { value = v } or { failed = true, msg = msg, err = plain_err(err) }
    else
      local res, msg, err = c:request(req)
      if res then
        out[i] = { status = res.status, connection = res.headers["x-sandbox-connection"],
          barrier = res.headers["x-sandbox-barrier"], json = res.json, attempts = res.attempts,
          length = #(res.body or ""), chunked = res.headers["transfer-encoding"] }
      else
        out[i] = { failed = true, msg = msg, err = plain_err(err) }
      end
    end
  end
  local kind = c:auth_kind()
  c:close()
  return reply(200, { results = out, auth_kind = kind })
end

-- /signin: the owner signs in with email and password and lists conversations
routes["/signin"] = function()
  local c = new_client({})
  local user, msg = c:signin()
  if not user then return reply(200, { failed = true, msg = msg }) end
  local page, lmsg = c.requests:list{ limit = 5 }
  local out = { email = user.email, auth_kind = c:auth_kind(), listed = page and #page.requests,
    msg = lmsg, transport = tostring(c._transport), client = tostring(c),
    core_loaded = package.loaded["tiledesk.core"] ~= nil }
  c:close()
  return reply(200, out)
end

-- /areas: one call of every area of the route table, as the owner; area -> "ok" | message
local PNG = "\137PNG\r\n\26\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\8\6\0\0\0\31\21\196\137\0\0\0\rIDATx\218c\248\15\0\0\1\1\0\5"
  .. "\24\216N\0\0\0\0IEND\174B`\130"
local EXPLICIT = {
  -- a flow log by its id; the knowledge base's lists name a namespace (the Default one)
  logs = function(c) return c.logs:flow("no-such-request") end,
  kb = function(c) return c.kb:list(assert(c.namespaces:list())[1].id) end,
  unanswered = function(c) return c.unanswered:list(assert(c.namespaces:list())[1].id) end,
  answered = function(c) return c.answered:list(assert(c.namespaces:list())[1].id) end,
  faqs = function(c)
    local bots = assert(c.bots:list())
    return c.faqs:list(bots[1]._id)
  end,
  keys = function(c) return c.keys:generate() end,
  quotes = function(c) return c.quotes:check("requests") end,
  emails = function(c) return c.emails:send("someone@example.com", "Hello from nginx", { subject = "Hi" }) end,
  campaigns = function(c)
    local leads = assert(c.leads:list())
    return c.campaigns:send{ text = "nginx news", leadid = leads.leads[1]._id }
  end,
  files = function(c)
    local up = assert(c.files:upload(PNG, { name = "dot.png" }))
    local got, msg, err = c.files:get(up.filename)
    if got ~= PNG then return nil, msg or "the file came back different", err end
    return got
  end,
}
routes["/areas"] = function()
  local routes_mod = require("tiledesk.routes")
  local c = new_client({})
  local out, n = {}, 0
  for _, name in ipairs(routes_mod.resources) do
    local f = EXPLICIT[name]
    if not f then
      for _, e in ipairs(routes_mod.by_resource[name]) do
        local ids = select(2, e.path:gsub("{}", ""))
        if e.method == "GET" and (ids == 0 or (ids == 1 and e.default_project)) then
          f = function(cl) return cl[name][e.name](cl[name]) end
          break
        end
      end
    end
    local v, msg = nil, "no call for this area"
    if f then
      local ok, a, b = pcall(f, c)
      if ok then v, msg = a, b else msg = a end
    end
    out[name] = v ~= nil and "ok" or tostring(msg)
    n = n + 1
  end
  c:close()
  return reply(200, { areas = out, count = n })
end

-- /pages: every conversation through requests:each, 25 a page
routes["/pages"] = function()
  local gets = 0
  local c = new_client{ on_request = function(i) if i.method == "GET" then gets = gets + 1 end end }
  local total = assert(c.requests:list{ limit = 1 }).count
  gets = 0
  local seen, items, distinct = {}, 0, 0
  for r in c.requests:each{ limit = 25 } do
    items = items + 1
    if not seen[r._id] then seen[r._id] = true distinct = distinct + 1 end
  end
  c:close()
  return reply(200, { total = total, items = items, distinct = distinct, gets = gets })
end

-- forbidden phases: a call made there, and the same call from a timer started there
local function remember(key, v, msg, err)
  ngx.shared.spec_results:set(key, cjson.encode({ ok = v ~= nil, msg = msg, err = plain_err(err) }))
end

function M.forbidden_call(phase)
  local c = new_client({})
  local v, msg, err = c.tags:list()
  remember(phase, v, msg, err)
  local ok, terr = ngx.timer.at(0, function(premature)
    if premature then return end
    local c2 = new_client({})
    local v2, m2, e2 = c2.tags:list()
    remember(phase .. "+timer", v2, m2, e2)
  end)
  if not ok then remember(phase .. "+timer", nil, "no timer: " .. tostring(terr)) end
end

routes["/results"] = function()
  local v = ngx.shared.spec_results:get(ngx.var.arg_key or "")
  return reply(200, { value = v and cjson.decode(v) or nil })
end


-- rate-limit stores: "dict" (lua_shared_dict tiledesk_limits), "redis" (config.redis_port),
-- "redis_down" (a port where nothing listens)
local function store_of(name)
  if name == "dict" then return require("tiledesk.ratelimit.shared_dict").new("tiledesk_limits") end
  if name == "redis" then
    return require("tiledesk.ratelimit.redis").new{ port = config.redis_port, prefix = config.redis_prefix }
  end
  if name == "redis_down" then
    return require("tiledesk.ratelimit.redis").new{ port = config.redis_down_port, timeout = 500 }
  end
  error("no store " .. tostring(name))
end
M.store_of = store_of

-- /take?store=&key=&per_minute=&capacity=: one store:take, and which worker made it
routes["/take"] = function()
  local a = ngx.req.get_uri_args()
  local store = store_of(a.store)
  ngx.update_time()
  local wait, msg, err = store:take(a.key, tonumber(a.per_minute), tonumber(a.capacity), ngx.now() * 1000)
  return reply(200, { wait = wait, msg = msg, kind = err and err.kind, worker = ngx.worker.pid(),
    instance = config.name })
end

-- /seen?store=&key=&ttl=
-- /limited?store=&key=: one call of a client whose rate limit lives in that store (basic auth:
-- one request a call); answers the waits the limiter asked of the transport
routes["/limited"] = function()
  local a = ngx.req.get_uri_args()
  local sleeps = {}
  local t = require("tiledesk.transport.ngx").new()
  local sleep = t.sleep_ms
  t.sleep_ms = function(self, ms)
    sleeps[#sleeps + 1] = ms
    return sleep(self, ms)
  end
  local c = new_client{ auth = "basic", rate_limit = 60, rate_limit_store = store_of(a.store), rate_limit_key = a.key,
    transport = t, retries = 0 }
  local v, msg, err = c.tags:list()
  c:close()
  return reply(200, { ok = v ~= nil, msg = msg, kind = err and err.kind, sleeps = sleeps, instance = config.name })
end

routes["/seen"] = function()
  local a = ngx.req.get_uri_args()
  local seen, msg, err = store_of(a.store):seen(a.key, tonumber(a.ttl))
  return reply(200, { seen = seen, msg = msg, kind = err and err.kind })
end

-- /batch { opts, n, concurrency, request }: client:batch of n copies of request in one handler
routes["/batch"] = function()
  local b = body_json()
  local c = new_client(b.opts)
  local calls = {}
  for i = 1, b.n do calls[i] = b.request or { method = "GET", path = "/tags" } end
  local results, failed = c:batch(calls, { concurrency = b.concurrency })
  local out = {}
  for i, r in ipairs(results) do
    out[i] = r.res and { status = r.res.status, barrier = r.res.headers["x-sandbox-barrier"],
      wave = tonumber(r.res.headers["x-sandbox-barrier-wave"]) } or { failed = true, msg = r.msg }
  end
  c:close()
  return reply(200, { results = out, failed = failed })
end

-- /helpers { ids }: messages:list_many(ids) in one handler; { prefetch = n }: the first page
-- of requests:pages{ limit = 5, max_items = 5 * (n + 1), prefetch = n }, then a barrier of n
-- on the list path (armed through the sandbox's control path), then the n pages after it.
routes["/helpers"] = function()
  local b = body_json()
  local c = new_client({ retries = 0 })
  local out = {}
  if b.ids then
    local results, failed = c.messages:list_many(b.ids)
    for i, r in ipairs(results) do out[i] = { request_id = r.request_id, n = r.res and #r.res, msg = r.msg } end
    c:close()
    return reply(200, { results = out, failed = failed })
  end
  local n = b.prefetch
  local p = c.requests:pages{ status = "all", limit = 5, max_items = 5 * (n + 1), prefetch = n }
  local first = assert(p:next())
  out[1] = first.number
  assert(c:request{ method = "POST", path = "/__sandbox/faults", project = false, auth = "none",
    body = { path = "/requests$", method = "GET", count = n, action = { type = "barrier", n = n, timeout_ms = 5000 } } })
  while true do
    local page, msg = p:next()
    if not page then
      c:close()
      return reply(200, { numbers = out, msg = msg })
    end
    out[#out + 1] = page.number
  end
end

function M.handle()
  -- locations such as /other-ca/call differ only in nginx directives: the route is the last part
  local h = routes[ngx.var.uri] or routes[ngx.var.uri:match("(/[^/]+)$") or ""]
  if not h then return reply(404, { error = "no route " .. ngx.var.uri }) end
  local ok, err = pcall(h)
  if not ok then
    ngx.log(ngx.ERR, "spec app: ", tostring(err))
    return reply(500, { error = tostring(err) })
  end
end

return M
