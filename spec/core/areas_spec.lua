-- Round trips for every area of the route table (tiledesk.routes.resources), the Lua client
-- against the sandbox: create -> get shows it -> update -> get shows the change -> list/each
-- holds it -> delete -> get refuses it (404, or the soft-delete state of
-- docs/reference-endpoints.txt). Read-only areas are listed and read. Each area runs as the role
-- the reference requires. Then pagination across pages, and a last spec checking that this
-- file reached every route of the table.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local routes = require("tiledesk.routes")

local st = helper.sandbox()
local PID = st.project_id
local AGENT_ID, ADMIN_ID, OWNER_ID = st.users.agent._id, st.users.admin._id, st.users.owner._id

local control = helper.control

-- every call any client of this file makes, by operation name ("tags:get()")
local calls, reports = {}, {}
local function record(info)
  calls[info.op] = (calls[info.op] or 0) + 1
  if info.op == "analytics:report()" then
    local name = tostring(info.url):match("/analytics/([^?]+)")
    if name then reports[name] = true end
  end
end
local function count(op) return calls[op] or 0 end

local function options(extra)
  local o = { base_url = st.http_url, project_id = PID, retries = 0, on_request = record }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function as(role)
  local u = st.users[role]
  return tiledesk.new(options{ email = u.email, password = u.password })
end

local function guest(extra)
  local c, user = tiledesk.signin_anonymously(options(extra))
  assert.is_table(c, tostring(user))
  return c, user
end

-- the call failed with an HTTP status: returns err
local refused = helper.refused

local function id_of(x)
  if type(x) == "table" then return x._id end
  return x
end

local function find(list, key, value)
  assert.is_table(list)
  for _, x in ipairs(list) do
    if x[key] == value then return x end
  end
  return nil
end

local function contains(list, value)
  assert.is_table(list)
  for _, x in ipairs(list) do
    if x == value then return true end
  end
  return false
end

-- describe() for one area of the route table, remembered for the coverage spec
local areas = {}
local function area(res, label, fn)
  areas[res] = true
  describe(label and (res .. " " .. label) or res, fn)
end

local function find_each(iter, key, value)
  for x in iter do
    if x[key] == value then return x end
  end
  return nil
end

