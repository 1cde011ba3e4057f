-- /:pid/activities: the project's activity log.
local store = require("sbx.store")
local util = require("sbx.util")
local dates = require("sbx.dates")
local csvx = require("sbx.csvx")
local json = require("sbx.json")

local api = {}

local acts = store.coll("activities")

-- pubmodules/activities/routes/activity.js: verbs (comma-separated), agent_id (actor, target
-- member or involved user), dates (sbx.dates.activities_range: DD/MM/YYYY in UTC, no
-- timezone). nil when a date cannot be read.
local function act_filter(ctx, csv)
  local q = ctx.query
  local verbs
  if q.activities then
    verbs = {}
    for _, v in ipairs(util.split(util.str(q.activities))) do verbs[v] = true end
  end
  local actor = util.str(q.agent_id)
  local range = dates.activities_range(q.start_date, q.end_date, csv, store.now_ms())
  if not range then return nil end
  local list = acts:find(function(a)
    if a.id_project ~= ctx.pid then return false end
    if verbs and not verbs[a.verb] then return false end
    if actor then
      local member = type(a.target) == "table" and type(a.target.object) == "table" and a.target.object.id_user
      local member_id = type(member) == "table" and member._id or member
      if (a.actor or {}).id ~= actor and member_id ~= actor and not util.contains(a.involvedUserIds, actor) then
        return false
      end
    end
    if not dates.inside(range, store.ms_of(a.createdAt) or 0) then return false end
    return true
  end)
  return util.sort_query(list, q)
end
-- Activities are seeded and recorded by sbx.conv and sbx.api.team (conversations opened and closed,
-- invitations, membership and availability updates, removals). Simplified: the server also adds a readable
-- text to each listed item and answers chart=true with a chart; the sandbox does neither (the
-- CSV's message column is the server's, below).
function api.list(ctx)
  local limit, page = util.limit_page(ctx.query, 40, 100)
  local list = act_filter(ctx, false)
  if not list then return 500, { success = false, msg = "Error getting activities." } end
  return 200, { perPage = limit, count = #list,
    activities = util.paginate(list, page, limit) }
end

-- The CSV export: pubmodules/activities/routes/activity.js GET /csv, res.csv(buildCsv(activities,
-- lang), true) through csv-express with the `;` separator (sbx.csvx). buildCsv makes one object
-- per activity with the fields below, in this order; its JavaScript is followed as written:
-- `a && a.b` guards, '' for some absent values and undefined for others (an empty quoted
-- field "" against an empty one), and strings joined with `+` (undefined -> "undefined").
local CSV_KEYS = { "message", "activity_id", "createdAt", "updatedAt", "project_id", "actor_name", "actor_id",
  "actor_type", "verb", "target_user_fullname", "target_email", "target_type", "target_user_id", "actionObj_email",
  "actionObj_id_project", "actionObj_project_name", "actionObj_role", "actionObj_user_available", "target_id",
  "target_createdAt", "target_createdBy", "target_role", "target_user_available" }
-- Dates on the server (the activity's timestamps, and the target's createdAt: the target object
-- is stored from a mongoose document, its dates as dates)
local CSV_DATES = { createdAt = true, updatedAt = true, target_createdAt = true }

local null = util.null

local truthy = csvx.truthy

-- x.k in JavaScript, for the values a document holds (a string or a number has no such field)
local function prop(x, k)
  if type(x) == "table" then return x[k] end
  return nil
end

-- v as `"" + v` writes it
local function js_cat(v)
  if v == nil then return "undefined" end
  if v == null then return "null" end
  return csvx.js_string(v)
end

