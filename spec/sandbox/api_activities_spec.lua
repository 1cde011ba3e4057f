-- The sandbox's activities CSV export as the server writes it:
-- pubmodules/activities/routes/activity.js GET /csv builds one object per activity (buildCsv:
-- message, activity_id, ..., target_user_available, in that order) and sends it with csv-express
-- (separator ';': null and undefined empty, a plain decimal number bare, anything else String()
-- in quotes, CRLF). The message is the route's own text for PROJECT_USER_* verbs (lang 'it' in
-- Italian, English otherwise) and activityMessageUtil's default else (none for REQUEST_CREATE; the
-- availability verbs' texts in English only).
local helper = require("spec.helper")
local csv = require("tiledesk.csv")

local st = helper.sandbox()
local PID = st.project_id

local auth, api = helper.auth, helper.api

local HEADER = "message;activity_id;createdAt;updatedAt;project_id;actor_name;actor_id;actor_type;verb;"
  .. "target_user_fullname;target_email;target_type;target_user_id;actionObj_email;actionObj_id_project;"
  .. "actionObj_project_name;actionObj_role;actionObj_user_available;target_id;target_createdAt;target_createdBy;"
  .. "target_role;target_user_available"

local js_date = helper.js_date

-- csv-express's field for a string: quoted, inner quotes doubled
local function q(s) return '"' .. s:gsub('"', '""') .. '"' end

local function export(query)
  local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/activities/csv" .. (query or ""), nil,
    auth("admin"))
  assert.equal(200, status)
  assert.equal("text/csv; charset=utf-8", h["content-type"])
  return text
end