describe("every area of the route table, round trips against the sandbox", function()
  local owner, admin, agent
  setup(function()
    control("POST", "/reset")
    owner, admin, agent = as("owner"), as("admin"), as("agent")
  end)
  teardown(function() control("POST", "/reset") end)
  before_each(function() control("DELETE", "/faults") end)

  area("users", nil, function()
    it("me -> update -> me shows the change (and the public profile) -> update back", function()
      local me = assert(agent.users:me())
      assert.equal(st.users.agent.email, me.email)
      assert.equal("Alice", me.firstname)
      local res = assert(agent.users:update{ firstname = "Alicia", description = "Night shift", phone = "+39 555 0100" })
      assert.is_true(res.success)
      assert.equal("Alicia", res.updatedUser.firstname)
      me = assert(agent.users:me())
      assert.equal("Alicia", me.firstname)
      local profile = assert(agent.users:public_profile(AGENT_ID))
      assert.equal("Alicia", profile.firstname)
      assert.equal("Night shift", profile.description)
      assert.is_nil(profile.email)
      assert.equal("Alice", assert(agent.users:update{ firstname = "Alice" }).updatedUser.firstname)
      assert.equal("Alice", assert(agent.users:me()).firstname)
      refused(404, agent.users:public_profile("6560f0a1ffffffffffffffff"))
    end)

    it("check_auth and resend_verification answer success", function()
      assert.same({ success = true }, assert(agent.users:check_auth()))
      assert.is_true(assert(agent.users:resend_verification()).success)
    end)

    it("a new account: change_password, then delete; the old and the deleted credentials are refused", function()
      local email = "areas.throwaway@example.com"
      local res = assert(owner:request{ method = "POST", path = "/auth/signup", project = false, auth = "none",
        body = { email = email, password = "first-pass-1", firstname = "Tess", lastname = "Throwaway" } })
      assert.equal(200, res.status)
      assert.is_true(res.json.success)
      local c = tiledesk.new(options{ email = email, password = "first-pass-1" })
      assert.equal(email, assert(c.users:me()).email)
      refused(401, c.users:change_password("not-the-password", "second-pass-2"))
      refused(403, c.users:change_password("first-pass-1", "first-pass-1"))
      assert.equal("Password change successful", assert(c.users:change_password("first-pass-1", "second-pass-2")).message)
      local old = tiledesk.new(options{ email = email, password = "first-pass-1" })
      refused(401, old:signin())
      local c2 = tiledesk.new(options{ email = email, password = "second-pass-2" })
      assert.equal("Tess", assert(c2.users:me()).firstname)
      local del = assert(c2.users:delete())
      assert.is_true(del.success)
      local again = tiledesk.new(options{ email = email, password = "second-pass-2" })
      refused(401, again:signin())
    end)
  end)

  area("projects", nil, function()
    it("create -> get -> update -> get -> list -> delete (status 0) -> gone from the list", function()
      -- any user may create a project and becomes its owner
      local p = assert(agent.projects:create("Areas Project", { defaultLanguage = "it" }))
      assert.equal("Areas Project", p.name)
      assert.equal(100, p.status)
      local got = assert(agent.projects:get(p._id))
      assert.equal("Areas Project", got.name)
      assert.equal("it", got.defaultLanguage)
      local up = assert(agent.projects:update(p._id, { name = "Areas Project (renamed)", activeOperatingHours = false }))
      assert.equal("Areas Project (renamed)", up.name)
      assert.equal("Areas Project (renamed)", assert(agent.projects:get(p._id)).name)
      -- newest update first: the project just renamed
      local mine = assert(agent.projects:list())
      assert.equal(p._id, id_of(mine[1].id_project))
      assert.equal("owner", mine[1].role)
      refused(403, agent.projects:update(p._id, { profile = { name = "Unlimited" } }))
      local entry
      for pu in agent.projects:each() do
        if id_of(pu.id_project) == p._id then entry = pu end
      end
      assert.is_table(entry)
      assert.equal("owner", entry.role)
      assert.equal("Areas Project (renamed)", entry.id_project.name)
      local del = assert(agent.projects:delete(p._id))
      assert.equal(0, del.status)
      for pu in agent.projects:each() do assert.are_not.equal(p._id, id_of(pu.id_project)) end
      -- the reference documents the soft delete (status 0), not what a read answers next:
      -- either the project in that state, or 404
      local v, msg, err = agent.projects:get(p._id)
      if v ~= nil then
        assert.equal(0, v.status)
      else
        refused(404, v, msg, err)
      end
    end)

    it("attributes, bans, opening hours and available agents of a project", function()
      local p = assert(agent.projects:create("Areas Bans"))
      assert.same({ tier = "gold" }, assert(agent.projects:merge_attributes(p._id, { tier = "gold" })).attributes)
      assert.same({ tier = "gold", seats = 3 }, assert(agent.projects:merge_attributes(p._id, { seats = 3 })).attributes)
      local banned = assert(agent.projects:ban(p._id, { id = "visitor-42", ip = "10.0.0.42" }))
      local ban = find(banned.bannedUsers, "id", "visitor-42")
      assert.is_table(ban)
      assert.equal("10.0.0.42", ban.ip)
      assert.is_string(ban._id)
      local lifted = assert(agent.projects:unban(p._id, ban._id))
      assert.is_nil(find(lifted.bannedUsers, "id", "visitor-42"))
      assert.same({ isopen = true }, assert(agent.projects:is_open(p._id)))
      local avail = assert(agent.projects:available_agents(p._id))
      assert.equal(1, #avail)
      assert.equal(AGENT_ID, avail[1].id)
      assert.equal(st.users.agent.email, avail[1].email)
      assert.equal("Alice Agent", avail[1].fullname)
      assert.equal(0, avail[1].assigned_request)
      local n = 0
      for a in agent.projects:each_available_agents() do
        assert.is_string(a.pu_id)
        n = n + 1
      end
      assert.is_true(n >= 3, "available agents of the seeded project: " .. n)
      -- the seeded project: update needs admin
      refused(403, agent.projects:update(PID, { name = "nope" }))
      assert.equal("Sandbox Project", assert(admin.projects:get()).name)
    end)
  end)

  area("requests", nil, function()
    it("create -> get -> update -> get -> list -> delete (owner) -> get 404", function()
      local r = assert(admin.requests:create{ first_text = "Areas: the printer is on fire", subject = "Printer",
        priority = "low" })
      local rid = r.request_id
      assert.matches("^support%-group%-" .. PID .. "%-", rid)
      local got = assert(admin.requests:get(rid))
      assert.equal("Areas: the printer is on fire", got.first_text)
      assert.equal("Printer", got.subject)
      assert.equal("low", got.priority)
      local up = assert(admin.requests:update(rid, { priority = "high", subject = "Printer (urgent)" }))
      assert.equal("high", up.priority)
      got = assert(admin.requests:get(rid))
      assert.equal("high", got.priority)
      assert.equal("Printer (urgent)", got.subject)
      local page = assert(admin.requests:list{ full_text = "printer is on fire" })
      assert.equal(1, page.count)
      assert.equal(rid, page.requests[1].request_id)
      assert.is_table(find_each(admin.requests:each{ limit = 100 }, "request_id", rid))
      refused(403, admin.requests:delete(rid))
      local del = assert(owner.requests:delete(rid))
      assert.equal(rid, del.request_id)
      local err = refused(404, admin.requests:get(rid))
      assert.same({ success = false, msg = "Object not found." }, err.body)
      assert.equal(0, assert(admin.requests:list{ full_text = "printer is on fire", status = "all" }).count)
    end)

    it("create needs first_text; priority defaults to medium; an agent closes only as a participant", function()
      refused(422, admin.requests:create{ subject = "no text" })
      local r = assert(admin.requests:create{ first_text = "Areas: defaults", participants = { ADMIN_ID } })
      assert.equal("medium", r.priority)
      assert.same({ ADMIN_ID }, assert(admin.requests:get(r.request_id)).participants)
      refused(403, agent.requests:close(r.request_id))
      assert.is_true(assert(admin.requests:get(r.request_id)).status < 1000)
      -- requestService.removeParticipantByRequestId: a member not in the list changes nothing
      assert.same({ ADMIN_ID }, assert(admin.requests:remove_participant(r.request_id, AGENT_ID)).participants)
      refused(400, admin.requests:add_note(r.request_id, ""))
      local merged = assert(admin.requests:count{ merge_assigned = true })
      assert.is_number(merged.assigned)
      assert.is_nil(merged.bot_assigned)
    end)

    it("delete_by_id removes a conversation by its _id (owner)", function()
      local r = assert(admin.requests:create{ first_text = "Areas: delete me by id" })
      refused(403, admin.requests:delete_by_id(r._id))
      assert(owner.requests:delete_by_id(r._id))
      refused(404, admin.requests:get(r.request_id))
    end)

    it("replace_bot swaps the bot participant", function()
      local r = assert(admin.requests:create{ first_text = "Areas: talk to a bot" })
      local rid = r.request_id
      assert(admin.requests:add_participant(rid, "bot_" .. st.bot._id))
      local other = assert(admin.bots:create("Areas Replacement Bot"))
      assert(admin.requests:add_participant(rid, AGENT_ID))
      -- routes/request.js PUT /:requestid/replace: the bot becomes the only participant (the
      -- agent leaves too); replaced_bot_root_id names the new bot's root
      local swapped = assert(admin.requests:replace_bot(rid, { id = other._id }))
      assert.same({ "bot_" .. other._id }, swapped.participants)
      assert.equal(other._id, swapped.replaced_bot_root_id)
      local got = assert(admin.requests:get(rid))
      assert.is_true(contains(got.participants, "bot_" .. other._id))
      assert.is_false(contains(got.participants, "bot_" .. st.bot._id))
      refused(404, admin.requests:replace_bot(rid, { name = "No Such Bot" }))
    end)

    it("set_followers replaces the followers, remove_follower takes one out", function()
      local r = assert(admin.requests:create{ first_text = "Areas: followers" })
      local rid = r.request_id
      local set = assert(admin.requests:set_followers(rid, { AGENT_ID, ADMIN_ID }))
      assert.same({ AGENT_ID, ADMIN_ID }, set.followers)
      assert.same({ AGENT_ID, ADMIN_ID }, assert(admin.requests:get(rid)).followers)
      assert.same({ ADMIN_ID }, assert(admin.requests:remove_follower(rid, AGENT_ID)).followers)
      assert.same({ ADMIN_ID }, assert(admin.requests:get(rid)).followers)
      assert.same({ AGENT_ID }, assert(admin.requests:set_followers(rid, { AGENT_ID })).followers)
      assert(admin.requests:add_follower(rid, OWNER_ID))
      assert.same({ AGENT_ID, OWNER_ID }, assert(admin.requests:get(rid)).followers)
    end)

    it("rate as the guest who started the conversation; others get 404", function()
      local g = guest{ firstname = "Rita", email = "rita@example.com" }
      local conv = assert(g.requests:start{ text = "Areas: please rate me" })
      local rid = conv.request_id
      local rated = assert(g.requests:rate(rid, 4, "Quick and kind"))
      assert.equal(4, rated.rating)
      assert.equal("Quick and kind", rated.rating_message)
      local got = assert(admin.requests:get(rid))
      assert.equal(4, got.rating)
      assert.equal("Quick and kind", got.rating_message)
      -- only the requester: an admin is answered 404 (use requests:update instead)
      refused(404, admin.requests:rate(rid, 1))
      local other = guest()
      refused(404, other.requests:rate(rid, 1))
      assert.equal(4, assert(admin.requests:get(rid)).rating)
      local mine = assert(g.requests:me())
      assert.equal(1, mine.count)
      assert.equal(rid, mine.requests[1].request_id)
      assert.equal(rid, find_each(g.requests:each_me(), "request_id", rid).request_id)
      assert.equal(1000, assert(g.requests:close_as_requester(rid)).status)
      assert.equal(1000, assert(admin.requests:get(rid)).status)
    end)

    it("notes, tags, attributes, participants, routing, close and reopen", function()
      local r = assert(admin.requests:create{ first_text = "Areas: the rest of requests" })
      local rid = r.request_id
      local noted = assert(admin.requests:add_note(rid, "Called back"))
      assert.equal("Called back", noted.notes[1].text)
      assert.same({}, assert(admin.requests:remove_note(rid, noted.notes[1]._id)).notes)
      local tagged = assert(admin.requests:add_tags(rid, { "areas", { tag = "red", color = "#ff0000" } }))
      assert.equal("areas", tagged.tags[1].tag)
      assert.equal("#ff0000", tagged.tags[2].color)
      local left = assert(admin.requests:remove_tag(rid, tagged.tags[1]._id)).tags
      assert.equal(1, #left)
      assert.equal("red", left[1].tag)
      assert.same({ k = "v" }, assert(admin.requests:merge_attributes(rid, { k = "v" })).attributes)
      assert.is_true(contains(assert(admin.requests:add_participant(rid, AGENT_ID)).participants, AGENT_ID))
      assert.same({ ADMIN_ID }, assert(admin.requests:set_participants(rid, { ADMIN_ID })).participants)
      assert.same({ ADMIN_ID }, assert(admin.requests:get(rid)).participants)
      assert.same({}, assert(admin.requests:remove_participant(rid, ADMIN_ID)).participants)
      local billing
      for _, d in ipairs(assert(admin.departments:list())) do if d.name == "Billing" then billing = d end end
      assert.equal(billing._id, id_of(assert(admin.requests:route(rid, billing._id)).department))
      -- assign acts only on an unassigned conversation (a pooled department leaves it so)
      local pool = assert(admin.departments:create{ name = "Areas Pool", routing = "pooled" })
      local other = assert(admin.requests:create{ first_text = "Areas: assign me", departmentid = pool._id })
      assert.equal(100, other.status)
      local assigned = assert(admin.requests:assign(other.request_id, billing._id))
      assert.equal(billing._id, id_of(assigned.department))
      assert.equal(200, assigned.status)
      assert.equal(billing._id, id_of(assert(admin.requests:assign(other.request_id, pool._id)).department))
      local botted = assert(admin.requests:add_participant(rid, "bot_" .. st.bot._id))
      assert.is_true(botted.hasBot)
      assert.is_false(assert(admin.requests:handoff(rid)).hasBot)
      assert.equal(1000, assert(admin.requests:close(rid)).status)
      assert.equal(1000, assert(admin.requests:get(rid)).status)
      assert.is_true(assert(admin.requests:reopen(rid)).status < 1000)
      assert.same({ queued = true }, assert(admin.requests:send_transcript(rid, "Your transcript", { subject = "Hi" })))
      -- without a text, the transcript itself goes (nothing, when there is no message)
      local _, emsg, eerr = admin.requests:send_transcript(rid)
      assert.equal("empty", eerr.kind)
      assert.equal("requests:send_transcript(): the conversation has no message to send", emsg)
      local talk = assert(admin.requests:start{ text = "Can I get a copy of this chat?" })
      assert.same({ queued = true }, assert(admin.requests:send_transcript(talk.request_id)))
      local sent = control("GET", "/log?limit=1").entries[1]
      assert.matches("/email/send$", sent.path)
      assert.truthy(sent.body:find("Can I get a copy of this chat?", 1, true), sent.body)
      -- the sandbox's stand-in answers the conversation's attributes: k, and what the removal of a
      -- participant noted (requestService.removeParticipantByRequestId: abandoned_by_project_users)
      local params = assert(admin.requests:chatbot_parameters(rid))
      assert.equal("v", params.k)
      assert.is_table(params.abandoned_by_project_users)
      assert.equal(PID, assert(admin.requests:lookup_project(rid)).id_project)
      local pub = assert(admin.requests:public_messages(rid))
      assert.is_table(pub)
      local counts = assert(admin.requests:count())
      assert.is_number(counts.unassigned)
      assert.is_number(counts.assigned)
      -- full_text reads the request_fulltext index (models/request.js: subject, notes, tags...)
      assert(admin.requests:update(rid, { subject = "Areas: the rest of requests" }))
      local csv = assert(admin.requests:csv{ full_text = "rest" })
      assert.matches("^_id;request_id;", csv)
      assert.is_truthy(csv:find(rid, 1, true))
    end)
  end)

  area("messages", nil, function()
    local rid
    before_each(function()
      local conv = assert(admin.requests:start{ text = "Areas: first message" })
      rid = conv.request_id
    end)

    it("send -> get -> list/each -> the conversation deleted (owner) -> get 404, list empty", function()
      local m = assert(admin.messages:send(rid, { text = "Areas: hello there", attributes = { n = 1 } }))
      assert.equal("Areas: hello there", m.text)
      assert.equal(rid, m.recipient)
      assert.equal(rid, m.request.request_id)
      assert.equal("text", m.type)
      assert.equal("group", m.channel_type)
      assert.equal("chat21", m.channel.name)
      assert.equal(0, m.status)
      local got = assert(admin.messages:get(rid, m._id))
      assert.equal("Areas: hello there", got.text)
      assert.same({ n = 1 }, got.attributes)
      local list = assert(admin.messages:list(rid))
      assert.equal(2, #list)
      assert.equal("Areas: first message", list[1].text)
      assert.equal(m._id, list[2]._id)
      assert.equal(m._id, find_each(admin.messages:each(rid), "_id", m._id)._id)
      local pub = assert(admin.requests:public_messages(rid))
      assert.equal(#list, #pub)
      assert.is_table(find(pub, "_id", m._id))
      -- routes/message.js: csv-express over mongoose documents, their own properties, a line each
      local line = '"[object Object]";"false";;"[object Object]";;"[object Object]";"true"\r\n'
      assert.equal("$__;isNew;errors;$locals;$op;_doc;$init\r\n" .. line:rep(#list), assert(admin.messages:csv(rid)))
      assert(owner.requests:delete(rid))
      refused(404, admin.messages:get(rid, m._id))
      assert.same({}, assert(admin.messages:list(rid)))
    end)

    it("send_as_user speaks as the visitor (an id table, or the conversation's lead)", function()
      local m = assert(admin.messages:send_as_user(rid, { id = "areas-visitor-1", fullname = "Vera Visitor",
        email = "vera@example.com" }, "Areas: I am the visitor"))
      assert.equal("areas-visitor-1", m.sender)
      assert.equal("Vera Visitor", m.senderFullname)
      local got = assert(admin.messages:get(rid, m._id))
      assert.equal("areas-visitor-1", got.sender)
      assert.equal("Areas: I am the visitor", got.text)
      local g, user = guest{ firstname = "Gus" }
      local conv = assert(g.requests:start{ text = "Areas: a visitor writes" })
      local lead = assert(admin.requests:get(conv.request_id)).lead
      assert.equal(user._id, lead.lead_id)
      local as_lead = assert(admin.messages:send_as_user(conv.request_id, lead, "Areas: written for the visitor"))
      assert.equal(user._id, as_lead.sender)
      assert.equal(lead.fullname, as_lead.senderFullname)
      local list = assert(g.messages:list(conv.request_id))
      assert.equal(list[1].sender, list[2].sender)
    end)

    it("send_hidden marks the message info/support", function()
      local m = assert(admin.messages:send_hidden(rid, "Areas: for agents only", { attributes = { keep = "me" } }))
      local got = assert(admin.messages:get(rid, m._id))
      assert.equal("info/support", got.attributes.subtype)
      assert.equal("me", got.attributes.keep)
      assert.equal("Areas: for agents only", got.text)
    end)

    it("send_file sends an attachment by URL", function()
      local m = assert(admin.messages:send_file(rid, { src = "https://files.example.com/a.png", name = "a.png",
        type = "image/png", width = 64, height = 32 }, "Areas: see the picture"))
      local got = assert(admin.messages:get(rid, m._id))
      assert.equal("image", got.type)
      assert.equal("Areas: see the picture", got.text)
      assert.same({ src = "https://files.example.com/a.png", name = "a.png", type = "image/png", width = 64, height = 32 },
        got.metadata)
      local doc = assert(admin.messages:send_file(rid, { src = "https://files.example.com/b.pdf", name = "b.pdf",
        type = "application/pdf" }))
      assert.equal("file", doc.type)
      assert.equal("b.pdf", doc.text)
    end)

    it("send_many sends several messages in order; 404 for a conversation that does not exist", function()
      local out = assert(admin.messages:send_many(rid, { { text = "Areas: one" }, { text = "Areas: two" } }))
      assert.equal(2, #out)
      assert.equal("Areas: one", out[1].text)
      assert.equal("Areas: two", out[2].text)
      local list = assert(admin.messages:list(rid))
      assert.equal(3, #list)
      assert.equal("Areas: one", list[2].text)
      assert.equal("Areas: two", list[3].text)
      refused(404, admin.messages:send_many("support-group-" .. PID .. "-0000doesnotexist", { { text = "x" } }))
    end)

    it("send_direct, and the project-wide list and CSV (owner)", function()
      local d = assert(admin.messages:send_direct{ recipient = AGENT_ID, recipientFullname = "Alice Agent",
        text = "Areas: a direct word" })
      assert.equal(AGENT_ID, d.recipient)
      assert.equal("direct", d.channel_type)
      local newest = assert(owner.messages:list_project{ limit = 5 })
      assert.equal(5, #newest)
      assert.is_table(find(newest, "_id", d._id))
      for i = 2, #newest do assert.is_true(newest[i - 1].createdAt >= newest[i].createdAt) end
      assert.equal(d._id, find_each(owner.messages:each_list_project{ max_items = 10 }, "_id", d._id)._id)
      assert.is_truthy(assert(owner.messages:csv_project()):find("Areas: a direct word", 1, true))
      refused(403, admin.messages:list_project())
      refused(422, admin.messages:send(rid, { type = "text" }))
      -- a first message with an explicit sender that is no member of the project
      refused(403, admin.messages:send(admin.requests:new_id(), { text = "x", sender = "not-a-member" }))
    end)
  end)

  area("leads", nil, function()
    it("create -> get -> update -> get -> list -> delete (status 1000) -> physical delete (owner) -> 404", function()
      local lead = assert(agent.leads:create{ fullname = "Lara Areas", email = "lara.areas@example.com",
        attributes = { plan = "pro" } })
      assert.is_string(lead.lead_id)
      assert.equal(100, lead.status)
      local got = assert(agent.leads:get(lead._id))
      assert.equal("Lara Areas", got.fullname)
      assert.equal("lara.areas@example.com", got.email)
      assert.same({ plan = "pro" }, got.attributes)
      local up = assert(agent.leads:update(lead._id, { fullname = "Lara A. Areas", company = "Areas Ltd" }))
      assert.equal("Lara A. Areas", up.fullname)
      got = assert(agent.leads:get(lead._id))
      assert.equal("Lara A. Areas", got.fullname)
      assert.equal("Areas Ltd", got.company)
      local page = assert(agent.leads:list{ email = "lara.areas@example.com" })
      assert.equal(1, page.count)
      assert.equal(lead._id, page.leads[1]._id)
      assert.equal(lead._id, find_each(agent.leads:each{ full_text = "Lara A. Areas" }, "_id", lead._id)._id)
      assert.equal(lead._id, assert(agent.leads:find_by_email("lara.areas@example.com"))._id)
      assert.is_truthy(assert(agent.leads:csv{ email = "lara.areas@example.com" }):find("Lara A. Areas", 1, true))
      local del = assert(agent.leads:delete(lead._id))
      assert.equal(1000, del.status)
      assert.equal(1000, assert(agent.leads:get(lead._id)).status)
      assert.equal(0, assert(agent.leads:list{ email = "lara.areas@example.com" }).count)
      assert.equal(1, assert(agent.leads:list{ email = "lara.areas@example.com", status = 1000 }).count)
      refused(403, agent.leads:delete_physical(lead._id))
      assert(owner.leads:delete_physical(lead._id))
      refused(404, agent.leads:get(lead._id))
    end)

    it("attributes, properties and tags", function()
      local lead = assert(agent.leads:create{ fullname = "Tom Tags", attributes = { a = 1 } })
      assert.same({ a = 1, b = 2 }, assert(agent.leads:merge_attributes(lead._id, { b = 2 })).attributes)
      assert.same({ crm_id = "C-1" }, assert(agent.leads:merge_properties(lead._id, { crm_id = "C-1" })).properties)
      assert.same({ "x", "y" }, assert(agent.leads:add_tags(lead._id, { "x", "y", "x" })).tags)
      assert.same({ "y" }, assert(agent.leads:remove_tag(lead._id, "x")).tags)
      refused(400, agent.leads:add_tags(lead._id, {}))
      local got = assert(agent.leads:get(lead._id))
      assert.same({ a = 1, b = 2 }, got.attributes)
      assert.same({ crm_id = "C-1" }, got.properties)
      assert.same({ "y" }, got.tags)
      assert.equal(lead._id, find_each(agent.leads:each{ tags = "y" }, "_id", lead._id)._id)
      -- update replaces the attributes
      assert.same({ c = 3 }, assert(agent.leads:update(lead._id, { attributes = { c = 3 } })).attributes)
    end)
  end)

  area("activities", "(read only, admin)", function()
    it("list, each with filters, csv; an agent is refused", function()
      local page = assert(admin.activities:list{ limit = 10 })
      assert.equal(10, #page.activities)
      assert.equal(10, page.perPage)
      assert.is_true(page.count >= 320, "count " .. page.count)
      local closes = assert(admin.activities:list{ activities = "REQUEST_CLOSE", limit = 100 })
      assert.is_true(closes.count > 0 and closes.count < page.count)
      for _, a in ipairs(helper.nonempty(closes.activities)) do assert.equal("REQUEST_CLOSE", a.verb) end
      local n = 0
      -- agent_id: the server's $or of involvedUserIds, the target member's _id and the actor
      -- (pubmodules/activities/routes/activity.js)
      for a in admin.activities:each{ agent_id = AGENT_ID, limit = 100 } do
        local involved = a.actor.id == AGENT_ID
        for _, id in ipairs(a.involvedUserIds or {}) do if id == AGENT_ID then involved = true end end
        local member = a.target.object and a.target.object.id_user
        assert.is_true(involved or (type(member) == "table" and member._id == AGENT_ID))
        n = n + 1
      end
      assert.is_true(n > 0 and n < page.count)
      assert.matches("^message;activity_id;createdAt;updatedAt;project_id;actor_name;actor_id;actor_type;verb;[^\r\n]*\r\n",
        assert(admin.activities:csv()))
      refused(403, agent.activities:list())
    end)
  end)

  area("team", nil, function()
    it("invite -> get -> update -> get -> list -> disable, trash, restore -> remove -> get 404", function()
      refused(403, admin.team:find_by_email("outsider@sandbox.test"))
      local pu = assert(admin.team:invite("outsider@sandbox.test", "agent"))
      assert.equal("agent", pu.role)
      local uid = id_of(pu.id_user)
      assert.is_string(uid)
      local got = assert(admin.team:get(pu._id))
      assert.equal("agent", got.role)
      assert.equal(uid, id_of(got.id_user))
      local up = assert(admin.team:update(pu._id, { role = "supervisor", max_assigned_chat = 3, attributes = { desk = 7 } }))
      assert.equal("supervisor", up.role)
      got = assert(admin.team:get(pu._id))
      assert.equal("supervisor", got.role)
      assert.equal(3, got.max_assigned_chat)
      assert.same({ desk = 7 }, got.attributes)
      local listed = find(assert(admin.team:list()), "_id", pu._id)
      assert.equal("supervisor", listed.role)
      assert.is_boolean(listed.isBusy)
      assert.equal(4001, refused(403, admin.team:invite("outsider@sandbox.test", "agent")).body.code)
      assert.equal(4000, refused(403, admin.team:invite(st.users.admin.email, "agent")).body.code)
      assert.equal(pu._id, find_each(admin.team:each(), "_id", pu._id)._id)
      local by_user = assert(admin.team:get_by_user(uid))
      assert.equal(1, #by_user)
      assert.equal(pu._id, by_user[1]._id)
      assert.same({ _id = uid }, assert(admin.team:find_by_email("outsider@sandbox.test")))
      refused(400, admin.team:restore(pu._id))
      assert.equal("disabled", assert(admin.team:disable(pu._id)).status)
      got = assert(admin.team:get(pu._id))
      assert.equal("disabled", got.status)
      assert.is_false(got.user_available)
      assert.is_false(got.trashed)
      assert.is_true(assert(admin.team:trash(pu._id)).trashed)
      assert.is_nil(find(assert(admin.team:list()), "_id", pu._id))
      assert.equal(pu._id, find(assert(admin.team:list{ trashed = true }), "_id", pu._id)._id)
      assert.is_false(assert(admin.team:restore(pu._id)).trashed)
      assert.equal(pu._id, assert(admin.team:remove(pu._id))._id)
      refused(404, admin.team:get(pu._id))
      assert.is_nil(find(assert(admin.team:list{ trashed = true }), "_id", pu._id))
      refused(403, agent.team:invite("someone@example.com", "agent"))
    end)

    it("the caller's own membership, and a guest membership", function()
      local me = assert(agent.team:me())
      assert.equal(1, #me)
      assert.equal(AGENT_ID, id_of(me[1].id_user))
      assert.is_false(assert(agent.team:update_me{ user_available = false }).user_available)
      assert.is_false(assert(agent.team:get(me[1]._id)).user_available)
      assert.is_true(assert(agent.team:update_me{ user_available = true }).user_available)
      local g = assert(agent.team:create_guest{ tags = { "kiosk" } })
      assert.equal("guest", g.role)
      assert.is_string(g.uuid_user)
      assert.same({ "kiosk" }, assert(agent.team:get(g._id)).tags)
    end)

    it("invitations: invite an unknown email -> list -> get -> update -> get -> resend -> cancel -> get 404", function()
      local res = assert(admin.team:invite("new.hire@example.com", "agent"))
      local inv = res.pendingInvitation
      assert.is_table(inv)
      assert.equal("new.hire@example.com", inv.email)
      assert.equal(inv._id, find(assert(admin.team:invitations()), "_id", inv._id)._id)
      assert.equal(inv._id, find_each(admin.team:each_invitations(), "_id", inv._id)._id)
      local got = assert(agent.team:get_invitation(inv._id))
      assert.equal("new.hire@example.com", got.email)
      assert.equal("agent", got.role)
      assert.equal("supervisor", assert(admin.team:update_invitation(inv._id, { role = "supervisor" })).role)
      assert.equal("supervisor", assert(agent.team:get_invitation(inv._id)).role)
      assert.is_table(assert(admin.team:resend_invitation(inv._id)))
      assert.equal("supervisor", assert(agent.team:get_invitation(inv._id)).role)
      assert(admin.team:cancel_invitation(inv._id))
      refused(404, agent.team:get_invitation(inv._id))
      assert.is_nil(find(assert(admin.team:invitations()), "_id", inv._id))
      refused(404, admin.team:resend_invitation(inv._id))
    end)
  end)

  area("departments", nil, function()
    it("create -> get -> update (PATCH) -> replace (PUT) -> get -> list -> delete -> get 404", function()
      local d = assert(admin.departments:create{ name = "Areas Dept", routing = "pooled", id_bot = st.bot._id,
        description = "first" })
      assert.equal("Areas Dept", d.name)
      local got = assert(agent.departments:get(d._id))
      assert.equal("Areas Dept", got.name)
      assert.equal(st.bot._id, got.id_bot)
      assert.equal("pooled", got.routing)
      local up = assert(admin.departments:update(d._id, { description = "patched" }))
      assert.equal("patched", up.description)
      got = assert(agent.departments:get(d._id))
      assert.equal("patched", got.description)
      assert.equal(st.bot._id, got.id_bot)
      -- PUT replaces: id_bot (and id_group) are written null when omitted (routes/department.js
      -- PUT sets update.id_bot = req.body.id_bot; mongoose 5 writes undefined as null)
      local rep = assert(admin.departments:replace(d._id, { name = "Areas Dept (replaced)", routing = "assigned" }))
      assert.equal("Areas Dept (replaced)", rep.name)
      got = assert(agent.departments:get(d._id))
      assert.equal("Areas Dept (replaced)", got.name)
      assert.equal("assigned", got.routing)
      assert.equal(tiledesk.null, got.id_bot)
      assert.is_false(got.hasBot)
      assert.equal(d._id, find(assert(agent.departments:list()), "_id", d._id)._id)
      assert.equal(d._id, find_each(agent.departments:each(), "_id", d._id)._id)
      assert.equal(d._id, find(assert(agent.departments:list_all()), "_id", d._id)._id)
      assert.equal(d._id, find_each(agent.departments:each_list_all(), "_id", d._id)._id)
      local ops = assert(agent.departments:operators(d._id))
      assert.is_table(ops.operators)
      assert.is_true(assert(agent.departments:get("default")).default)
      local hidden = assert(admin.departments:create{ name = "Areas Hidden", status = 0 })
      local off = assert(admin.departments:create{ name = "Areas Off", status = -1 })
      assert.is_nil(find(assert(agent.departments:list()), "_id", hidden._id))
      assert.is_table(find(assert(agent.departments:list_all()), "_id", hidden._id))
      assert.is_nil(find(assert(agent.departments:list_all()), "_id", off._id))
      refused(403, agent.departments:create{ name = "nope" })
      assert.equal(d._id, assert(admin.departments:delete(d._id))._id)
      refused(404, agent.departments:get(d._id))
      assert.is_nil(find(assert(agent.departments:list_all()), "_id", d._id))
    end)
  end)

  area("groups", "(agent)", function()
    it("create -> get -> update -> get -> list -> delete (trashed) -> delete force -> get 404", function()
      local g = assert(agent.groups:create("Areas Group", { members = { AGENT_ID } }))
      assert.equal("Areas Group", g.name)
      local got = assert(agent.groups:get(g._id))
      assert.equal("Areas Group", got.name)
      assert.same({ AGENT_ID }, got.members)
      local up = assert(agent.groups:update(g._id, { name = "Areas Group (late)", members = { AGENT_ID, ADMIN_ID } }))
      assert.equal("Areas Group (late)", up.name)
      got = assert(agent.groups:get(g._id))
      assert.equal("Areas Group (late)", got.name)
      assert.same({ AGENT_ID, ADMIN_ID }, got.members)
      assert.equal(g._id, find(assert(agent.groups:list()), "_id", g._id)._id)
      assert.equal(g._id, find_each(agent.groups:each{ member = ADMIN_ID }, "_id", g._id)._id)
      assert.is_nil(find(assert(agent.groups:list{ member = OWNER_ID }), "_id", g._id))
      local dept = assert(admin.departments:create{ name = "Areas Group Dept", id_group = g._id })
      refused(403, agent.groups:disable(g._id))
      refused(403, agent.groups:delete(g._id))
      assert(admin.departments:delete(dept._id))
      assert(agent.groups:disable(g._id))
      assert.is_false(assert(agent.groups:get(g._id)).enabled)
      assert(agent.groups:enable(g._id))
      assert.is_true(assert(agent.groups:get(g._id)).enabled)
      assert.same({ success = true, message = "Group successfully deleted" }, assert(agent.groups:delete(g._id)))
      assert.is_true(assert(agent.groups:get(g._id)).trashed)
      assert.is_nil(find(assert(agent.groups:list()), "_id", g._id))
      assert.equal(g._id, assert(agent.groups:delete(g._id, { force = true }))._id)
      refused(404, agent.groups:get(g._id))
    end)
  end)

  area("bots", "(admin)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local b = assert(admin.bots:create("Areas Bot", { description = "first", type = "internal" }))
      assert.equal("Areas Bot", b.name)
      -- routes/faq_kb.js POST / answers faqService.create's saved bot, secret included
      assert.is_string(b.secret)
      local got = assert(admin.bots:get(b._id))
      assert.equal("Areas Bot", got.name)
      assert.equal("internal", got.type)
      assert.equal("first", got.description)
      local up = assert(admin.bots:update(b._id, { name = "Areas Bot 2", description = "second" }))
      assert.equal("Areas Bot 2", up.name)
      got = assert(admin.bots:get(b._id))
      assert.equal("Areas Bot 2", got.name)
      assert.equal("second", got.description)
      assert.equal(b._id, find(assert(agent.bots:list()), "_id", b._id)._id)
      assert.equal(b._id, find_each(agent.bots:each{ all = true }, "_id", b._id)._id)
      refused(403, agent.bots:get(b._id))
      refused(403, agent.bots:create("nope"))
      local ident = assert(admin.bots:create("Areas Identity", { type = "identity" }))
      assert.is_nil(find(assert(admin.bots:list()), "_id", ident._id))
      assert.is_table(find(assert(admin.bots:list{ all = true }), "_id", ident._id))
      local del = assert(admin.bots:delete(b._id))
      assert.is_true(del.success)
      assert.matches(b._id, del.message, 1, true)
      refused(404, admin.bots:get(b._id))
      assert.is_nil(find(assert(admin.bots:list()), "_id", b._id))
    end)

    it("attributes, language, token, publish, fork, export, ask, train and training", function()
      local b = assert(admin.bots:create("Areas Skills", { language = "en" }))
      assert.same({ x = 1 }, assert(admin.bots:merge_attributes(b._id, { x = 1 })).attributes)
      assert.equal("it", assert(admin.bots:set_language(b._id, "it")).language)
      assert.equal("it", assert(admin.bots:get(b._id)).language)
      local tok = assert(admin.bots:token(b._id)).jwt
      assert.is_string(tok)
      assert.is_nil(tok:match("^JWT "))
      local pub = assert(admin.bots:publish(b._id, { release_note = "v1" }))
      assert.is_string(pub.bot_id)
      local published = assert(admin.bots:published(b._id))
      assert.equal(1, #published)
      assert.equal(pub.bot_id, published[1]._id)
      -- the server's fork creates the copy in ?projectid (routes/faq_kb.js POST /fork/:id)
      local fork = assert(admin.bots:fork(b._id, { projectid = PID, public = false }))
      assert.is_string(fork.bot_id)
      assert.equal("Areas Skills", assert(admin.bots:get(fork.bot_id)).name)
      local f = assert(admin.faqs:create(b._id, { question = "What are the opening hours?", answer = "9 to 5" }))
      local exp = assert(admin.bots:export(b._id))
      assert.equal("Areas Skills", exp.name)
      -- the export's intents have no _id (routes/faq_kb.js GET /exportjson/:id)
      assert.equal(f.intent_id, find(exp.intents, "intent_id", f.intent_id).intent_id)
      local hits = assert(admin.bots:ask(b._id, "opening hours")).hits
      assert.equal(f._id, hits[1]._id)
      assert(admin.bots:train(b._id))
      assert.is_true(assert(admin.bots:get(b._id)).trained)
      assert(admin.bots:update(b._id, { trained = false }))
      assert.is_false(assert(admin.bots:get(b._id)).trained)
      assert(admin.bots:training(b._id))
      assert.is_true(assert(admin.bots:get(b._id)).trained)
      refused(404, admin.bots:training("6560f0a1ffffffffffffffff"))
    end)
  end)

  area("faqs", "(admin)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local b = assert(admin.bots:create("Areas FAQ Bot"))
      local f = assert(admin.faqs:create(b._id, { question = "Do you ship abroad?", answer = "EU only",
        intent_display_name = "shipping" }))
      assert.equal(b._id, f.id_faq_kb)
      local got = assert(admin.faqs:get(f._id))
      assert.equal("Do you ship abroad?", got.question)
      assert.equal("EU only", got.answer)
      assert.equal("shipping", got.intent_display_name)
      assert.equal("Worldwide", assert(admin.faqs:update(f._id, b._id, { answer = "Worldwide" })).answer)
      assert.equal("Worldwide", assert(admin.faqs:get(f._id)).answer)
      assert.same({ y = 2 }, assert(admin.faqs:merge_attributes(f._id, { y = 2 })).attributes)
      local list = assert(agent.faqs:list(b._id))
      assert.equal(1, #list)
      assert.equal(f._id, list[1]._id)
      assert.equal(f._id, find_each(agent.faqs:each(b._id), "_id", f._id)._id)
      assert.is_truthy(assert(admin.faqs:csv(b._id)):find("Do you ship abroad?", 1, true))
      refused(409, admin.faqs:create(b._id, { question = "again", intent_display_name = "shipping" }))
      refused(404, admin.faqs:create("6560f0a1ffffffffffffffff", { question = "orphan" }))
      refused(403, agent.faqs:get(f._id))
      assert.equal(f._id, assert(admin.faqs:delete(f._id))._id)
      refused(404, admin.faqs:get(f._id))
      assert.same({}, assert(agent.faqs:list(b._id)))
    end)
  end)

  area("canned", "(agent)", function()
    it("create -> get -> update -> get -> list -> delete (status 1000) -> physical delete -> get 404", function()
      local cr = assert(agent.canned:create("Areas canned", "Hello $recipient_name", { attributes = { ignored = true } }))
      assert.equal("Areas canned", cr.title)
      assert.is_nil(cr.attributes)
      assert.is_false(cr.shared)
      local got = assert(agent.canned:get(cr._id))
      assert.equal("Hello $recipient_name", got.text)
      local up = assert(agent.canned:update(cr._id, { title = "Areas canned 2", text = "Hi again", attributes = { k = 1 } }))
      assert.equal("Areas canned 2", up.title)
      assert.same({ k = 1 }, assert(agent.canned:get(cr._id)).attributes)
      got = assert(agent.canned:get(cr._id))
      assert.equal("Areas canned 2", got.title)
      assert.equal("Hi again", got.text)
      assert.equal(cr._id, find(assert(agent.canned:list()), "_id", cr._id)._id)
      assert.equal(cr._id, find_each(agent.canned:each(), "_id", cr._id)._id)
      -- only its creator may read it
      refused(403, admin.canned:get(cr._id))
      assert.equal(1000, assert(agent.canned:delete(cr._id)).status)
      assert.equal(1000, assert(agent.canned:get(cr._id)).status)
      assert.is_nil(find(assert(agent.canned:list()), "_id", cr._id))
      assert(agent.canned:delete_physical(cr._id))
      refused(404, agent.canned:get(cr._id))
    end)
  end)

  area("tags", "(agent)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local t = assert(agent.tags:create("areas-tag", "#123456"))
      assert.equal("areas-tag", t.tag)
      assert.equal(t._id, assert(agent.tags:create("areas-tag"))._id)
      local got = assert(agent.tags:get(t._id))
      assert.equal("areas-tag", got.tag)
      assert.equal("#123456", got.color)
      local up = assert(agent.tags:update(t._id, "areas-tag-2", "#654321"))
      assert.equal("areas-tag-2", up.tag)
      got = assert(agent.tags:get(t._id))
      assert.equal("areas-tag-2", got.tag)
      assert.equal("#654321", got.color)
      assert.equal(t._id, find(assert(agent.tags:list()), "_id", t._id)._id)
      assert.equal(t._id, find_each(agent.tags:each(), "_id", t._id)._id)
      local del = assert(agent.tags:delete(t._id))
      assert.equal(1, del.deletedCount)
      refused(404, agent.tags:get(t._id))
      assert.is_nil(find(assert(agent.tags:list()), "_id", t._id))
    end)
  end)

  area("subscriptions", "(admin)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local s = assert(admin.subscriptions:create("request.create", st.control_url .. "/sink/areas-a"))
      assert.is_string(s.secret)
      assert.equal("request.create", s.event)
      -- the same (event, target) again: the existing subscription, its secret also in x-hook-secret
      local res = assert(admin:request{ method = "POST", path = "/subscriptions",
        body = { event = "request.create", target = st.control_url .. "/sink/areas-a" } })
      assert.equal(200, res.status)
      assert.equal(s._id, res.json._id)
      assert.equal(res.json.secret, res.headers["x-hook-secret"])
      local got = assert(admin.subscriptions:get(s._id))
      assert.equal(st.control_url .. "/sink/areas-a", got.target)
      assert.is_nil(got.secret)
      local up = assert(admin.subscriptions:update(s._id, { target = st.control_url .. "/sink/areas-b" }))
      assert.equal(st.control_url .. "/sink/areas-b", up.target)
      got = assert(admin.subscriptions:get(s._id))
      assert.equal(st.control_url .. "/sink/areas-b", got.target)
      assert.equal("request.create", got.event)
      local listed = find(assert(admin.subscriptions:list()), "_id", s._id)
      assert.equal("request.create", listed.event)
      assert.is_nil(listed.secret)
      assert.equal(s._id, find_each(admin.subscriptions:each(), "_id", s._id)._id)
      refused(403, agent.subscriptions:list())
      assert.equal(s._id, assert(admin.subscriptions:delete(s._id))._id)
      refused(404, admin.subscriptions:get(s._id))
      assert.is_nil(find(assert(admin.subscriptions:list()), "_id", s._id))
    end)

    it("history logs a delivery, newest first", function()
      control("DELETE", "/sink/areas-h")
      local s = assert(admin.subscriptions:create("lead.create", st.control_url .. "/sink/areas-h"))
      assert(admin.leads:create{ fullname = "Hilda History" })
      local hist = assert(admin.subscriptions:history())
      local entry = hist[1]
      assert.is_table(entry)
      assert.equal("lead.create", entry.event)
      assert.equal(st.control_url .. "/sink/areas-h", entry.target)
      assert.equal("lead.create", find_each(admin.subscriptions:each_history(), "target", entry.target).event)
      assert(admin.subscriptions:delete(s._id))
    end)
  end)

  area("webhooks", "(admin)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local bot = assert(admin.bots:create("Areas Flow", { type = "tilebot" }))
      local h = assert(admin.webhooks:create(bot._id, { block_id = "block-1", async = false }))
      assert.is_string(h.webhook_id)
      assert.equal(32, #h.webhook_id)
      assert.equal(bot._id, h.chatbot_id)
      local got = assert(admin.webhooks:get(bot._id))
      assert.equal(h.webhook_id, got.webhook_id)
      assert.equal("block-1", got.block_id)
      assert.is_false(got.async)
      local up = assert(admin.webhooks:update(bot._id, { copilot = true, async = true }))
      assert.is_true(up.copilot)
      got = assert(admin.webhooks:get_by_id(h.webhook_id))
      assert.is_true(got.copilot)
      assert.is_true(got.async)
      assert.equal(h.webhook_id, find(assert(admin.webhooks:list()), "chatbot_id", bot._id).webhook_id)
      assert.equal(h.webhook_id, find_each(admin.webhooks:each(), "chatbot_id", bot._id).webhook_id)
      local renewed = assert(admin.webhooks:regenerate(bot._id))
      assert.are_not.equal(h.webhook_id, renewed.webhook_id)
      assert.equal(renewed.webhook_id, assert(admin.webhooks:get(bot._id)).webhook_id)
      refused(404, admin.webhooks:get_by_id(h.webhook_id))
      assert(admin.webhooks:run(renewed.webhook_id, { order = 7 }))
      -- routes/webhooks.js: the unique (project, chatbot) index refuses a second one
      local dup_err = refused(403, admin.webhooks:create(bot._id, { block_id = "block-2" }))
      assert.equal("Webhook already exists for chatbot " .. bot._id, dup_err.body.message)
      refused(403, agent.webhooks:list())
      assert.is_true(assert(admin.webhooks:delete(bot._id)).success)
      refused(404, admin.webhooks:get(bot._id))
      refused(404, admin.webhooks:get_by_id(renewed.webhook_id))
      assert.is_nil(find(assert(admin.webhooks:list()), "chatbot_id", bot._id))
      refused(404, admin.webhooks:run(renewed.webhook_id, {}))
    end)
  end)

  area("events", nil, function()
    it("create (as a guest) -> get -> list/each (agent)", function()
      local g = guest()
      local e = assert(g.events:create("areas.checkout", { attributes = { value = 30 } }))
      assert.equal("areas.checkout", e.name)
      local got = assert(agent.events:get(e._id))
      assert.equal("areas.checkout", got.name)
      assert.same({ value = 30 }, got.attributes)
      local page = assert(agent.events:list())
      assert.equal(3, page.count)
      assert.equal(40, page.perPage)
      assert.equal(e._id, find_each(agent.events:each(), "_id", e._id)._id)
      refused(422, agent.events:create(""))
      refused(404, agent.events:get("6560f0a1ffffffffffffffff"))
    end)
  end)

  area("keys", nil, function()
    it("generate: a custom token signed with the new secret works, one signed with the old one no more", function()
      local first = assert(agent.keys:generate()).jwtSecret
      assert.is_string(first)
      local function token(secret)
        return control("POST", "/sign", { payload = { _id = "areas-ext-1", firstname = "Ext", sub = "userexternal",
          aud = "https://tiledesk.com/projects/" .. PID }, secret = secret }).token
      end
      local old_token = token(first)
      local c = tiledesk.new(options())
      assert.equal("areas-ext-1", assert(c:signin_with_custom_token(old_token))._id)
      local second = assert(agent.keys:generate()).jwtSecret
      assert.are_not.equal(first, second)
      refused(401, tiledesk.new(options()):signin_with_custom_token(old_token))
      local c2 = tiledesk.new(options())
      assert.equal("areas-ext-1", assert(c2:signin_with_custom_token(token(second)))._id)
    end)
  end)

  area("analytics", "(read only, admin)", function()
    it("waiting time, tag usage and every report", function()
      local w = assert(admin.analytics:waiting_time())
      assert.equal(1, #w)
      assert.equal(PID, w[1]._id)
      assert.is_true(w[1].waiting_time_avg > 0)
      local r = assert(admin.requests:create{ first_text = "Areas: analytics" })
      assert(admin.requests:add_tags(r.request_id, { "areas-analytics" }))
      -- pubmodules/analytics/analytics.js GET /tags/:type: daily counts of the tags added
      -- (type conversation-tag), as { dates, series }
      local counted = assert(admin.analytics:tags("conversation-tag"))
      assert.same({ os.date("!%d/%m/%Y") }, counted.dates)
      assert.same({ name = "areas-analytics", values = { 1 } }, find(counted.series, "name", "areas-analytics"))
      -- requests/count is a { $count: "totalCount" } of the last 30 days (the seed spans 60)
      local all = assert(admin.requests:list{ status = "all", limit = 1 }).count
      local recent = assert(admin.analytics:report("requests/count"))[1].totalCount
      assert.is_true(recent > 0 and recent < all)
      for _, name in ipairs(helper.nonempty(admin.analytics.REPORTS)) do
        -- lastdays where the report reads it (the SDK refuses a filter the server ignores)
        local q = (admin.analytics.REPORT_FILTERS[name] or {}).lastdays and { lastdays = 90 } or nil
        local rows, msg = admin.analytics:report(name, q)
        assert.is_table(rows, msg)
      end
      -- aggregate/status runs the same pipeline as requests/count ("DA IMPLEMENTARE" there)
      assert.same({ { totalCount = recent } }, assert(admin.analytics:report("requests/aggregate/status")))
      refused(403, agent.analytics:waiting_time())
    end)
  end)

  area("labels", nil, function()
    -- routes/labels.js and services/labelService.js: codes as given (the server's are upper
    -- case); save, make_default and delete answer one language; the first saved is the
    -- default, which cannot be deleted; a language without labels reads the default one
    it("save -> get -> delete -> get falls back to the default; saving again without default drops it", function()
      local saved = assert(admin.labels:save("DE", { LABEL_PLACEHOLDER = "schreiben" }))
      assert.same({ "DE", true, "schreiben" }, { saved.lang, saved.default, saved.data.LABEL_PLACEHOLDER })
      local anon = tiledesk.new(options())
      assert.equal("schreiben", assert(anon.labels:get("DE")).data.LABEL_PLACEHOLDER)
      assert.is_false(assert(admin.labels:save("FR", { LABEL_PLACEHOLDER = "écrire" })).default)
      refused(400, admin.labels:delete("DE"))
      assert.equal("DE", assert(admin.labels:delete("FR")).lang)
      assert.equal("DE", assert(anon.labels:get("FR")).lang)
      assert.is_nil(find(assert(anon.labels:list()).data, "lang", "FR"))
      -- POST /labels writes { lang, data, default = body.default }: the default flag goes
      assert.is_false(assert(admin.labels:save("DE", { LABEL_PLACEHOLDER = "Nachricht schreiben" })).default)
      assert.equal("Nachricht schreiben", find(assert(anon.labels:list()).data, "lang", "DE").data.LABEL_PLACEHOLDER)
      assert.equal("EN", assert(anon.labels:get("FR")).lang) -- no default left: the server's EN
      refused(403, agent.labels:save("FR", { LABEL_PLACEHOLDER = "non" }))
    end)

    it("defaults, clone_default, make_default, delete_all", function()
      local anon = tiledesk.new(options())
      local it_default = assert(anon.labels:default("IT"))
      assert.equal("IT", it_default.lang)
      assert.is_table(find(assert(anon.labels:defaults()), "lang", "IT"))
      assert(admin.labels:clone_default("IT"))
      assert.same(it_default.data, assert(anon.labels:get("IT")).data)
      assert(admin.labels:save("EN", { LABEL_PLACEHOLDER = "type here" }))
      assert.is_true(assert(admin.labels:make_default("EN")).default)
      local set = assert(anon.labels:list())
      assert.is_false(find(set.data, "lang", "IT").default)
      assert.is_true(find(set.data, "lang", "EN").default)
      assert(admin.labels:delete_all())
      assert.same({}, assert(anon.labels:list()))
    end)
  end)

  area("properties", "(agent)", function()
    it("create -> get -> update -> get -> list -> delete (soft) -> physical delete -> get 404", function()
      local p = assert(agent.properties:create{ label = "Plan", name = "areas_plan", type = "text" })
      assert.equal("areas_plan", p.name)
      local got = assert(agent.properties:get(p._id))
      assert.equal("Plan", got.label)
      assert.equal("text", got.type)
      assert.equal("Plan tier", assert(agent.properties:update(p._id, { label = "Plan tier" })).label)
      assert.equal("Plan tier", assert(agent.properties:get(p._id)).label)
      assert.equal(p._id, find(assert(agent.properties:list()), "_id", p._id)._id)
      assert.equal(p._id, find_each(agent.properties:each(), "_id", p._id)._id)
      assert(agent.properties:delete(p._id))
      assert.is_nil(find(assert(agent.properties:list()), "_id", p._id))
      assert(agent.properties:delete_physical(p._id))
      refused(404, agent.properties:get(p._id))
    end)
  end)

  area("segments", "(agent)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local s = assert(agent.segments:create{ name = "Areas pro", match = "all",
        filters = { { field = "attributes.plan", operator = "=", value = "pro" } } })
      assert.equal("Areas pro", assert(agent.segments:get(s._id)).name)
      assert.equal("Areas business", assert(agent.segments:update(s._id, { name = "Areas business",
        filters = { { field = "attributes.plan", operator = "=", value = "business" } } })).name)
      local got = assert(agent.segments:get(s._id))
      assert.equal("Areas business", got.name)
      assert.equal("business", got.filters[1].value)
      local page = assert(agent.segments:list())
      assert.equal(1, page.count)
      assert.equal(s._id, page.segments[1]._id)
      assert.equal(s._id, find_each(agent.segments:each(), "_id", s._id)._id)
      local leads = assert(agent.leads:list{ segment = s._id, limit = 100 })
      assert.is_true(leads.count > 0)
      for _, l in ipairs(helper.nonempty(leads.leads)) do assert.equal("business", l.attributes.plan) end
      assert(agent.segments:delete(s._id))
      refused(404, agent.segments:get(s._id))
      assert.equal(0, assert(agent.segments:list()).count)
    end)
  end)

  area("roles", "(agent)", function()
    it("create -> get -> update -> get -> list -> delete -> get 404", function()
      local r = assert(agent.roles:create{ name = "areas-auditor", permissions = { "request_read" } })
      assert.equal("areas-auditor", assert(agent.roles:get(r._id)).name)
      assert(agent.roles:update(r._id, { permissions = { "request_read", "lead_read" } }))
      assert.same({ "request_read", "lead_read" }, assert(agent.roles:get(r._id)).permissions)
      assert.equal(r._id, find(assert(agent.roles:list()), "_id", r._id)._id)
      assert.equal(r._id, find_each(agent.roles:each(), "_id", r._id)._id)
      assert(agent.roles:delete(r._id))
      refused(404, agent.roles:get(r._id))
      assert.is_nil(find(assert(agent.roles:list()), "_id", r._id))
    end)
  end)

  area("campaigns", "(agent)", function()
    it("send opens a conversation with the lead; broadcast queues for a segment", function()
      local lead = assert(agent.leads:create{ fullname = "Cami Campaign", email = "cami@example.com" })
      local m = assert(agent.campaigns:send{ text = "Areas: we have news", leadid = lead._id })
      assert.equal("Areas: we have news", m.text)
      local conv = assert(admin.requests:get(m.recipient))
      assert.equal("cami@example.com", conv.lead.email)
      assert.equal("Areas: we have news", assert(admin.messages:list(m.recipient))[1].text)
      refused(404, agent.campaigns:send{ text = "x", leadid = "6560f0a1ffffffffffffffff" })
      local seg = assert(agent.segments:create{ name = "Areas all", match = "all", filters = {} })
      assert.same({ queued = true }, assert(agent.campaigns:broadcast{ segment_id = seg._id, text = "Hello all" }))
      refused(404, agent.campaigns:broadcast{ segment_id = "6560f0a1ffffffffffffffff", text = "x" })
    end)
  end)

  area("emails", "(agent)", function()
    it("send queues an email", function()
      assert.same({ queued = true }, assert(agent.emails:send("someone@example.com", "Hello", { subject = "Hi" })))
    end)
  end)

  area("quotes", "(agent)", function()
    it("usage, check, increment: the token count grows by what was added", function()
      local usage = assert(agent.quotes:usage())
      assert.is_true(usage.success)
      assert.is_table(usage.quotes)
      assert.is_table(usage.slot)
      assert.is_true(assert(agent.quotes:check("requests")).isAvailable)
      local a = assert(agent.quotes:increment("tokens", { tokens = 150, model = "gpt-4o" }))
      assert.is_string(a.key)
      assert.is_string(a.message)
      local b = assert(agent.quotes:increment("tokens", { tokens = 50, model = "gpt-4o" }))
      assert.equal(a.currentQuote + 50, b.currentQuote)
    end)
  end)

  area("files", nil, function()
    -- a tiny valid PNG (1x1), with byte values a text path could mangle
    local PNG = "\137PNG\r\n\26\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\8\6\0\0\0\31\21\196\137\0\0\0\rIDATx\156c\248\15"
      .. "\4\0\9\251\3\253\227U\242\156\0\0\0\0IEND\174B`\130"

    it("upload -> get byte for byte -> public address -> a message carries it -> delete -> get 404", function()
      local up = assert(agent.files:upload(PNG, { name = "dot.png" }))
      assert.equal("File uploaded successfully", up.message)
      assert.matches("^uploads/users/%x+/files/[%x%-]+/dot%.png$", up.filename)
      assert.equal(PNG, assert(agent.files:get(up.filename)))
      assert.equal(PNG, assert(agent.files:download(up.filename)))
      -- the widget's address needs no credentials
      local status, headers, body = helper.http("GET", agent.files:url(up.filename))
      assert.equal(200, status)
      assert.equal(PNG, body)
      assert.matches("^image/png", headers["content-type"])
      local res = assert(agent:request{ method = "GET", path = "/files/download", query = { path = up.filename } })
      assert.equal('attachment; filename="dot.png"', res.headers["content-disposition"])
      local conv = assert(agent.requests:start{ text = "here is the picture" })
      local msg = assert(agent.messages:send_file(conv.request_id, { src = agent.files:url(up.filename),
        name = "dot.png", type = "image/png", width = 1, height = 1 }))
      assert.equal("image", msg.type)
      assert.equal(agent.files:url(up.filename), msg.metadata.src)
      -- or in one call: the content goes up first, the message carries its public address
      local msg2, up2 = assert(agent.messages:send_file(conv.request_id, { content = PNG, name = "dot2.png" }))
      assert.matches("/dot2%.png$", up2.filename)
      assert.equal(agent.files:url(up2.filename), msg2.metadata.src)
      assert.equal("image/png", msg2.metadata.type)
      local _, pub = helper.http("GET", msg2.metadata.src)
      assert.is_table(pub)
      assert.equal("File deleted successfully", assert(agent.files:delete(up.filename)).message)
      local v, m, err = agent.files:get(up.filename)
      refused(404, v, m, err)
      assert.equal("files:get(): HTTP 404 Not Found: File not found.", m)
    end)

    it("are refused for the server's reasons: extension, content type, content, size", function()
      local _, m1, e1 = agent.files:upload("MZ\144\0", { name = "tool.exe", type = "application/octet-stream" })
      refused(403, nil, m1, e1)
      assert.equal("files:upload(): HTTP 403 Forbidden: File extension .exe is not allowed", m1)
      refused(403, agent.files:upload("just text", { name = "fake.png" }))
      local _, m3, e3 = agent.files:upload("%PDF-1.4", { name = "doc.pdf", type = "image/png" })
      refused(403, nil, m3, e3)
      assert.matches("does not match mimetype", m3)
      local _, m4, e4 = agent.files:upload("%PDF-1.4\n" .. string.rep("x", 1024001), { name = "big.pdf" })
      refused(413, nil, m4, e4)
      assert.equal("LIMIT_FILE_SIZE", e4.body.code)
      assert.equal(1, e4.attempts) -- an upload is never repeated
    end)

    it("assets come from admins only, named URI-encoded as the server answers", function()
      local up = assert(admin.files:upload_asset("a;b\n1;2\n", { name = "price list.csv", expiration = 60 }))
      assert.matches("^uploads%%2Fusers%%2F%x+%%2Ffiles%%2F[%x%-]+%%2Fprice%%20list%.csv$", up.filename)
      refused(403, agent.files:upload_asset("a;b\n", { name = "x.csv" }))
    end)
  end)

  describe("iteration across pages", function()
    it("requests: all of them across >= 5 pages, closed ones only when asked", function()
      local before = count("requests:list()")
      local seen, all = {}, 0
      for r in owner.requests:each{ status = "all", limit = 50 } do
        assert.is_nil(seen[r.request_id], "duplicate " .. r.request_id)
        seen[r.request_id] = true
        all = all + 1
      end
      assert.is_true(count("requests:list()") - before >= 5, "pages: " .. (count("requests:list()") - before))
      assert.equal(assert(owner.requests:list{ status = "all", limit = 1 }).count, all)
      local open, closed = 0, 0
      for r in owner.requests:each{ limit = 50 } do
        assert.is_true(r.status < 1000 and r.status ~= 50 and r.status ~= 150, "status " .. tostring(r.status))
        open = open + 1
      end
      for r in owner.requests:each{ status = "1000", limit = 50 } do
        assert.equal(1000, r.status)
        closed = closed + 1
      end
      assert.is_true(open > 0 and closed > 0)
      assert.is_true(open + closed < all)
    end)

    it("leads, activities and project messages across >= 5 pages", function()
      local function pages_of(op, iter)
        local before, n = count(op), 0
        for _ in iter do n = n + 1 end
        return count(op) - before, n
      end
      local p, n = pages_of("leads:list()", agent.leads:each{ limit = 50 })
      assert.is_true(p >= 5, "leads pages " .. p)
      assert.equal(assert(agent.leads:list{ limit = 1 }).count, n)
      p, n = pages_of("activities:list()", admin.activities:each{ limit = 50 })
      assert.is_true(p >= 5, "activities pages " .. p)
      assert.equal(assert(admin.activities:list{ limit = 1 }).count, n)
      p, n = pages_of("messages:list_project()", owner.messages:each_list_project{ max_items = 250 })
      assert.is_true(p >= 5, "messages pages " .. p)
      assert.equal(250, n)
    end)

    it("tags (fixed 40 a page) across >= 5 pages", function()
      for i = 1, 160 do assert(agent.tags:create(string.format("areas-page-%03d", i))) end
      local before, n, seen = count("tags:list()"), 0, {}
      for t in agent.tags:each() do
        assert.is_nil(seen[t._id])
        seen[t._id] = true
        n = n + 1
      end
      assert.is_true(count("tags:list()") - before >= 5)
      assert.is_true(n >= 163, "tags " .. n)
    end)

    it("roles, properties, segments and intents with a small limit across >= 5 pages", function()
      local b = assert(admin.bots:create("Areas Paging Bot"))
      for i = 1, 11 do
        assert(agent.roles:create{ name = "areas-role-" .. i })
        assert(agent.properties:create{ label = "P" .. i, name = "areas_p" .. i, type = "text" })
        assert(agent.segments:create{ name = "areas-seg-" .. i, match = "all", filters = {} })
        assert(admin.faqs:create(b._id, { question = "q" .. i, answer = "a" .. i }))
      end
      local function walk(op, iter)
        local before, n, seen = count(op), 0, {}
        for x in iter do
          assert.is_nil(seen[x._id], "duplicate in " .. op)
          seen[x._id] = true
          n = n + 1
        end
        assert.is_true(count(op) - before >= 5, op .. " pages " .. (count(op) - before))
        return n
      end
      assert.is_true(walk("roles:list()", agent.roles:each{ limit = 2 }) >= 11)
      assert.is_true(walk("properties:list()", agent.properties:each{ limit = 2 }) >= 11)
      assert.is_true(walk("segments:list()", agent.segments:each{ limit = 2 }) >= 11)
      assert.equal(11, walk("faqs:list()", agent.faqs:each(b._id, { limit = 2 })))
    end)

    it("a failure half-way raises out of the for loop, with the page's error", function()
      local n = 0
      local ok, err = pcall(function()
        for _ in agent.leads:each{ limit = 50 } do
          n = n + 1
          if n == 1 then
            control("POST", "/faults", { method = "GET", path = "/leads$", count = 1,
              action = { type = "status", status = 503 } })
          end
        end
      end)
      assert.is_false(ok)
      assert.equal(50, n)
      assert.is_table(err)
      assert.equal("http", err.kind)
      assert.equal(503, err.status)
      assert.matches("^leads:list%(%): HTTP 503", tostring(err))
      -- the same page is asked again by pages(): a failed page can be retried
      local pager = admin.activities:pages{ limit = 50 }
      assert.equal(0, assert(pager:next()).number)
      control("POST", "/faults", { method = "GET", path = "/activities$", count = 1,
        action = { type = "status", status = 502 } })
      local page, msg, perr = pager:next()
      assert.is_nil(page)
      assert.equal(502, perr.status, msg)
      assert.equal(1, assert(pager:next()).number)
    end)
  end)

  describe("coverage", function()
    -- issue 13's areas: spec/core/builder_areas_spec.lua calls each of their routes and checks so
    local elsewhere = { logs = true, namespaces = true, kb = true, unanswered = true, answered = true, tables = true,
      triggers = true, widgets = true, ["bots.import"] = true, ["faqs.ops_update"] = true, ["faqs.upload_csv"] = true,
      ["webhooks.preload"] = true, ["webhooks.stop_dev"] = true, ["webhooks.run_dev"] = true }

    it("every area of the route table has its round trips here", function()
      local missing = {}
      for _, res in ipairs(routes.resources) do
        if not areas[res] and not elsewhere[res] then missing[#missing + 1] = res end
      end
      assert.same({}, missing)
    end)

    it("this file called every route of the table", function()
      local missing = {}
      for _, r in ipairs(routes.list) do
        if elsewhere[r.res] or elsewhere[r.res .. "." .. r.name] then -- luacheck: ignore 542
        elseif r.skip and r.res == "analytics" then
          if not reports[r.path:match("^/analytics/(.*)$")] then missing[#missing + 1] = r.path end
        elseif r.skip then
          -- a hand-written method: its operation name comes from the call the table names
          local res, name = r.call:match("^client%.([%w_]+):([%w_]+)%(")
          if count(res .. ":" .. name .. "()") == 0 then missing[#missing + 1] = r.path end
        elseif count(r.op) == 0 then
          missing[#missing + 1] = r.op
        end
      end
      for _, op in ipairs({ "signin()", "signin_anonymously()", "signin_with_custom_token()" }) do
        if count(op) == 0 then missing[#missing + 1] = op end
      end
      assert.same({}, missing)
    end)
  end)
end)
