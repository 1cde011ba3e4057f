-- Answers of the server that the SDK's error policy depends on, each from the server file
-- named: the JSON 401s that are not a refused token, and writes that the server makes whatever
-- the body holds.
local helper = require("spec.helper")

local st = helper.sandbox()
local api = helper.api

describe("sandbox 401 answers", function()
  before_each(helper.reset)

  -- passport (app.js mounts): a refused credential is the plain-text challenge
  it("answers a refused token with the plain-text Unauthorized", function()
    local status, b, h, text = api("JWT not.a.token", "GET", "/requests")
    assert.equal(401, status)
    assert.is_nil(b)
    assert.equal("Unauthorized", text)
    assert.matches("^text/plain", h["content-type"])
  end)

  -- routes/users.js PUT /changepsw: a JSON 401 with the server's words
  it("answers a wrong current password with a JSON 401", function()
    local u = st.users.agent
    local status, b, h = helper.http_json("PUT", st.http_url .. "/users/changepsw",
      '{"oldpsw":"not-the-password","newpsw":"another-secret-1"}',
      { authorization = helper.auth("agent").authorization, ["content-type"] = "application/json" })
    assert.equal(401, status)
    assert.same({ success = false, msg = "Current password is invalid." }, b)
    assert.matches("^application/json", h["content-type"])
    assert.is_string(u.email)
  end)

  -- pubmodules/canned/cannedResponseRoute.js PUT /:id: agents change their own responses,
  -- owners and admins the shared ones, other members of the agent kind (roleType 1: a
  -- supervisor) shared ones and their own; anybody else gets a JSON 401 {error: "Unauthorized"}
  it("opens shared canned responses to a supervisor, as a member of the agent kind", function()
    local _, c = api("admin", "POST", "/canned", { text = "shared text" })
    local _, team = api("owner", "GET", "/project_users")
    local agent_pu
    for _, pu in ipairs(team) do
      local id = type(pu.id_user) == "table" and pu.id_user._id or pu.id_user
      if id == st.users.agent._id then agent_pu = pu end
    end
    assert.is_table(agent_pu)
    local status, b = api("agent", "PUT", "/canned/" .. c._id, { text = "by an agent" })
    assert.equal(403, status)
    assert.same({ success = false, error = "You are not allowed to modify a canned response that is not yours." }, b)
    assert.equal(200, (api("owner", "PUT", "/project_users/" .. agent_pu._id, { role = "supervisor" })))
    status, b = api("agent", "PUT", "/canned/" .. c._id, { text = "by a supervisor" })
    assert.equal(200, status)
    assert.equal("by a supervisor", b.text)
  end)
end)