-- The raw lines (CRLF ends, every line ended) and the records keyed by the header.
local function parse(text)
  assert.equal("\r\n", text:sub(-2))
  local lines = {}
  for l in text:gmatch("(.-)\r\n") do lines[#lines + 1] = l end
  local recs = {}
  for rec in csv.records(text, { separator = ";" }) do recs[#recs + 1] = rec end
  return lines, recs
end

-- the activity of this verb whose target is id, as the list gives it
local function activity(verb, target_id)
  local _, page = api("admin", "GET", "/activities?activities=" .. verb .. "&limit=100")
  for _, a in ipairs(page.activities) do
    if a.target and a.target.id == target_id then return a end
  end
  error("no " .. verb .. " activity for " .. target_id)
end

local function membership(role)
  local _, list = api("owner", "GET", "/project_users")
  for _, pu in ipairs(list) do if pu.role == role then return pu end end
end

describe("sandbox activities CSV", function()
  before_each(helper.reset)

  it("writes a conversation's REQUEST_CREATE with the server's fields, in its order, and no message", function()
    local rid = string.format("support-group-%s-%032x", PID, 0xac7001)
    local _, m = api("agent", "POST", "/requests/" .. rid .. "/messages", { text = "hello" })
    local r = m.request
    local a = activity("REQUEST_CREATE", r._id)
    local lines = parse(export("?activities=REQUEST_CREATE"))
    assert.equal(HEADER, lines[1])
    local want = table.concat({
      q(""), -- message: REQUEST_CREATE has no text (buildMsg_REQUEST_CREATE returns undefined)
      q(a._id), q(js_date(a.createdAt)), q(js_date(a.updatedAt)), q(PID),
      q("Alice Agent"), -- actor_name: the lead's fullname (req.user.fullName without senderFullname)
      q(a.actor.id), q("user"), q("REQUEST_CREATE"),
      q(""), q(""), q("request"), q(""), -- no id_user, no e-mail on the target: ''
      q(""), q(PID), q(""), q(""), q(""), -- actionObj is the request: only id_project is set
      q(r._id), q(js_date(a.target.object.createdAt)), q(a.target.object.createdBy),
      "", "", -- target_role, target_user_available: undefined
    }, ";")
    local found = false
    for i = 2, #lines do if lines[i] == want then found = true end end
    assert.is_true(found, "no line " .. want)
    -- in Italian the same: the verb has no text in any language
    found = false
    for _, l in ipairs((parse(export("?activities=REQUEST_CREATE&lang=it")))) do
      if l:find(q(a._id), 1, true) then
        assert.equal(want, l)
        found = true
      end
    end
    assert.is_true(found)
  end)

  it("writes a PROJECT_USER_UPDATE with the route's text, in English and in Italian", function()
    local pu = membership("agent")
    api("owner", "PUT", "/project_users/" .. pu._id, { role = "admin" })
    local a = activity("PROJECT_USER_UPDATE", pu._id)
    local uid = a.target.object.id_user._id
    local function rec_of(query)
      local lines, recs = parse(export(query))
      assert.equal(HEADER, lines[1])
      for i, rec in ipairs(recs) do
        if rec.activity_id == a._id then return rec, lines[i + 1] end
      end
      error("activity not exported")
    end
    local rec, line = rec_of("?activities=PROJECT_USER_UPDATE")
    assert.equal("Olivia Owner has changed the role of Alice Agent into Administrator", rec.message)
    assert.equal(table.concat({ q(rec.message), q(a._id), q(js_date(a.createdAt)), q(js_date(a.updatedAt)), q(PID),
      q("Olivia Owner"), q(st.users.owner._id), q("user"), q("PROJECT_USER_UPDATE"), q("Alice Agent"), q(""),
      q("project_user"), q(uid), q(""), q(""), q(""), q("admin"), q(""), q(pu._id),
      q(js_date(a.target.object.createdAt)), q(a.target.object.createdBy), q("admin"), q("true") }, ";"), line)
    rec = rec_of("?activities=PROJECT_USER_UPDATE&lang=it")
    assert.equal("Olivia Owner ha cambiato il ruolo di Alice Agent in Amministratore", rec.message)
    -- availability: false is no value for actionObj_user_available (''), the member's own field
    -- is written as String(false)
    api("owner", "PUT", "/project_users/" .. pu._id, { user_available = false })
    a = activity("PROJECT_USER_UPDATE", pu._id) -- the newest first
    rec = rec_of("?activities=PROJECT_USER_UPDATE")
    assert.equal("Olivia Owner has changed the availability status of Alice Agent into unavailable", rec.message)
    assert.equal("", rec.actionObj_user_available)
    assert.equal("false", rec.target_user_available)
    rec = rec_of("?activities=PROJECT_USER_UPDATE&lang=it")
    assert.equal("Olivia Owner ha cambiato lo stato di disponibilità di Alice Agent in non disponibile", rec.message)
  end)

  it("writes invitations and removals as the route words them", function()
    local invited = api("owner", "POST", "/project_users/invite", { email = "nobody-yet@example.com", role = "agent" })
    assert.equal(200, invited)
    local agent = membership("agent")
    api("owner", "DELETE", "/project_users/" .. agent._id .. "?hard=true")
    local _, recs = parse(export("?activities=PROJECT_USER_INVITE,PROJECT_USER_DELETE"))
    local by_verb = {}
    for _, rec in ipairs(recs) do by_verb[rec.verb] = by_verb[rec.verb] or rec end
    -- a pending invitation: no name (no member yet) and no e-mail after it
    assert.equal("Olivia Owner has invited  to take on the role of", by_verb.PROJECT_USER_INVITE.message)
    assert.equal("nobody-yet@example.com", by_verb.PROJECT_USER_INVITE.target_email)
    assert.equal("Olivia Owner has removed Alice Agent from the project", by_verb.PROJECT_USER_DELETE.message)
  end)

  it("writes a lone line end when nothing matches", function()
    assert.equal("\r\n", export("?activities=NO_SUCH_VERB"))
  end)
end)

-- What pubmodules/activities/activityArchiver.js stores per event: REQUEST_CREATE's actor from
-- activityActorUtil.actorFromRequestCreate (requester_id, the lead's _id, named by the lead's
-- fullname), REQUEST_CLOSE's from resolveActorFromClosedBy, project_user.update's verb, actor
-- and actionObj from utils/projectUserUpdateContextUtil.js (routes/project_user.js passes the
-- context: PUT /project_users is the member's own, PUT /project_users/:id is own only when the
-- caller is the member's user).
describe("sandbox activities as the archiver records them", function()
  before_each(helper.reset)

  local function newest(verb)
    local _, page = api("admin", "GET", "/activities?limit=1&activities=" .. verb)
    return helper.nonempty(page.activities)[1]
  end
  local function csv_message(a, lang)
    local _, recs = parse(export("?activities=" .. a.verb .. (lang and "&lang=" .. lang or "")))
    for _, rec in ipairs(recs) do if rec.activity_id == a._id then return rec.message end end
    error("activity not exported")
  end
  local function lead_of(r)
    local _, lead = api("admin", "GET", "/leads/" .. (type(r.lead) == "table" and r.lead._id or r.lead))
    return lead
  end
  local function own_pu(who)
    local _, me = api(who, "GET", "/project_users/me")
    return me[1]
  end

  it("names a visitor's conversation after the visitor's lead", function()
    local _, j = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously", { id_project = PID, firstname = "Vera" })
    local rid = string.format("support-group-%s-%032x", PID, 0xac7101)
    local s, m = api(j.token, "POST", "/requests/" .. rid .. "/messages", { text = "hi", senderFullname = "Vera Visitor" })
    assert.equal(200, s)
    local a = newest("REQUEST_CREATE")
    assert.equal(m.request._id, a.target.id)
    local lead = lead_of(m.request)
    assert.equal("Vera Visitor", lead.fullname)
    assert.same({ type = "user", id = lead._id, name = "Vera Visitor" }, helper.actor_of(a))
    assert.equal(PID, a.id_project)
    assert.equal("request", a.target.type)
    assert.equal(rid, a.actionObj.request_id)
    assert.equal("", csv_message(a))
  end)

  it("names an agent's conversation after the lead the agent's names made", function()
    local _, r = api("agent", "POST", "/requests", { first_text = "for a customer" })
    local a = newest("REQUEST_CREATE")
    assert.equal(r._id, a.target.id)
    local lead = lead_of(r)
    assert.same({ type = "user", id = lead._id, name = "Alice Agent" }, helper.actor_of(a))
    -- a closer that is a user is named by its names; the activity is the close
    api("owner", "PUT", "/requests/" .. r.request_id .. "/close")
    a = newest("REQUEST_CLOSE")
    assert.same({ type = "user", id = st.users.owner._id, name = "Olivia Owner" }, helper.actor_of(a))
    assert.equal(r._id, a.target.id)
    assert.equal("", csv_message(a))
  end)

  it("records a member's own availability change as PROJECT_USER_AVAILABILITY_SELF", function()
    local pu = own_pu("agent")
    assert.equal(200, (api("agent", "PUT", "/project_users", { user_available = false })))
    local a = newest("PROJECT_USER_AVAILABILITY_SELF")
    assert.same({ type = "user", id = st.users.agent._id, name = "Alice Agent" }, helper.actor_of(a))
    assert.same({ user_available = false, newStatus = "unavailable", updateType = "self", source = "api" }, a.actionObj)
    assert.equal("project_user", a.target.type)
    assert.equal(pu._id, a.target.id)
    assert.same({ _id = st.users.agent._id, firstname = "Alice", lastname = "Agent" }, a.target.object.id_user)
    assert.equal(false, a.target.object.isBusy)
    assert.equal(false, a.target.object.user_available)
    assert.equal(PID, a.id_project)
    -- activityMessageUtil's text, the same in any lang
    assert.equal("Alice Agent changed availability status to unavailable", csv_message(a))
    assert.equal("Alice Agent changed availability status to unavailable", csv_message(a, "it"))
    -- a profileStatus is the new status as it is
    api("agent", "PUT", "/project_users", { profileStatus = "away" })
    a = newest("PROJECT_USER_AVAILABILITY_SELF")
    assert.same({ profileStatus = "away", newStatus = "away", updateType = "self", source = "api" }, a.actionObj)
    -- an admin changing its own membership by id is its own change too
    local mine = own_pu("admin")
    api("admin", "PUT", "/project_users/" .. mine._id, { user_available = true })
    a = newest("PROJECT_USER_AVAILABILITY_SELF")
    assert.equal(mine._id, a.target.id)
    assert.same({ type = "user", id = st.users.admin._id, name = "Adam Admin" }, helper.actor_of(a))
    assert.equal("self", a.actionObj.updateType)
    -- no availability in the body: PROJECT_USER_UPDATE, still the member's own
    api("agent", "PUT", "/project_users", { max_assigned_chat = 3 })
    a = newest("PROJECT_USER_UPDATE")
    assert.same({ max_assigned_chat = 3, newStatus = "away", updateType = "self", source = "api" }, a.actionObj)
  end)

  it("records a change the body says the system made as PROJECT_USER_AVAILABILITY_SYSTEM", function()
    local pu = own_pu("agent")
    api("agent", "PUT", "/project_users", { user_available = false, availabilityInitiator = "system" })
    local a = newest("PROJECT_USER_AVAILABILITY_SYSTEM")
    assert.same({ type = "system", id = "system", name = "System" }, helper.actor_of(a))
    assert.same({ user_available = false, availabilityInitiator = "system", newStatus = "unavailable",
      updateType = "system", source = "api" }, a.actionObj)
    assert.equal(pu._id, a.target.id)
    assert.equal("Alice Agent availability status was changed to unavailable by the system", csv_message(a))
    assert.equal("Alice Agent availability status was changed to unavailable by the system", csv_message(a, "it"))
  end)

  it("records an admin changing another member's availability as PROJECT_USER_UPDATE", function()
    local pu = own_pu("agent")
    local _, before = api("admin", "GET", "/activities?limit=1&activities=PROJECT_USER_AVAILABILITY_SELF")
    api("admin", "PUT", "/project_users/" .. pu._id, { user_available = false })
    local a = newest("PROJECT_USER_UPDATE")
    assert.same({ type = "user", id = st.users.admin._id, name = "Adam Admin" }, helper.actor_of(a))
    assert.same({ user_available = false, newStatus = "unavailable", updateType = "admin", source = "api" }, a.actionObj)
    assert.equal(pu._id, a.target.id)
    assert.same({ _id = st.users.agent._id, firstname = "Alice", lastname = "Agent" }, a.target.object.id_user)
    local _, after = api("admin", "GET", "/activities?limit=1&activities=PROJECT_USER_AVAILABILITY_SELF")
    assert.equal(before.count, after.count)
    assert.equal("Adam Admin has changed the availability status of Alice Agent into unavailable", csv_message(a))
    assert.equal("Adam Admin ha cambiato lo stato di disponibilità di Alice Agent in non disponibile",
      csv_message(a, "it"))
  end)

  it("records invitations and removals with the archiver's action objects", function()
    api("owner", "POST", "/project_users/invite", { email = "Someone.New@example.com", role = "agent" })
    local a = newest("PROJECT_USER_INVITE")
    assert.same({ email = "Someone.New@example.com", role = "agent", inviteType = "pending" }, a.actionObj)
    assert.equal("pendinginvitation", a.target.type)
    -- actorFromPrincipal names a user by its fullName virtual
    assert.same({ type = "user", id = st.users.owner._id, name = "Olivia Owner" }, helper.actor_of(a))
    local pu = own_pu("agent")
    api("owner", "DELETE", "/project_users/" .. pu._id .. "?soft=true")
    a = newest("PROJECT_USER_DELETE")
    assert.same({ deleteType = "soft", role = "agent", email = st.users.agent.email }, a.actionObj)
    assert.same({ _id = st.users.agent._id, firstname = "Alice", lastname = "Agent", email = st.users.agent.email },
      a.target.object.id_user)
    -- a restore is a membership update the archiver records; the soft delete left
    -- user_available as it was (only trashed, and status through the model's hook)
    api("owner", "PUT", "/project_users/" .. pu._id .. "/restore")
    a = newest("PROJECT_USER_UPDATE")
    assert.equal(pu._id, a.target.id)
    assert.same({ newStatus = "available", updateType = "admin", source = "api" }, a.actionObj)
  end)
end)
