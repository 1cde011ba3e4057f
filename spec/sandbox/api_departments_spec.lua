-- The sandbox's departments and groups, against the server's routes/department.js,
-- models/department.js, services/departmentService.js, routes/group.js, models/group.js and
-- the resthooks of services/subscriptionNotifier.js.
local helper = require("spec.helper")
local cjson = require("cjson")
local socket = require("socket")

local st = helper.sandbox()

local api = helper.api
local null = cjson.null
local UNKNOWN = "65aaaaaaaaaaaaaaaaaaaaaa"

local function by_name(list, name)
  for _, d in ipairs(list) do if d.name == name then return d end end
end

local function dept(name)
  local _, list = api(nil, "GET", "/departments")
  return assert(by_name(list, name), name)
end

local function sink_url(name)
  return st.control_url .. "/sink/" .. name
end

-- the deliveries of sink `name` once it holds at least n (bounded wait), payloads decoded
local function deliveries(name, n)
  local list
  for _ = 1, 200 do
    local status, b = helper.http_json("GET", sink_url(name))
    assert.equal(200, status)
    list = b.deliveries
    if #list >= n then break end
    socket.sleep(0.025)
  end
  for _, d in ipairs(list) do d.doc = cjson.decode(d.body) end
  return list
end

local function subscribe(event, name)
  local status = api("admin", "POST", "/subscriptions", { event = event, target = sink_url(name) })
  assert.equal(200, status)
end