describe("sandbox writes the server makes whatever the body holds", function()
  before_each(helper.reset)

  -- routes/pending-invitation.js PUT /:id: email (lower case) and role are both written, a
  -- missing one as null; an unknown id is made (upsert)
  it("writes both fields of an invitation", function()
    local status, inv = api("admin", "POST", "/project_users/invite", { email = "New.Person@Example.com", role = "agent" })
    assert.equal(200, status)
    local _, list = api("admin", "GET", "/pendinginvitations")
    assert.is_true(#list > 0)
    local id = list[1]._id
    local u
    status, u = api("admin", "PUT", "/pendinginvitations/" .. id, { role = "admin" })
    assert.equal(200, status)
    assert.equal("admin", u.role)
    assert.equal(require("cjson.safe").null, u.email) -- written as null
    _, u = api("admin", "PUT", "/pendinginvitations/" .. id, { email = "Back@Example.com", role = "agent" })
    assert.same({ "back@example.com", "agent" }, { u.email, u.role })
    local made
    status, made = api("admin", "PUT", "/pendinginvitations/ffffffffffffffffffffffff", { email = "x@y.z" })
    assert.equal(200, status)
    assert.equal("ffffffffffffffffffffffff", made._id)
    assert.equal("x@y.z", made.email)
    assert.is_table(inv)
  end)
end)

-- routes/project_user.js GET /: role through $in (a repeated key is a list, one value is one
-- name), the agent kind (roleType 1) without role, trashed members only when trashed is given
-- and not "false" (then with the others)
describe("sandbox team filters", function()
  before_each(helper.reset)

  local function roles_of(query)
    local status, list = api("admin", "GET", "/project_users" .. query)
    assert.equal(200, status)
    local out = {}
    for _, pu in ipairs(list) do out[#out + 1] = pu.role end
    table.sort(out)
    return table.concat(out, ","), list
  end

  it("filters by role names, one name per value", function()
    local _, agents = roles_of("?role=agent")
    assert.is_true(#agents > 0)
    local all, list = roles_of("")
    assert.equal(#agents + 2, #list) -- the owner, the admin and the agents: no guest
    assert.is_nil(all:find("guest", 1, true))
    assert.equal("", (roles_of("?role=agent,admin")))
    local _, two = roles_of("?role=agent&role=admin")
    assert.equal(#agents + 1, #two)
    local guests = roles_of("?role=guest")
    assert.matches("^guest", guests)
  end)

  it("leaves trashed members out unless trashed is asked for, then lists them with the others", function()
    local _, before = roles_of("")
    local _, agents = roles_of("?role=agent")
    assert.is_true(#agents > 0)
    assert.equal(200, (api("admin", "DELETE", "/project_users/" .. agents[1]._id .. "?soft=true")))
    assert.equal(#before - 1, #select(2, roles_of("")))
    assert.equal(#before - 1, #select(2, roles_of("?trashed=false")))
    assert.equal(#before, #select(2, roles_of("?trashed=true")))
  end)
end)

-- models/project_user.js and routes/project_user.js: the isAuthenticated virtual in every
-- toJSON of a membership (toJSON { virtuals: true }; false for the guest role only); the write
-- routes answer the document they got back, id_user not populated; a soft delete sets trashed,
-- and the model's pre('findOneAndUpdate') hook status "disabled"; a restore wants a trashed member
describe("sandbox project users as routes/project_user.js answers them", function()
  before_each(helper.reset)

  local function id_of(x) return type(x) == "table" and x._id or x end
  local function member(name)
    local _, team = api("owner", "GET", "/project_users")
    for _, pu in ipairs(team) do
      if id_of(pu.id_user) == st.users[name]._id then return pu end
    end
  end

  it("has isAuthenticated wherever a membership is serialised, false for a guest", function()
    local _, team = api("owner", "GET", "/project_users")
    assert.is_true(#team > 0)
    for _, pu in ipairs(team) do assert.is_true(pu.isAuthenticated) end
    local pu = member("agent")
    local status, one = api("agent", "GET", "/project_users/" .. pu._id)
    assert.equal(200, status)
    assert.is_true(one.isAuthenticated)
    local _, me = api("agent", "GET", "/project_users/me")
    assert.is_true(me[1].isAuthenticated)
    local _, by_user = api("agent", "GET", "/project_users/users/" .. st.users.agent._id)
    assert.is_true(by_user[1].isAuthenticated)
    local _, projects = helper.http_json("GET", st.http_url .. "/projects", nil, helper.auth("agent"))
    assert.is_true(#projects > 0)
    for _, x in ipairs(projects) do assert.is_true(x.isAuthenticated) end
    local guest
    status, guest = api("agent", "POST", "/project_users", {})
    assert.equal(200, status)
    assert.same({ "guest", false }, { guest.role, guest.isAuthenticated })
    local _, guests = api("owner", "GET", "/project_users?role=guest")
    assert.is_true(#guests > 0)
    for _, g in ipairs(guests) do assert.is_false(g.isAuthenticated) end
  end)

  it("answers writes with the document, id_user not populated", function()
    local pu = member("agent")
    local status, up = api("owner", "PUT", "/project_users/" .. pu._id, { max_assigned_chat = 4 })
    assert.equal(200, status)
    assert.same({ st.users.agent._id, 4, true, pu._id }, { up.id_user, up.max_assigned_chat, up.isAuthenticated, up.id })
    assert.is_nil(up.isBusy)
    status, up = api("agent", "PUT", "/project_users", { profileStatus = "away" })
    assert.equal(200, status)
    assert.same({ st.users.agent._id, "away", true }, { up.id_user, up.profileStatus, up.isAuthenticated })
  end)

  it("soft-deletes as trashed and disabled, user_available kept; the member is out of the project", function()
    local pu = member("agent")
    assert.is_true(pu.user_available)
    local status, gone = api("admin", "DELETE", "/project_users/" .. pu._id .. "?soft=true")
    assert.equal(200, status)
    assert.same({ true, "disabled", true, st.users.agent._id, true },
      { gone.trashed, gone.status, gone.user_available, gone.id_user, gone.isAuthenticated })
    -- has-role reads only active memberships
    local refused
    status, refused = api("agent", "GET", "/project_users/me")
    assert.same({ 403, helper.NOT_MEMBER }, { status, refused })
    -- GET /:project_userid finds it by id whatever its state
    local _, one = api("admin", "GET", "/project_users/" .. pu._id)
    assert.same({ true, "disabled" }, { one.trashed, one.status })
    -- PUT /:project_userid may make it active again while trashed: in the project (has-role asks
    -- status only), out of the default list (GET / leaves trashed out)
    assert.equal(200, (api("admin", "PUT", "/project_users/" .. pu._id, { status = "active" })))
    assert.equal(200, (api("agent", "GET", "/project_users/me")))
    assert.is_nil(member("agent"))
  end)

  -- event/projectUserEvent.js: project_user.deleted (routes/project_user.js emits it for soft
  -- and hard deletes, not for the plain disable) pulls the user from every group of the project
  it("takes a deleted member out of the project's groups, a disabled one stays", function()
    local agent, admin = st.users.agent._id, st.users.admin._id
    local _, g = api("admin", "POST", "/groups", { name = "Leavers", members = { agent, admin, agent } })
    local function members()
      local _, one = api("owner", "GET", "/groups/" .. g._id)
      return one.members
    end
    assert.same({ agent, admin, agent }, members())
    local _, before = api("owner", "GET", "/groups/" .. g._id)
    assert.equal(200, (api("admin", "DELETE", "/project_users/" .. member("agent")._id)))
    assert.same({ agent, admin, agent }, members())
    local pu = member("admin")
    assert.equal(200, (api("owner", "DELETE", "/project_users/" .. pu._id .. "?soft=true")))
    assert.same({ agent, agent }, members())
    -- Group.updateMany does not version the group
    local _, after = api("owner", "GET", "/groups/" .. g._id)
    assert.equal(before.__v, after.__v)
    assert.equal(200, (api("owner", "PUT", "/project_users/" .. pu._id .. "/restore")))
    assert.same({ agent, agent }, members())
    local _, team = api("owner", "GET", "/project_users")
    local agent_pu
    for _, x in ipairs(team) do if id_of(x.id_user) == agent then agent_pu = x end end
    assert.equal(200, (api("owner", "DELETE", "/project_users/" .. agent_pu._id .. "?hard=true")))
    assert.same({}, members())
  end)

  it("restores a trashed member only", function()
    local pu = member("agent")
    local status, b = api("admin", "PUT", "/project_users/" .. pu._id .. "/restore")
    assert.equal(400, status)
    assert.same({ success = false, error = "Project user is not trashed, cannot restore" }, b)
    assert.equal(200, (api("admin", "DELETE", "/project_users/" .. pu._id .. "?soft=true")))
    status, b = api("admin", "PUT", "/project_users/" .. pu._id .. "/restore")
    assert.equal(200, status)
    assert.same({ false, "active", true, st.users.agent._id, true },
      { b.trashed, b.status, b.user_available, b.id_user, b.isAuthenticated })
    assert.equal(200, (api("agent", "GET", "/project_users/me")))
    local missing = "ffffffffffffffffffffffff"
    status, b = api("admin", "PUT", "/project_users/" .. missing .. "/restore")
    assert.equal(404, status)
    assert.same({ success = false, error = "Project user not found with id " .. missing }, b)
    status, b = api("admin", "DELETE", "/project_users/" .. missing .. "?soft=true")
    assert.equal(404, status)
    assert.same({ success = false, error = "Project user not found with id " .. missing }, b)
  end)

  -- POST /invite: User.findOne by e-mail, else a pending invitation; the caller refused; an active
  -- member of the agents' role type refused unless trashed, which gets a new membership
  it("invites in the server's words: pending, oneself, a member, a trashed member again", function()
    local status, b = api("admin", "POST", "/project_users/invite", { email = "Nobody.Yet@example.com", role = "agent" })
    assert.equal(200, status)
    assert.equal("User not found, save invite in pending ", b.msg)
    assert.equal("nobody.yet@example.com", b.pendingInvitation.email)
    status, b = api("admin", "POST", "/project_users/invite", { email = st.users.admin.email, role = "agent" })
    assert.same({ 403, { success = false, msg = "Forbidden. It is not allowed to invite oneself", code = 4000 } },
      { status, b })
    status, b = api("admin", "POST", "/project_users/invite", { email = st.users.agent.email, role = "agent" })
    assert.same({ 403, { success = false, msg = "Forbidden. User is already a member", code = 4001 } }, { status, b })
    local pu = member("agent")
    assert.equal(200, (api("admin", "DELETE", "/project_users/" .. pu._id .. "?soft=true")))
    status, b = api("admin", "POST", "/project_users/invite", { email = st.users.agent.email, role = "agent" })
    assert.equal(200, status)
    assert.is_true(b._id ~= pu._id)
    assert.same({ st.users.agent._id, "active", "agent" }, { b.id_user, b.status, b.role })
  end)

  -- GET /users/:user_id: findOne by id_user for an ObjectId, else by uuid_user; [that one]
  it("finds one membership by user id or by a guest's uuid, in an array of one", function()
    local status, b = api("agent", "GET", "/project_users/users/" .. st.users.agent._id)
    assert.equal(200, status)
    assert.equal(1, #b)
    assert.same({ st.users.agent._id, false }, { b[1].id_user._id, b[1].isBusy })
    local _, guest = api("agent", "POST", "/project_users", {})
    status, b = api("agent", "GET", "/project_users/users/" .. guest.uuid_user)
    assert.equal(200, status)
    assert.same({ 1, guest._id }, { #b, b[1]._id })
    status, b = api("agent", "GET", "/project_users/users/ffffffffffffffffffffffff")
    assert.same({ 404, { success = false, msg = "Object not found." } }, { status, b })
  end)

  -- GET /users/search: 403 with a bare msg for a user who is no member of the project
  it("answers a search for a non-member with the server's bare 403", function()
    -- the seed's outsider owns another project: a user, no member of this one
    local status, b = api("owner", "GET", "/project_users/users/search?email=outsider@sandbox.test")
    assert.same({ 403, { msg = "Unauthorized. This is not a your teammate." } }, { status, b })
    status, b = api("owner", "GET", "/project_users/users/search?email=" .. st.users.agent.email)
    assert.same({ 200, { _id = st.users.agent._id } }, { status, b })
  end)
end)

-- middleware/ipFilter.js (app.js mounts it on every /:projectid/ path): JSON 401s, not the
-- plain-text one of a refused token
describe("sandbox project IP filter", function()
  before_each(helper.reset)
  after_each(helper.reset)

  local function set(fields)
    local status = helper.http_json("PUT", st.http_url .. "/projects/" .. st.project_id, fields, helper.auth("owner"))
    assert.equal(200, status)
  end

  it("refuses an address outside the allow list, inside the deny list, and a banned user's token", function()
    set{ ipFilterEnabled = true, ipFilter = { "10.0.0.0/8" } }
    local status, b = api("agent", "GET", "/requests")
    assert.equal(401, status)
    assert.same({ err = "error project ip filter" }, b)
    status = api("agent", "GET", "/requests", nil, { ["x-forwarded-for"] = "10.1.2.3, 127.0.0.1" })
    assert.equal(200, status)
    set{ ipFilterEnabled = false, ipFilterDenyEnabled = true, ipFilterDeny = { "127.0.0.1" } }
    status, b = api("agent", "GET", "/requests")
    assert.equal(401, status)
    assert.same({ err = "error project deny ip filter" }, b)
  end)

  -- express-ipfilter 1.2.0's entries (spec/sandbox/ipfilter_spec.lua has the rules): CIDR
  -- blocks of both kinds, else the exact text; the first X-Forwarded-For entry is the client
  local function from(ip)
    return (api("agent", "GET", "/requests", nil, { ["x-forwarded-for"] = ip }))
  end

  it("allows the addresses of the allow list's blocks, IPv6 ones included", function()
    set{ ipFilterEnabled = true, ipFilter = { "2001:db8::/32", "192.168.0.0/16", "::1" } }
    assert.equal(200, from("2001:db8:1::5"))
    assert.equal(200, from("192.168.44.1"))
    assert.equal(200, from("::1"))
    assert.equal(401, from("0::1"))
    assert.equal(401, from("::ffff:192.168.44.1"))
    local status, b = api("agent", "GET", "/requests", nil, { ["x-forwarded-for"] = "2001:db9::5" })
    assert.equal(401, status)
    assert.same({ err = "error project ip filter" }, b)
  end)

  it("refuses the addresses of the deny list's blocks", function()
    set{ ipFilterDenyEnabled = true, ipFilterDeny = { "fe80::/10", "10.0.0.0/8" } }
    local status, b = api("agent", "GET", "/requests", nil, { ["x-forwarded-for"] = "fe80::1, 10.0.0.1" })
    assert.equal(401, status)
    assert.same({ err = "error project deny ip filter" }, b)
    assert.equal(401, from("10.20.30.40"))
    assert.equal(200, from("fec0::1"))
    assert.equal(200, from("11.0.0.1"))
  end)

  it("refuses the token of a banned user by its _id", function()
    local _, signed = helper.http_json("POST", st.http_url .. "/auth/signin",
      { email = st.users.agent.email, password = st.users.agent.password })
    assert.is_string(signed.token)
    set{ bannedUsers = { { id = st.users.agent._id, ip = "127.0.0.1" } } }
    local status, b = api(signed.token, "GET", "/requests")
    assert.equal(401, status)
    assert.same({ err = "error projectBanUserFilter by id" }, b)
    assert.equal(200, (api("admin", "GET", "/requests")))
  end)
end)
