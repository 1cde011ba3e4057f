-- Conversations: creation with routing, the populated view, messages and their side effects.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local events = require("sbx.events")
local archiver = require("sbx.archiver")

local _M = {}

_M.STATUS = { TEMP = 50, UNASSIGNED = 100, ABANDONED = 150, ASSIGNED = 200, SERVED = 300, CLOSED = 1000 }

local rr = 0

-- Round-robin routing starts over with the seed, so a reset gives the same assignments.
function _M.reset()
  rr = 0
end

local function coll(n) return store.coll(n) end

-- A conversation is (project, request_id): the same request_id may live in two projects.
function _M.find(pid, rid)
  return coll("requests"):find_one(function(x) return x.request_id == rid and x.id_project == pid end)
end

-- The transcript of a conversation, oldest first.
function _M.messages(pid, rid)
  local list = coll("messages"):find(function(m) return m.recipient == rid and m.id_project == pid end)
  return util.sort(list, "createdAt", 1)
end

-- The bot id of a participant "bot_<id>", else nil (string.sub, which LuaJIT compiles, where a
-- pattern match would leave the caller's loop to the interpreter).
local function bot_of(p)
  if type(p) == "string" and p:sub(1, 4) == "bot_" then return p:sub(5) end
  return nil
end

function _M.split_participants(r)
  local agents, bots = util.arr(), util.arr()
  for _, p in ipairs(r.participants or {}) do
    local bot = bot_of(p)
    if bot then bots[#bots + 1] = bot else agents[#agents + 1] = p end
  end
  return agents, bots
end

function _M.refresh(r)
  r.participantsAgents, r.participantsBots = _M.split_participants(r)
  r.hasBot = #r.participantsBots > 0
  return r
end

-- A list field of a view: a copy marked as an array ([] when absent); for an answer only written
-- out, the stored list itself when it is marked already (written the same).
local function as_array(list, overlay)
  if overlay and list ~= nil and getmetatable(list) == util.json.array_mt then return list end
  return util.arr(util.shallow(list or {}))
end

-- The populated Request as the server returns it. `overlay`: an answer only written out (a
-- page of a list), made with json.overlay over r instead of a copy of r. `bare`: the lists'
-- no_populate=true (routes/request.js, user-request.js GET /me): department, lead and requester
-- stay ids and the virtual populates participatingAgents / participatingBots are left out, as
-- toJSON leaves out a virtual populate that was not populated. models/request.js's virtual
-- requester_id is the lead's _id either way (an ObjectId's _id is itself), null without a lead.
function _M.view(r, overlay, bare)
  if not r then return nil end
  local out = overlay and util.json.overlay(r) or util.shallow(r, 4) -- requester_id, id, participating*
  out.requester_id = r.lead or util.null
  out.id = r._id
  out.participants = as_array(r.participants, overlay)
  out.tags = as_array(r.tags, overlay)
  out.notes = as_array(r.notes, overlay)
  out.followers = as_array(r.followers, overlay)
  if bare then return out end
  local pu = r.requester and coll("project_users"):get(r.requester)
  out.requester = pu and view.pu(pu, nil, overlay) or r.requester
  out.lead = r.lead and coll("leads"):get(r.lead) or r.lead
  local dept = r.department and coll("departments"):get(r.department)
  out.department = dept and view.department(dept) or r.department
  -- the agents and the bots among the participants, each in the participants' order
  local agents, bots = util.arr(), util.arr()
  for _, p in ipairs(r.participants or {}) do
    local bot = bot_of(p)
    if bot then
      local b = coll("faq_kb"):get(bot)
      if b then bots[#bots + 1] = view.bot(b) end
    else
      local u = coll("users"):get(p)
      if u then agents[#agents + 1] = view.user(u) end
    end
  end
  out.participatingAgents = agents
  out.participatingBots = bots
  return out
end

local function available_agents(pid)
  local out = {}
  for _, pu in ipairs(coll("project_users"):all()) do
    if pu.id_project == pid and pu.id_user and pu.user_available and pu.status == "active"
      and (pu.role == "agent" or pu.role == "admin" or pu.role == "owner" or pu.role == "supervisor") then
      out[#out + 1] = pu
    end
  end
  return out
end

function _M.default_department(pid)
  return coll("departments"):find_one(function(d) return d.id_project == pid and d.default end)
end

-- Routes r to department dept (nobot: skip its bot). Sets participants and status; at_ms is
-- the time of the routing (default now).
function _M.route(r, dept, nobot, at_ms)
  r.department = dept and dept._id or r.department
  local agents = available_agents(r.id_project)
  r.snapshot = r.snapshot or {}
  r.snapshot.department = dept and { _id = dept._id, name = dept.name, routing = dept.routing } or nil
  r.snapshot.agents = util.arr()
  for _, pu in ipairs(agents) do r.snapshot.agents[#r.snapshot.agents + 1] = { id_user = pu.id_user } end
  if dept and dept.id_bot and not nobot then
    r.participants = util.arr{ "bot_" .. dept.id_bot }
    r.status = _M.STATUS.ASSIGNED
  elseif dept and dept.bot_only then
    r.participants = util.arr()
    r.status = _M.STATUS.UNASSIGNED
  elseif not dept or dept.routing ~= "pooled" then
    if #agents > 0 then
      rr = rr + 1
      local pick = agents[(rr - 1) % #agents + 1]
      r.participants = util.arr{ pick.id_user }
      r.status = _M.STATUS.ASSIGNED
      r.assigned_at = store.iso(at_ms)
    else
      r.participants = util.arr()
      r.status = _M.STATUS.UNASSIGNED
    end
  else
    r.participants = util.arr()
    r.status = _M.STATUS.UNASSIGNED
  end
  _M.refresh(r)
  return r
end

-- The requester's project_user for a principal (guests and external users included).
function _M.requester_pu(pid, principal)
  if not principal then return nil end
  local pus = coll("project_users")
  if principal.pu and principal.pu._id then return principal.pu end
  local id = principal.id
  local pu = pus:find_one(function(x) return x.id_project == pid and (x.uuid_user == id or x.id_user == id) end)
  if not pu then
    pu = pus:insert{ id_project = pid, uuid_user = id, role = "guest", roleType = 2, user_available = false,
      status = "active", trashed = false, attributes = {}, tags = util.arr() }
  end
  return pu
end

-- leadService.createIfNotExistsWithLeadId: the project's lead with that lead_id, as it is when
-- its email is the caller's (JavaScript's ==: none and none are equal), else with the fullname
-- and email given (updateWitId; its lead.update event goes to no subscription); none: a new
-- one (createWitId: fullname and email as given, phone normalizePhone(undefined), null,
-- createdBy "system" when the caller gives none, as the routes do: status the default 100).
function _M.find_or_create_lead(pid, lead_id, fullname, email, attributes, created_by)
  local leads = coll("leads")
  local lead = leads:find_one(function(l) return l.id_project == pid and l.lead_id == lead_id end)
  if lead then
    local had = lead.email
    if had == email or ((had == nil or had == util.null) and (email == nil or email == util.null)) then
      return lead, false
    end
    if fullname ~= nil then lead.fullname = fullname end
    lead.email = email
    leads:touch(lead)
    return lead, false
  end
  lead = leads:insert{ lead_id = lead_id, fullname = fullname, email = email, phone = util.null,
    attributes = attributes or {}, tags = util.arr(), status = 100, id_project = pid, createdBy = created_by or "system" }
  events.emit(pid, "lead.create", lead)
  return lead, true
end

-- The next ticket number of a project: a counter of its own, so a number is never given
-- twice, even after the conversation holding it was deleted.
function _M.next_ticket(pid)
  local counters = coll("counters")
  local c = counters:find_one(function(x) return x.id_project == pid and x.name == "ticket" end)
    or counters:insert{ id_project = pid, name = "ticket", seq = 0 }
  c.seq = c.seq + 1
  return c.seq
end

-- requestService.create: a test conversation (the dashboard's "try it": attributes.sourcePage
-- holding td_draft=true) is a draft, which counts and quotas leave out
function _M.is_test(attributes)
  local page = type(attributes) == "table" and attributes.sourcePage
  return type(page) == "string" and page:find("td_draft=true", 1, true) ~= nil
end

-- Creates a conversation. f: first_text, request_id, sender, senderFullname, email, departmentid, ...
function _M.create(pid, f, principal, at_ms)
  local rid = f.request_id or ("support-group-" .. pid .. "-" .. store.uuid(true))
  local pu = f.requester_pu or _M.requester_pu(pid, principal)
  local sender = f.sender or (principal and principal.id) or store.uuid()
  -- the routes pass no createdBy (null): "system"
  local lead = f.lead_doc or _M.find_or_create_lead(pid, sender, f.senderFullname, f.email, f.leadAttributes)
  local dept
  if f.departmentid then dept = coll("departments"):get(f.departmentid) end
  if not dept or dept.id_project ~= pid then dept = _M.default_department(pid) end
  local r = {
    request_id = rid, ticket_id = _M.next_ticket(pid), requester = pu and pu._id, lead = lead._id,
    subject = f.subject, first_text = f.first_text, status = _M.STATUS.UNASSIGNED, preflight = f.preflight == true,
    participants = util.arr(), followers = util.arr(), priority = f.priority or "medium", tags = util.arr(),
    notes = util.arr(), sourcePage = f.sourcePage, language = f.language or "en", userAgent = f.userAgent,
    channel = f.channel or { name = "chat21" }, channelOutbound = { name = "chat21" },
    attributes = f.attributes or {}, contact = { email = f.email }, location = f.location,
    id_project = pid, createdBy = principal and principal.id or sender, draft = _M.is_test(f.attributes) or nil, auto_close = nil,
    workingStatus = nil, smartAssignment = true,
    -- requestService.create keeps the lead as it was (the full-text index reads its email and name)
    snapshot = { lead = { _id = lead._id, lead_id = lead.lead_id, fullname = lead.fullname, email = lead.email } },
  }
  coll("requests"):insert(r, at_ms)
  if f.participants and #f.participants > 0 then
    r.department = dept and dept._id
    r.participants = util.arr(util.shallow(f.participants))
    r.status = _M.STATUS.ASSIGNED
    _M.refresh(r)
  else
    _M.route(r, dept, false, at_ms)
  end
  if f.request_status then r.status = tonumber(f.request_status) or r.status end
  if f.followers then r.followers = util.arr(util.shallow(f.followers)) end
  r.waiting_time = nil
  if not at_ms then
    local rv = _M.view(r)
    events.emit(pid, "request.create", rv)
    events.conversation_routed(pid, rv)
    archiver.request(r, "REQUEST_CREATE")
    archiver.created(r)
  end
  return r
end

-- requestService.route (PUT /requests/:rid/assign, /departments, /agent, a reroute): routes r
-- to dept, saves it and records the assignments the change makes (emitAssignedEvent with the
-- caller's options; a change of department is passed along).
function _M.reroute(r, dept, nobot, options)
  local before, before_dept = util.arr(util.shallow(r.participants or {})), r.department
  _M.route(r, dept, nobot)
  coll("requests"):touch(r)
  local o = util.shallow(options or {})
  if r.department ~= before_dept then o.department_change = { from = before_dept, to = r.department } end
  archiver.participants_changed(r, before, o)
  return r
end

-- pubmodules/rules/conciergeBot.js on message.create (just after it, from a timer as the server
-- runs it from setImmediate): a message from the lead of a preflight conversation that is not
-- its first text makes the conversation real: first_text becomes the message's text ("Image",
-- "Frame" for those types), preflight false (requestService.changeFirstTextAndPreflightByRequestId:
-- request.update, and request.update.preflight, which the archiver records as REQUEST_CREATE);
-- a conversation still temporary (50) with no bot is routed again (the rules' automatic
-- assignment); the lead's status becomes 100.
local function concierge(premature, pid, rid, msg)
  if premature then return end
  local r = _M.find(pid, rid)
  if not r then return end
  local text = msg.text
  if msg.type == "image" then text = "Image" elseif msg.type == "frame" then text = "Frame" end
  if text == nil or text == "" or text == util.null then return end
  r.first_text, r.preflight = text, false
  coll("requests"):touch(r)
  archiver.request(r, "REQUEST_CREATE")
  events.emit(pid, "request.update", _M.view(r))
  if msg.temp then
    local dept = r.department and coll("departments"):get(r.department)
    if dept then
      _M.reroute(r, dept, false, archiver.internal_options("rules", "auto"))
      events.emit(pid, "request.update", _M.view(r))
    end
  end
  local lead = r.lead and coll("leads"):get(r.lead)
  if lead then
    -- (its lead.update event goes to no subscription: services/subscriptionNotifierQueued.js)
    lead.status = 100
    coll("leads"):touch(lead)
  end
end

-- Adds a message to r and runs the side effects (counts, events, bot webhooks).
function _M.add_message(pid, r, f, principal, at_ms)
  local m = coll("messages"):insert({
    sender = f.sender or (principal and principal.id), senderFullname = f.senderFullname or "Guest",
    recipient = r.request_id, recipientFullname = f.recipientFullname, type = f.type or "text",
    channel_type = "group", text = f.text, language = f.language or r.language or "en",
    channel = f.channel or { name = "chat21" }, status = tonumber(f.status) or 0, attributes = f.attributes,
    metadata = f.metadata, id_project = pid, createdBy = principal and principal.id or f.sender,
  }, at_ms)
  if at_ms then return m end
  -- the first answer from an agent marks the conversation served
  local sender = m.sender
  if r.status == _M.STATUS.ASSIGNED and sender and util.contains(r.participants, sender) then
    r.status = _M.STATUS.SERVED
    r.first_response_at = r.first_response_at or store.now()
    r.waiting_time = r.waiting_time or (store.now_ms() - (store.ms_of(r.createdAt) or store.now_ms()))
  end
  coll("requests"):touch(r)
  local rv = _M.view(r)
  local payload = util.shallow(m)
  payload.request = rv
  events.emit(pid, "message.create", payload)
  events.emit(pid, "message.create.request.channel." .. ((r.channel and r.channel.name) or "chat21"), payload)
  events.message_created(pid, m, rv)
  -- the conversation as the message carries it: the concierge's test
  local lead = r.preflight == true and r.lead and coll("leads"):get(r.lead)
  if lead and m.sender == lead.lead_id and m.text ~= r.first_text then
    store.timer_at(0, concierge, pid, r.request_id,
      { text = m.text, type = m.type, temp = r.status == _M.STATUS.TEMP and r.hasBot == false })
  end
  return m
end

function _M.close(r, by)
  r.status = _M.STATUS.CLOSED
  r.closed_at = store.now()
  r.closed_by = by
  coll("requests"):touch(r)
  local rv = _M.view(r)
  rv.messages = _M.messages(r.id_project, r.request_id)
  events.emit(r.id_project, "request.close", rv)
  archiver.request(r, "REQUEST_CLOSE")
  return r
end

return _M
