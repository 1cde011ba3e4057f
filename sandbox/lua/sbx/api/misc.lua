-- The smaller project areas: canned, tags, subscriptions, chatbot webhooks, events, keys,
-- activities, analytics (sbx.api.analytics), labels, properties, segments, roles, campaigns, emails, quotes.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local E = require("sbx.errors")
local events = require("sbx.events")
local crypto = require("sbx.crypto")
local conv = require("sbx.conv")

local function owned(coll, ctx, id)
  local d = store.coll(coll):get(id or ctx.params.id)
  if not d or d.id_project ~= ctx.pid then return nil end
  return d
end

-- A plain CRUD collection with a bare-array or enveloped list.
local function crud(r, base, coll, opts)
  local o = opts.access
  local c = store.coll(coll)
  r:add("GET", "/:pid/" .. base, o, function(ctx)
    local limit = util.int(ctx.query.limit, 40)
    if limit <= 0 then limit = 40 end
    local page = math.max(0, util.int(ctx.query.page, 0))
    local list = c:find(function(d) return d.id_project == ctx.pid and (d.status or 100) < 1000 end)
    util.sort(list, util.str(ctx.query.sort) or "createdAt", util.str(ctx.query.direction))
    local items = util.paginate(list, page, limit)
    if opts.envelope then return 200, { perPage = limit, count = #list, [opts.envelope] = items } end
    return 200, items
  end)
  r:add("GET", "/:pid/" .. base .. "/:id", o, function(ctx)
    local d = owned(coll, ctx)
    if not d then return E.not_found() end
    return 200, d
  end)
  r:add("POST", "/:pid/" .. base, o, function(ctx)
    local b = ctx.body or {}
    for _, k in ipairs(opts.required or {}) do
      if b[k] == nil or b[k] == "" then return 422, { errors = util.arr{ util.invalid(k, b[k]) } } end
    end
    local d = util.shallow(b)
    d._id, d.createdAt, d.updatedAt = nil, nil, nil
    d.id_project, d.createdBy = ctx.pid, ctx.principal.id
    c:insert(d)
    return 200, d
  end)
  r:add("PUT", "/:pid/" .. base .. "/:id", o, function(ctx)
    local d = owned(coll, ctx)
    if not d then return E.not_found() end
    for k, v in pairs(ctx.body or {}) do
      if k ~= "_id" and k ~= "id_project" then d[k] = v end
    end
    c:touch(d)
    return 200, d
  end)
  r:add("DELETE", "/:pid/" .. base .. "/:id", o, function(ctx)
    local d = owned(coll, ctx)
    if not d then return E.not_found() end
    if opts.soft then
      c:update(d._id, { status = 1000 })
    else
      c:remove(d._id)
    end
    return 200, d
  end)
  if opts.soft then
    r:add("DELETE", "/:pid/" .. base .. "/:id/physical", o, function(ctx)
      local d = owned(coll, ctx)
      if not d then return E.not_found() end
      c:remove(d._id)
      return 200, { n = 1, ok = 1, deletedCount = 1 }
    end)
  end
end

local function parse_dmy(s, eod)
  s = util.str(s)
  local d, m, y = tostring(s or ""):match("^(%d%d?)/(%d%d?)/(%d%d%d%d)$")
  if not d then return nil end
  return store.civil_ms(tonumber(y), tonumber(m), tonumber(d), eod and 23 or 0, eod and 59 or 0, eod and 59 or 0)
end

return function(r)
  local agent = { role = "agent", types = { "bot", "subscription" } }

  -- canned responses: shared ones plus the caller's own; reading one needs to be its creator
  local canned = store.coll("canned")
  r:add("GET", "/:pid/canned", { role = "agent" }, function(ctx)
    local me = ctx.principal.id
    local text = util.str(ctx.query.full_text)
    text = text and text:lower()
    local list = canned:find(function(c)
      return c.id_project == ctx.pid and (c.status or 100) < 1000 and (c.shared or c.createdBy == me)
        and (not text or ((c.title or "") .. " " .. (c.text or "")):lower():find(text, 1, true) ~= nil)
    end)
    util.sort(list, util.str(ctx.query.sort) or "createdAt", util.str(ctx.query.direction))
    return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 1000)
  end)
  r:add("GET", "/:pid/canned/:id", { role = "agent" }, function(ctx)
    local c = owned("canned", ctx)
    if not c then return E.not_found() end
    if c.createdBy ~= ctx.principal.id then return 403, { success = false, error = "You are not the creator" } end
    return 200, c
  end)
  r:add("POST", "/:pid/canned", { role = "agent" }, function(ctx)
    local b = ctx.body or {}
    if type(b.title) ~= "string" or type(b.text) ~= "string" then
      return 422, { errors = util.arr{ util.invalid(type(b.title) ~= "string" and "title" or "text", nil) } }
    end
    local role = ctx.principal.role
    local shared = (role == "owner" or role == "admin") or b.shared == true
    local c = canned:insert{ title = b.title, text = b.text, shared = shared, status = 100, id_project = ctx.pid,
      createdBy = ctx.principal.id }
    return 200, c
  end)
  r:add("PUT", "/:pid/canned/:id", { role = "agent" }, function(ctx)
    local c = owned("canned", ctx)
    if not c then return E.not_found() end
    local role = ctx.principal.role
    if c.createdBy ~= ctx.principal.id and role ~= "owner" and role ~= "admin" then
      return 403, { success = false, error = "You are not allowed to edit this canned response" }
    end
    local b = ctx.body or {}
    for _, k in ipairs({ "title", "text", "attributes" }) do if b[k] ~= nil then c[k] = b[k] end end
    canned:touch(c)
    return 200, c
  end)
  r:add("DELETE", "/:pid/canned/:id", { role = "agent" }, function(ctx)
    local c = owned("canned", ctx)
    if not c then return E.not_found() end
    canned:update(c._id, { status = 1000 })
    return 200, c
  end)
  r:add("DELETE", "/:pid/canned/:id/physical", { role = "agent" }, function(ctx)
    local c = owned("canned", ctx)
    if not c then return E.not_found() end
    canned:remove(c._id)
    return 200, { n = 1, ok = 1, deletedCount = 1 }
  end)

  -- tag library: 40 per page, duplicates return the existing tag
  local tags = store.coll("tags")
  r:add("GET", "/:pid/tags", agent, function(ctx)
    local list = tags:find(function(t) return t.id_project == ctx.pid end)
    util.sort(list, util.str(ctx.query.sort) or "createdAt", util.str(ctx.query.direction))
    return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40)
  end)
  r:add("GET", "/:pid/tags/:id", agent, function(ctx)
    local t = owned("tags", ctx)
    if not t then return E.not_found() end
    return 200, t
  end)
  r:add("POST", "/:pid/tags", agent, function(ctx)
    local b = ctx.body or {}
    if type(b.tag) ~= "string" or b.tag == "" then return 422, { errors = util.arr{ util.invalid("tag", b.tag) } } end
    local t = tags:find_one(function(x) return x.id_project == ctx.pid and x.tag == b.tag end)
    if t then return 200, t end
    return 200, tags:insert{ tag = b.tag, color = b.color or "#43B1F2", id_project = ctx.pid, createdBy = ctx.principal.id }
  end)
  r:add("PUT", "/:pid/tags/:id", agent, function(ctx)
    local t = owned("tags", ctx)
    if not t then return E.not_found() end
    local b = ctx.body or {}
    t.tag, t.color = b.tag, b.color
    tags:touch(t)
    return 200, t
  end)
  r:add("DELETE", "/:pid/tags/:id", agent, function(ctx)
    local t = owned("tags", ctx)
    if not t then return E.not_found() end
    tags:remove(t._id)
    return 200, { n = 1, ok = 1, deletedCount = 1 }
  end)

  -- subscriptions (resthooks)
  local subs = store.coll("subscriptions")
  local admin = { role = "admin" }
  r:add("POST", "/:pid/subscriptions", admin, function(ctx)
    local b = ctx.body or {}
    local errs = {}
    if type(b.event) ~= "string" or b.event == "" then errs[#errs + 1] = util.invalid("event", b.event) end
    if type(b.target) ~= "string" or not b.target:match("^https?://") then errs[#errs + 1] = util.invalid("target", b.target) end
    if #errs > 0 then return 422, { errors = util.arr(errs) } end
    local s = subs:find_one(function(x) return x.id_project == ctx.pid and x.event == b.event and x.target == b.target end)
    if not s then
      s = subs:insert{ event = b.event, target = b.target, id_project = ctx.pid, createdBy = ctx.principal.id,
        secret = crypto.hex(crypto.random(16)) }
    end
    return 200, view.sub(s, true), nil, { ["x-hook-secret"] = s.secret }
  end)
  r:add("GET", "/:pid/subscriptions", admin, function(ctx)
    local out = util.arr()
    for _, s in ipairs(subs:all()) do if s.id_project == ctx.pid then out[#out + 1] = view.sub(s) end end
    return 200, out
  end)
  r:add("GET", "/:pid/subscriptions/history", admin, function(ctx)
    local list = store.coll("subscription_logs"):find(function(l) return l.id_project == ctx.pid end)
    util.sort(list, "createdAt", -1)
    return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40)
  end)
  r:add("GET", "/:pid/subscriptions/:id", admin, function(ctx)
    local s = owned("subscriptions", ctx)
    if not s then return E.not_found() end
    return 200, view.sub(s)
  end)
  r:add("PUT", "/:pid/subscriptions/:id", admin, function(ctx)
    local s = owned("subscriptions", ctx)
    if not s then return E.not_found() end
    local b = ctx.body or {}
    if b.event ~= nil then s.event = b.event end
    if b.target ~= nil then s.target = b.target end
    subs:touch(s)
    return 200, view.sub(s)
  end)
  r:add("DELETE", "/:pid/subscriptions/:id", admin, function(ctx)
    local s = owned("subscriptions", ctx)
    if not s then return E.not_found() end
    subs:remove(s._id)
    return 200, view.sub(s)
  end)

  -- chatbot webhooks (automation triggers)
  local hooks = store.coll("webhooks")
  -- /:pid/webhooks/:id names the chatbot by its id, a plain string field there: no ObjectId cast
  local hook_admin = { role = "admin", oid = false }
  local function hook_of(ctx)
    return hooks:find_one(function(h) return h.id_project == ctx.pid and h.chatbot_id == ctx.params.id end)
  end
  r:add("GET", "/:pid/webhooks", hook_admin, function(ctx)
    return 200, hooks:find(function(h) return h.id_project == ctx.pid end)
  end)
  r:add("GET", "/:pid/webhooks/id/:wid", hook_admin, function(ctx)
    local h = hooks:find_one(function(x) return x.id_project == ctx.pid and x.webhook_id == ctx.params.wid end)
    if not h then return E.not_found() end
    return 200, h
  end)
  r:add("GET", "/:pid/webhooks/:id", hook_admin, function(ctx)
    local h = hook_of(ctx)
    if not h then return E.not_found() end
    return 200, h
  end)
  r:add("POST", "/:pid/webhooks", hook_admin, function(ctx)
    local b = ctx.body or {}
    local bot_id = b.chatbot_id or b.id_faq_kb
    local bot = bot_id and owned("faq_kb", ctx, bot_id)
    if not bot then return E.not_found() end
    if hooks:find_one(function(h) return h.chatbot_id == bot_id end) then
      return 403, { success = false, error = "Webhook already exists for chatbot " .. bot_id }
    end
    return 200, hooks:insert{ id_project = ctx.pid, chatbot_id = bot_id, block_id = b.block_id, async = b.async ~= false,
      copilot = b.copilot == true, enabled = true, webhook_id = store.uuid(true), createdBy = ctx.principal.id }
  end)
  r:add("PUT", "/:pid/webhooks/:id", hook_admin, function(ctx)
    local h = hook_of(ctx)
    if not h then return E.not_found() end
    local b = ctx.body or {}
    for _, k in ipairs({ "async", "copilot", "enabled" }) do if b[k] ~= nil then h[k] = b[k] end end
    hooks:touch(h)
    return 200, h
  end)
  r:add("PUT", "/:pid/webhooks/:id/regenerate", hook_admin, function(ctx)
    local h = hook_of(ctx)
    if not h then return E.not_found() end
    h.webhook_id = store.uuid(true)
    hooks:touch(h)
    return 200, h
  end)
  r:add("DELETE", "/:pid/webhooks/:id", hook_admin, function(ctx)
    local h = hook_of(ctx)
    if not h then return E.not_found() end
    hooks:remove(h._id)
    return 200, { success = true, message = "Webhook for chatbot " .. ctx.params.id .. " deleted successfully" }
  end)
  -- the per-project token buckets live in the store, so /__sandbox/reset refills them
  local buckets = store.coll("webhook_buckets")
  -- Simplified: the server runs the chatbot flow from block_id and answers with the block's
  -- output; the sandbox runs no flow and echoes what it got (payload and query), after the same
  -- 404 / 422 / 429 checks.
  r:add("ANY", "/webhook/:wid", { auth = false }, function(ctx)
    local h = hooks:find_one(function(x) return x.webhook_id == ctx.params.wid end)
    if not h then return 404, { success = false, error = "Webhook not found with id " .. ctx.params.wid } end
    if not h.enabled then return 422, { success = false, error = "Webhook " .. ctx.params.wid .. " is currently turned off" } end
    -- token bucket per project: 10 burst, 10/min
    local now = ngx.now()
    local bkt = buckets:find_one(function(b) return b.id_project == h.id_project end)
      or buckets:insert{ id_project = h.id_project, tokens = 10, at = now }
    bkt.tokens = math.min(10, bkt.tokens + (now - bkt.at) * 10 / 60)
    bkt.at = now
    if bkt.tokens < 1 then return 429, { message = "Rate limit exceeded" } end
    bkt.tokens = bkt.tokens - 1
    return 200, { success = true, chatbot_id = h.chatbot_id, block_id = h.block_id, payload = ctx.body or {},
      webhook_query_params = ctx.query }
  end)

  -- events
  local evs = store.coll("events")
  r:add("POST", "/:pid/events", { role = "guest", types = { "bot", "subscription" } }, function(ctx)
    local b = ctx.body or {}
    if type(b.name) ~= "string" or b.name == "" then return 422, { errors = util.arr{ util.invalid("name", b.name) } } end
    local pu = ctx.principal.pu
    local e = evs:insert{ name = b.name, attributes = b.attributes or {}, project_user = pu and pu._id, status = 100,
      id_project = ctx.pid, createdBy = ctx.principal.id }
    local payload = util.shallow(e)
    payload.project_user = pu and view.pu(pu) or nil
    payload.id = e._id
    events.emit(ctx.pid, "event.emit", payload)
    events.emit(ctx.pid, "event.emit." .. b.name, payload)
    return 200, e
  end)
  r:add("GET", "/:pid/events", { role = "agent" }, function(ctx)
    local pu = util.str(ctx.query.project_user)
    local list = evs:find(function(e) return e.id_project == ctx.pid and (not pu or e.project_user == pu) end)
    util.sort(list, util.str(ctx.query.sort) or "createdAt", util.str(ctx.query.direction))
    return 200, { perPage = 40, count = #list, events = util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40) }
  end)
  r:add("GET", "/:pid/events/:id", { role = "agent" }, function(ctx)
    local e = owned("events", ctx)
    if not e then return E.not_found() end
    return 200, e
  end)

  -- custom-auth secret
  -- The sandbox makes the shared secret only: no RSA key pair (publicKey/privateKey are null).
  r:add("POST", "/:pid/keys/generate", { role = "agent" }, function(ctx)
    local secret = crypto.hex(crypto.random(24))
    ctx.project.jwtSecret = secret
    store.coll("projects"):touch(ctx.project)
    return 200, { publicKey = util.null, privateKey = util.null, jwtSecret = secret }
  end)

  -- activities
  local acts = store.coll("activities")
  local function act_filter(ctx)
    local q = ctx.query
    local verbs
    if q.activities then
      verbs = {}
      for _, v in ipairs(util.split(util.str(q.activities))) do verbs[v] = true end
    end
    local actor = util.str(q.agent_id)
    local from, to = parse_dmy(q.start_date, false), parse_dmy(q.end_date, true)
    local list = acts:find(function(a)
      if a.id_project ~= ctx.pid then return false end
      if verbs and not verbs[a.verb] then return false end
      if actor and (a.actor or {}).id ~= actor then return false end
      if from or to then
        local t = store.ms_of(a.createdAt) or 0
        if (from and t < from) or (to and t > to) then return false end
      end
      return true
    end)
    util.sort(list, util.str(q.sort) or "createdAt", util.str(q.direction))
    return list
  end
  -- Activities are seeded and recorded by sbx.conv (conversations opened and closed,
  -- invitations, membership updates and deletes). Simplified: the server also adds a readable
  -- text to each item and answers chart=true with a chart; the sandbox does neither.
  r:add("GET", "/:pid/activities", { role = "admin" }, function(ctx)
    local limit = util.int(ctx.query.limit, 40)
    if limit <= 0 then limit = 40 end
    if limit > 100 then limit = 100 end
    local list = act_filter(ctx)
    return 200, { perPage = limit, count = #list,
      activities = util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), limit) }
  end)
  r:add("GET", "/:pid/activities/csv", { role = "admin" }, function(ctx)
    local lines = { "createdAt;verb;actor;target" }
    for _, a in ipairs(act_filter(ctx)) do
      lines[#lines + 1] = table.concat({ a.createdAt, a.verb, (a.actor or {}).name or "", (a.target or {}).type or "" }, ";")
    end
    return 200, table.concat(lines, "\n") .. "\n", "text/csv; charset=utf-8"
  end)

  -- analytics, computed from the store (its own module: app.lua loads a fixed module list)
  require("sbx.api.analytics")(r)

  -- widget labels
  local labels = store.coll("labels")
  local DEFAULT = { EN = { LABEL_PLACEHOLDER = "type your message..", LABEL_START_NW_CONV = "New conversation" },
    IT = { LABEL_PLACEHOLDER = "scrivi il tuo messaggio..", LABEL_START_NW_CONV = "Nuova conversazione" } }
  local function set_of(ctx)
    return labels:find_one(function(l) return l.id_project == ctx.pid end)
  end
  r:add("GET", "/:pid/labels", { auth = false }, function(ctx)
    return 200, set_of(ctx) or {}
  end)
  -- Simplified: the server ships its full widget translations for many languages; the sandbox
  -- has two labels in EN and IT.
  r:add("GET", "/:pid/labels/default", { auth = false }, function()
    local out = util.arr()
    for lang, data in pairs(DEFAULT) do out[#out + 1] = { lang = lang, data = data } end
    return 200, { data = out }
  end)
  r:add("GET", "/:pid/labels/default/:lang", { auth = false }, function(ctx)
    local lang = ctx.params.lang:upper()
    if not DEFAULT[lang] then return E.not_found() end
    return 200, { lang = lang, data = DEFAULT[lang] }
  end)
  r:add("GET", "/:pid/labels/:lang", { auth = false }, function(ctx)
    local s = set_of(ctx)
    local lang = ctx.params.lang:upper()
    for _, d in ipairs(s and s.data or {}) do if d.lang == lang then return 200, d end end
    return 200, {}
  end)
  local function save_lang(ctx, lang, data, default)
    local s = set_of(ctx) or labels:insert{ id_project = ctx.pid, data = util.arr() }
    local found
    for _, d in ipairs(s.data) do if d.lang == lang then found = d end end
    if not found then
      found = { lang = lang }
      s.data[#s.data + 1] = found
    end
    found.data = data
    if default then for _, d in ipairs(s.data) do d.default = (d == found) end end
    labels:touch(s)
    return s
  end
  r:add("POST", "/:pid/labels", { role = "admin" }, function(ctx)
    local b = ctx.body or {}
    if type(b.lang) ~= "string" or type(b.data) ~= "table" then
      return 422, { errors = util.arr{ util.invalid("lang", b.lang) } }
    end
    return 200, save_lang(ctx, b.lang:upper(), b.data, b.default == true)
  end)
  r:add("POST", "/:pid/labels/default/clone", { role = "admin" }, function(ctx)
    local lang = type((ctx.body or {}).lang) == "string" and ctx.body.lang:upper()
    if not lang then return 422, { errors = util.arr{ util.invalid("lang", nil) } } end
    return 200, save_lang(ctx, lang, util.copy(DEFAULT[lang] or DEFAULT.EN), false)
  end)
  r:add("PATCH", "/:pid/labels/:lang/default", { role = "admin" }, function(ctx)
    local s = set_of(ctx)
    if not s then return E.not_found() end
    local lang = ctx.params.lang:upper()
    for _, d in ipairs(s.data) do d.default = d.lang == lang end
    labels:touch(s)
    return 200, s
  end)
  r:add("DELETE", "/:pid/labels", { role = "admin" }, function(ctx)
    local s = set_of(ctx)
    if s then labels:remove(s._id) end
    return 200, { success = true }
  end)
  r:add("DELETE", "/:pid/labels/:lang", { role = "admin" }, function(ctx)
    local s = set_of(ctx)
    if not s then return E.not_found() end
    local keep = util.arr()
    for _, d in ipairs(s.data) do if d.lang ~= ctx.params.lang:upper() then keep[#keep + 1] = d end end
    s.data = keep
    labels:touch(s)
    return 200, s
  end)

  crud(r, "properties", "properties", { access = agent, required = { "name" }, soft = true })
  crud(r, "segments", "segments", { access = agent, required = { "name" }, envelope = "segments" })
  crud(r, "roles", "roles", { access = { role = "agent" }, required = { "name" } })

  -- campaigns and emails
  r:add("POST", "/:pid/campaigns", { role = "agent" }, function(ctx)
    local b = ctx.body or {}
    if type(b.text) ~= "string" or b.text == "" then return 422, { errors = util.arr{ util.invalid("text", b.text) } } end
    local lead = b.leadid and owned("leads", ctx, b.leadid)
    if not lead then return E.not_found() end
    local req = b.request_id and conv.find(ctx.pid, b.request_id)
    if not req then
      local pu = conv.requester_pu(ctx.pid, { id = lead.lead_id })
      req = conv.create(ctx.pid, { request_id = b.request_id, first_text = b.text, departmentid = b.departmentid,
        lead_doc = lead, requester_pu = pu, sender = lead.lead_id, senderFullname = lead.fullname }, ctx.principal)
    end
    local m = conv.add_message(ctx.pid, req, { text = b.text, type = b.type, metadata = b.metadata,
      attributes = b.attributes, sender = b.sender or ctx.principal.id }, ctx.principal)
    return 200, m
  end)
  -- Simplified: the server queues a job that writes to every lead of the segment; the sandbox
  -- records the job (collection campaign_jobs) and sends nothing.
  r:add("POST", "/:pid/campaigns/direct", { role = "agent" }, function(ctx)
    local b = ctx.body or {}
    if not b.segment_id or not owned("segments", ctx, b.segment_id) then return E.not_found() end
    store.coll("campaign_jobs"):insert{ id_project = ctx.pid, segment_id = b.segment_id, text = b.text }
    return 200, { queued = true }
  end)
  -- Simplified: the server mails through its SMTP settings; the sandbox stores the email
  -- (collection emails) and sends nothing.
  r:add("POST", "/:pid/emails/internal/send", agent, function(ctx)
    local b = ctx.body or {}
    if type(b.to) ~= "string" or not b.to:find("@") then return 422, { errors = util.arr{ util.invalid("to", b.to) } } end
    store.coll("emails"):insert{ id_project = ctx.pid, to = b.to, text = b.text, subject = b.subject,
      request_id = b.request_id, replyto = b.replyto }
    return 200, { queued = true }
  end)

  -- quotas
  local usage = store.coll("quote_usage")
  local function tokens_used(pid)
    local u = usage:find_one(function(x) return x.id_project == pid end)
    return u and u.tokens or 0
  end
  -- Simplified: the server reads its plan quotas per monthly slot from Redis; the sandbox counts
  -- the project's conversations and the tokens of /quotes/incr, and no other usage.
  r:add("POST", "/:pid/quotes", agent, function(ctx)
    local n = #store.coll("requests"):find(function(x) return x.id_project == ctx.pid end)
    return 200, { success = true, quotes = { requests = { quote = n }, messages = { quote = 0 }, email = { quote = 0 },
      tokens = { quote = tokens_used(ctx.pid) } },
      slot = { startDate = store.iso(store.now_ms() - 30 * 86400000), endDate = store.now() } }
  end)
  -- the server counts AI tokens here whatever the type in the path (QuoteManager.incrementTokenCount)
  r:add("POST", "/:pid/quotes/incr/:type", agent, function(ctx)
    local b = ctx.body or {}
    local n = tonumber(b.tokens)
    if not n or n < 0 then return 422, { errors = util.arr{ util.invalid("tokens", b.tokens) } } end
    local u = usage:find_one(function(x) return x.id_project == ctx.pid end)
      or usage:insert{ id_project = ctx.pid, tokens = 0 }
    u.tokens = u.tokens + math.floor(n)
    local key = "quotes:tokens:" .. ctx.pid .. ":" .. store.iso():sub(1, 7)
    return 200, { message = "value incremented for key " .. key, key = key, currentQuote = u.tokens }
  end)
  -- Simplified: the sandbox has no plan limits, so every known quota is always available.
  r:add("GET", "/:pid/quotes/:type", agent, function(ctx)
    local known = { requests = true, messages = true, email = true, tokens = true, voice_duration = true }
    if not known[ctx.params.type] then return 400, { success = false, error = "Unknown quota type" } end
    return 200, { isAvailable = true }
  end)
end
