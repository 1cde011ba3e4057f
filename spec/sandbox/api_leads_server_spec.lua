-- The sandbox's leads against the server's source: routes/lead.js, services/leadService.js,
-- services/updateLeadQueued.js, services/subscriptionNotifierQueued.js,
-- utils/segment2mongoConverter.js, middleware/has-role.js.
local helper = require("spec.helper")
local socket = require("socket")

local st = helper.sandbox()
local api = helper.api
local UNKNOWN = "ffffffffffffffffffffffff"

local function sink_url(name)
  return st.control_url .. "/sink/" .. name
end

local function deliveries(name)
  return helper.control("GET", "/sink/" .. name).deliveries
end

local function new_lead(fields)
  local status, l = api("agent", "POST", "/leads", fields or { fullname = "Ada Lovelace", email = "ada@example.org" })
  assert.equal(200, status)
  return l
end

describe("sandbox leads as the server answers them", function()
  before_each(function()
    helper.reset()
  end)

  -- routes/lead.js router.put('/:leadid'): fields != undefined (null skipped), tags only when
  -- truthy, cast by models/lead.js (String paths, status Number); findByIdAndUpdate by id alone
  -- with upsert; a failed cast is the route's 500 'Error updating object.'
  it("PUT skips null, casts numbers to strings, upserts an unknown id and answers a bad cast with 500", function()
    local l = new_lead()
    local status, u = api("agent", "PUT", "/leads/" .. l._id, '{"fullname":null,"company":42,"status":"50","tags":""}')
    assert.equal(200, status)
    assert.equal("Ada Lovelace", u.fullname)
    assert.equal("42", u.company)
    assert.equal(50, u.status)
    assert.same({}, u.tags)
    assert.equal(0, u.__v) -- findByIdAndUpdate moves no version key
    status, u = api("agent", "PUT", "/leads/" .. l._id, { tags = "solo" })
    assert.equal(200, status)
    assert.same({ "solo" }, u.tags)
    helper.answers(500, { success = false, msg = "Error updating object." },
      api("agent", "PUT", "/leads/" .. l._id, { status = "many" }))
    helper.answers(500, { success = false, msg = "Error updating object." },
      api("agent", "PUT", "/leads/" .. l._id, { email = { a = 1 } }))
    local made
    status, made = api("agent", "PUT", "/leads/" .. UNKNOWN, { note = "made" })
    assert.equal(200, status)
    assert.same({ UNKNOWN, "made" }, { made._id, made.note })
  end)

  -- routes/lead.js router.put('/:leadid/tag'): 400 {success, message}; findById with its own
  -- 404 {success, error} text; router.delete('/:leadid/tag/:tag'): the same 404 text
  it("answers the tag routes' own texts and finds the lead by id alone", function()
    local l = new_lead()
    helper.answers(400, { success = false, message = "No tag specified" },
      api("agent", "PUT", "/leads/" .. l._id .. "/tag", "[]"))
    helper.answers(404, { success = false, error = "Lead not found with id " .. UNKNOWN },
      api("agent", "PUT", "/leads/" .. UNKNOWN .. "/tag", { "a" }))
    helper.answers(404, { success = false, error = "Lead not found with id " .. UNKNOWN },
      api("agent", "DELETE", "/leads/" .. UNKNOWN .. "/tag/a"))
    helper.answers(500, { success = false, error = "Error getting lead with id nope" },
      api("agent", "PUT", "/leads/nope/tag", { "a" }))
    local _, t = api("agent", "PUT", "/leads/" .. l._id .. "/tag", { "a", 7 })
    assert.same({ "a", "7" }, t.tags)
    assert.equal(0, t.__v)
  end)

  -- routes/lead.js PATCH /:leadid/attributes, POST /:leadid/properties: findById then
  -- Object.keys(req.body) (no body: {}); a malformed id is 'Error updating object.'; save()
  -- validates the lead (lead_id, id_project, createdBy required by models/lead.js)
  it("merges without a body, answers the routes' cast text, and fails the save of an upserted lead", function()
    local l = new_lead({ fullname = "Merge Me", attributes = { plan = "pro" } })
    local status, u = api("agent", "PATCH", "/leads/" .. l._id .. "/attributes")
    assert.equal(200, status)
    assert.same({ plan = "pro" }, u.attributes)
    helper.answers(500, { success = false, msg = "Error updating object." },
      api("agent", "POST", "/leads/nope/properties", { a = 1 }))
    assert.equal(200, (api("agent", "DELETE", "/leads/" .. UNKNOWN)))
    helper.answers(500, { success = false, msg = "Error getting object." },
      api("agent", "PATCH", "/leads/" .. UNKNOWN .. "/attributes", { a = 1 }))
  end)

  -- routes/lead.js router.delete('/:leadid'): findByIdAndUpdate's 'Error updating object.';
  -- router.delete('/:leadid/physical'): req.projectuser.role, which a bot token lacks
  -- (has-role.js passes its type without loading a project user): Express's 500
  it("answers the delete routes' errors", function()
    helper.answers(500, { success = false, msg = "Error updating object." }, api("agent", "DELETE", "/leads/nope"))
    helper.answers(403, { success = false, msg = "Unauthorized." }, api("admin", "DELETE", "/leads/nope/physical"))
    helper.answers(500, { success = false, msg = "Error deleting object." }, api("owner", "DELETE", "/leads/nope/physical"))
    local _, j = api("admin", "GET", "/faq_kb/" .. st.bot._id .. "/jwt")
    helper.answers(500, { err = "error" }, api("JWT " .. j.jwt, "DELETE", "/leads/" .. UNKNOWN .. "/physical"))
  end)

  -- services/subscriptionNotifierQueued.js subscribes lead.create only: lead.update and
  -- lead.delete (routes/lead.js) reach no subscription
  it("delivers lead.create and never lead.update or lead.delete", function()
    for _, e in ipairs({ "lead.create", "lead.update", "lead.delete" }) do
      assert.equal(200, (api("admin", "POST", "/subscriptions", { event = e, target = sink_url(e) })))
    end
    local l = new_lead()
    assert.equal(200, (api("agent", "PUT", "/leads/" .. l._id, { fullname = "Ada King" })))
    assert.equal(200, (api("agent", "PATCH", "/leads/" .. l._id .. "/attributes", { a = 1 })))
    assert.equal(200, (api("agent", "DELETE", "/leads/" .. l._id)))
    local created
    for _ = 1, 100 do
      created = deliveries("lead.create")
      if #created > 0 then break end
      socket.sleep(0.02)
    end
    assert.equal(1, #created)
    socket.sleep(0.2)
    assert.equal(0, #deliveries("lead.update"))
    assert.equal(0, #deliveries("lead.delete"))
  end)

  -- services/updateLeadQueued.js: lead.fullname.email.update (PUT with fullname or email) sends
  -- "Lead updated" from system to the lead's latest chat21 conversation
  it("tells the lead's latest conversation that the lead was updated", function()
    local _, g = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously", { id_project = st.project_id })
    local rid = "support-group-" .. st.project_id .. "-leadupd"
    assert.equal(200, (api(g.token, "POST", "/requests/" .. rid .. "/messages", { text = "hi" })))
    local _, r = api("agent", "GET", "/requests/" .. rid)
    local lead_id = type(r.lead) == "table" and r.lead._id or r.lead
    assert.equal(200, (api("agent", "PUT", "/leads/" .. lead_id, { company = "Acme" })))
    local _, msgs = api("agent", "GET", "/requests/" .. rid .. "/messages")
    for _, m in ipairs(helper.nonempty(msgs)) do assert.are_not.equal("Lead updated", m.text) end
    assert.equal(200, (api("agent", "PUT", "/leads/" .. lead_id, { email = "vera@example.org" })))
    _, msgs = api("agent", "GET", "/requests/" .. rid .. "/messages")
    local last = msgs[#msgs]
    assert.same({ "system", "Bot", "Lead updated", "info/support", "LEAD_UPDATED", "vera@example.org" },
      { last.sender, last.senderFullname, last.text, last.attributes.subtype, last.attributes.messagelabel.key,
        last.attributes.updateUserEmail })
  end)

  -- routes/lead.js GET /: with_email / with_fullname are read when present (any text, "false"
  -- too) and with_email replaces the email filter; parseInt(limit), limit(0) is no limit;
  -- direction as mquery reads it (asc, desc, 1, -1)
  it("reads the list's parameters as the route does", function()
    local _, all = api("agent", "GET", "/leads?limit=1")
    local _, b = api("agent", "GET", "/leads?with_email=false&limit=1")
    assert.is_true(b.count > 0 and b.count < all.count)
    _, b = api("agent", "GET", "/leads?email=nobody@example.org&with_email=1&limit=1")
    assert.is_true(b.count > 0)
    _, b = api("agent", "GET", "/leads?limit=0")
    assert.equal(0, b.perPage)
    assert.equal(all.count, #b.leads)
    local _, asc = api("agent", "GET", "/leads?direction=asc&limit=5")
    local _, one = api("agent", "GET", "/leads?direction=1&limit=5")
    assert.equal(5, #asc.leads)
    assert.same(one.leads, asc.leads)
    assert.is_true(asc.leads[1].createdAt <= asc.leads[5].createdAt)
    local status = helper.http("GET", st.http_url .. "/" .. st.project_id .. "/leads/csv?direction=up", nil,
      helper.auth("agent"))
    assert.equal(500, status)
  end)

  -- utils/segment2mongoConverter.js: '!=', '>=', 'is null'; a later filter of a field replaces
  -- an earlier one; '<' is not an operator it knows (skipped); the route's own email replaces the
  -- segment's
  it("applies a segment's operators as the converter writes them", function()
    local _, seg = api("agent", "POST", "/segments", { name = "s", filters = {
      { field = "email", operator = "=", value = "prospect1@example.org" },
      { field = "email", operator = "=", value = "prospect2@example.org" },
      { field = "attributes.source", operator = "<", value = "zzz" } } })
    local _, b = api("agent", "GET", "/leads?segment=" .. seg._id)
    assert.equal(1, b.count)
    assert.equal("prospect2@example.org", b.leads[1].email)
    _, b = api("agent", "GET", "/leads?email=prospect3@example.org&segment=" .. seg._id)
    assert.equal("prospect3@example.org", b.leads[1].email)
    local _, none = api("agent", "POST", "/segments", { name = "n", filters = {
      { field = "attributes.source", operator = "!=", value = "import" },
      { field = "fullname", operator = "is null", value = true } } })
    new_lead({ email = "nameless@example.org" })
    _, b = api("agent", "GET", "/leads?limit=500&segment=" .. none._id)
    for _, l in ipairs(helper.nonempty(b.leads)) do
      assert.is_nil(l.fullname)
      assert.are_not.equal("import", l.attributes and l.attributes.source)
    end
    local _, ge = api("agent", "POST", "/segments", { name = "g", filters = {
      { field = "email", operator = ">=", value = "prospect9" } } })
    _, b = api("agent", "GET", "/leads?limit=500&segment=" .. ge._id)
    for _, l in ipairs(helper.nonempty(b.leads)) do assert.is_true(l.email >= "prospect9") end
  end)
end)
