-- /:pid/modules/triggers: the project's automation rules (pubmodules/trigger/triggerRoute.js,
-- admin). A project starts with the built-in triggers the server saves on project.create
-- (pubmodules/trigger/start.js); reset puts one back from its definition (default.js). The
-- sandbox stores the rules but does not run them (the server's rules engine does).
local store = require("sbx.store")
local util = require("sbx.util")

local triggers = store.coll("triggers")

local api = {}

local function cond(key, path, operator, value)
  return { key = key, fact = "json", path = path, operator = operator, value = value }
end
local REQ = { key = "request.create", name = "Request create event", description = "Standard request create event" }
local EVT = { key = "event.emit", name = "Event emit event", description = "Standard event emit event" }
local NO_BOT = cond("request.departmentHasBot", "department.hasBot", "equal", false)
local BOT = cond("request.departmentHasBot", "department.hasBot", "equal", true)
local TEMP = cond("request.statusRequestStatus", "status", "equal", 50)
local function first(text) return cond("request.first_text", "first_text", "equal", text) end
local function send(text) return { key = "message.send", parameters = { text = text } } end
local LAUNCH = { key = "request.department.bot.launch", parameters = { text = "/start" } }

-- the built-in definitions (default.js), by code
local DEFAULTS = {
  s_new_conversation_01 = { "New Conversation", "Create a temporary chat when new conversation button is pressed.", EVT,
    { cond("event.name", "name", "equal", "new_conversation") },
    { key = "request.create", parameters = { departmentid = "default", text = "welcome:tdk_req_status_hidden" } }, true, 1 },
  s_online_welcome_01 = { "Online Welcome Greeting",
    "Send a welcome message if there are online agents to the visitor that create a chat.", REQ,
    { NO_BOT, cond("request.snapshot.availableAgentsCount", "snapshot.availableAgentsCount", "greaterThan", 0),
      cond("request.isOpen", "isOpen", "equal", true), first("welcome"), TEMP }, send("${LABEL_FIRST_MSG}"), true, 3 },
  s_offline_welcome_01 = { "Offline Welcome Greeting",
    "Send a welcome message if there aren't online agents to the visitor that create a chat.", REQ,
    { NO_BOT, cond("request.snapshot.availableAgentsCount", "snapshot.availableAgentsCount", "equal", 0), TEMP,
      cond("request.isOpen", "isOpen", "equal", true), first("welcome") }, send("${LABEL_FIRST_MSG_NO_AGENTS}"), true, 3 },
  s_closed_operating_hours_01 = { "Office Closed Notice",
    "Send an office closed message if a visitor asks for support outside of the operating hours.", REQ,
    { NO_BOT, TEMP, cond("request.isOpen", "isOpen", "equal", false), first("welcome") },
    send("${LABEL_FIRST_MSG_OPERATING_HOURS_CLOSED}"), true, 2 },
  s_invite_bot_01 = { "Invite Bot", "Invite if available the department bot to the temporary chat and start it.", REQ,
    { TEMP, BOT, first("welcome") }, LAUNCH, true, 2 },
  s_checkout_page_01 = { "Checkout Page",
    "Reduce cart abandonment by engaging customer that are on the checkout page.", REQ,
    { cond("request.sourcePageUrl", "sourcePage", "in", "/checkout.html"), NO_BOT, TEMP },
    send("Hey, do you need help to complete the checkout?"), false, 1, "none" },
  s_new_login_01 = { "New visitor login", "Create a temporary chat when a new visitor signin.", EVT,
    { cond("event.name", "name", "equal", "auth_state_changed"), cond("event.attributes.code", "attributes.event", "equal", 201) },
    { key = "request.create", parameters = { departmentid = "default", text = "callout:tdk_req_status_hidden" } }, true, 1 },
  s_invite_proactive_greeting_bot_01 = { "Invite Proactive Greeting Bot",
    "Invite if available the department bot to proactively greet the temporary chat and start it.", REQ,
    { TEMP, BOT, first("callout") }, LAUNCH, true, 2 },
  s_proactivegreeting_message_01 = { "Proactive Greeting", "Send a proactive message when a new user signin.", REQ,
    { NO_BOT, first("callout"), TEMP }, send("${WELLCOME_MSG}"), true, 1 },
  s_ticketing_taking_01 = { "Ticketing Taking", "Send a taking message when a new ticket is created.", REQ,
    { cond("request.channel.name", "channel.name", "equal", "email"), NO_BOT }, send("${TICKET_TAKING}"), true, 1 },
}
-- the ones start.js saves for a new project, in its order
local SEEDED = { "s_new_conversation_01", "s_online_welcome_01", "s_offline_welcome_01", "s_closed_operating_hours_01",
  "s_invite_bot_01", "s_checkout_page_01", "s_ticketing_taking_01" }

local function built_in(pid, code)
  local d = DEFAULTS[code]
  local t = { name = d[1], description = d[2], trigger = util.copy(d[3]), conditions = { all = util.copy(util.arr(d[4])) },
    actions = util.arr{ util.copy(d[5]) }, enabled = d[6], version = d[7], code = code, id_project = pid,
    createdBy = "system", updatedBy = "system" }
  if d[8] ~= "none" then t.type = "internal" end
  return t
end

-- the project's built-in triggers, saved the first time the project's triggers are reached
local seeded = store.coll("trigger_projects")
local function ensure(pid)
  if seeded:get(pid) then return end
  seeded:insert{ _id = pid }
  for _, code in ipairs(SEEDED) do triggers:insert(built_in(pid, code)) end
end

local function owned(ctx)
  ensure(ctx.pid)
  local t = triggers:get(ctx.params.tid)
  -- findById ignores the project (triggerRoute.js): any project's trigger answers
  return t
end

function api.list(ctx)
  ensure(ctx.pid)
  local out = util.arr()
  for _, t in ipairs(triggers:all()) do if t.id_project == ctx.pid then out[#out + 1] = t end end
  return 200, out
end

local function cast_error(ctx, msg)
  if not util.is_oid(ctx.params.tid) then return 500, { success = false, msg = msg } end
end

function api.get(ctx)
  local bad, body = cast_error(ctx, "Error getting object.")
  if bad then return bad, body end
  local t = owned(ctx)
  if not t then return 404, { success = false, msg = "Object not found." } end
  return 200, t
end

function api.create(ctx)
  ensure(ctx.pid)
  local b = ctx.body or {}
  local t = { name = b.name, description = b.description, id_project = ctx.pid, trigger = b.trigger,
    conditions = b.conditions, actions = b.actions, enabled = true, createdBy = ctx.principal.id,
    updatedBy = ctx.principal.id }
  -- the model's required fields: name, and trigger's key and name when a trigger is given
  if type(t.name) ~= "string" or t.name == ""
    or (t.trigger ~= nil and (type(t.trigger) ~= "table" or not t.trigger.key or not t.trigger.name)) then
    return 500, { success = false, msg = "Error saving object." }
  end
  t.actions = util.arr(type(t.actions) == "table" and t.actions or {})
  triggers:insert(t)
  return 200, t
end

-- findByIdAndUpdate(id, update, { new, upsert }): every field is set, a missing one to null,
-- and an unknown id makes a new trigger with that id
function api.update(ctx)
  local bad, body = cast_error(ctx, "Error updating object.")
  if bad then return bad, body end
  ensure(ctx.pid)
  local b = ctx.body or {}
  local t = triggers:get(ctx.params.tid)
  if not t then
    t = triggers:insert{ _id = ctx.params.tid, createdBy = ctx.principal.id }
  end
  for _, k in ipairs({ "name", "description", "trigger", "conditions", "actions", "enabled" }) do
    local v = b[k]
    if v == nil then v = util.null end
    t[k] = v
  end
  t.id_project, t.updatedBy = ctx.pid, ctx.principal.id
  triggers:touch(t)
  return 200, t
end

function api.delete(ctx)
  local bad, body = cast_error(ctx, "Error deleting object.")
  if bad then return bad, body end
  ensure(ctx.pid)
  local t = triggers:remove(ctx.params.tid)
  return 200, t or util.null
end

function api.reset(ctx)
  ensure(ctx.pid)
  local code = ctx.params.code
  -- an unknown code: defTrigger[code].toJSON() throws, Express answers its 500 page
  if not DEFAULTS[code] then
    return 500, "<pre>TypeError: Cannot read properties of undefined (reading 'toJSON')</pre>", "text/html"
  end
  for _, t in ipairs(triggers:find(function(x) return x.id_project == ctx.pid and x.code == code end)) do
    triggers:remove(t._id)
  end
  return 200, triggers:insert(built_in(ctx.pid, code))
end

local admin = { role = "admin" }
api.routes = {
  { "GET", "/:pid/modules/triggers", "list", admin },
  { "GET", "/:pid/modules/triggers/:tid", "get", admin },
  { "POST", "/:pid/modules/triggers", "create", admin },
  { "PUT", "/:pid/modules/triggers/:tid", "update", admin },
  { "PUT", "/:pid/modules/triggers/:code/reset", "reset", admin },
  { "DELETE", "/:pid/modules/triggers/:tid", "delete", admin },
}

return api
