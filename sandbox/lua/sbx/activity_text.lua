-- The readable text of an activity, as the server writes it: the list's `message`
-- (pubmodules/activities/activityMessageUtil.js buildDefaultActivityMessage, through
-- enrichActivityWithMessage: English only, none for REQUEST_CREATE, REQUEST_CLOSE and
-- PROJECT_USER_UPDATE), and the CSV export's `message` column (routes/activity.js buildCsv: the
-- route's own words for PROJECT_USER_UPDATE, _DELETE and _INVITE, Italian for lang 'it' and
-- English otherwise; the default text else, '' when there is none).
-- The JavaScript is followed as written: `a && a.b` guards, `x || y` on JavaScript's truthiness,
-- values joined with `+` (undefined -> "undefined", null -> "null").
local json = require("sbx.json")
local csvx = require("sbx.csvx")

local _M = {}

local null = json.null
local truthy = csvx.truthy

-- x.k in JavaScript, for the values a document holds (a string or a number has no such field)
local function prop(x, k)
  if type(x) == "table" then return x[k] end
  return nil
end
_M.prop = prop

-- x || y
local function either(x, y)
  if truthy(x) then return x end
  return y
end

-- v as `"" + v` writes it
local function cat(v)
  if v == nil then return "undefined" end
  if v == null then return "null" end
  return csvx.js_string(v)
end
_M.js_cat = cat

-- String(x).trim()
local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- (user.firstname || '') + ' ' + (user.lastname || ''), trimmed
local function full_name(user)
  return trim(cat(either(prop(user, "firstname"), "")) .. " " .. cat(either(prop(user, "lastname"), "")))
end

-- the target's populated member (a && a.target && a.target.object && ...id_user)
local function target_user(a)
  local t = a.target
  if not truthy(t) then return t end
  local obj = prop(t, "object")
  if not truthy(obj) then return obj end
  return prop(obj, "id_user")
end

---------------------------------------------------------------------------------------------
-- activityMessageUtil's labels

-- targetUserLabel: the member's names, else its id, else 'unknown user'
local function target_user_label(a)
  local user = target_user(a)
  if not truthy(user) then return "unknown user" end
  local full = full_name(user)
  if full ~= "" then return full end
  return cat(either(prop(user, "_id"), either(prop(user, "id"), "unknown user")))
end

-- actorLabel: 'Someone' without an actor, 'System' for the system, else its name or id
local function actor_label(a)
  local actor = a.actor
  if not truthy(actor) then return "Someone" end
  if prop(actor, "type") == "system" then return "System" end
  return either(prop(actor, "name"), either(prop(actor, "id"), "Someone"))
end

-- requestLabel: the conversation's request_id, else the target's id, else 'conversation'
local function request_label(a)
  local obj = truthy(a.target) and prop(a.target, "object")
  if truthy(obj) and truthy(prop(obj, "request_id")) then return obj.request_id end
  if truthy(a.target) and truthy(prop(a.target, "id")) then return cat(a.target.id) end
  return "conversation"
end

-- resolveParticipantLabel: the names of the agent of that id among the request's populated
-- participatingAgents (a stored request has none: the virtual is not saved), else the id
local function participant_label(a, id)
  if not truthy(id) then return "unknown agent" end
  local obj = truthy(a.target) and prop(a.target, "object")
  local agents = truthy(obj) and prop(obj, "participatingAgents")
  if type(agents) == "table" and (getmetatable(agents) == json.array_mt or agents[1] ~= nil) then
    for _, agent in ipairs(agents) do
      local user = either(prop(agent, "id_user"), agent)
      local uid = either(prop(user, "_id"), either(prop(user, "id"), user))
      if cat(uid) == cat(id) then
        local full = full_name(user)
        if full ~= "" then return full end
      end
    end
  end
  return cat(id)
end

-- inviteTargetLabel
local function invite_target_label(a)
  local t = a.target
  if not truthy(t) then return "unknown user" end
  if prop(t, "type") == "pendinginvitation" then
    local pending = either(prop(t, "object"), {})
    return either(prop(pending, "email"), either(truthy(a.actionObj) and prop(a.actionObj, "email"), "unknown user"))
  end
  local user = truthy(prop(t, "object")) and prop(t.object, "id_user")
  if truthy(user) then
    local full = full_name(user)
    if full ~= "" then return full end
    return either(prop(user, "email"), "unknown user")
  end
  return either(truthy(a.actionObj) and prop(a.actionObj, "email"), "unknown user")
end

