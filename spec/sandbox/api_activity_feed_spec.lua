-- The activity feed as the server's archiver writes it and its route lists it:
--   * pubmodules/activities/activityArchiver.js: one document per event it listens to
--     (request.create, request.update.preflight, request.assigned, request.participants.leave,
--     faqbot.created / deleted / publish, kb.namespace.create / delete, kb.contents.add / delete,
--     kb.content.delete), with the actors of utils/activityActorUtil.js and the assignment
--     context of utils/assignmentContextUtil.js;
--   * where those events come from: event/requestEvent.js (request.create.simple),
--     services/requestService.js (emitAssignedEvent, removeParticipantByRequestId,
--     changeFirstTextAndPreflightByRequestId), routes/request.js, pubmodules/rules/conciergeBot.js,
--     routes/faq_kb.js, services/chatbotService.js, routes/kb.js;
--   * models/activity.js: the pre-save hook's involvedUserIds, the related subdocument;
--   * pubmodules/activities/routes/activity.js GET /: the agent_id $or, resolveActivityQueryLimit
--     (chart, limitWarning), each item enriched by activityMessageUtil.enrichActivityWithMessage;
--     GET /csv: the message column (the route's words for PROJECT_USER_*, else the default text).
local helper = require("spec.helper")
local csv = require("tiledesk.csv")

local st = helper.sandbox()
local PID = st.project_id
local AGENT, ADMIN, OWNER = st.users.agent._id, st.users.admin._id, st.users.owner._id
local SYSTEM = { type = "system", id = "system", name = "System" }
local null = require("cjson").null -- a JSON null as the specs' decoder gives it

local api = helper.api

-- the newest activities of these verbs (comma-separated), newest first
local function newest(verbs, n)
  local status, b = api("admin", "GET", "/activities?limit=" .. (n or 10) .. "&activities=" .. verbs)
  assert.equal(200, status)
  return b.activities
end

-- how many activities of these verbs the project has
local function count(verbs)
  local status, b = api("admin", "GET", "/activities?limit=1&activities=" .. verbs)
  assert.equal(200, status)
  return b.count
end

-- the newest activity of this verb, which must exist
local function last(verb)
  return helper.nonempty(newest(verb, 1), "no " .. verb)[1]
end

local function has(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

-- a conversation the owner opens (routed to some agent as it opens)
local function conversation()
  local status, r = api("owner", "POST", "/requests", { first_text = "feed please" })
  assert.equal(200, status)
  return r
end

local function department(name)
  local _, list = api("owner", "GET", "/departments")
  for _, d in ipairs(list) do if d.name == name then return d end end
  error("no department " .. name)
end

-- the CSV export's records (csv-express, ';')
local function csv_records(query)
  local status, _, text = helper.http("GET", st.http_url .. "/" .. PID .. "/activities/csv" .. (query or ""), nil,
    helper.auth("admin"))
  assert.equal(200, status)
  local recs = {}
  for rec in csv.records(text, { separator = ";" }) do recs[#recs + 1] = rec end
  return recs
end
local function csv_record(a, lang)
  for _, rec in ipairs(csv_records("?activities=" .. a.verb .. (lang and "&lang=" .. lang or ""))) do
    if rec.activity_id == a._id then return rec end
  end
  error("activity not exported")
end

describe("sandbox activity feed: conversations", function()
  before_each(helper.reset)

  -- event/requestEvent.js: request.create.simple emits request.assigned for the first human of
  -- participantsAgents { assignmentType 'auto', actor systemActor(), source 'create',
  -- removedParticipants [], previousAssigneeId null }; the archiver: verb REQUEST_ASSIGNED_AUTO,
  -- actionObj with assigneeType 'user', related { role 'assignee', type 'user', id }
  it("records a conversation assigned as it opens as REQUEST_ASSIGNED_AUTO by the system", function()
    local r = conversation()
    local assignee = helper.nonempty(r.participantsAgents, "no agent routed")[1]
    local a = last("REQUEST_ASSIGNED_AUTO")
    assert.same(SYSTEM, helper.actor_of(a))
    assert.same({ assigneeId = assignee, assigneeType = "user", assignmentType = "auto", source = "create",
      removedParticipants = {}, previousAssigneeId = null }, a.actionObj)
    assert.same({ role = "assignee", type = "user", id = assignee }, a.related)
    assert.same({ type = "request", id = r._id, object = a.target.object }, a.target)
    assert.equal(r.request_id, a.target.object.request_id)
    assert.equal(PID, a.id_project)
    -- models/activity.js: the actor is the system; the related user; the request's agents
    assert.same({ assignee }, a.involvedUserIds)
    -- activityMessageUtil: a system actor's automatic assignment; the assignee's label is its id
    -- (the stored request holds no populated participatingAgents)
    assert.equal("System automatically assigned conversation " .. r.request_id .. " to " .. assignee
      .. " (source: create)", a.message)
    -- and REQUEST_CREATE first (request.create is emitted before request.assigned)
    local both = newest("REQUEST_CREATE,REQUEST_ASSIGNED_AUTO", 2)
    assert.equal("REQUEST_ASSIGNED_AUTO", both[1].verb)
    assert.equal("REQUEST_CREATE", both[2].verb)
    assert.is_nil(both[2].message) -- buildDefaultActivityMessage has no REQUEST_CREATE text
  end)

  -- routes/request.js POST /:requestid/participants: buildAddParticipantOptions (actor from the
  -- caller, source 'api', deriveAssignmentType: the caller itself is 'self_join', another user
  -- 'manual_reassign'); emitAssignedEvent with the added member, previousAssigneeId null
  it("records joining as REQUEST_ASSIGNED_SELF and adding someone as REQUEST_ASSIGNED_MANUAL", function()
    local r = conversation()
    -- an agent among the participants already: adding it again changes nothing
    local before = count("REQUEST_ASSIGNED_SELF,REQUEST_ASSIGNED_MANUAL")
    local first = r.participantsAgents[1]
    local who = first == AGENT and "admin" or "agent"
    local who_id = first == AGENT and ADMIN or AGENT
    assert.equal(200, (api(who, "POST", "/requests/" .. r.request_id .. "/participants", { member = who_id })))
    local a = last("REQUEST_ASSIGNED_SELF")
    assert.equal(who_id, helper.actor_of(a).id)
    assert.equal("user", a.actor.type)
    assert.same({ assigneeId = who_id, assigneeType = "user", assignmentType = "self_join", source = "api",
      removedParticipants = {}, previousAssigneeId = null }, a.actionObj)
    assert.same({ role = "assignee", type = "user", id = who_id }, a.related)
    assert.equal(helper.actor_of(a).name .. " joined conversation " .. r.request_id .. " (source: api)", a.message)
    assert.equal(200, (api("owner", "POST", "/requests/" .. r.request_id .. "/participants", { member = who_id })))
    assert.equal(before + 1, count("REQUEST_ASSIGNED_SELF,REQUEST_ASSIGNED_MANUAL"))
    -- the owner adds itself? no: the owner adds the seeded fourth agent, a manual assignment
    local _, team = api("owner", "GET", "/project_users")
    local other
    for _, pu in ipairs(team) do
      local uid = pu.id_user._id
      if uid ~= OWNER and not has(r.participantsAgents, uid) and uid ~= who_id then other = uid end
    end
    assert.is_not_nil(other)
    api("owner", "POST", "/requests/" .. r.request_id .. "/participants", { member = other })
    a = last("REQUEST_ASSIGNED_MANUAL")
    assert.same({ type = "user", id = OWNER, name = "Olivia Owner" }, helper.actor_of(a))
    assert.same({ assigneeId = other, assigneeType = "user", assignmentType = "manual_reassign", source = "api",
      removedParticipants = {}, previousAssigneeId = null }, a.actionObj)
    assert.equal("Olivia Owner manually assigned conversation " .. r.request_id .. " to " .. other
      .. " (source: api)", a.message)
    -- involvedUserIds: the owner, the assignee, then every agent of the conversation now
    assert.equal(OWNER, a.involvedUserIds[1])
    assert.equal(other, a.involvedUserIds[2])
    assert.is_true(has(a.involvedUserIds, first))
    assert.is_true(has(a.involvedUserIds, who_id))
  end)

  -- PUT /:requestid/participants: buildSetParticipantsOptions (no one left: 'unassign'; bots
  -- only: 'manual_reassign_bot'); emitAssignedEvent: one REQUEST_UNASSIGNED per human removed
  -- (related role 'unassigned_user', previousAssigneeId itself), a bot added with its name
  -- (resolveBotName) and the first human removed as previousAssigneeId; the same list in the
  -- same order is no change (no event)
  it("records participants set: unassignments and a reassignment to a bot", function()
    local r = conversation()
    local first = r.participantsAgents[1]
    local status = api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", { "bot_" .. st.bot._id })
    assert.equal(200, status)
    local a = last("REQUEST_ASSIGNED_MANUAL")
    assert.same({ assigneeId = st.bot._id, assigneeName = "Sandbox Bot", assigneeType = "bot",
      assignmentType = "manual_reassign_bot", source = "api", previousAssigneeId = first,
      removedParticipants = { first } }, a.actionObj)
    assert.same({ role = "assignee", type = "bot", id = st.bot._id, name = "Sandbox Bot" }, a.related)
    -- a bot is no user: only the owner is involved (the conversation has no agent left)
    assert.same({ OWNER }, a.involvedUserIds)
    assert.equal("Olivia Owner reassigned conversation " .. r.request_id .. " to chatbot Sandbox Bot (source: api)"
      .. " (replaced " .. first .. ")", a.message)
    local n = count("REQUEST_ASSIGNED_MANUAL,REQUEST_UNASSIGNED")
    api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", { "bot_" .. st.bot._id })
    assert.equal(n, count("REQUEST_ASSIGNED_MANUAL,REQUEST_UNASSIGNED"))
    -- back to two agents, then none: each leaves with its own REQUEST_UNASSIGNED
    api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", { AGENT, ADMIN })
    local _, cleared = api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", {})
    assert.equal(100, cleared.status) -- setParticipantsByRequestId: no one, unassigned
    local un = newest("REQUEST_UNASSIGNED", 2)
    assert.equal(2, #un)
    local seen = {}
    for _, u in ipairs(un) do
      local id = u.actionObj.assigneeId
      seen[id] = true
      assert.same({ assigneeId = id, assigneeType = "user", assignmentType = "unassign", source = "api",
        previousAssigneeId = id, removedParticipants = { AGENT, ADMIN } }, u.actionObj)
      assert.same({ role = "unassigned_user", type = "user", id = id }, u.related)
      assert.same({ OWNER, id }, u.involvedUserIds)
      assert.equal("Olivia Owner unassigned " .. id .. " from conversation " .. r.request_id .. " (source: api)",
        u.message)
    end
    assert.is_true(seen[AGENT] and seen[ADMIN])
  end)

  -- PUT /:requestid/assign (buildAutoRouteOptions 'api': the caller's actor, type 'auto') on an
  -- unassigned conversation; PUT /:requestid/departments (buildDepartmentRouteOptions): a new
  -- department is one REQUEST_ASSIGNED_MANUAL of type department, named; PUT /:requestid/agent
  -- (source 'chatbot')
  it("records routing again: assign, another department, the hand-off to an agent", function()
    local r = conversation()
    api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", {})
    local _, routed = api("admin", "PUT", "/requests/" .. r.request_id .. "/assign", {})
    local assignee = helper.nonempty(routed.participantsAgents, "not routed")[1]
    local a = last("REQUEST_ASSIGNED_AUTO")
    assert.same({ type = "user", id = ADMIN, name = "Adam Admin" }, helper.actor_of(a))
    assert.same({ assigneeId = assignee, assigneeType = "user", assignmentType = "auto", source = "api",
      removedParticipants = {}, previousAssigneeId = null }, a.actionObj)
    assert.equal("Adam Admin triggered automatic assignment of conversation " .. r.request_id .. " to " .. assignee
      .. " (source: api)", a.message)
    local billing = department("Billing")
    api("owner", "PUT", "/requests/" .. r.request_id .. "/departments", { departmentid = billing._id })
    a = last("REQUEST_ASSIGNED_MANUAL")
    assert.equal("department", a.actionObj.assigneeType)
    assert.equal(billing._id, a.actionObj.assigneeId)
    assert.equal("Billing", a.actionObj.assigneeName)
    assert.equal("manual_reassign_department", a.actionObj.assignmentType)
    assert.same({ role = "assignee", type = "department", id = billing._id, name = "Billing" }, a.related)
    assert.matches("^Olivia Owner reassigned conversation " .. r.request_id:gsub("%-", "%%-")
      .. " to department Billing %(source: api%)", a.message)
    api("owner", "PUT", "/requests/" .. r.request_id .. "/replace", { id = st.bot._id })
    local _, handed = api("owner", "PUT", "/requests/" .. r.request_id .. "/agent", {})
    local agent = helper.nonempty(handed.participantsAgents, "not handed off")[1]
    a = last("REQUEST_ASSIGNED_AUTO")
    assert.same({ assigneeId = agent, assigneeType = "user", assignmentType = "auto", source = "chatbot",
      removedParticipants = {}, previousAssigneeId = null }, a.actionObj)
  end)

  -- DELETE /:requestid/participants/:id: buildRemoveParticipantOptions; the archiver's
  -- LEAVE_CONVERSATION { member, source }: the caller leaving is the actor, anyone else removed is
  -- actorFromUserId-like { type 'user', id, name: the id }; a bot leaving is not recorded
  it("records leaving as LEAVE_CONVERSATION", function()
    local r = conversation()
    api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", { AGENT, ADMIN, "bot_" .. st.bot._id })
    local n = count("LEAVE_CONVERSATION")
    api("owner", "DELETE", "/requests/" .. r.request_id .. "/participants/bot_" .. st.bot._id)
    assert.equal(n, count("LEAVE_CONVERSATION"))
    api("agent", "DELETE", "/requests/" .. r.request_id .. "/participants/" .. AGENT)
    local a = last("LEAVE_CONVERSATION")
    assert.same({ type = "user", id = AGENT, name = "Alice Agent" }, helper.actor_of(a))
    assert.same({ member = AGENT, source = "api" }, a.actionObj)
    assert.same({ type = "request", id = r._id, object = a.target.object }, a.target)
    assert.is_nil(a.related)
    assert.same({ AGENT, ADMIN }, a.involvedUserIds)
    assert.equal("Alice Agent left conversation " .. r.request_id .. " (source: api)", a.message)
    local _, left = api("owner", "DELETE", "/requests/" .. r.request_id .. "/participants/" .. ADMIN)
    assert.equal(100, left.status)
    a = last("LEAVE_CONVERSATION")
    assert.same({ type = "user", id = ADMIN, name = ADMIN }, helper.actor_of(a))
    assert.equal(ADMIN .. " left conversation " .. r.request_id .. " (source: api)", a.message)
    -- removeParticipantByRequestId: no REQUEST_UNASSIGNED for a removal
    assert.equal(0, #newest("REQUEST_UNASSIGNED", 10))
  end)

  -- pubmodules/rules/conciergeBot.js: a message of the lead, not the first text, to a preflight
  -- conversation: changeFirstTextAndPreflightByRequestId emits request.update.preflight, which the
  -- archiver records as REQUEST_CREATE (the archiver skips a request still preflight); one still
  -- temporary (50) with no bot is routed again by the rules (internal options 'rules', 'auto')
  it("records a preflight conversation made real as REQUEST_CREATE", function()
    local _, j = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously", { id_project = PID, firstname = "Vera" })
    local rid = string.format("support-group-%s-%032x", PID, 0xfeed01)
    local creates = count("REQUEST_CREATE")
    local s, m = api(j.token, "POST", "/requests/" .. rid .. "/messages",
      { text = "hello", preflight = true, request_status = 50 })
    assert.equal(200, s)
    assert.is_true(m.request.preflight)
    assert.equal(creates, count("REQUEST_CREATE"))
    s = api(j.token, "POST", "/requests/" .. rid .. "/messages", { text = "my real question" })
    assert.equal(200, s)
    -- the concierge runs just after the answer (setImmediate on the server)
    local a
    for _ = 1, 50 do
      a = newest("REQUEST_CREATE", 1)[1]
      if a and a.target.object.request_id == rid then break end
      require("tiledesk.core").sleep_ms(20)
    end
    assert.equal(rid, a.target.object.request_id)
    assert.is_false(a.target.object.preflight)
    assert.equal("my real question", a.actionObj.first_text)
    assert.equal("Vera", helper.actor_of(a).name)
    local _, r = api("admin", "GET", "/requests/" .. rid)
    assert.is_false(r.preflight)
    assert.equal("my real question", r.first_text)
    assert.equal(200, r.status)
    assert.equal(100, r.lead.status) -- leadService.updateStatusWitId(..., LeadConstants.NORMAL)
    local auto = last("REQUEST_ASSIGNED_AUTO")
    assert.equal(rid, auto.target.object.request_id)
    assert.same(SYSTEM, helper.actor_of(auto))
    assert.equal("rules", auto.actionObj.source)
  end)
end)

describe("sandbox activity feed: chatbots and the knowledge base", function()
  before_each(helper.reset)

  -- routes/faq_kb.js: POST / emits faqbot.created unless ?skip_activity=true; PUT /:id with
  -- trashed true and DELETE /:id emit faqbot.deleted; PUT /:id/publish faqbot.publish (the note:
  -- the body's, else "No comment"). The archiver: FAQ_KB_CREATE { name, type, subtype },
  -- FAQ_KB_DELETE { name, type }, FAQ_KB_PUBLISH { name, publishedBotId, release_note }, target
  -- { type 'faq_kb', id, object: the bot }
  it("records chatbots created, published and deleted", function()
    local _, b = api("admin", "POST", "/faq_kb", { name = "Helper", type = "tilebot", subtype = "chatbot" })
    local a = last("FAQ_KB_CREATE")
    assert.same({ type = "user", id = ADMIN, name = "Adam Admin" }, helper.actor_of(a))
    assert.same({ name = "Helper", type = "tilebot", subtype = "chatbot" }, a.actionObj)
    assert.equal("faq_kb", a.target.type)
    assert.equal(b._id, a.target.id)
    assert.equal(b._id, a.target.object._id)
    assert.equal("Helper", a.target.object.name)
    assert.equal(PID, a.id_project)
    assert.same({ ADMIN }, a.involvedUserIds)
    assert.equal("Adam Admin created chatbot Helper", a.message)
    -- activityMessageUtil's text is the CSV's too, in any lang
    assert.equal("Adam Admin created chatbot Helper", csv_record(a).message)
    assert.equal("Adam Admin created chatbot Helper", csv_record(a, "it").message)
    local n = count("FAQ_KB_CREATE")
    api("admin", "POST", "/faq_kb?skip_activity=true", { name = "Quiet" })
    assert.equal(n, count("FAQ_KB_CREATE"))
    local _, pub = api("admin", "PUT", "/faq_kb/" .. b._id .. "/publish", {})
    a = last("FAQ_KB_PUBLISH")
    assert.same({ name = "Helper", publishedBotId = pub.bot_id, release_note = "No comment" }, a.actionObj)
    assert.equal(b._id, a.target.id)
    assert.equal("Adam Admin published chatbot Helper", a.message)
    api("admin", "PUT", "/faq_kb/" .. b._id, { trashed = true })
    a = last("FAQ_KB_DELETE")
    assert.same({ name = "Helper", type = "tilebot" }, a.actionObj)
    assert.is_true(a.target.object.trashed)
    assert.equal("Adam Admin deleted chatbot Helper", a.message)
    local _, other = api("admin", "POST", "/faq_kb", { name = "Gone" })
    api("admin", "DELETE", "/faq_kb/" .. other._id)
    a = last("FAQ_KB_DELETE")
    assert.same({ name = "Gone", type = "internal" }, a.actionObj)
    assert.equal(other._id, a.target.id)
  end)

  -- POST /fork/:id: the copy is made through POST /faq_kb?skip_activity=true, then faqbot.created
  -- names the landing project (?projectid), the bot as that call answered it (JSON: its dates
  -- strings, written as they are in the CSV); not with ?for_publish=true.
  -- POST /importjson/:id?create=true: faqbot.created too.
  it("records a fork in the landing project, and an import that creates a bot", function()
    local _, proj = helper.http_json("POST", st.http_url .. "/projects", { name = "Landing" }, helper.auth("admin"))
    local _, fork = api("admin", "POST", "/faq_kb/fork/" .. st.bot._id .. "?projectid=" .. proj._id)
    local status, page = helper.http_json("GET", st.http_url .. "/" .. proj._id .. "/activities?activities=FAQ_KB_CREATE",
      nil, helper.auth("admin"))
    assert.equal(200, status)
    local a = helper.nonempty(page.activities)[1]
    assert.equal(proj._id, a.id_project)
    assert.equal(fork.bot_id, a.target.id)
    assert.same({ name = "Sandbox Bot", type = "external" }, a.actionObj)
    local _, _, text = helper.http("GET", st.http_url .. "/" .. proj._id .. "/activities/csv", nil, helper.auth("admin"))
    local rec
    for r in csv.records(text, { separator = ";" }) do if r.activity_id == a._id then rec = r end end
    assert.equal(a.target.object.createdAt, rec.target_createdAt)
    local n = count("FAQ_KB_CREATE")
    api("admin", "POST", "/faq_kb/fork/" .. st.bot._id .. "?projectid=" .. PID .. "&for_publish=true")
    assert.equal(n, count("FAQ_KB_CREATE"))
    api("admin", "POST", "/faq_kb/importjson/null?create=true", { name = "Imported" })
    assert.equal("Imported", last("FAQ_KB_CREATE").actionObj.name)
  end)

  -- routes/kb.js: POST /namespace (kb.namespace.create: KB_NAMESPACE_CREATE { namespaceName,
  -- hybrid, default }, the namespace saved as target); POST / (contents.add 'content', count 1,
  -- type, source), /multi ('url_list', the list's length), /csv ('csv'), /sitemap/import
  -- ('sitemap', the pages, type, source); DELETE /:kb_id (KB_CONTENT_DELETE); DELETE
  -- /namespace/:id?contents_only=true (KB_CONTENTS_DELETE, deleteMode 'contents_only') and
  -- without it (KB_NAMESPACE_DELETE, deletedCount); the namespace's target { id, name }
  it("records namespaces and their contents", function()
    -- the project's Default namespace first (GET /namespace/all makes it, recording nothing)
    assert.equal(200, (api("admin", "GET", "/kb/namespace/all")))
    assert.equal(0, count("KB_NAMESPACE_CREATE"))
    local _, ns = api("admin", "POST", "/kb/namespace", { name = "Docs" })
    local a = last("KB_NAMESPACE_CREATE")
    assert.same({ namespaceName = "Docs", hybrid = false, default = false }, a.actionObj)
    assert.equal("kb_namespace", a.target.type)
    assert.equal(ns.id, a.target.id)
    assert.equal("Docs", a.target.object.name)
    assert.equal(ns.id, a.target.object.id)
    assert.equal("Adam Admin created namespace Docs", a.message)
    api("admin", "POST", "/kb", { namespace = ns.id, type = "txt", name = "Hello", source = "hello-src", content = "x" })
    a = last("KB_CONTENTS_ADD")
    assert.same({ contentAddType = "content", namespaceName = "Docs", count = 1, type = "txt", source = "hello-src" },
      a.actionObj)
    assert.same({ type = "kb_namespace", id = ns.id, object = { id = ns.id, name = "Docs" } }, a.target)
    assert.equal("Adam Admin added content to namespace Docs (hello-src)", a.message)
    api("admin", "POST", "/kb/multi?namespace=" .. ns.id, { list = { "https://a.example/1", "https://a.example/2" } })
    a = last("KB_CONTENTS_ADD")
    assert.same({ contentAddType = "url_list", namespaceName = "Docs", count = 2 }, a.actionObj)
    assert.equal("Adam Admin added 2 items (URL list) to namespace Docs", a.message)
    api("admin", "POST", "/kb/sitemap/import?namespace=" .. ns.id,
      { type = "sitemap", source = "https://a.example/sitemap.xml" })
    a = last("KB_CONTENTS_ADD")
    assert.equal("sitemap", a.actionObj.contentAddType)
    assert.equal("https://a.example/sitemap.xml", a.actionObj.source)
    assert.equal(string.format("Adam Admin added %d items (sitemap) to namespace Docs", a.actionObj.count), a.message)
    local _, list = api("admin", "GET", "/kb?namespace=" .. ns.id .. "&type=txt")
    local hello = helper.nonempty(list.kbs)[1]
    api("admin", "DELETE", "/kb/" .. hello._id)
    a = last("KB_CONTENT_DELETE")
    assert.same({ name = "Hello", source = "hello-src", type = "txt", namespaceId = ns.id, namespaceName = "Docs" },
      a.actionObj)
    assert.same({ type = "kb_content", id = hello._id,
      object = { _id = hello._id, name = "Hello", source = "hello-src", type = "txt" } }, a.target)
    -- namespaceLabel reads the target's object name first: here the content's
    assert.equal("Adam Admin deleted content hello-src from namespace Hello", a.message)
    local _, all = api("admin", "GET", "/kb?namespace=" .. ns.id)
    api("admin", "DELETE", "/kb/namespace/" .. ns.id .. "?contents_only=true")
    a = last("KB_CONTENTS_DELETE")
    assert.same({ namespaceName = "Docs", deletedCount = all.count, deleteMode = "contents_only" }, a.actionObj)
    assert.equal("Adam Admin deleted all contents from namespace Docs", a.message)
    api("admin", "DELETE", "/kb/namespace/" .. ns.id)
    a = last("KB_NAMESPACE_DELETE")
    assert.same({ namespaceName = "Docs", deletedCount = 0 }, a.actionObj)
    assert.same({ type = "kb_namespace", id = ns.id, object = { id = ns.id, name = "Docs" } }, a.target)
    assert.equal("Adam Admin deleted namespace Docs", a.message)
  end)
end)

describe("sandbox activity feed: the list", function()
  before_each(helper.reset)

  -- routes/activity.js GET /: agent_id is the $or of involvedUserIds, target.object.id_user._id
  -- and actor.id; models/activity.js fills involvedUserIds
  it("filters by agent_id through involvedUserIds, the target member and the actor", function()
    local r = conversation()
    api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", {})
    api("owner", "PUT", "/requests/" .. r.request_id .. "/participants", { AGENT })
    api("admin", "POST", "/kb/namespace", { name = "Not the agent's" })
    local _, page = api("admin", "GET", "/activities?agent_id=" .. AGENT .. "&limit=100")
    local verbs = {}
    for _, a in ipairs(helper.nonempty(page.activities)) do
      verbs[a.verb] = true
      local member = type(a.target.object) == "table" and a.target.object.id_user
      assert.is_true(has(a.involvedUserIds, AGENT) or a.actor.id == AGENT
        or (type(member) == "table" and member._id == AGENT), a.verb)
    end
    assert.is_nil(verbs.KB_NAMESPACE_CREATE)
    -- the owner's manual assignment of the agent is the agent's too (the related user)
    local manual
    for _, a in ipairs(page.activities) do
      if a.verb == "REQUEST_ASSIGNED_MANUAL" and a.target.id == r._id then manual = a end
    end
    assert.is_table(manual)
    assert.equal(OWNER, manual.actor.id)
    -- a member's own update: the actor and the target member
    api("agent", "PUT", "/project_users", { user_available = false })
    local a = last("PROJECT_USER_AVAILABILITY_SELF")
    assert.same({ AGENT }, a.involvedUserIds)
    _, page = api("admin", "GET", "/activities?agent_id=" .. AGENT .. "&activities=PROJECT_USER_AVAILABILITY_SELF")
    assert.equal(1, page.count)
    -- the CSV takes the same filter
    local recs = csv_records("?agent_id=" .. AGENT .. "&activities=PROJECT_USER_AVAILABILITY_SELF")
    assert.equal(1, #recs)
    assert.equal(a._id, recs[1].activity_id)
  end)

  -- enrichActivityWithMessage: buildDefaultActivityMessage's English text, whatever lang the
  -- list is asked in (the route reads no lang); none for the verbs it has no text for. The CSV's
  -- message: the route's words for PROJECT_USER_UPDATE/_DELETE/_INVITE (Italian with lang=it),
  -- the default text else
  it("gives each item its message, in English, as the CSV does in both languages", function()
    local _, team = api("owner", "GET", "/project_users")
    local pu
    for _, x in ipairs(team) do if x.id_user._id == AGENT then pu = x end end
    api("owner", "DELETE", "/project_users/" .. pu._id .. "?soft=true")
    local _, list = api("admin", "GET", "/activities?activities=PROJECT_USER_DELETE&limit=1&lang=it")
    local a = helper.nonempty(list.activities)[1]
    assert.equal("Olivia Owner removed Alice Agent from the project", a.message)
    assert.equal("Olivia Owner has removed Alice Agent from the project", csv_record(a).message)
    assert.equal("Olivia Owner ha rimosso Alice Agent dal progetto", csv_record(a, "it").message)
    api("owner", "POST", "/project_users/invite", { email = "someone.new@example.com", role = "supervisor" })
    a = last("PROJECT_USER_INVITE")
    -- a pending invitation: its e-mail is the target's label, so not repeated in brackets
    assert.equal("Olivia Owner invited someone.new@example.com to take on the role of supervisor", a.message)
    assert.equal("Olivia Owner has invited  to take on the role of", csv_record(a).message)
    assert.equal("Olivia Owner ha invitato  ad assumere il ruolo di", csv_record(a, "it").message)
    api("owner", "PUT", "/project_users/" .. pu._id, { role = "admin" })
    a = last("PROJECT_USER_UPDATE")
    assert.is_nil(a.message) -- no default text for PROJECT_USER_UPDATE
    assert.equal("Olivia Owner ha cambiato il ruolo di Alice Agent in Amministratore", csv_record(a, "it").message)
    -- a verb with no text anywhere: the CSV's column is empty
    local create = last("REQUEST_CREATE")
    assert.is_nil(create.message)
    assert.equal("", csv_record(create, "it").message)
  end)

  -- resolveActivityQueryLimit: limit (parseInt, positive, else 40) at most 100; chart 'true' or
  -- '1': at most 1000, `chart: true` in the answer, and past 1000 the limitWarning
  it("answers chart=true with chart and limitWarning, as resolveActivityQueryLimit does", function()
    local _, plain = api("admin", "GET", "/activities?limit=500")
    assert.equal(100, plain.perPage)
    assert.equal(100, #plain.activities)
    assert.is_nil(plain.chart)
    assert.is_nil(plain.limitWarning)
    assert.is_true(plain.count > 100)
    local _, chart = api("admin", "GET", "/activities?limit=500&chart=true")
    assert.equal(500, chart.perPage)
    assert.is_true(chart.chart)
    assert.is_nil(chart.limitWarning)
    assert.equal(math.min(500, chart.count), #chart.activities)
    local _, big = api("admin", "GET", "/activities?limit=5000&chart=1")
    assert.equal(1000, big.perPage)
    assert.is_true(big.chart)
    assert.equal("Limit exceeded the maximum allowed value of 1000. Only the first 1000 matching activities are "
      .. "returned.", big.limitWarning)
    local _, other = api("admin", "GET", "/activities?chart=yes&limit=0")
    assert.equal(40, other.perPage)
    assert.is_nil(other.chart)
    local _, chart40 = api("admin", "GET", "/activities?chart=true&limit=abc")
    assert.equal(40, chart40.perPage)
    assert.is_true(chart40.chart)
  end)

  -- GET /: sort (createdAt) by direction (parseInt || -1), page (parseInt || 0); mquery's sort
  -- takes 1 and -1 only and a negative skip is refused: 500 "Error getting activities."
  it("sorts and pages as the route asks MongoDB to", function()
    local _, up = api("admin", "GET", "/activities?direction=1&limit=5")
    local ups = helper.nonempty(up.activities)
    for i = 2, #ups do assert.is_true(ups[i - 1].createdAt <= ups[i].createdAt) end
    local _, down = api("admin", "GET", "/activities?direction=0&limit=5")
    local downs = helper.nonempty(down.activities)
    for i = 2, #downs do assert.is_true(downs[i - 1].createdAt >= downs[i].createdAt) end
    local _, p1 = api("admin", "GET", "/activities?limit=5&page=1")
    local _, ten = api("admin", "GET", "/activities?limit=10")
    assert.equal(ten.activities[6]._id, p1.activities[1]._id)
    local _, by_verb = api("admin", "GET", "/activities?sort=verb&direction=1&limit=100")
    local items = helper.nonempty(by_verb.activities)
    for i = 2, #items do assert.is_true(items[i - 1].verb <= items[i].verb) end
    local _, by_actor = api("admin", "GET", "/activities?sort=actor.name&direction=-1&limit=100")
    items = helper.nonempty(by_actor.activities)
    for i = 2, #items do
      if items[i].actor.name then assert.is_true(items[i - 1].actor.name >= items[i].actor.name) end
    end
    local failed = { success = false, msg = "Error getting activities." }
    helper.answers(500, failed, api("admin", "GET", "/activities?direction=2"))
    helper.answers(500, failed, api("admin", "GET", "/activities?page=-1"))
  end)
end)
