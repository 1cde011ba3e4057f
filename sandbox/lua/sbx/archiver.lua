-- The activity log as the server writes it: pubmodules/activities/activityArchiver.js (one
-- document per event it listens to), models/activity.js (the schema and its pre-save hook) and
-- the utils it calls (utils/activityActorUtil.js, projectUserUpdateContextUtil.js,
-- assignmentContextUtil.js). The server archives only with ACTIVITY_HISTORY_ENABLED=true; the
-- sandbox always does, at once (the server from setImmediate, just after the event).
--
-- A document: { actor = {_id, type, id, name}, verb, actionObj, target = {type, id, object},
-- related? = {role, type, id, name}, involvedUserIds?, id_project }, with the timestamps.
-- What the server stores goes through mongoose's save: fields left undefined are not written,
-- and (the schema's `minimize`) nor is an object that ends up empty, at any depth except as an
-- item of an array; the actor, a single nested subdocument of a schema without `_id: false`
-- (unlike the related one), gets an _id of its own.
local store = require("sbx.store")
local util = require("sbx.util")
local json = require("sbx.json")

local _M = {}

local null = util.null
local array_mt = json.array_mt

local function coll(n) return store.coll(n) end

function _M.system_actor() return { type = "system", id = "system", name = "System" } end
local system_actor = _M.system_actor

local function trim(x) return (x:gsub("^%s+", ""):gsub("%s+$", "")) end
local function str(x) return type(x) == "string" and x ~= "" and x or nil end

---------------------------------------------------------------------------------------------
-- the document

-- A copy of v as mongoose's minimize saves it: nil for an object left with no field (unless
-- it is an item of an array), arrays kept (empty ones too), null kept.
local function minimized(v, in_array)
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt == array_mt or (mt == nil and v[1] ~= nil) then
    local out = util.arr()
    for i = 1, #v do
      local x = minimized(v[i], true)
      if x == nil then x = null end
      out[i] = x
    end
    return out
  end
  local out, any = {}, false
  for k, x in pairs(v) do
    x = minimized(x, false)
    if x ~= nil then
      out[k] = x
      any = true
    end
  end
  if not any and not in_array then return nil end
  return setmetatable(out, mt)
end
_M.minimized = minimized

-- String(x) of an id
local function sid(x)
  if x == nil or x == null then return nil end
  if type(x) == "table" then return nil end
  return tostring(x)
end

local truthy = util.truthy

-- models/activity.js userIdFromEntity: the populated (or plain) id_user of the entity's object,
-- else the entity's id when it is of type 'user'
local function user_of(entity)
  if type(entity) ~= "table" then return nil end
  local obj = entity.object
  if type(obj) == "table" and truthy(obj.id_user) then
    local u = obj.id_user
    if type(u) == "table" then
      local id = truthy(u._id) and u._id or (truthy(u.id) and u.id or nil)
      if id ~= nil then return sid(id) end
      return "[object Object]"
    end
    return sid(u)
  end
  if entity.type == "user" and truthy(entity.id) then return sid(entity.id) end
  return nil
end

-- models/activity.js computeInvolvedUserIds (the pre-save hook): the actor when it is a user,
-- the target's user, the related user, and a request target's human agents (participantsAgents,
-- then the populated participatingAgents), each once, in that order; nil when none.
function _M.involved(doc)
  local ids, seen = util.arr(), {}
  local function add(id)
    if id ~= nil and id ~= "" and not seen[id] then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  local actor = doc.actor
  if type(actor) == "table" and actor.type == "user" and truthy(actor.id) then add(sid(actor.id)) end
  add(user_of(doc.target))
  add(user_of(doc.related))
  local obj = type(doc.target) == "table" and doc.target.object
  if type(obj) == "table" then
    local function agent_id(raw)
      local id = sid(raw)
      if id and id:sub(1, 4) ~= "bot_" then add(id) end
    end
    if type(obj.participantsAgents) == "table" then
      for _, p in ipairs(obj.participantsAgents) do agent_id(p) end
    end
    if type(obj.participatingAgents) == "table" then
      for _, a in ipairs(obj.participatingAgents) do
        if truthy(a) then
          if type(a) == "table" then agent_id(a._id or a.id) else agent_id(a) end
        end
      end
    end
  end
  if #ids == 0 then return nil end
  return ids