-- inviteEmailLabel
local function invite_email_label(a)
  local act = either(a.actionObj, {})
  if truthy(prop(act, "email")) then return act.email end
  local t = a.target
  local obj = truthy(t) and prop(t, "object")
  if truthy(t) and prop(t, "type") == "pendinginvitation" and truthy(obj) and truthy(prop(obj, "email")) then
    return obj.email
  end
  local user = truthy(obj) and prop(obj, "id_user")
  if truthy(user) and truthy(prop(user, "email")) then return user.email end
  return ""
end

-- resolveAssigneeLabel: the assignee's name, a department's or bot's id, else the agent's label
local function assignee_label(a)
  local act = either(a.actionObj, {})
  if truthy(prop(act, "assigneeName")) then return act.assigneeName end
  if prop(act, "assigneeType") == "department" then return either(prop(act, "assigneeId"), "department") end
  if prop(act, "assigneeType") == "bot" then return either(prop(act, "assigneeId"), "chatbot") end
  return participant_label(a, prop(act, "assigneeId"))
end

-- namespaceLabel: the target's name, else the action's namespaceName, else the target's id
local function namespace_label(a)
  local obj = truthy(a.target) and prop(a.target, "object")
  if truthy(obj) and truthy(prop(obj, "name")) then return obj.name end
  if truthy(a.actionObj) and truthy(prop(a.actionObj, "namespaceName")) then return a.actionObj.namespaceName end
  if truthy(a.target) and truthy(prop(a.target, "id")) then return cat(a.target.id) end
  return "namespace"
end

-- chatbotLabel
local function chatbot_label(a)
  local obj = truthy(a.target) and prop(a.target, "object")
  if truthy(obj) and truthy(prop(obj, "name")) then return obj.name end
  if truthy(a.actionObj) and truthy(prop(a.actionObj, "name")) then return a.actionObj.name end
  return "chatbot"
end

local ADD_TYPES = { content = "content", url_list = "URL list", csv = "CSV file", sitemap = "sitemap" }
-- contentAddTypeLabel
local function add_type_label(t)
  if type(t) == "string" and ADD_TYPES[t] then return ADD_TYPES[t] end
  return either(t, "content")
end

-- kbContentLabel: the action's source or name, else the target's, else its id
local function content_label(a)
  local act = either(a.actionObj, {})
  local obj = truthy(a.target) and prop(a.target, "object")
  if truthy(prop(act, "source")) then return act.source end
  if truthy(prop(act, "name")) then return act.name end
  if truthy(obj) and truthy(prop(obj, "source")) then return obj.source end
  if truthy(obj) and truthy(prop(obj, "name")) then return obj.name end
  if truthy(a.target) and truthy(prop(a.target, "id")) then return cat(a.target.id) end
  return "content"
end

-- `count > 1` of JavaScript for the values a count may hold
local function more_than_one(v)
  if type(v) == "number" then return v > 1 end
  if type(v) == "string" then
    local n = tonumber(v:match("^%s*(.-)%s*$"))
    return n ~= nil and n > 1
  end
  return false
end

---------------------------------------------------------------------------------------------