-- translateString(string, lang): Italian for lang 'it', English otherwise
local TEXTS = {
  hasChanged = { "has changed", "ha cambiato" },
  hisStatus = { " his status", " il suo stato" },
  theAvailabilityStatusOf = { " the availability status of", " lo stato di disponibilità di" },
  theRoleOf = { " the role of", " il ruolo di" },
  intoUnavailable = { " into unavailable", " in non disponibile" },
  intoAvailable = { " into available", " in disponibile" },
  intoAdministrator = { " into Administrator", " in Amministratore" },
  intoAgent = { " into Agent", " in Agente" },
  HasRemoved = { " has removed", " ha rimosso" },
  FromTheProject = { " from the project", " dal progetto" },
  HasInvited = { " has invited", " ha invitato" },
  ToTakeOnTheRoleOf = { " to take on the role of", " ad assumere il ruolo di" },
}
local function tr(name, lang)
  return TEXTS[name][lang == "it" and 2 or 1]
end

-- buildMsg_PROJECT_USER_UPDATE
local function msg_update(a, actor_name, target_fullname, lang)
  local action = tr("hasChanged", lang)
  local act = a.actionObj
  local user = truthy(a.actor) and truthy(prop(a.actor, "id")) and truthy(a.target)
    and truthy(prop(a.target, "object")) and prop(a.target.object, "id_user")
  if truthy(user) and truthy(prop(user, "_id")) then
    -- JSON.stringify(id).replace(/['"]+/g, '')
    local target_user_id = json.encode(user._id):gsub("['\"]+", "")
    local available, role = prop(act, "user_available"), prop(act, "role")
    if a.actor.id == target_user_id then
      action = action .. tr("hisStatus", lang)
    else
      if available == false or available == true then
        action = action .. tr("theAvailabilityStatusOf", lang)
      elseif truthy(act) and truthy(role) then
        action = action .. tr("theRoleOf", lang)
      end
      action = action .. " " .. target_fullname
    end
    if truthy(act) and available == false then
      action = action .. tr("intoUnavailable", lang)
    elseif truthy(act) and available == true then
      action = action .. tr("intoAvailable", lang)
    end
    if truthy(act) and role == "admin" then
      action = action .. tr("intoAdministrator", lang)
    elseif truthy(act) and role == "agent" then
      action = action .. tr("intoAgent", lang)
    end
  end
  return js_cat(actor_name) .. " " .. action
end

-- buildMsg_PROJECT_USER_INVITE: the target's name, the invited e-mail in brackets unless the
-- target is a pending invitation (then the e-mail is not written at all), and no role after
-- "to take on the role of"
local function msg_invite(a, actor_name, target_fullname, lang)
  local action = tr("HasInvited", lang) .. " " .. target_fullname
  if truthy(a.target) and prop(a.target, "type") ~= "pendinginvitation" then
    local email = prop(a.actionObj, "email")
    if truthy(a.actionObj) and truthy(email) then
      action = action .. "(" .. js_cat(email) .. ")"
    else
      action = action .. js_cat(email)
    end
  end
  return js_cat(actor_name) .. action .. tr("ToTakeOnTheRoleOf", lang)
end

-- activityMessageUtil.targetUserLabel: the member's names joined and trimmed, else its user's
-- id, else 'unknown user'
local function target_user_label(a)
  local obj = truthy(a.target) and prop(a.target, "object")
  local user = truthy(obj) and prop(obj, "id_user")
  if not truthy(user) then return "unknown user" end
  local first, last = prop(user, "firstname"), prop(user, "lastname")
  local full = ((truthy(first) and js_cat(first) or "") .. " " .. (truthy(last) and js_cat(last) or ""))
    :gsub("^%s+", ""):gsub("%s+$", "")
  if full ~= "" then return full end
  local id = prop(user, "_id")
  if not truthy(id) then id = prop(user, "id") end
  return truthy(id) and js_cat(id) or "unknown user"
end

-- activityMessageUtil.buildDefaultActivityMessage, for the verbs the sandbox records that the
-- route does not word itself: the availability changes (in English whatever lang is). It has
-- no text for REQUEST_CREATE and REQUEST_CLOSE (''). (Its texts for assignments, chatbots and
-- the knowledge base are for activities the sandbox does not write.)
local function default_message(a)
  local act = truthy(a.actionObj) and a.actionObj or {}
  local status = prop(act, "newStatus")
  status = truthy(status) and js_cat(status) or "unknown"
  if a.verb == "PROJECT_USER_AVAILABILITY_SELF" then
    return target_user_label(a) .. " changed availability status to " .. status
  end
  if a.verb == "PROJECT_USER_AVAILABILITY_SYSTEM" then
    return target_user_label(a) .. " availability status was changed to " .. status .. " by the system"
  end
  return ""
end

-- The message column: the route's texts for PROJECT_USER_UPDATE, _DELETE and _INVITE, the
-- default message else.
local function csv_message(a, lang)
  local actor_name = ""
  if truthy(a.actor) then actor_name = prop(a.actor, "name") end
  local obj = truthy(a.target) and prop(a.target, "object")
  local user = truthy(obj) and prop(obj, "id_user")
  local target_fullname = ""
  if truthy(user) and truthy(prop(user, "firstname")) then
    target_fullname = js_cat(user.firstname)
    if truthy(prop(user, "lastname")) then target_fullname = target_fullname .. " " .. js_cat(user.lastname) end
  end
  if a.verb == "PROJECT_USER_UPDATE" then return msg_update(a, actor_name, target_fullname, lang) end
  if a.verb == "PROJECT_USER_DELETE" then
    return js_cat(actor_name) .. tr("HasRemoved", lang) .. " " .. target_fullname .. tr("FromTheProject", lang)
  end
  if a.verb == "PROJECT_USER_INVITE" then return msg_invite(a, actor_name, target_fullname, lang) end
  return default_message(a)
end

local function csv_row(a, lang)
  local act, target = a.actionObj, a.target
  local obj = truthy(target) and prop(target, "object") or nil
  local user = truthy(obj) and prop(obj, "id_user") or nil
  local function from_act(k)
    local v = truthy(act) and prop(act, k)
    if truthy(v) then return v end
    return ""
  end
  local v = {
    message = csv_message(a, lang),
    activity_id = a._id, createdAt = a.createdAt, updatedAt = a.updatedAt, project_id = a.id_project,
    actor_name = prop(a.actor, "name"), actor_id = prop(a.actor, "id"), actor_type = prop(a.actor, "type"),
    verb = a.verb,
    target_user_fullname = truthy(user) and (js_cat(prop(user, "firstname")) .. " " .. js_cat(prop(user, "lastname")))
      or "",
    target_email = truthy(obj) and truthy(prop(obj, "email")) and obj.email or "",
    target_user_id = "",
    actionObj_email = from_act("email"), actionObj_id_project = from_act("id_project"),
    actionObj_project_name = from_act("project_name"), actionObj_role = from_act("role"),
    actionObj_user_available = from_act("user_available"),
  }
  if truthy(user) then v.target_user_id = prop(user, "_id") end
  if truthy(target) then
    v.target_id, v.target_type = prop(target, "id"), prop(target, "type")
  end
  if truthy(obj) then
    v.target_createdAt, v.target_createdBy = obj.createdAt, obj.createdBy
    v.target_role, v.target_user_available = obj.role, obj.user_available
  end
  return { keys = CSV_KEYS, values = v, dates = CSV_DATES }
end

function api.csv(ctx)
  local list = act_filter(ctx, true)
  -- the server's handler throws on an unreadable date (toISOString of an invalid Date)
  if not list then error("activities csv: unreadable date", 0) end
  local lang = ctx.query.lang
  return 200, csvx.body_of(util.csv_page(list, ctx.query), function(a) return csv_row(a, lang) end),
    "text/csv; charset=utf-8"
end

api.routes = {
  { "GET", "/:pid/activities", "list", { role = "admin" } },
  { "GET", "/:pid/activities/csv", "csv", { role = "admin" } },
}

return api
