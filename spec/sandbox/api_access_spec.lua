-- Who reaches what: conversations scoped by (project, request_id), custom tokens that carry a
-- role without a membership, custom roles, and malformed ObjectIds in paths
-- (docs/server-api.md §1, §4).
local helper = require("spec.helper")

local st = helper.sandbox()
local PID = st.project_id
local B = st.http_url

local api = helper.api

local reset = helper.reset

local function basic(email, password)
  return { authorization = "Basic " .. require("mime").b64(email .. ":" .. password) }
end
-- seed_core.lua: a real user who owns another project and is no member of the seeded one
local OUTSIDER = basic("outsider@sandbox.test", "outsider-pass-123")

local function other_project()
  local status, list = helper.http_json("GET", B .. "/projects", nil, OUTSIDER)
  assert.equal(200, status)
  assert.equal(1, #list)
  return list[1].id_project._id
end

local function sign(payload, secret)
  local status, j = helper.http_json("POST", st.control_url .. "/sign", { payload = payload, secret = secret })
  assert.equal(200, status)
  return "JWT " .. j.token
end

describe("sandbox conversations are scoped by project", function()
  before_each(reset)

  it("does not show a transcript through another project's id", function()
    local opid = other_project()
    local _, list = api("owner", "GET", "/requests?status=all&limit=1")
    local rid = list.requests[1].request_id
    local _, mine = api("owner", "GET", "/requests/" .. rid .. "/messages")
    assert.is_true(#mine > 0)
    local status, leaked = helper.http_json("GET", B .. "/" .. opid .. "/requests/" .. rid .. "/messages", nil, OUTSIDER)
    assert.equal(200, status)
    assert.same({}, leaked)
    status = helper.http_json("GET", B .. "/" .. opid .. "/requests/" .. rid .. "/messages/csv", nil, OUTSIDER)
    assert.equal(200, status)
    local _, _, text = helper.http("GET", B .. "/" .. opid .. "/requests/" .. rid .. "/messages/csv", nil, OUTSIDER)
    assert.equal("\r\n", text) -- csv-express with no rows: an empty header line
  end)

  it("keeps a post to the same request_id in another project apart from the first one", function()
    local opid = other_project()
    local _, list = api("owner", "GET", "/requests?status=all&limit=1")
    local rid = list.requests[1].request_id
    local _, before = api("owner", "GET", "/requests/" .. rid .. "/messages")
    local status, m = helper.http_json("POST", B .. "/" .. opid .. "/requests/" .. rid .. "/messages",
      { text = "hello from elsewhere" }, OUTSIDER)
    assert.equal(200, status)
    assert.equal(opid, m.id_project)
    assert.equal(opid, m.request.id_project)
    -- the seeded conversation and its transcript are untouched
    local _, after = api("owner", "GET", "/requests/" .. rid .. "/messages")
    assert.equal(#before, #after)
    for _, x in ipairs(helper.nonempty(after)) do assert.are_not.equal("hello from elsewhere", x.text) end
    local _, r = api("owner", "GET", "/requests/" .. rid)
    assert.equal(PID, r.id_project)
    assert.equal(list.requests[1]._id, r._id)
    -- and the other project sees only its own conversation and message
    local s2, other = helper.http_json("GET", B .. "/" .. opid .. "/requests/" .. rid, nil, OUTSIDER)
    assert.equal(200, s2)
    assert.equal(opid, other.id_project)
    assert.are_not.equal(r._id, other._id)
    local _, theirs = helper.http_json("GET", B .. "/" .. opid .. "/requests/" .. rid .. "/messages", nil, OUTSIDER)
    assert.equal(1, #theirs)
    assert.equal("hello from elsewhere", theirs[1].text)
  end)
end)

describe("sandbox custom (userexternal) tokens", function()
  before_each(reset)

  local function project_secret()
    local status, keys = api("agent", "POST", "/keys/generate")
    assert.equal(200, status)
    return keys.jwtSecret
  end
  local AUD = "https://tiledesk.com/projects/" .. PID

  it("grant nothing by the role in their payload: a membership decides", function()
    local owner_claim = sign({ _id = "ext-mallory", sub = "userexternal", aud = AUD, role = "owner" }, project_secret())
    local status, j = helper.http_json("DELETE", B .. "/projects/" .. PID, nil, { authorization = owner_claim })
    assert.equal(403, status)
    assert.same({ success = false, msg = "you dont belong to the project." }, j)
    status, j = api(owner_claim, "GET", "/requests")
    assert.equal(403, status)
    assert.same({ success = false, msg = "you dont belong to the project." }, j)
    local s2, project = helper.http_json("GET", B .. "/projects/" .. PID, nil, helper.auth("owner"))
    assert.equal(200, s2)
    assert.equal(100, project.status)
  end)

  it("act with the membership signinWithCustomToken made, whatever role they claim later", function()
    local secret = project_secret()
    local plain = sign({ _id = "ext-11", sub = "userexternal", aud = AUD, firstname = "Ext" }, secret)
    local status, j = helper.http_json("POST", B .. "/auth/signinWithCustomToken", nil, { authorization = plain })
    assert.equal(200, status)
    assert.equal(plain, j.token)
    -- a "user" member: may write in a conversation, may not list the project's conversations
    local rid = "support-group-" .. PID .. "-ext11000000000000000000000000000"
    assert.equal(200, (api(plain, "POST", "/requests/" .. rid .. "/messages", { text = "hi" })))
    local admin_claim = sign({ _id = "ext-11", sub = "userexternal", aud = AUD, role = "admin" }, secret)
    status, j = api(admin_claim, "GET", "/requests")
    assert.equal(403, status)
    assert.same({ success = false, msg = "you dont have the required role." }, j)
    -- a role the server trusts at sign-in makes a real user with a user token
    local agent_claim = sign({ _id = "ext-12", sub = "userexternal", aud = AUD, role = "agent",
      email = "ext12@example.com" }, secret)
    status, j = helper.http_json("POST", B .. "/auth/signinWithCustomToken", nil, { authorization = agent_claim })
    assert.equal(200, status)
    assert.are_not.equal(agent_claim, j.token)
    assert.equal(200, (api(j.token, "GET", "/requests")))
    helper.answers(403, helper.NOT_MEMBER, api(agent_claim, "GET", "/requests"))
  end)
end)

-- The sandbox keeps the decoded claims and the signature verdict of a token between calls
-- (sbx.jwt): what the server checks on every call must still be checked on every call.
describe("sandbox token checks on every call", function()
  before_each(reset)

  local AUD = "https://tiledesk.com/projects/" .. PID
  local UNAUTHORIZED = "Unauthorized"

  local function new_secret()
    local status, keys = api("agent", "POST", "/keys/generate")
    assert.equal(200, status)
    return keys.jwtSecret
  end

  it("refuses a custom token once the project secret it was signed with is rotated", function()
    local old = sign({ _id = "ext-rot", sub = "userexternal", aud = AUD }, new_secret())
    -- accepted (authenticated, then no member) twice: the second call uses what the first kept
    helper.answers(403, helper.NOT_MEMBER, api(old, "GET", "/requests"))
    helper.answers(403, helper.NOT_MEMBER, api(old, "GET", "/requests"))
    local fresh = new_secret()
    helper.answers(401, UNAUTHORIZED, api(old, "GET", "/requests"))
    helper.answers(403, helper.NOT_MEMBER, api(sign({ _id = "ext-rot", sub = "userexternal", aud = AUD }, fresh),
      "GET", "/requests"))
  end)

  it("refuses the token of a user deleted after the token was used", function()
    local email = "short-lived@example.com"
    assert.equal(200, (helper.http_json("POST", B .. "/auth/signup",
      { email = email, password = "pw-123456", firstname = "Short", lastname = "Lived" })))
    local status, j = helper.http_json("POST", B .. "/auth/signin", { email = email, password = "pw-123456" })
    assert.equal(200, status)
    local auth = { authorization = j.token }
    local s1, me = helper.http_json("GET", B .. "/users", nil, auth)
    assert.equal(200, s1)
    assert.equal(email, me.email)
    assert.equal(200, (helper.http_json("DELETE", B .. "/users", nil, auth)))
    local s2, _, _, text = helper.http_json("GET", B .. "/users", nil, auth)
    assert.equal(401, s2)
    assert.equal(UNAUTHORIZED, text)
  end)

  it("refuses a token whose signature was changed after the genuine one was accepted", function()
    local status, j = helper.http_json("POST", B .. "/auth/signin",
      { email = st.users.owner.email, password = st.users.owner.password })
    assert.equal(200, status)
    local token = j.token
    assert.equal(200, (api(token, "GET", "/requests/count")))
    local head, sig = token:match("^(JWT [^.]+%.[^.]+%.)(.+)$")
    local forged = head .. (sig:sub(1, 1) == "A" and "B" or "A") .. sig:sub(2)
    helper.answers(401, UNAUTHORIZED, api(forged, "GET", "/requests/count"))
    assert.equal(200, (api(token, "GET", "/requests/count")))
  end)

  it("reads each Authorization header by its own text: the scheme decides, whatever came before", function()
    local status, j = helper.http_json("POST", B .. "/auth/signin",
      { email = st.users.owner.email, password = st.users.owner.password })
    assert.equal(200, status)
    local bare = j.token:match("^JWT (.+)$")
    assert.equal(200, (api("JWT " .. bare, "GET", "/requests/count")))
    helper.answers(401, UNAUTHORIZED, api({ authorization = "Bearer " .. bare }, "GET", "/requests/count"))
    assert.equal(200, (api({ authorization = "jwt " .. bare }, "GET", "/requests/count")))
    helper.answers(401, UNAUTHORIZED, api({ authorization = "Bearer " .. bare }, "GET", "/requests/count"))
  end)

  it("keeps checking exp: an expired token stays refused, the same claims unexpired pass", function()
    local secret = new_secret()
    local claims = { _id = "ext-exp", sub = "userexternal", aud = AUD, exp = os.time() - 60 }
    local expired = sign(claims, secret)
    helper.answers(401, UNAUTHORIZED, api(expired, "GET", "/requests"))
    helper.answers(401, UNAUTHORIZED, api(expired, "GET", "/requests"))
    claims.exp = os.time() + 3600
    helper.answers(403, helper.NOT_MEMBER, api(sign(claims, secret), "GET", "/requests"))
  end)
end)

describe("sandbox custom roles", function()
  before_each(reset)

  local function bob_pu()
    local _, team = api("owner", "GET", "/project_users")
    for _, pu in ipairs(team) do
      if pu.id_user.email == "bob@sandbox.test" then return pu end
    end
    error("no bob")
  end

  it("accepts a custom role by name on PUT /project_users/{id}; unknown names stay 422", function()
    local status, role = api("admin", "POST", "/roles", { name = "closer", permissions = { "request_delete" } })
    assert.equal(200, status)
    assert.equal("closer", role.name)
    local pu = bob_pu()
    local j
    status, j = api("admin", "PUT", "/project_users/" .. pu._id, { role = "closer" })
    assert.equal(200, status)
    assert.equal("closer", j.role)
    status, j = api("admin", "PUT", "/project_users/" .. pu._id, { role = "no-such-role" })
    assert.equal(422, status)
    assert.equal("role", j.errors[1].param)
    -- its permission names count: request_delete deletes a conversation, as owners do
    local _, list = api("owner", "GET", "/requests?limit=1")
    local rid = list.requests[1].request_id
    local bob = basic("bob@sandbox.test", "bob-pass-123")
    status = api(bob, "DELETE", "/requests/" .. rid)
    assert.equal(200, status)
    helper.answers(404, helper.NOT_FOUND, api("owner", "GET", "/requests/" .. rid))
    -- back to a built-in role: the permissions go with the custom role
    status, j = api("admin", "PUT", "/project_users/" .. pu._id, { role = "agent" })
    assert.equal(200, status)
    assert.is_nil(j.permissions)
    local _, list2 = api("owner", "GET", "/requests?limit=1")
    status, j = api(bob, "DELETE", "/requests/" .. list2.requests[1].request_id)
    assert.equal(403, status)
    assert.same({ success = false, msg = "Unauthorized." }, j)
  end)
end)

describe("sandbox malformed ObjectIds in paths", function()
  before_each(reset)

  local UNKNOWN = "5f0000000000000000000000"

  it("answer 500 Error getting object. where a well-formed unknown id is a 404", function()
    for _, base in ipairs({ "/leads/", "/departments/", "/faq_kb/", "/bots/", "/faq/", "/intents/", "/groups/",
      "/project_users/", "/canned/", "/tags/", "/subscriptions/", "/events/", "/properties/", "/segments/",
      "/roles/", "/pendinginvitations/" }) do
      local status, j = api("owner", "GET", base .. "not-an-id")
      assert.equal(500, status, base)
      assert.same({ success = false, msg = "Error getting object." }, j, base)
      status, j = api("owner", "GET", base .. UNKNOWN)
      assert.equal(404, status, base)
      -- routes/faq_kb.js GET /:faq_kbid answers its own words
      local msg = (base == "/faq_kb/" or base == "/bots/")
        and ("Chatbot not found with id " .. UNKNOWN .. " for project " .. st.project_id) or "Object not found."
      assert.same({ success = false, msg = msg }, j, base)
    end
    local _, list = api("owner", "GET", "/requests?limit=1")
    local status, j = api("owner", "GET", "/requests/" .. list.requests[1].request_id .. "/messages/123")
    assert.equal(500, status)
    assert.same({ success = false, msg = "Error getting object." }, j)
  end)

  it("names the failed operation on writes", function()
    local status, j = api("owner", "PUT", "/leads/xyz", { fullname = "x" })
    assert.equal(500, status)
    assert.same({ success = false, msg = "Error updating object." }, j)
    -- routes/department.js PATCH /:departmentid: its own words, 'Error patching object.'
    status, j = api("owner", "PATCH", "/departments/xyz", { name = "x" })
    assert.equal(500, status)
    assert.same({ success = false, msg = "Error patching object." }, j)
    status, j = api("owner", "DELETE", "/tags/xyz")
    assert.equal(500, status)
    assert.same({ success = false, msg = "Error deleting object." }, j)
    -- a well-formed unknown id: routes/lead.js reads by findById (404), deletes by an upsert
    status, j = api("owner", "GET", "/leads/" .. UNKNOWN)
    assert.equal(404, status)
    assert.same({ success = false, msg = "Object not found." }, j)
    status, j = api("owner", "DELETE", "/leads/" .. UNKNOWN)
    assert.equal(200, status)
    assert.equal(1000, j.status)
  end)

  it("leaves request_id, the default department, intentId deletes and chatbot ids alone", function()
    helper.answers(404, helper.NOT_FOUND, api("owner", "GET", "/requests/not-an-object-id"))
    local status, d = api(nil, "GET", "/departments/default")
    assert.equal(200, status)
    assert.is_true(d.default)
    assert.equal(200, (api("owner", "GET", "/departments/default/operators")))
    helper.answers(500, { success = false, msg = "Error deleting object." }, api("owner", "DELETE", "/departments/default"))
    local _, faqs = api("admin", "GET", "/faq?id_faq_kb=" .. st.bot._id)
    local f = faqs[1]
    status = api("admin", "DELETE", "/faq/intentId" .. f.intent_id .. "?id_faq_kb=" .. st.bot._id)
    assert.equal(200, status)
    helper.answers(404, helper.NOT_FOUND, api("admin", "GET", "/faq/" .. f._id))
    helper.answers(404, { success = false, msg = "Error deleting object. The object does not exists." },
      api("admin", "DELETE", "/faq/intentIdnope?id_faq_kb=" .. st.bot._id))
    helper.answers(404, { success = false, error = "Webhook not found for chatbot no-such-bot" }, api("admin", "GET", "/webhooks/no-such-bot"))
  end)
end)