-- buildDefaultActivityMessage: the text of an activity, nil when its verb has none
function _M.default(a)
  if not truthy(a) or not truthy(a.verb) then return nil end
  local act = either(a.actionObj, {})
  local actor = cat(actor_label(a))
  local conversation = cat(request_label(a))
  local assignee = cat(assignee_label(a))
  local source = cat(either(prop(act, "source"), "unknown"))
  local verb = a.verb
  if verb == "REQUEST_ASSIGNED_AUTO" then
    if prop(a.actor, "type") == "system" then
      return "System automatically assigned conversation " .. conversation .. " to " .. assignee
        .. " (source: " .. source .. ")"
    end
    return actor .. " triggered automatic assignment of conversation " .. conversation .. " to " .. assignee
      .. " (source: " .. source .. ")"
  elseif verb == "REQUEST_ASSIGNED_SELF" then
    return actor .. " joined conversation " .. conversation .. " (source: " .. source .. ")"
  elseif verb == "REQUEST_ASSIGNED_MANUAL" then
    local kind = either(prop(act, "assigneeType"), "user")
    local message
    if kind == "bot" then
      message = actor .. " reassigned conversation " .. conversation .. " to chatbot " .. assignee
        .. " (source: " .. source .. ")"
    elseif kind == "department" then
      message = actor .. " reassigned conversation " .. conversation .. " to department " .. assignee
        .. " (source: " .. source .. ")"
    else
      message = actor .. " manually assigned conversation " .. conversation .. " to " .. assignee
        .. " (source: " .. source .. ")"
    end
    if truthy(prop(act, "previousAssigneeId")) then
      message = message .. " (replaced " .. participant_label(a, act.previousAssigneeId) .. ")"
    end
    return message
  elseif verb == "REQUEST_UNASSIGNED" then
    if prop(act, "source") == "subscription" then
      return "System unassigned " .. assignee .. " from conversation " .. conversation .. " (source: subscription)"
    end
    return actor .. " unassigned " .. assignee .. " from conversation " .. conversation .. " (source: " .. source .. ")"
  elseif verb == "LEAVE_CONVERSATION" then
    return actor .. " left conversation " .. conversation .. " (source: " .. source .. ")"
  elseif verb == "PROJECT_USER_AVAILABILITY_SELF" then
    return target_user_label(a) .. " changed availability status to " .. cat(either(prop(act, "newStatus"), "unknown"))
  elseif verb == "PROJECT_USER_AVAILABILITY_SYSTEM" then
    return target_user_label(a) .. " availability status was changed to "
      .. cat(either(prop(act, "newStatus"), "unknown")) .. " by the system"
  elseif verb == "PROJECT_USER_INVITE" then
    local target = invite_target_label(a)
    local email = invite_email_label(a)
    local role = either(prop(act, "role"), "agent")
    local part = ""
    if truthy(email) and target ~= email then part = " (" .. cat(email) .. ")" end
    return actor .. " invited " .. cat(target) .. part .. " to take on the role of " .. cat(role)
  elseif verb == "PROJECT_USER_DELETE" then
    return actor .. " removed " .. target_user_label(a) .. " from the project"
  elseif verb == "FAQ_KB_CREATE" then
    return actor .. " created chatbot " .. cat(chatbot_label(a))
  elseif verb == "FAQ_KB_DELETE" then
    return actor .. " deleted chatbot " .. cat(chatbot_label(a))
  elseif verb == "FAQ_KB_PUBLISH" then
    return actor .. " published chatbot " .. cat(chatbot_label(a))
  elseif verb == "KB_NAMESPACE_CREATE" then
    return actor .. " created namespace " .. cat(namespace_label(a))
  elseif verb == "KB_NAMESPACE_DELETE" then
    return actor .. " deleted namespace " .. cat(namespace_label(a))
  elseif verb == "KB_CONTENTS_ADD" then
    local namespace = cat(namespace_label(a))
    local add_type = cat(add_type_label(prop(act, "contentAddType")))
    local count = prop(act, "count")
    if truthy(count) and more_than_one(count) then
      return actor .. " added " .. cat(count) .. " items (" .. add_type .. ") to namespace " .. namespace
    end
    if truthy(prop(act, "source")) then
      return actor .. " added " .. add_type .. " to namespace " .. namespace .. " (" .. cat(act.source) .. ")"
    end
    return actor .. " added " .. add_type .. " to namespace " .. namespace
  elseif verb == "KB_CONTENTS_DELETE" then
    return actor .. " deleted all contents from namespace " .. cat(namespace_label(a))
  elseif verb == "KB_CONTENT_DELETE" then
    return actor .. " deleted content " .. cat(content_label(a)) .. " from namespace " .. cat(namespace_label(a))
  end
  return nil
end

---------------------------------------------------------------------------------------------
-- the CSV route's own words (routes/activity.js translateString and buildMsg_*)

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
  return cat(actor_name) .. " " .. action
end

-- buildMsg_PROJECT_USER_INVITE: the target's name, the invited e-mail in brackets unless the
-- target is a pending invitation (then the e-mail is not written at all), and no role after
-- "to take on the role of"
local function msg_invite(a, actor_name, target_fullname, lang)
  local action = tr("HasInvited", lang) .. " " .. target_fullname
  if truthy(a.target) and prop(a.target, "type") ~= "pendinginvitation" then
    local email = prop(a.actionObj, "email")
    if truthy(a.actionObj) and truthy(email) then
      action = action .. "(" .. cat(email) .. ")"
    else
      action = action .. cat(email)
    end
  end
  return cat(actor_name) .. action .. tr("ToTakeOnTheRoleOf", lang)
end

-- The CSV's message column of an activity, in lang
function _M.csv(a, lang)
  local actor_name = ""
  if truthy(a.actor) then actor_name = prop(a.actor, "name") end
  local user = target_user(a)
  local target_fullname = ""
  if truthy(user) and truthy(prop(user, "firstname")) then
    target_fullname = cat(user.firstname)
    if truthy(prop(user, "lastname")) then target_fullname = target_fullname .. " " .. cat(user.lastname) end
  end
  if a.verb == "PROJECT_USER_UPDATE" then return msg_update(a, actor_name, target_fullname, lang) end
  if a.verb == "PROJECT_USER_DELETE" then
    return cat(actor_name) .. tr("HasRemoved", lang) .. " " .. target_fullname .. tr("FromTheProject", lang)
  end
  if a.verb == "PROJECT_USER_INVITE" then return msg_invite(a, actor_name, target_fullname, lang) end
  return _M.default(a) or ""
end

return _M