end

-- Dates kept as strings in the target (a bot that came back over HTTP, as the fork route's):
-- the CSV writes them as they are, not as Date objects. Weak keys: gone with the documents.
local string_dates = setmetatable({}, { __mode = "k" })
function _M.target_dates_are_strings(a) return string_dates[a] == true end

-- Saves one activity. opts: related, at_ms, string_dates. The schema's required fields (actor
-- type and id, verb, target, id_project) missing: mongoose refuses the save, nothing is written.
function _M.record(pid, actor, verb, action, target, opts)
  opts = opts or {}
  if type(actor) ~= "table" or actor.type == nil or actor.id == nil or verb == nil or target == nil
    or pid == nil then
    return nil
  end
  local doc = {
    actor = { _id = store.id(), type = tostring(actor.type), id = tostring(actor.id),
      name = actor.name ~= nil and actor.name ~= null and tostring(actor.name) or nil },
    verb = verb,
    actionObj = minimized(action),
    target = minimized(target),
    id_project = tostring(pid),
  }
  if type(opts.related) == "table" then
    local r = opts.related
    doc.related = minimized({ role = r.role, type = r.type, id = sid(r.id), name = sid(r.name), object = r.object })
  end
  doc.involvedUserIds = _M.involved(doc)
  local a = coll("activities"):insert(doc, opts.at_ms)
  if opts.string_dates then string_dates[a] = true end
  return a
end

---------------------------------------------------------------------------------------------
-- actors

-- projectUserUpdateContextUtil.userDisplayName: fullName (or fullname) trimmed, else firstname
-- and lastname joined and trimmed, else nil. A user document's fullName is its virtual.
function _M.display_name(u)
  if type(u) ~= "table" then return nil end
  local full = str(u.fullName) or str(u.fullname)
  if full and trim(full) ~= "" then return trim(full) end
  local name = trim((str(u.firstname) or "") .. " " .. (str(u.lastname) or ""))
  return name ~= "" and name or nil
end

-- activityActorUtil.actorFromReq (actorFromPrincipal on req.user): no principal or a
-- subscription's token is the system; a bot is {type bot, its name}; a user document is named
-- by its fullName virtual, firstname + " " + lastname as it is (untrimmed); a guest's or a
-- custom token's payload by its fullName, fullname or joined names.
function _M.actor(principal)
  if not principal or principal.kind == "subscription" then return system_actor() end
  if principal.kind == "bot" then
    local name = principal.bot and str(principal.bot.name) and trim(principal.bot.name)
    return { type = "bot", id = principal.id, name = name ~= "" and name or principal.id }
  end
  local u = principal.user or {}
  local name
  if principal.kind == "user" then
    name = (str(u.firstname) or "") .. " " .. (str(u.lastname) or "")
  else
    name = str(u.fullName) or str(u.fullname) or _M.display_name(u)
  end
  return { type = "user", id = principal.id, name = name }
end

---------------------------------------------------------------------------------------------
-- conversations

-- The request as the archiver gets it (the populated document, saved with its own fields: the
-- populated references back to their ids, no virtuals but `id`), frozen as it is now. Used
-- both as the target's object and, for REQUEST_CREATE and REQUEST_CLOSE, as the action object.
function _M.request_snapshot(r)
  local snapshot = util.copy(r)
  snapshot.id = r._id
  return snapshot
end

function _M.request_target(r, snapshot)
  return { type = "request", id = r._id, object = snapshot or _M.request_snapshot(r) }
end

-- activityActorUtil.actorFromRequestCreate: the request's requester_id (the virtual: its
-- lead's _id) named by requester_name (never set) or the lead's fullname.
local function create_actor(r)
  local lead = r.lead and coll("leads"):get(r.lead)
  return { type = "user", id = lead and lead._id or nil, name = lead and (str(lead.fullname) or str(lead.fullName)) }
