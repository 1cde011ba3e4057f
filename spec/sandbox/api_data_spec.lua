-- What the sandbox's data looks like: a seed whose conversations are consistent with their
-- status, tickets numbered by a counter, activities recorded as the server's archiver does,
-- and sorting on any field (docs/server-api.md §3; the server's routes/request.js, pubmodules/analytics).
local helper = require("spec.helper")

local st = helper.sandbox()

local api = helper.api

local reset = helper.reset

-- every conversation of the project, whatever its status
local function all_requests()
  local out = {}
  for page = 0, 20 do
    local status, b = api("owner", "GET", "/requests?status=all&limit=100&direction=1&page=" .. page)
    assert.equal(200, status)
    for _, r in ipairs(b.requests) do out[#out + 1] = r end
    if #b.requests < 100 then break end
  end
  return out
end

local function is_participant(r, sender)
  for _, p in ipairs(r.participants) do if p == sender then return true end end
  return false
end

describe("sandbox seed", function()
  before_each(reset)

  it("has conversations consistent with their status", function()
    local list = all_requests()
    assert.is_true(#list >= 300 and #list <= 400, "conversations: " .. #list)
    local tickets, seen = {}, {}
    for _, r in ipairs(list) do
      local what = r.request_id .. " (" .. r.status .. ")"
      if r.status == 100 or r.status == 50 or r.status == 150 then
        assert.is_nil(r.assigned_at, what)
        assert.equal(0, #r.participants, what)
      else
        assert.is_string(r.assigned_at, what)
        assert.is_true(#r.participants > 0, what)
      end
      if r.assigned_at then
        assert.is_true(r.assigned_at >= r.createdAt and r.assigned_at <= r.updatedAt, what)
      end
      if r.first_response_at then assert.is_true(r.first_response_at <= r.updatedAt, what) end
      if r.closed_at then assert.is_true(r.closed_at <= r.updatedAt, what) end
      assert.is_nil(seen[r.ticket_id], what)
      seen[r.ticket_id] = true
      tickets[#tickets + 1] = r.ticket_id
      -- who answered: 200 means nobody yet, 300 means somebody did
      if r.status == 200 or r.status == 300 or r.status == 1000 then
        local _, msgs = api("owner", "GET", "/requests/" .. r.request_id .. "/messages")
        local answered
        for _, m in ipairs(msgs) do
          if is_participant(r, m.sender) then answered = answered or m.createdAt end
        end
        if r.status == 200 then assert.is_nil(answered, what) end
        if r.status == 300 then assert.is_string(answered, what) end
        if answered then
          assert.equal(answered, r.first_response_at, what)
          assert.is_number(r.waiting_time, what)
        else
          assert.is_nil(r.first_response_at, what)
        end
      end
    end
    table.sort(tickets)
    assert.equal(1, tickets[1])
    assert.equal(#list, tickets[#tickets])
  end)

  it("is the same after every reset", function()
    local function digest()
      local out = {}
      for _, r in ipairs(all_requests()) do
        out[#out + 1] = table.concat({ r.request_id, r.ticket_id, r.status, table.concat(r.participants, ","),
          r.first_text, tostring(r.assigned_at ~= nil), tostring(r.waiting_time) }, "|")
      end
      return table.concat(out, "\n")
    end
    local first = digest()
    reset()
    assert.equal(first, digest())
  end)

  it("numbers tickets with a counter that never gives a number twice", function()
    local status, a = api("agent", "POST", "/requests", { first_text = "first" })
    assert.equal(200, status)
    local _, b = api("agent", "POST", "/requests", { first_text = "second" })
    assert.equal(a.ticket_id + 1, b.ticket_id)
    assert.equal(200, (api("owner", "DELETE", "/requests/" .. b.request_id)))
    local _, c = api("agent", "POST", "/requests", { first_text = "third" })
    assert.equal(b.ticket_id + 1, c.ticket_id)
  end)
end)

describe("sandbox activities", function()
  before_each(reset)

  local function newest(n, verbs)
    local status, b = api("admin", "GET", "/activities?limit=" .. (n or 5) .. (verbs and "&activities=" .. verbs or ""))
    assert.equal(200, status)
    return b.activities
  end

  it("records conversations opened and closed, newest first", function()
    local _, before = api("admin", "GET", "/activities?limit=1")
    local _, r = api("agent", "POST", "/requests", { first_text = "activity please" })
    local a = newest(1, "REQUEST_CREATE,REQUEST_CLOSE")[1]
    assert.equal("REQUEST_CREATE", a.verb)
    -- the requester: the lead the agent's names made
    assert.same({ type = "user", id = type(r.lead) == "table" and r.lead._id or r.lead, name = "Alice Agent" },
      helper.actor_of(a))
    assert.same({ type = "request", id = r._id, object = a.target.object }, a.target)
    assert.equal(r.request_id, a.target.object.request_id)
    assert.equal(r.request_id, a.actionObj.request_id)
    assert.equal(st.project_id, a.id_project)
    local status = api("owner", "PUT", "/requests/" .. r.request_id .. "/close")
    assert.equal(200, status)
    local list = newest(2, "REQUEST_CREATE,REQUEST_CLOSE")
    assert.equal("REQUEST_CLOSE", list[1].verb)
    assert.same({ type = "user", id = st.users.owner._id, name = "Olivia Owner" }, helper.actor_of(list[1]))
    assert.equal(r._id, list[1].target.id)
    assert.equal(1000, list[1].target.object.status)
    assert.equal("REQUEST_CREATE", list[2].verb)
    assert.is_true(list[1].createdAt >= list[2].createdAt)
    -- and, routed to an agent as it opened, its automatic assignment (event/requestEvent.js
    -- request.create.simple emits request.assigned for the first human among participantsAgents)
    local _, after = api("admin", "GET", "/activities?limit=1")
    assert.equal(before.count + 2 + (#r.participantsAgents > 0 and 1 or 0), after.count)
  end)

  it("records invitations and membership updates with the body as action", function()
    local _, team = api("owner", "GET", "/project_users")
    local carla
    for _, pu in ipairs(team) do if pu.id_user.email == "carla@sandbox.test" then carla = pu end end
    local status = api("admin", "PUT", "/project_users/" .. carla._id, { role = "supervisor", user_available = true })
    assert.equal(200, status)
    local a = newest(1)[1]
    assert.equal("PROJECT_USER_UPDATE", a.verb)
    assert.same({ type = "user", id = st.users.admin._id, name = "Adam Admin" }, helper.actor_of(a))
    -- an admin's change of another member: the body, the new status, the update's kind and source
    assert.same({ role = "supervisor", user_available = true, newStatus = "available", updateType = "admin",
      source = "api" }, a.actionObj)
    assert.equal("project_user", a.target.type)
    assert.equal(carla._id, a.target.id)
    assert.equal("supervisor", a.target.object.role)
    local _, pu = api("admin", "POST", "/project_users/invite", { email = "outsider@sandbox.test", role = "agent" })
    a = newest(1)[1]
    assert.equal("PROJECT_USER_INVITE", a.verb)
    assert.equal(pu._id, a.target.id)
    assert.same({ email = "outsider@sandbox.test", role = "agent", inviteType = "registered" }, a.actionObj)
    local _, pending = api("admin", "POST", "/project_users/invite", { email = "new.person@example.com", role = "agent" })
    a = newest(1)[1]
    assert.equal("PROJECT_USER_INVITE", a.verb)
    assert.same({ type = "pendinginvitation", id = pending.pendingInvitation._id, object = a.target.object }, a.target)
    local _, verbs = api("admin", "GET", "/activities?activities=PROJECT_USER_INVITE,PROJECT_USER_UPDATE")
    assert.equal(3, verbs.count)
  end)
end)

describe("sandbox sorting", function()
  before_each(reset)

  it("sorts on table-valued and mixed fields without failing", function()
    for _, field in ipairs({ "participants", "tags", "channel", "snapshot", "notes", "attributes", "lead",
      "rating", "closed_at", "hasBot" }) do
      for _, dir in ipairs({ "1", "-1" }) do
        local status, b = api("owner", "GET", "/requests?status=all&limit=100&sort=" .. field .. "&direction=" .. dir)
        assert.equal(200, status, field .. " " .. dir)
        assert.equal(100, #b.requests, field)
      end
    end
    -- numbers still sort as numbers, missing values last
    local _, asc = api("owner", "GET", "/requests?status=all&limit=100&sort=rating&direction=1")
    local last = -math.huge
    local missing = false
    for _, r in ipairs(helper.nonempty(asc.requests)) do
      if r.rating == nil then missing = true
      else
        assert.is_false(missing)
        assert.is_true(r.rating >= last)
        last = r.rating
      end
    end
    local status = api("agent", "GET", "/leads?sort=tags&direction=1")
    assert.equal(200, status)
    status = api("agent", "GET", "/canned?sort=shared")
    assert.equal(200, status)
  end)
end)