local function ids(list)
  local out = {}
  for _, x in ipairs(list) do out[#out + 1] = x.id_user end
  table.sort(out)
  return out
end

local function sorted(t)
  table.sort(t)
  return t
end

describe("sandbox departments", function()
  before_each(function()
    helper.reset()
  end)

  it("lists visible departments without auth, sorted by name when sort is given", function()
    local status, list = api(nil, "GET", "/departments")
    assert.equal(200, status)
    assert.equal(3, #list)
    assert.truthy(by_name(list, "Default Department").default)
    assert.equal(st.bot._id, by_name(list, "Support (bot first)").id_bot)
    local _, s = api(nil, "GET", "/departments?sort=name")
    assert.is_true(#s > 1)
    for i = 2, #s do assert.is_true(s[i - 1].name <= s[i].name) end
  end)

  -- models/department.js: toJSON { virtuals: true } gives id and hasBot (id_bot != undefined);
  -- groups and tags are arrays of subdocuments, [] by default
  it("answers departments with the model's virtuals id and hasBot, and groups and tags []", function()
    local _, list = api(nil, "GET", "/departments")
    assert.is_true(#list > 0)
    for _, d in ipairs(list) do
      assert.equal(d._id, d.id)
      assert.equal(d.id_bot ~= nil and d.id_bot ~= null, d.hasBot)
      assert.same({}, d.groups)
      assert.same({}, d.tags)
      assert.is_nil(d.bot) -- the populate virtual, never populated by these routes
    end
    assert.is_true(by_name(list, "Support (bot first)").hasBot)
    assert.is_false(by_name(list, "Billing").hasBot)
    local _, all = api("agent", "GET", "/departments/allstatus")
    assert.equal(by_name(all, "Billing")._id, by_name(all, "Billing").id)
    -- routes/widget.js finds them with the model too
    local _, w = api(nil, "GET", "/widgets")
    assert.is_true(#w.departments > 0)
    for _, d in ipairs(w.departments) do assert.equal(d._id, d.id) end
  end)

  it("reads one by id or by the literal default, without auth; 404 otherwise", function()
    local billing = dept("Billing")
    local status, d = api(nil, "GET", "/departments/" .. billing._id)
    assert.equal(200, status)
    assert.equal("Billing", d.name)
    assert.equal(billing._id, d.id)
    status, d = api(nil, "GET", "/departments/default")
    assert.equal(200, status)
    assert.equal("Default Department", d.name)
    helper.answers(404, helper.NOT_FOUND, api(nil, "GET", "/departments/ffffffffffffffffffffffff"))
  end)

  -- routes/department.js GET /:departmentid: "default" is findOne({ id_project, default: true })
  -- answered with res.json(department), null when there is none
  it("answers JSON null for default when the project has no default department", function()
    local d = dept("Default Department")
    assert.equal(200, (api("admin", "DELETE", "/departments/" .. d._id)))
    local status, _, _, text = api(nil, "GET", "/departments/default")
    assert.equal(200, status)
    assert.equal("null", text)
  end)

  -- GET /:departmentid is Department.findById: the id alone finds any project's department
  it("reads another project's department by its id (findById)", function()
    local status, p = helper.http_json("POST", st.http_url .. "/projects", { name = "Second" }, helper.auth("owner"))
    assert.equal(200, status)
    -- departmentService.createDefault made its default department
    local other_status, other = helper.http_json("GET", st.http_url .. "/" .. p._id .. "/departments/default")
    assert.equal(200, other_status)
    assert.equal("Default Department", other.name)
    assert.equal("assigned", other.routing)
    local got_status, got = api(nil, "GET", "/departments/" .. other._id)
    assert.equal(200, got_status)
    assert.equal(p._id, got.id_project)
  end)

  it("creates (admin, 200), hides status 0 from the public list but not from allstatus", function()
    local status, d = api("admin", "POST", "/departments", { name = "Hidden", status = 0, routing = "assigned" })
    assert.equal(200, status)
    assert.equal("assigned", d.routing)
    local _, pub = api(nil, "GET", "/departments")
    assert.is_nil(by_name(pub, "Hidden"))
    local _, all = api("agent", "GET", "/departments/allstatus")
    assert.truthy(by_name(all, "Hidden"))
    helper.answers(401, "Unauthorized", api(nil, "GET", "/departments/allstatus"))
    -- models/department.js defaults: routing pooled, status 1, default false
    local _, dflt = api("admin", "POST", "/departments", { name = "Plain" })
    assert.equal("pooled", dflt.routing)
    assert.equal(1, dflt.status)
    assert.is_false(dflt.default)
    assert.is_false(dflt.hasBot)
    assert.equal(st.users.admin._id, dflt.createdBy)
  end)

  -- routes/department.js POST: routing, name, description, default, status, id_group, groups
  -- from the body; id_bot and bot_only only when id_bot is truthy; nothing else
  it("creates with the route's fields only", function()
    local status, d = api("admin", "POST", "/departments", { name = "Fields", online_msg = "on", offline_msg = "off",
      tags = { { tag = "x" } }, bot_only = true, description = "d", default = false, id_group = "g1" })
    assert.equal(200, status)
    assert.is_nil(d.online_msg)
    assert.is_nil(d.offline_msg)
    assert.same({}, d.tags)
    assert.is_nil(d.bot_only) -- without id_bot
    assert.equal("d", d.description)
    assert.equal("g1", d.id_group)
    local _, b = api("admin", "POST", "/departments", { name = "Bot", id_bot = st.bot._id, bot_only = true })
    assert.equal(st.bot._id, b.id_bot)
    assert.is_true(b.bot_only)
    assert.is_true(b.hasBot)
    local _, e = api("admin", "POST", "/departments", { name = "Empty bot", id_bot = "", bot_only = true })
    assert.is_nil(e.id_bot)
    assert.is_nil(e.bot_only)
    assert.is_false(e.hasBot)
  end)

  -- models/department.js: groups: [GroupMemberSchema] ({ group_id: String, percentage: Number },
  -- both required, each subdocument with its _id); status a Number (cast), name required: a
  -- failed save is the route's 500 { success: false, msg: 'Error saving object.' }
  it("casts and validates as the model: 500 'Error saving object.' for a bad department", function()
    local status, d = api("admin", "POST", "/departments", { name = "Cast", status = "0",
      groups = { { group_id = "g", percentage = "50", extra = 1 } } })
    assert.equal(200, status)
    assert.equal(0, d.status)
    assert.equal(1, #d.groups)
    assert.equal("g", d.groups[1].group_id)
    assert.equal(50, d.groups[1].percentage)
    assert.is_nil(d.groups[1].extra)
    assert.matches("^%x+$", d.groups[1]._id)
    local refused = { success = false, msg = "Error saving object." }
    helper.answers(500, refused, api("admin", "POST", "/departments", { description = "no name" }))
    helper.answers(500, refused, api("admin", "POST", "/departments", { name = "" }))
    helper.answers(500, refused, api("admin", "POST", "/departments", { name = "x", status = "high" }))
    helper.answers(500, refused, api("admin", "POST", "/departments", { name = "x", default = "maybe" }))
    helper.answers(500, refused, api("admin", "POST", "/departments", { name = "x", groups = { { group_id = "g" } } }))
    helper.answers(500, refused, api("admin", "POST", "/departments", { name = { "x" } }))
  end)

  it("refuses writes below admin", function()
    helper.answers(403, helper.ROLE, api("agent", "POST", "/departments", { name = "Nope" }))
  end)

  -- routes/department.js PUT: update.id_bot and update.id_group are set whatever came (undefined
  -- is written as null by mongoose 5's driver); bot_only, routing, name, description, online_msg,
  -- status, groups when != undefined (null skipped too); never default, tags, offline_msg
  it("PUT writes id_bot and id_group always (null when omitted), the rest when given", function()
    local support = dept("Support (bot first)")
    local _, u = api("admin", "PUT", "/departments/" .. support._id, { name = "Support", description = null,
      online_msg = "hi", offline_msg = "bye", default = true, tags = { { tag = "t" } }, status = "1" })
    assert.equal("Support", u.name)
    assert.equal(null, u.id_bot)
    assert.equal(null, u.id_group)
    assert.is_false(u.hasBot)
    assert.equal(support.description, u.description)
    assert.equal("hi", u.online_msg)
    assert.is_nil(u.offline_msg)
    assert.is_false(u.default)
    assert.same({}, u.tags)
    assert.equal(1, u.status)
    -- findByIdAndUpdate is no save(): the version key stays
    assert.equal(support.__v, u.__v)
    local _, again = api(nil, "GET", "/departments/" .. support._id)
    assert.equal(null, again.id_bot)
    helper.answers(500, { success = false, msg = "Error updating object." },
      api("admin", "PUT", "/departments/" .. support._id, { status = "high" }))
  end)

  -- PATCH: status, id_bot, bot_only, routing, name, description, id_group, groups when
  -- != undefined; a malformed id or bad value: 500 'Error patching object.'
  it("PATCH writes only its fields when given, null skipped", function()
    local support = dept("Support (bot first)")
    local _, p = api("admin", "PATCH", "/departments/" .. support._id, { description = "patched", id_bot = null,
      online_msg = "hi", default = true, routing = "pooled" })
    assert.equal(st.bot._id, p.id_bot)
    assert.is_true(p.hasBot)
    assert.equal("patched", p.description)
    assert.is_nil(p.online_msg)
    assert.is_false(p.default)
    assert.equal("pooled", p.routing)
    helper.answers(500, { success = false, msg = "Error patching object." },
      api("admin", "PATCH", "/departments/" .. support._id, { status = "high" }))
  end)

  -- findByIdAndUpdate(..., { new: true, upsert: true }): an unknown id is made a document of
  -- the update alone (no id_project, no createdBy), with the schema's defaults as it is read
  it("PUT and PATCH of an unknown id make a department (upsert)", function()
    local status, d = api("admin", "PATCH", "/departments/" .. UNKNOWN, { name = "Up" })
    assert.equal(200, status)
    assert.equal(UNKNOWN, d._id)
    assert.equal(UNKNOWN, d.id)
    assert.equal("Up", d.name)
    assert.is_nil(d.id_project)
    assert.is_nil(d.createdBy)
    assert.equal("pooled", d.routing)
    assert.equal(1, d.status)
    local _, u = api("admin", "PUT", "/departments/" .. UNKNOWN, { description = "again" })
    assert.equal("Up", u.name)
    assert.equal("again", u.description)
    assert.equal(null, u.id_bot)
    -- a project-less document: in no project's list
    local _, list = api(nil, "GET", "/departments")
    assert.is_nil(by_name(list, "Up"))
  end)

  it("deletes (hard) and returns the removed department; an unknown id answers null", function()
    local _, d = api("admin", "POST", "/departments", { name = "Temp" })
    local status, gone = api("admin", "DELETE", "/departments/" .. d._id)
    assert.equal(200, status)
    assert.equal(d._id, gone._id)
    assert.equal(d._id, gone.id)
    helper.answers(404, helper.NOT_FOUND, api(nil, "GET", "/departments/" .. d._id))
    -- findOneAndRemove finds nothing: res.json(null)
    local st2, _, _, text = api("admin", "DELETE", "/departments/" .. d._id)
    assert.equal(200, st2)
    assert.equal("null", text)
  end)

  -- departmentService.getOperators, the bot branch: { department, available_agents, agents (the
  -- project's active agents, roleType 1), id_bot, project, operators: [{ id_user: 'bot_' + id }] }
  it("answers a bot department's operators as getOperators does", function()
    local support = dept("Support (bot first)")
    local status, ops = api("agent", "GET", "/departments/" .. support._id .. "/operators")
    assert.equal(200, status)
    assert.same({ { id_user = "bot_" .. st.bot._id } }, ops.operators)
    assert.equal(st.bot._id, ops.id_bot)
    assert.equal(support._id, ops.department._id)
    assert.is_true(ops.department.hasBot)
    assert.equal(st.project_id, ops.project._id)
    -- the seed's five active agents, four of them available (carla is not)
    assert.equal(5, #ops.agents)
    assert.equal(4, #ops.available_agents)
    for _, pu in ipairs(ops.agents) do
      assert.equal(st.project_id, pu.id_project)
      assert.equal(pu._id, pu.id) -- project_user documents with their virtuals
      assert.equal("string", type(pu.id_user))
    end
    assert.is_nil(ops.context) -- the route deletes it
  end)

  -- `if (nobot)` reads the query string as it comes: any non-empty value skips the bot
  it("skips the bot for any non-empty nobot, false included", function()
    local support = dept("Support (bot first)")
    for _, q in ipairs({ "true", "false", "1" }) do
      local _, ops = api("agent", "GET", "/departments/" .. support._id .. "/operators?nobot=" .. q)
      assert.equal(1, #ops.operators, q)
      assert.is_nil(ops.operators[1].id_user:match("^bot_"), q)
      assert.is_nil(ops.id_bot, q)
      assert.equal(st.project_id, ops.id_project, q)
    end
    local _, ops = api("agent", "GET", "/departments/" .. support._id .. "/operators?nobot=")
    assert.equal("bot_" .. st.bot._id, ops.operators[1].id_user)
  end)

  -- findProjectUsersAllAndAvailableWithOperatingHours_nogroup: operators only for "assigned"
  -- (getRandomAvailableOperator); "pooled" picks none
  it("picks no operator for a pooled department", function()
    local _, d = api("admin", "POST", "/departments", { name = "Pool" })
    assert.equal("pooled", d.routing)
    local _, ops = api("agent", "GET", "/departments/" .. d._id .. "/operators")
    assert.same({}, ops.operators)
    assert.equal(5, #ops.agents)
    assert.equal(4, #ops.available_agents)
    assert.equal(d._id, ops.department._id)
  end)

  -- _group: only the members of the department's enabled group; { available_agents: [],
  -- agents: [], operators: [] } (no department) when no active agent is a member
  it("routes among the members of the department's group", function()
    local _, groups = api("agent", "GET", "/groups")
    local tier = assert(by_name(groups, "Tier 1"))
    local _, d = api("admin", "POST", "/departments", { name = "Grouped", routing = "assigned", id_group = tier._id })
    local _, ops = api("agent", "GET", "/departments/" .. d._id .. "/operators")
    assert.same(sorted{ st.users.agent._id, tier.members[2] }, ids(ops.agents))
    assert.equal(1, #ops.operators)
    assert.truthy(tier.members[1] == ops.operators[1].id_user or tier.members[2] == ops.operators[1].id_user)
    assert.equal(tier._id, ops.group[1]._id)
    local _, empty = api("agent", "POST", "/groups", { name = "Nobody", members = { "65bbbbbbbbbbbbbbbbbbbbbb" } })
    local _, d2 = api("admin", "POST", "/departments", { name = "Empty", routing = "assigned", id_group = empty._id })
    local _, none = api("agent", "GET", "/departments/" .. d2._id .. "/operators")
    assert.same({ available_agents = {}, agents = {}, operators = {} }, none)
  end)

  -- routes/department.js emits department.create/update/delete with the saved, updated and
  -- removed document; subscriptionNotifier delivers its toJSON (id, hasBot)
  it("sends department.create, update and delete with the documents", function()
    subscribe("department.create", "dc")
    subscribe("department.update", "du")
    subscribe("department.delete", "dd")
    local _, d = api("admin", "POST", "/departments", { name = "Hooked" })
    api("admin", "PATCH", "/departments/" .. d._id, { name = "Hooked 2" })
    api("admin", "DELETE", "/departments/" .. d._id)
    local c, u, x = deliveries("dc", 1), deliveries("du", 1), deliveries("dd", 1)
    assert.equal(1, #c)
    assert.equal(d._id, c[1].doc.payload.id)
    assert.is_false(c[1].doc.payload.hasBot)
    assert.equal(1, #u)
    assert.equal("Hooked 2", u[1].doc.payload.name)
    assert.equal(1, #x)
    assert.equal(d._id, x[1].doc.payload._id)
  end)
end)

describe("sandbox groups", function()
  before_each(function()
    helper.reset()
  end)

  it("lists (agent), filters by member, creates, reads and updates", function()
    local status, list = api("agent", "GET", "/groups")
    assert.equal(200, status)
    assert.equal(1, #list)
    assert.equal("Tier 1", list[1].name)
    assert.is_nil(list[1].id) -- models/group.js sets no toJSON virtuals
    local g
    status, g = api("agent", "POST", "/groups", { name = "Night shift", members = { st.users.admin._id } })
    assert.equal(200, status)
    assert.is_true(g.enabled)
    assert.is_false(g.trashed)
    local _, mine = api("agent", "GET", "/groups?member=" .. st.users.admin._id)
    assert.equal(1, #mine)
    assert.equal("Night shift", mine[1].name)
    -- members: { $in: req.query.member }: a repeated member is any of them
    local _, any = api("agent", "GET", "/groups?member=" .. st.users.admin._id .. "&member=" .. st.users.agent._id)
    assert.equal(2, #any)
    local _, u = api("agent", "PUT", "/groups/" .. g._id, { members = { st.users.agent._id, st.users.admin._id } })
    assert.equal(2, #u.members)
    local _, got = api("agent", "GET", "/groups/" .. g._id)
    assert.equal(2, #got.members)
  end)

  -- routes/group.js POST: name, members, trashed false, id_project, createdBy (attributes not
  -- read); models/group.js: name required, members an Array ([] by default), enabled true
  it("creates with the route's fields; a group without a name is the 500 'Error saving object.'", function()
    local _, g = api("agent", "POST", "/groups", { name = "Attrs", attributes = { a = 1 }, enabled = false })
    assert.is_nil(g.attributes)
    assert.is_true(g.enabled)
    assert.same({}, g.members)
    assert.equal(st.project_id, g.id_project)
    assert.equal(st.users.agent._id, g.createdBy)
    local _, one = api("agent", "POST", "/groups", { name = "One", members = st.users.agent._id })
    assert.same({ st.users.agent._id }, one.members)
    local refused = { success = false, msg = "Error saving object." }
    helper.answers(500, refused, api("agent", "POST", "/groups", { members = {} }))
    helper.answers(500, refused, api("agent", "POST", "/groups", { name = "" }))
  end)

  -- PUT /:groupid: name, members, trashed, attributes when != undefined (null skipped); a bad
  -- value: 500 'Error updating object.'; an unknown id is made (upsert)
  it("updates the given fields, skips null, upserts an unknown id", function()
    local _, g = api("agent", "POST", "/groups", { name = "Keep" })
    local _, u = api("agent", "PUT", "/groups/" .. g._id, { name = null, attributes = { x = 1 }, trashed = "no" })
    assert.equal("Keep", u.name)
    assert.same({ x = 1 }, u.attributes)
    assert.is_false(u.trashed)
    assert.equal(g.__v, u.__v)
    helper.answers(500, { success = false, msg = "Error updating object." },
      api("agent", "PUT", "/groups/" .. g._id, { trashed = "maybe" }))
    local status, up = api("agent", "PUT", "/groups/" .. UNKNOWN, { name = "Up" })
    assert.equal(200, status)
    assert.equal(UNKNOWN, up._id)
    assert.is_nil(up.id_project)
    assert.is_true(up.enabled)
    assert.same({}, up.members)
  end)

  it("soft-deletes by default, removes with force, and refuses a group used by a department", function()
    local _, g = api("agent", "POST", "/groups", { name = "Temp" })
    local status, b = api("agent", "DELETE", "/groups/" .. g._id)
    assert.equal(200, status)
    assert.same({ success = true, message = "Group successfully deleted" }, b)
    local _, list = api("agent", "GET", "/groups")
    assert.is_nil(by_name(list, "Temp"))
    local _, trashed = api("agent", "GET", "/groups/" .. g._id)
    assert.is_true(trashed.trashed)
    assert.is_false(trashed.enabled)
    local removed
    status, removed = api("agent", "DELETE", "/groups/" .. g._id .. "?force=true")
    assert.equal(200, status)
    assert.equal(g._id, removed._id)
    helper.answers(404, helper.NOT_FOUND, api("agent", "GET", "/groups/" .. g._id))
    -- findByIdAndRemove finds nothing: res.status(200).send(null), an empty body
    local st2, _, _, text = api("agent", "DELETE", "/groups/" .. g._id .. "?force=true")
    assert.equal(200, st2)
    assert.equal("", text)
    -- the soft delete answers the same words for an unknown id
    helper.answers(200, { success = true, message = "Group successfully deleted" },
      api("agent", "DELETE", "/groups/" .. UNKNOWN))

    local _, used = api("agent", "POST", "/groups", { name = "Used" })
    api("admin", "POST", "/departments", { name = "With group", id_group = used._id })
    helper.answers(403, { success = false, error = "Unable to delete a group associated with a department" },
      api("agent", "DELETE", "/groups/" .. used._id))
    helper.answers(403, { success = false, error = "Unable to disabled a group associated with a department" },
      api("agent", "PUT", "/groups/disable/" .. used._id))
    local _, en = api("agent", "PUT", "/groups/enable/" .. used._id)
    assert.is_true(en.enabled)
  end)

  -- enable, disable and delete answer a malformed id (the CastError of findByIdAndUpdate /
  -- findByIdAndRemove) with words of their own
  it("answers a malformed id with each route's own words", function()
    helper.answers(500, { success = false, error = "Error enabling group" }, api("agent", "PUT", "/groups/enable/xyz"))
    helper.answers(500, { success = false, error = "Error disabling group" }, api("agent", "PUT", "/groups/disable/xyz"))
    helper.answers(500, { success = false, msg = "Error deleting group" }, api("agent", "DELETE", "/groups/xyz"))
    helper.answers(500, { success = false, msg = "Error deleting group" }, api("agent", "DELETE", "/groups/xyz?force=true"))
    helper.answers(500, { success = false, msg = "Error getting object." }, api("agent", "GET", "/groups/xyz"))
    -- enable and disable upsert an unknown id
    local status, g = api("agent", "PUT", "/groups/disable/" .. UNKNOWN)
    assert.equal(200, status)
    assert.equal(UNKNOWN, g._id)
    assert.is_false(g.enabled)
  end)

  -- group.create on POST; group.update on PUT, enable, disable and the soft delete; group.delete
  -- on the forced one (routes/group.js)
  it("sends group.create, group.update (enable, disable, soft delete) and group.delete (force)", function()
    subscribe("group.create", "gc")
    subscribe("group.update", "gu")
    subscribe("group.delete", "gd")
    local _, g = api("agent", "POST", "/groups", { name = "Hooked" })
    api("agent", "PUT", "/groups/" .. g._id, { name = "Hooked 2" })
    api("agent", "PUT", "/groups/disable/" .. g._id)
    api("agent", "PUT", "/groups/enable/" .. g._id)
    api("agent", "DELETE", "/groups/" .. g._id)
    api("agent", "DELETE", "/groups/" .. g._id .. "?force=true")
    local c, u, d = deliveries("gc", 1), deliveries("gu", 4), deliveries("gd", 1)
    assert.equal(1, #c)
    assert.equal(g._id, c[1].doc.payload._id)
    assert.equal(4, #u)
    assert.equal("Hooked 2", u[1].doc.payload.name)
    assert.is_false(u[2].doc.payload.enabled)
    assert.is_true(u[3].doc.payload.enabled)
    assert.is_true(u[4].doc.payload.trashed)
    assert.equal(1, #d)
    assert.equal(g._id, d[1].doc.payload._id)
  end)
end)
