-- /:pid/requests: conversations (the server's routes/request.js; docs/server-api.md §3).
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")
local conv = require("sbx.conv")
local archiver = require("sbx.archiver")
local events = require("sbx.events")
local dates = require("sbx.dates")
local text = require("sbx.text")
local or_404 = require("sbx.crud").or_404
local json = require("sbx.json")
local csvx = require("sbx.csvx")

local PATCHABLE = { "lead", "status", "tags", "rating", "rating_message", "sourcePage", "language", "first_text",
  "subject", "location", "priority", "smartAssignment", "workingStatus" }
local ALWAYS = { smartAssignment = true, workingStatus = true }


-- Whether the caller sees every conversation of the project (then visible_to is not asked).
local function sees_all(ctx)
  local p = ctx.principal
  local role = p.role
  return p.kind == "subscription" or role == "owner" or role == "admin"
end

local function visible_to(ctx, r)
  local p = ctx.principal
  if sees_all(ctx) then return true end
  if util.contains(r.participants, p.id) then return true end
  for _, a in ipairs((r.snapshot or {}).agents or {}) do
    if a.id_user == p.id then return true end
  end
  return false
end

-- ?status=: "all", a list of statuses, or (absent) the open ones. Returns the set of statuses
-- kept (true: all; nil: the open ones), so the list loop needs no closure.
local function status_filter(q)
  local s = util.str(q.status)
  if s == "all" then return true end
  if s and s ~= "" then
    local allowed = {}
    for _, x in ipairs(util.split(s)) do allowed[tonumber(x) or -1] = true end
    return allowed
  end
  return nil
end

local function status_ok(allowed, r)
  if allowed == true then return true end
  if allowed then return allowed[r.status] == true end
  return r.status < 1000 and r.status ~= 50 and r.status ~= 150
end

-- The less common list filters of routes/request.js: snapshot fields, working status,
-- smart assignment, draft and duration (minutes, with duration_op gt|lt). nil when the query
-- names none of them.
local SNAPSHOT_PARAMS = { "snap_department_routing", "snap_department_default", "snap_department_id_bot",
  "snap_department_id_bot_exists", "snap_lead_lead_id", "snap_lead_email", "smartAssignment", "draft",
  "workingStatus[ne]", "workingStatus[in]", "workingStatus[nin]", "duration" }

local function snapshot_filters(q)
  local any = false
  for i = 1, #SNAPSHOT_PARAMS do
    if q[SNAPSHOT_PARAMS[i]] ~= nil then any = true break end
  end
  if not any then return nil end
  local checks = {}
  local function dept_of(r) return r.department and store.coll("departments"):get(r.department) or {} end
  local function lead_of(r) return r.lead and store.coll("leads"):get(r.lead) or {} end
  local function set_of(s) local t = {} for _, x in ipairs(util.split(s)) do t[x] = true end return t end
  -- each filter gets its own value (closures must not share one variable)
  local function on(name, make)
    local value = util.str(q[name])
    if value then checks[#checks + 1] = make(value) end
  end
  on("snap_department_routing", function(v) return function(r) return dept_of(r).routing == v end end)
  on("snap_department_default", function(v)
    return function(r) return (dept_of(r).default == true) == (v == "true") end
  end)
  on("snap_department_id_bot", function(v) return function(r) return dept_of(r).id_bot == v end end)
  on("snap_department_id_bot_exists", function(v)
    return function(r) return (dept_of(r).id_bot ~= nil) == (v == "true") end
  end)
  on("snap_lead_lead_id", function(v) return function(r) return lead_of(r).lead_id == v end end)
  on("snap_lead_email", function(v) return function(r) return lead_of(r).email == v end end)
  on("smartAssignment", function(v) return function(r) return (r.smartAssignment ~= false) == (v == "true") end end)
  on("draft", function(v) return function(r) return v ~= "false" or r.draft ~= true end end)
  on("workingStatus[ne]", function(v) return function(r) return r.workingStatus ~= v end end)
  on("workingStatus[in]", function(v)
    local set = set_of(v)
    return function(r) return set[r.workingStatus or ""] == true end
  end)
  on("workingStatus[nin]", function(v)
    local set = set_of(v)
    return function(r) return not set[r.workingStatus or ""] end
  end)
  on("duration", function(v)
    local minutes = tonumber(v) or 0
    local op = util.str(q.duration_op) or "gt"
    return function(r)
      local d = (r.duration or 0) / 60000
      if op == "lt" then return d < minutes end
      return d > minutes
    end
  end)
  return function(r)
    for _, fn in ipairs(checks) do if not fn(r) then return false end end
    return true
  end
end

-- The fields of the server's request_fulltext index (models/request.js).
local function indexed_text(r)
  local t = {}
  local function add(v) if type(v) == "string" then t[#t + 1] = v end end
  add(r.transcript) add(r.rating_message) add(r.subject)
  for _, tag in ipairs(r.tags or {}) do if type(tag) == "table" then add(tag.tag) end end
  for _, n in ipairs(r.notes or {}) do if type(n) == "table" then add(n.text) end end
  local lead = type(r.snapshot) == "table" and r.snapshot.lead
  if type(lead) == "table" then add(lead.email) add(lead.fullname) end
  return t
end

-- Ordered as the server orders a list: by the text score (best first, each item with its
-- `score`) for a full_text search unless no_textscore, else by ?sort= and ?direction=.
-- `top`: only the first `top` need to be in order (the pages up to the one asked for).
-- Returns whether the items carry their score.
local function order(list, q, scores, top)
  if scores and not util.bool(q.no_textscore) then
    table.sort(list, function(a, b)
      if scores[a] ~= scores[b] then return scores[a] > scores[b] end
      return a._id > b._id
    end)
    return true
  end
  util.sort_query(list, q, top)
  return false
end

local function filter_list(ctx, only_requester)
  local q = ctx.query
  local allowed = status_filter(q)
  local dept = util.str(q.dept_id)
  local lead = util.str(q.lead)
  local participant = util.str(q.participant)
  local email = util.str(q.requester_email)
  local search = q.full_text and q.full_text ~= "" and text.compile(util.str(q.full_text)) or nil
  local scores = {}
  local tag = util.str(q.tags)
  local channel = util.str(q.channel)
  local priority = util.str(q.priority)
  -- routes/request.js (list and CSV) and user-request.js GET /me: the query holds preflight
  -- false unless preflight is "true", which deletes it (every conversation, preflight or not)
  local any_preflight = q.preflight == "true"
  local hasbot = util.str(q.hasbot)
  local ticket = util.int(q.ticket_id, nil)
  local rated = util.bool(q.rated)
  local location = util.str(q.location)
  -- routes/request.js: start_date/end_date, else start_date_time/end_date_time, read by
  -- utils/datesUtil.js in ?timezone= (sbx.dates); the field is ?filterRangeField= (createdAt)
  local range
  local d_start, d_end = q.start_date, q.end_date
  if not (d_start and d_start ~= "") and not (d_end and d_end ~= "") then d_start, d_end = q.start_date_time, q.end_date_time end
  if (d_start and d_start ~= "") or (d_end and d_end ~= "") then
    local err
    range, err = dates.range(d_start, d_end, dates.zone_param(q), store.now_ms())
    if not range then return nil, err end
  end
  local range_field = util.str(q.filterRangeField) or "createdAt"
  local extra_ok = snapshot_filters(q)
  local all = store.coll("requests"):all()
  local out, n = util.sized(#all), 0
  local all_visible = sees_all(ctx)
  local pid, pu = ctx.pid, only_requester and ctx.principal.pu
  local requester = pu and pu._id
  for i = 1, #all do
    local r = all[i]
    local keep = r.id_project == pid and status_ok(allowed, r) and (any_preflight or r.preflight ~= true)
    if keep and only_requester then
      keep = pu ~= nil and r.requester == requester
    elseif keep then
      keep = all_visible or visible_to(ctx, r)
    end
    if keep and dept then keep = r.department == dept end
    if keep and lead then keep = r.lead == lead end
    if keep and participant then keep = util.contains(r.participants, participant) end
    if keep and email then
      local l = store.coll("leads"):get(r.lead)
      keep = l ~= nil and l.email == email
    end
    if keep and search then
      local score = search(indexed_text(r))
      keep = score ~= nil
      if keep then scores[r] = score end
    end
    if keep and tag then
      local found = false
      for _, t in ipairs(r.tags or {}) do if t.tag == tag then found = true end end
      keep = found
    end
    if keep and channel then
      local name = r.channel and r.channel.name
      if channel == "online" then keep = name == "chat21"
      elseif channel == "offline" then keep = name ~= "chat21"
      else keep = name == channel end
    end
    if keep and priority then keep = r.priority == priority end
    if keep and hasbot then keep = (r.hasBot == true) == (hasbot == "true") end
    if keep and ticket then keep = r.ticket_id == ticket end
    if keep and rated then keep = r.rating ~= nil end
    if keep and location then keep = r.location == location end
    if keep and range then
      local t = store.ms_of(r[range_field])
      keep = t ~= nil and dates.inside(range, t)
    end
    if keep and extra_ok then keep = extra_ok(r) end
    if keep then
      n = n + 1
      out[n] = r
    end
  end
  return out, nil, search and scores or nil, range ~= nil
end

-- What a list query found (its count, the page's conversations, their scores), kept for one
-- store generation as the pages' text is: while nothing writes, the same query by the same
-- member in the same project finds the same. Not for date ranges (read against the clock).
-- At most FINDS_MAX queries are kept (then it starts over).
local finds, finds_gen, n_finds = {}, nil, 0
local FINDS_MAX = 200

-- Everything a list's result depends on besides the store: project, caller, query text.
local function finds_key(ctx, only_requester)
  local p = ctx.principal
  local pu = p.pu
  return table.concat({ only_requester and "me" or "all", ctx.pid, p.kind, tostring(p.id), tostring(p.role),
    tostring(pu and pu._id), ctx.raw_query or "" }, "\n")
end

local function list_handler(only_requester)
  return function(ctx)
    local q = ctx.query
    local limit = util.int(q.limit, 40)
    if limit > 100 or limit < 0 then limit = 40 end
    local page = math.max(0, util.int(q.page, 0))
    local gen = store.generation()
    local key = gen and finds_key(ctx, only_requester)
    local hit = key and finds_gen == gen and finds[key]
    local slice, scores, scored, total
    if hit then
      slice, scores, scored, total = hit.slice, hit.scores, hit.scored, hit.total
    else
      local list, err, timed
      list, err, scores, timed = filter_list(ctx, only_requester)
      if not list then return 500, { success = false, error = err } end
      scored = order(list, q, scores, limit > 0 and (page + 1) * limit or nil)
      slice = limit == 0 and list or util.paginate(list, page, limit)
      total = #list
      if key and not timed then
        if finds_gen ~= gen or n_finds >= FINDS_MAX then finds, finds_gen, n_finds = {}, gen, 0 end
        n_finds = n_finds + 1
        finds[key] = { slice = slice, scores = scores, scored = scored, total = total }
      end
    end
    local items = util.arr()
    -- each conversation's populated view is written once per store generation (sbx.store): while
    -- nothing writes, a page puts the text it was written as before (scored items differ by
    -- score; no_populate=true, only the string as the route compares it, writes bare views)
    local bare = q.no_populate == "true"
    if scored or bare then gen = nil end
    for _, r in ipairs(slice) do
      local kept = json.kept(gen, r)
      if kept then
        items[#items + 1] = json.raw(kept)
      else
        local v = conv.view(r, true, bare)
        if scored then v.score = scores[r] end
        items[#items + 1] = gen and json.keep(gen, r, v) or v
      end
    end
    local count = util.bool(q.no_count) and 0 or total
    return 200, { perPage = limit, count = count, requests = items }
  end
end

local api = {}

local agent = { role = "agent", types = { "bot", "subscription" } }
local function get(ctx)
  local req = conv.find(ctx.pid, ctx.params.rid)
  if not req then return nil end
  return req
end
local function ok(req) return 200, conv.view(req) end

local list_all = list_handler(false)
function api.list(ctx)
  -- the server lets bot tokens through the router, then fails without a project_user (a TypeError
  -- that app.js's last error handler answers)
  if ctx.principal.kind == "bot" then return 500, { err = "error" } end
  return list_all(ctx)
end

api.list_mine = list_handler(true)
-- GET /count (routes/request.js, requestService.getConversationsCount: drafts never counted).
-- conversation_quota=true: open (status 100 or 200) and closed (1000) conversations created in
-- the plan's current slot (QuoteManager.getCurrentSlot, sbx.plan), preflight or not, with the
-- slot as DD/MM/YYYY. Else, preflight ones left out: unassigned (100), and assigned (200 only)
-- by hasBot, merged when merge_assigned is any value JavaScript holds true (as Express parses
-- the query: a bare ?merge_assigned is "", false).
function api.count(ctx)
  local q = ctx.query
  local pid = ctx.pid
  local function count(pred)
    local n = 0
    for _, r in ipairs(store.coll("requests"):all()) do
      if r.id_project == pid and r.draft ~= true and pred(r) then n = n + 1 end
    end
    return n
  end
  if q.conversation_quota == "true" then
    local plan = require("sbx.plan")
    local start, stop = plan.current_slot(store.coll("projects"):get(pid) or {}, store.now_ms())
    if not start then return 500, { success = false, msg = "Error getting the current slot" } end
    local function in_slot(r)
      local t = store.ms_of(r.createdAt)
      return t ~= nil and t >= start and t <= stop
    end
    return 200, {
      open = count(function(r) return (r.status == 100 or r.status == 200) and in_slot(r) end),
      closed = count(function(r) return r.status == 1000 and in_slot(r) end),
      slot = { startDate = plan.ddmmyyyy(start), endDate = plan.ddmmyyyy(stop) } }
  end
  local function assigned(bot)
    return function(r) return r.status == 200 and r.preflight == false and r.hasBot == bot end
  end
  local unassigned = count(function(r) return r.status == 100 and r.preflight == false end)
  local human, bots = count(assigned(false)), count(assigned(true))
  if util.query_true(q.merge_assigned) then return 200, { unassigned = unassigned, assigned = human + bots } end
  return 200, { unassigned = unassigned, assigned = human, bot_assigned = bots }
end

-- GET /csv (routes/request.js): the list's query, projected '-transcript -status -__v' (and the
-- text score with full_text unless no_textscore), department and lead populated, lean; then per
-- document: channel -> channel_name, department -> department_name, lead_fullname, lead_email,
-- tags -> their names joined with ", ", the attributes' caller_phone / called_phone / call_id
-- copied up, and lead, attributes, notes, channelOutbound, location, snapshot deleted;
-- res.csv(requests, true) (csv-express, see sbx.csvx). The columns follow the model's schema
-- order (the server's follow each stored document's own field order).
local CSV_PATHS = { "_id", "request_id", "ticket_id", "requester", "subject", "first_text", "preflight", "hasBot",
  "assignee", "participants", "priority", "followers", "participantsAgents", "participantsBots", "first_response_at",
  "assigned_at", "waiting_time", "closed_at", "closed_by", "duration", "tags", "rating", "rating_message",
  "sourcePage", "language", "userAgent", "auto_close", "id_project", "smartAssignment", "workingStatus", "createdBy",
  "draft", "contact", "createdAt", "updatedAt" }
local CSV_DATES = { first_response_at = true, assigned_at = true, closed_at = true, createdAt = true, updatedAt = true }
local CSV_ARRAYS = { participants = true, followers = true, participantsAgents = true, participantsBots = true,
  tags = true }

local truthy = csvx.truthy

function api.csv(ctx)
  local q = ctx.query
  local list, err, scores = filter_list(ctx, false)
  if not list then return 500, { success = false, error = err } end
  order(list, q, scores)
  list = util.csv_page(list, q)
  local scored = scores and truthy(q.full_text) and q.no_textscore ~= "true"
  return 200, csvx.body_of(list, function(req)
    local row = csvx.row(req, CSV_PATHS, CSV_DATES, CSV_ARRAYS)
    if scored then csvx.set(row, "score", scores[req]) end
    local ch = type(req.channel) == "table" and req.channel or {}
    csvx.set(row, "channel_name", truthy(ch.name) and ch.name or "")
    local d = req.department and store.coll("departments"):get(req.department) or {}
    csvx.set(row, "department_name", truthy(d.name) and d.name or "")
    local l = req.lead and store.coll("leads"):get(req.lead) or {}
    csvx.set(row, "lead_fullname", truthy(l.fullname) and l.fullname or "")
    csvx.set(row, "lead_email", truthy(l.email) and l.email or "")
    local names = {}
    if type(req.tags) == "table" then
      for j, t in ipairs(req.tags) do names[j] = csvx.js_string(type(t) == "table" and t.tag or nil) end
    end
    csvx.set(row, "tags", table.concat(names, ", "))
    local a = type(req.attributes) == "table" and req.attributes or nil
    if a then
      if truthy(a.caller_phone) then csvx.set(row, "caller_phone", a.caller_phone) end
      if truthy(a.called_phone) then csvx.set(row, "called_phone", a.called_phone) end
      if truthy(a.caller_phone) then csvx.set(row, "call_id", a.call_id) end
    end
    return row
  end), "text/csv; charset=utf-8"
end

api.get = or_404(get, function(_, req)
  return ok(req)
end)

function api.create(ctx)
  local b = ctx.body or {}
  if type(b.first_text) ~= "string" or b.first_text == "" then
    return 422, { errors = util.arr{ util.invalid("first_text", b.first_text) } }
  end
  if b.request_id and conv.find(ctx.pid, b.request_id) then
    return 500, { success = false, msg = "Error saving object." }
  end
  local f = util.shallow(b)
  f.departmentid = b.departmentid
  -- the lead's name and e-mail: the body's, else the caller's (req.user.fullName: a user's
  -- fullName virtual, firstname + " " + lastname)
  local u = ctx.principal.user
  if f.senderFullname == nil and type(u) == "table" then
    f.senderFullname = ctx.principal.kind == "user" and ((u.firstname or "") .. " " .. (u.lastname or "")) or u.fullName
  end
  if f.email == nil and type(u) == "table" then f.email = u.email end
  local req = conv.create(ctx.pid, f, ctx.principal)
  return ok(req)
end

-- routes/request.js PATCH /:requestid: 404 {msg: "Request not found"} for an unknown one
function api.patch(ctx)
  local req = get(ctx)
  if not req then return 404, { success = false, msg = "Request not found" } end
  local b = ctx.body or {}
  for _, k in ipairs(PATCHABLE) do
    local v = b[k]
    if v ~= nil and (v or ALWAYS[k]) and v ~= "" then req[k] = v end
  end
  if b.channelName then req.channel = { name = b.channelName } end
  if req.status == 1000 and not req.closed_at then req.closed_at = store.now() end
  store.coll("requests"):touch(req)
  events.emit(ctx.pid, "request.update", conv.view(req))
  return ok(req)
end

api.set_attributes = or_404(get, function(ctx, req)
  if type(ctx.body) ~= "table" then return 400, { success = false, error = "attributes must be an object" } end
  req.attributes = req.attributes or {}
  for k, v in pairs(ctx.body) do req.attributes[k] = v end
  store.coll("requests"):touch(req)
  events.emit(ctx.pid, "request.update", conv.view(req))
  return ok(req)
end)

-- routes/request.js PUT /:requestid/close: members below admin must be among the agents of
-- the conversation (404 / 403 with the route's words); for the others an unknown conversation
-- fails the service (500 Error closing request)
function api.close(ctx)
  local p = ctx.principal
  local req = get(ctx)
  if p.pu and p.role ~= "owner" and p.role ~= "admin" then
    if not req then return 404, { success = false, error = "Request not found" } end
    if not util.contains(req.participantsAgents, p.id) then
      return 403, { success = false, error = "You must be among the participants to close a conversation." }
    end
  end
  if not req then return 500, { success = false, error = "Error closing request" } end
  if req.status ~= 1000 then conv.close(req, p.id) end
  return ok(req)
end

-- PUT /:requestid/reopen: an unknown conversation fails the service (500)
function api.reopen(ctx)
  local req = get(ctx)
  if not req then return 500, { success = false, error = "Error reopening request" } end
  if req.status == 1000 then
    req.status = #(req.participants or {}) > 0 and 200 or 100
    req.closed_at = nil
    store.coll("requests"):touch(req)
    events.emit(ctx.pid, "request.update", conv.view(req))
  end
  return ok(req)
end

-- PUT /:requestid/assign (buildAutoRouteOptions 'api') and /departments
-- (buildDepartmentRouteOptions): requestService.route with the caller's assignment options
local function reroute(ctx, only_if_unassigned)
  local req = get(ctx)
  if not req then return E.not_found() end
  if only_if_unassigned and req.status >= 200 then return ok(req) end
  local b = ctx.body or {}
  local dept = b.departmentid and store.coll("departments"):get(b.departmentid)
  if b.departmentid and (not dept or dept.id_project ~= ctx.pid) then return E.not_found() end
  conv.reroute(req, dept or conv.default_department(ctx.pid), util.bool(b.nobot),
    archiver.route_options(ctx.principal, "api", only_if_unassigned and "auto" or "manual_reassign_department"))
  local view = conv.view(req)
  events.emit(ctx.pid, "request.update", view)
  events.conversation_routed(ctx.pid, view)
  return ok(req)
end
api.route_department = function(ctx) return reroute(ctx, false) end
api.assign = function(ctx) return reroute(ctx, true) end
-- PUT /:requestid/agent: routed again in its department without the bot (buildAutoRouteOptions
-- with source 'chatbot')
api.agent_handoff = or_404(get, function(ctx, req)
  local dept = req.department and store.coll("departments"):get(req.department) or conv.default_department(ctx.pid)
  conv.reroute(req, dept, true, archiver.route_options(ctx.principal, "chatbot", "auto"))
  events.emit(ctx.pid, "request.update", conv.view(req))
  return ok(req)
end)

-- requestService.setParticipantsByRequestId: the same list in the same order changes nothing
-- (no save, no event); else the participants, the agents and bots among them, the status
-- (assigned with someone, unassigned with no one; waiting_time reset), the save, and the
-- assignments emitAssignedEvent records with the route's options (buildSetParticipantsOptions).
local function same_list(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end
local function set_participants(ctx, req, list)
  local before = req.participants or util.arr()
  if same_list(before, list) then return false end
  local options = archiver.set_options(ctx.principal, list)
  req.participants = list
  conv.refresh(req)
  req.status = #list > 0 and conv.STATUS.ASSIGNED or conv.STATUS.UNASSIGNED
  req.waiting_time = nil
  store.coll("requests"):touch(req)
  archiver.participants_changed(req, before, options)
  return true
end

-- routes/request.js PUT /:requestid/replace: the body names the bot by id (not checked), name
-- (untrashed) or slug; the bot becomes the only participant, every agent leaves
-- (requestService.setParticipantsByRequestId). replaced_bot_root_id is the new bot's root
-- (a published copy's root_id, else its _id). The body is read before the conversation:
-- an unknown conversation is a 500.
function api.replace_bot(ctx)
  local b = ctx.body or {}
  local bots = store.coll("faq_kb")
  local bot_id, root
  if b.id ~= nil and b.id ~= "" and b.id ~= util.null then
    bot_id = tostring(b.id)
    local bot = bots:get(bot_id)
    root = bot and (bot.root_id or bot._id) or bot_id
  else
    local field, value = "name", b.name
    if value == nil or value == "" or value == util.null then field, value = "slug", b.slug end
    if value == nil or value == "" or value == util.null then
      return 400, { success = false, error = "Missing field 'id' or 'name' in body" }
    end
    local bot = bots:find_one(function(x)
      return x.id_project == ctx.pid and x[field] == value and (field == "slug" or x.trashed ~= true)
    end)
    if not bot then
      return 404, { success = false, error = "Chatbot with " .. field .. " '" .. tostring(value) .. "' not found" }
    end
    bot_id, root = bot._id, bot.root_id or bot._id
  end
  local req = get(ctx)
  if not req then return 500, { success = false, error = "Error setting participants to request" } end
  local changed = set_participants(ctx, req, util.arr{ "bot_" .. bot_id })
  local out = conv.view(req)
  if changed then events.emit(ctx.pid, "request.update", out) end
  out.replaced_bot_root_id = root
  return 200, out
end

-- After a change of a conversation's participants or followers: the derived fields, the
-- save, request.update, the answer.
local function list_saved(ctx, req, field)
  if field == "participants" then conv.refresh(req) end
  store.coll("requests"):touch(req)
  events.emit(ctx.pid, "request.update", conv.view(req))
  return ok(req)
end

-- POST .../participants and .../followers: member is checked first (422), then the service
-- fails on an unknown conversation (500 with the route's words). A participant not there yet
-- (requestService.addParticipantByRequestId) makes the conversation assigned (assigned_at now)
-- and is an assignment (buildAddParticipantOptions); one already there changes nothing.
local ADD_FAILED = { participants = "Error adding participant", followers = "Error adding follower" }
local function member_list(field, body_field)
  return function(ctx)
    local b = ctx.body or {}
    local m = b[body_field]
    if type(m) ~= "string" or m == "" then
      return 422, { errors = util.arr{ util.invalid(body_field, m) } }
    end
    local req = get(ctx)
    if not req then return 500, { success = false, error = ADD_FAILED[field] } end
    req[field] = req[field] or util.arr()
    if field == "participants" then
      if util.contains(req.participants, m) then return ok(req) end
      local before = util.arr(util.shallow(req.participants))
      local options = archiver.add_options(ctx.principal, m)
      req.participants[#req.participants + 1] = m
      req.status = conv.STATUS.ASSIGNED
      req.assigned_at = store.now()
      local status, body = list_saved(ctx, req, field)
      archiver.participants_changed(req, before, options)
      return status, body
    end
    if not util.contains(req[field], m) then req[field][#req[field] + 1] = m end
    return list_saved(ctx, req, field)
  end
end
-- routes/request.js PUT /:requestid/participants and /followers: the array replaces the list
-- (requestService.setParticipantsByRequestId / setFollowersByRequestId); an unknown
-- conversation fails the service: a 500
local SET_FAILED = { participants = "Error setting participants", followers = "Error setting followers" }
local function set_list(field)
  return function(ctx)
    local req = get(ctx)
    if not req then return 500, { success = false, error = SET_FAILED[field] } end
    if type(ctx.body) ~= "table" then return 422, { errors = util.arr{ util.invalid(field, ctx.body) } } end
    local list = util.arr()
    for _, m in ipairs(ctx.body) do if type(m) == "string" then list[#list + 1] = m end end
    if field == "participants" then
      if set_participants(ctx, req, list) then events.emit(ctx.pid, "request.update", conv.view(req)) end
      return ok(req)
    end
    req[field] = list
    return list_saved(ctx, req, field)
  end
end
-- DELETE .../participants/:member and .../followers/:fid: one not in the list leaves the
-- conversation as it is (200); an unknown conversation fails the service (the route's answer).
-- A participant removed (requestService.removeParticipantByRequestId): an agent's membership
-- is noted in attributes.abandoned_by_project_users (its id: the time), the status follows
-- (assigned or unassigned; a closed conversation stays closed), and a human leaving is the
-- archiver's LEAVE_CONVERSATION (buildRemoveParticipantOptions).
local function remove_failed(ctx, field, member)
  if field == "participants" then
    return 400, { success = false,
      error = "Unable to remove the participant " .. member .. " from the request " .. ctx.params.rid }
  end
  return 500, { success = false, error = "Error removing follower" }
end

local function remove_from(field, param)
  return function(ctx)
    local req = get(ctx)
    local member = ctx.params[param]
    if not req then return remove_failed(ctx, field, member) end
    local keep, found = util.arr(), false
    for _, m in ipairs(req[field] or {}) do
      -- a participant once (Array.splice at its first place), a follower wherever it is
      if m == member and not (found and field == "participants") then found = true else keep[#keep + 1] = m end
    end
    if not found then return ok(req) end
    req[field] = keep
    if field ~= "participants" then return list_saved(ctx, req, field) end
    if member:sub(1, 4) ~= "bot_" then
      local pu = store.coll("project_users"):find_one(function(x) return x.id_user == member and x.id_project == ctx.pid end)
      if pu then
        req.attributes = type(req.attributes) == "table" and req.attributes or {}
        local abandoned = type(req.attributes.abandoned_by_project_users) == "table"
          and req.attributes.abandoned_by_project_users or {}
        abandoned[pu._id] = store.now_ms()
        req.attributes.abandoned_by_project_users = abandoned
      end
    end
    if req.status ~= conv.STATUS.CLOSED then
      req.status = #keep > 0 and conv.STATUS.ASSIGNED or conv.STATUS.UNASSIGNED
    end
    local status, body = list_saved(ctx, req, field)
    archiver.left(req, ctx.principal, member)
    return status, body
  end
end
api.add_participant = member_list("participants", "member")
api.set_participants = set_list("participants")
api.remove_participant = remove_from("participants", "member")
api.add_follower = member_list("followers", "member")
api.set_followers = set_list("followers")
api.remove_follower = remove_from("followers", "fid")
-- routes/request.js POST /:requestid/notes: the text is checked before the conversation is looked up
local add_note = or_404(get, function(ctx, req)
  local p = ctx.principal
  if p.role == "agent" and not util.contains(req.participants, p.id) then
    return 403, { success = false, error = "You must be a participant to add a note" }
  end
  req.notes = req.notes or util.arr()
  local now = store.now()
  req.notes[#req.notes + 1] = { _id = store.id(), text = ctx.body.text, createdBy = p.id, createdAt = now, updatedAt = now }
  store.coll("requests"):touch(req)
  return ok(req)
end)
function api.add_note(ctx)
  local t = (ctx.body or {}).text
  if t == nil or t == util.null or type(t) == "string" and t:match("^%s*$") then
    local shown = t == nil and "undefined" or t == util.null and "null" or t
    return 400, { success = false, error = "Field 'text' is required. Received value: " .. shown }
  end
  return add_note(ctx)
end

-- removes the sub-document (note, tag) whose _id is the path parameter
local function remove_subdoc(field, param)
  return function(ctx)
    local req = get(ctx)
    if not req then return E.not_found() end
    local keep = util.arr()
    for _, x in ipairs(req[field] or {}) do if x._id ~= ctx.params[param] then keep[#keep + 1] = x end end
    req[field] = keep
    store.coll("requests"):touch(req)
    return ok(req)
  end
end
api.remove_note = remove_subdoc("notes", "nid")
-- routes/request.js PUT /:requestid/tag: a non-empty array of { tag, color }; the tags not on
-- the conversation yet are added (and counted for analytics/tags/conversation-tag); the
-- answer is the conversation, unpopulated.
function api.add_tags(ctx)
  local b = ctx.body
  if type(b) ~= "table" or #b == 0 then return 400, { success = false, message = "No tag specified" } end
  local req = get(ctx)
  if not req then
    return 404, { success = false, error = "Request not found with request id " .. ctx.params.rid }
  end
  req.tags = req.tags or util.arr()
  local now = store.now_ms()
  for _, t in ipairs(b) do
    if type(t) == "table" and type(t.tag) == "string" then
      local dup = false
      for _, x in ipairs(req.tags) do if x.tag == t.tag then dup = true end end
      if not dup then
        req.tags[#req.tags + 1] = { _id = store.id(), tag = t.tag, color = t.color }
        require("sbx.api.analytics").record_tag(ctx.pid, "conversation-tag", t.tag, now)
      end
    end
  end
  store.coll("requests"):touch(req)
  local out = util.shallow(req)
  out.tags = util.arr(util.shallow(req.tags))
  return 200, out
end

api.remove_tag = remove_subdoc("tags", "tid")
-- Simplified: the server emails the lead; the sandbox stores the email (collection emails)
-- and sends nothing.
api.send_email = or_404(get, function(ctx, req)
  local b = ctx.body or {}
  if type(b.text) ~= "string" or b.text == "" then
    return 422, { errors = util.arr{ util.invalid("text", b.text) } }
  end
  store.coll("emails"):insert{ to = (store.coll("leads"):get(req.lead) or {}).email, text = b.text,
    subject = b.subject, replyto = b.replyto, request_id = req.request_id, id_project = ctx.pid }
  return 200, { queued = true }
end)

function api.rate(ctx)
  local req = get(ctx)
  local pu = ctx.principal.pu
  if not req or not pu or req.requester ~= pu._id then return E.not_found() end
  local b = ctx.body or {}
  req.rating = tonumber(b.rating) or req.rating
  req.rating_message = b.rating_message or req.rating_message
  store.coll("requests"):touch(req)
  return ok(req)
end

function api.close_as_guest(ctx)
  local req = get(ctx)
  local pu = ctx.principal.pu
  if not req or not pu or req.requester ~= pu._id then return E.not_found() end
  if req.status ~= 1000 then conv.close(req, ctx.principal.id) end
  return ok(req)
end

-- owner-only deletes answer the role checker's sibling body, "Unauthorized."
local function is_owner(ctx) return ctx.principal.role == "owner" end
function api.delete(ctx)
  if not is_owner(ctx) and not require("sbx.app").has_permission(ctx.principal.pu, "request_delete") then
    return E.forbidden()
  end
  local req = get(ctx)
  if not req then return E.not_found() end
  local msgs = store.coll("messages")
  for _, m in ipairs(conv.messages(ctx.pid, req.request_id)) do msgs:remove(m._id) end
  store.coll("requests"):remove(req._id)
  return ok(req)
end

function api.delete_by_request_id(ctx)
  if not is_owner(ctx) then return E.forbidden() end
  local req = store.coll("requests"):get(ctx.params.id)
  if not req or req.id_project ~= ctx.pid then return E.not_found() end
  store.coll("requests"):remove(req._id)
  return 200, crud.removed(1)
end

function api.chatbot_parameters(ctx)
  local third = util.split(ctx.params.rid, "-")[3]
  -- routes/request.js: the request_id's third dash-separated part must be the project
  if third ~= ctx.pid then return 401, { success = false, message = "Request does not belong to the project" } end
  local req = get(ctx)
  if not req then return E.not_found() end
  local out = util.shallow(req.attributes or {})
  return 200, out
end

function api.lookup_project(ctx)
  local req = store.coll("requests"):find_one(function(x) return x.request_id == ctx.params.rid end)
  if not req then return E.not_found() end
  return 200, { id_project = req.id_project }
end

function api.public_messages(ctx)
  -- no project in the path: every message addressed to the request_id, oldest first
  local list = store.coll("messages"):find(function(m) return m.recipient == ctx.params.rid end)
  return 200, util.sort(list, "createdAt", 1)
end

api.routes = {
  { "GET", "/:pid/requests", "list", agent },
  { "GET", "/:pid/requests/me", "list_mine", { role = "guest" } },
  { "GET", "/:pid/requests/count", "count", { role = "agent" } },
  { "GET", "/:pid/requests/csv", "csv", { role = "agent" } },
  { "GET", "/:pid/requests/:rid", "get", agent },
  { "POST", "/:pid/requests", "create", agent },
  { "PATCH", "/:pid/requests/:rid", "patch", agent },
  { "PATCH", "/:pid/requests/:rid/attributes", "set_attributes", agent },
  { "PUT", "/:pid/requests/:rid/close", "close", agent },
  { "PUT", "/:pid/requests/:rid/reopen", "reopen", agent },
  { "PUT", "/:pid/requests/:rid/departments", "route_department", agent },
  { "PUT", "/:pid/requests/:rid/assign", "assign", agent },
  { "PUT", "/:pid/requests/:rid/agent", "agent_handoff", { role = "agent", types = { "bot" } } },
  { "PUT", "/:pid/requests/:rid/replace", "replace_bot", { role = "agent", types = { "bot" } } },
  { "POST", "/:pid/requests/:rid/participants", "add_participant", agent },
  { "PUT", "/:pid/requests/:rid/participants", "set_participants", agent },
  { "DELETE", "/:pid/requests/:rid/participants/:member", "remove_participant", agent },
  { "POST", "/:pid/requests/:rid/followers", "add_follower", agent },
  { "PUT", "/:pid/requests/:rid/followers", "set_followers", agent },
  { "DELETE", "/:pid/requests/:rid/followers/:fid", "remove_follower", agent },
  { "POST", "/:pid/requests/:rid/notes", "add_note", { role = "agent", types = { "subscription" } } },
  { "DELETE", "/:pid/requests/:rid/notes/:nid", "remove_note", agent },
  { "PUT", "/:pid/requests/:rid/tag", "add_tags", agent },
  { "DELETE", "/:pid/requests/:rid/tag/:tid", "remove_tag", agent },
  { "POST", "/:pid/requests/:rid/email/send", "send_email", agent },
  { "PATCH", "/:pid/requests/:rid/rating", "rate", { role = "guest" } },
  { "PUT", "/:pid/requests/:rid/closeg", "close_as_guest", { role = "guest" } },
  { "DELETE", "/:pid/requests/:rid", "delete", { role = "agent", perm = "request_delete" } },
  { "DELETE", "/:pid/requests/id/:id", "delete_by_request_id", { role = "agent" } },
  { "GET", "/:pid/requests/:rid/chatbot/parameters", "chatbot_parameters", agent },
  { "GET", "/requests_util/lookup/id_project/:rid", "lookup_project" },
  { "GET", "/public/requests/:rid/messages", "public_messages", { auth = false } },
}

return api
