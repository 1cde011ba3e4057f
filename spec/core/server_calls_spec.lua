-- The calls rebuilt for the real server, against the sandbox. Expectations come from the server's
-- source (routes/request.js participants routes and services/requestService.js; routes/faq.js
-- PUT; routes/pending-invitation.js PUT), not from the sandbox.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()

local function as(role)
  local u = st.users[role]
  return tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = u.email, password = u.password,
    retries = 0 }
end

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

describe("calls rebuilt for the real server, against the sandbox", function()
  local admin
  setup(function()
    helper.reset()
    admin = as("admin")
  end)

  it("requests:change_bot swaps the bot and keeps the agents, then posts the message", function()
    local rid = assert(admin.requests:create{ first_text = "change_bot: keep my agent" }).request_id
    local agent_id = st.users.agent._id
    assert(admin.requests:add_participant(rid, agent_id))
    assert(admin.requests:add_participant(rid, "bot_" .. st.bot._id))
    local other = assert(admin.bots:create("Change Bot Target"))
    local conv, sent = admin.requests:change_bot(rid, other._id, { message = "hello new bot" })
    assert.is_table(conv, sent)
    local got = assert(admin.requests:get(rid))
    assert.is_true(contains(got.participants, agent_id))
    assert.is_true(contains(got.participants, "bot_" .. other._id))
    assert.is_false(contains(got.participants, "bot_" .. st.bot._id))
    assert.equal("hello new bot", sent.text)
    -- by name, back to the first bot
    assert(admin.requests:change_bot(rid, { name = st.bot.name }))
    got = assert(admin.requests:get(rid))
    assert.is_true(contains(got.participants, agent_id))
    assert.is_true(contains(got.participants, "bot_" .. st.bot._id))
    assert.is_false(contains(got.participants, "bot_" .. other._id))
  end)

  it("faqs:update sends the bot's id and changes the intent", function()
    local b = assert(admin.bots:create("Faq Update Bot"))
    local f = assert(admin.faqs:create(b._id, { question = "Open on Sunday?", answer = "No" }))
    assert.equal("Yes", assert(admin.faqs:update(f._id, b._id, { answer = "Yes" })).answer)
    assert.equal("Yes", assert(admin.faqs:get(f._id)).answer)
  end)

  it("team:update_invitation changes the role and keeps the email", function()
    local inv = assert(admin.team:invite("keep.my.email@example.com", "agent")).pendingInvitation
    assert.is_table(inv)
    local up = assert(admin.team:update_invitation(inv._id, { role = "supervisor" }))
    assert.equal("supervisor", up.role)
    local got = assert(admin.team:get_invitation(inv._id))
    assert.equal("keep.my.email@example.com", got.email)
    assert.equal("supervisor", got.role)
  end)
end)