end

-- activityActorUtil.resolveActorFromClosedBy: no closer, "system" or "_trigger" (any case) is
-- the system; else the closer's id named by the user's display name (from the participating
-- agents, the snapshot's agents or the users), or by the id when no user has that id.
local function close_actor(r)
  local by = r.closed_by
  if by == nil or by == "" or by == null then return system_actor() end
  by = tostring(by)
  local low = by:lower()
  if low == "system" or low == "_trigger" then return system_actor() end
  return { type = "user", id = by, name = _M.display_name(coll("users"):get(by)) or by }
end

-- REQUEST_CREATE (request.create, and request.update.preflight: a preflight conversation made
-- real) / REQUEST_CLOSE (request.close): the request is both the action object and the target.
-- The archiver skips a request still preflight.
function _M.request(r, verb, at_ms)
  if verb == "REQUEST_CREATE" and r.preflight == true then return nil end
  local snapshot = _M.request_snapshot(r)
  local actor = verb == "REQUEST_CREATE" and create_actor(r) or close_actor(r)
  return _M.record(r.id_project, actor, verb, snapshot, _M.request_target(r, snapshot), { at_ms = at_ms })
end

---------------------------------------------------------------------------------------------
-- assignments (utils/assignmentContextUtil.js, services/requestService.js emitAssignedEvent,
-- the archiver's request.assigned and request.participants.leave)

local function is_bot(p) return type(p) == "string" and p:sub(1, 4) == "bot_" end
-- isHumanParticipant: a truthy id not starting with bot_
local function is_human(p) return truthy(p) and tostring(p):sub(1, 4) ~= "bot_" end

local function humans(list)
  local out = util.arr()
  for _, p in ipairs(list or {}) do if is_human(p) then out[#out + 1] = p end end
  return out
end
local function bots(list)
  local out = util.arr()
  for _, p in ipairs(list or {}) do if is_bot(p) then out[#out + 1] = p end end
  return out
end

-- assignmentActorContext: the caller's actor and the default source; a subscription's token is
-- the system with source 'subscription'.
function _M.assignment_context(principal, default_source)
  if not principal then return system_actor(), "system" end
  if principal.kind == "subscription" then return system_actor(), "subscription" end
  return _M.actor(principal), default_source or "api"
end

-- deriveAssignmentType (never an unassignment here): none without a human among the ids; the
-- system's 'auto'; the first human being the actor 'self_join'; else 'manual_reassign'
function _M.derive_type(actor, ids)
  local h = humans(ids)
  if #h == 0 then return nil end
  if not actor or actor.type == "system" then return "auto" end
  if tostring(actor.id) == tostring(h[1]) then return "self_join" end
  return "manual_reassign"
end

local VERBS = { auto = "REQUEST_ASSIGNED_AUTO", self_join = "REQUEST_ASSIGNED_SELF",
  manual_reassign = "REQUEST_ASSIGNED_MANUAL", manual_reassign_bot = "REQUEST_ASSIGNED_MANUAL",
  manual_reassign_department = "REQUEST_ASSIGNED_MANUAL", unassign = "REQUEST_UNASSIGNED" }

-- The archiver's request.assigned: the verb of the assignment type (none: nothing recorded),
-- the actor reconciled (the system's for a subscription or a system actor), the assignment as
-- action, the request as target, the assignee as related (role assignee, or unassigned_user).
-- d: assigneeId, assigneeName, assigneeType, assignmentType, actor, source, previousAssigneeId,
-- removedParticipants.
function _M.assigned(r, d)
  local verb = VERBS[d.assignmentType]
  if not verb then return nil end
  local source = d.source or "system"
  local actor = d.actor or system_actor()
  if source == "subscription" or actor.type == "system" then actor = system_actor() end
  local related
  if truthy(d.assigneeId) then
    related = { role = verb == "REQUEST_UNASSIGNED" and "unassigned_user" or "assignee",
      type = d.assigneeType or "user", id = tostring(d.assigneeId), name = d.assigneeName }
  end
  return _M.record(r.id_project, actor, verb, {
    assigneeId = d.assigneeId, assigneeName = d.assigneeName, assigneeType = d.assigneeType or "user",
    assignmentType = d.assignmentType, source = source, previousAssigneeId = d.previousAssigneeId,
    removedParticipants = d.removedParticipants,
  }, _M.request_target(r), { related = related, at_ms = d.at_ms })
end

-- event/requestEvent.js (request.create.simple): a conversation created with a human among its
-- agents is assigned to the first one, automatically, by the system (source 'create').
function _M.created(r, at_ms)
  local h = humans(r.participantsAgents)
  if #h == 0 then return nil end
  return _M.assigned(r, { assigneeId = tostring(h[1]), assignmentType = "auto", actor = system_actor(),
    source = "create", removedParticipants = util.arr(), previousAssigneeId = null, at_ms = at_ms })
end

-- assignmentContextUtil.resolveBotName over the populated participatingBots
local function bot_name(bot_id)
  local b = coll("faq_kb"):get(bot_id)
  if b and truthy(b.name) then return b.name end
  return bot_id
end

-- resolveDepartmentName over the populated department
local function department_name(r)
  local dep = r.department and coll("departments"):get(r.department)
  if not dep then return nil end
  if truthy(dep.name) then return dep.name end
  return sid(dep._id)
end

-- The ids in `list` that `other` has not (Array.filter with includes)
local function minus(list, other)
  local out = util.arr()
  for _, p in ipairs(list or {}) do
    if not util.contains(other, p) then out[#out + 1] = p end
  end
  return out
end

-- requestService.emitAssignedEvent after a change of the participants: before = the
-- participants before, o = { assignmentType, actor, source, department_change = { from, to }? }
-- (added = now minus before, removed = before minus now).
function _M.participants_changed(r, before, o)
  local added, removed = minus(r.participants, before), minus(before, r.participants)
  local h_added, h_removed, b_added = humans(added), humans(removed), bots(added)
  local actor = o.actor or system_actor()
  local source = o.source or "system"
  local previous = #h_removed > 0 and tostring(h_removed[1]) or null
  local dc = o.department_change
  if o.assignmentType == "manual_reassign_department" and dc and dc.to and tostring(dc.to) ~= tostring(dc.from or "") then
    _M.assigned(r, { assigneeId = tostring(dc.to), assigneeName = department_name(r), assigneeType = "department",
      assignmentType = "manual_reassign_department", actor = actor, source = source, previousAssigneeId = previous,
      removedParticipants = h_removed })
    return
  end
  if o.assignmentType == "manual_reassign_bot" and #b_added > 0 then
    local bot_id = b_added[1]:sub(5)
    _M.assigned(r, { assigneeId = bot_id, assigneeName = bot_name(bot_id), assigneeType = "bot",
      assignmentType = "manual_reassign_bot", actor = actor, source = source, previousAssigneeId = previous,
      removedParticipants = h_removed })
    return
  end
  if o.assignmentType == "unassign" or (#h_added == 0 and #h_removed > 0) then
    for _, id in ipairs(h_removed) do
      _M.assigned(r, { assigneeId = tostring(id), assignmentType = "unassign", actor = actor, source = source,
        removedParticipants = h_removed, previousAssigneeId = tostring(id) })
    end
    return
  end
  if #h_added == 0 then return end
  local kind = o.assignmentType or _M.derive_type(actor, h_added)
  if not kind then return end
  for _, id in ipairs(h_added) do
    _M.assigned(r, { assigneeId = tostring(id), assigneeType = "user", assignmentType = kind, actor = actor,
      source = source, removedParticipants = h_removed, previousAssigneeId = previous })
  end
end

-- buildSetParticipantsOptions: none left is an unassignment, bots only a reassignment to a bot,
-- else the type derived from all the new participants
function _M.set_options(principal, participants)
  local actor, source = _M.assignment_context(principal, "api")
  local kind
  if #participants == 0 then
    kind = "unassign"
  elseif #bots(participants) > 0 and #humans(participants) == 0 then
    kind = "manual_reassign_bot"
  else
    kind = _M.derive_type(actor, participants)
  end
  return { actor = actor, source = source, assignmentType = kind }
end

-- buildAddParticipantOptions
function _M.add_options(principal, member)
  local actor, source = _M.assignment_context(principal, "api")
  return { actor = actor, source = source, assignmentType = _M.derive_type(actor, { member }) }
end

-- buildAutoRouteOptions / buildDepartmentRouteOptions / buildInternalOptions
function _M.route_options(principal, source, kind)
  local actor, src = _M.assignment_context(principal, source)
  return { actor = actor, source = src, assignmentType = kind or "auto" }
end
function _M.internal_options(source, kind)
  return { actor = system_actor(), source = source or "system", assignmentType = kind or "auto" }
end

-- The archiver's request.participants.leave for DELETE /requests/:rid/participants/:id
-- (buildRemoveParticipantOptions): a human member only; the caller's actor when the caller is
-- that member, else the member by its id, named by its id.
function _M.left(r, principal, member)
  if not is_human(member) then return nil end
  local actor, source = _M.assignment_context(principal, "api")
  if not (principal and tostring(actor.id) == tostring(member)) then
    actor = { type = "user", id = tostring(member), name = tostring(member) }
  end
  return _M.record(r.id_project, actor, "LEAVE_CONVERSATION", { member = member, source = source or "api" },
    _M.request_target(r))
end

---------------------------------------------------------------------------------------------
-- chatbots and the knowledge base (routes/faq_kb.js, routes/kb.js)

-- faqbot.created / faqbot.deleted / faqbot.publish: the caller as actor, the bot as target
-- ({ type 'faq_kb', id, object }: the document, without the secret the sandbox never shows),
-- in the project the event names (else the bot's). opts: id_project, string_dates.
local BOT_FIELDS = { FAQ_KB_CREATE = { "name", "type", "subtype" }, FAQ_KB_DELETE = { "name", "type" },
  FAQ_KB_PUBLISH = { "name" } }
function _M.chatbot(principal, verb, b, extra, opts)
  opts = opts or {}
  local object = util.copy(b)
  object.secret = nil
  local action = {}
  for _, k in ipairs(BOT_FIELDS[verb]) do action[k] = b[k] end
  for k, v in pairs(extra or {}) do action[k] = v end
  return _M.record(opts.id_project or b.id_project, _M.actor(principal), verb, action,
    { type = "faq_kb", id = sid(b._id), object = object }, { string_dates = opts.string_dates })
end

-- kb.namespace.create: the namespace saved (the whole document) as target
function _M.namespace_created(principal, n)
  return _M.record(n.id_project, _M.actor(principal), "KB_NAMESPACE_CREATE",
    { namespaceName = n.name, hybrid = n.hybrid, default = n.default == true },
    { type = "kb_namespace", id = sid(n.id), object = util.copy(n) })
end

-- kb.namespace.delete, kb.contents.delete, kb.contents.add: the namespace as { id, name }
function _M.namespace_event(principal, pid, verb, ns_id, ns_name, action)
  return _M.record(pid, _M.actor(principal), verb, action,
    { type = "kb_namespace", id = sid(ns_id), object = { id = ns_id, name = ns_name } })
end

-- kb.content.delete: the content as { _id, name, source, type }
function _M.content_deleted(principal, pid, c, ns_id, ns_name)
  return _M.record(pid, _M.actor(principal), "KB_CONTENT_DELETE",
    { name = c.name, source = c.source, type = c.type, namespaceId = ns_id, namespaceName = ns_name },
    { type = "kb_content", id = sid(c._id), object = { _id = c._id, name = c.name, source = c.source, type = c.type } })
end

return _M
