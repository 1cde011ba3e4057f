-- A realistic project: departments, a bot with intents, a few hundred conversations over the
-- last 60 days with their messages and leads, activities, canned responses, tags, a group.
-- Deterministic: a fixed-seed generator of our own, so every run has the same content.
local util = require("sbx.util")
local crypto = require("sbx.crypto")

local FIRST = { "Marco", "Giulia", "Luca", "Sara", "John", "Emma", "Noah", "Olivia", "Liam", "Ava", "Mateo", "Sofia",
  "Hiro", "Yuki", "Amir", "Leila", "Ivan", "Anna", "Pierre", "Chloe" }
local LASTN = { "Rossi", "Bianchi", "Smith", "Johnson", "Garcia", "Muller", "Dubois", "Tanaka", "Kowalski", "Silva",
  "Novak", "Jensen" }
local QUESTIONS = {
  "Hi, I can't log in to my account", "Where is my order #%d?", "How do I reset my password?",
  "Do you ship to Italy?", "I was charged twice this month", "Can I change my plan?",
  "The app crashes when I upload a photo", "What are your opening hours?", "I need an invoice for order #%d",
  "How do I cancel my subscription?", "Is there a discount for students?", "My coupon code does not work",
}
local REPLIES = { "Thanks for reaching out! Let me check.", "Could you give me your order number?",
  "I have escalated this to our billing team.", "Done, you should see it now.", "Anything else I can help with?",
  "Sorry for the trouble, we are on it." }
local VISITOR = { "Thanks!", "It's 4411", "Still not working", "Great, that worked", "OK, I'll wait", "Perfect" }

return function(S, seeded)
  local seed = 20261124
  local function rand(n) -- 1..n, Park-Miller
    seed = (seed * 16807) % 2147483647
    return seed % n + 1
  end
  local pid = seeded.project._id
  local owner = seeded.users.owner
  local now = S.now_ms()
  local DAY = 86400000

  local depts = S.coll("departments")
  local default = depts:insert({ name = "Default Department", routing = "assigned", default = true, status = 1,
    id_project = pid, createdBy = owner._id }, now - 90 * DAY)
  local billing = depts:insert({ name = "Billing", routing = "assigned", default = false, status = 1,
    description = "Invoices, payments and refunds", id_project = pid, createdBy = owner._id }, now - 89 * DAY)

  local bot = S.coll("faq_kb"):insert({ name = "Sandbox Bot", description = "Answers the first questions", type = "external",
    url = "", language = "en", id_project = pid, createdBy = owner._id, trashed = false, webhook_enabled = false,
    secret = crypto.hex(crypto.random(16)), attributes = {} }, now - 88 * DAY)
  local support = depts:insert({ name = "Support (bot first)", routing = "assigned", default = false, status = 1,
    id_bot = bot._id, description = "The bot answers first, then hands off", id_project = pid,
    createdBy = owner._id }, now - 88 * DAY)
  seeded.bot = bot
  seeded.departments = { default = default, billing = billing, support = support }
  local intents = {
    { "start", "\\start", "Hello! I am the Sandbox Bot. How can I help?" },
    { "opening_hours", "What are your opening hours?", "We are open 9:00-18:00, Monday to Friday." },
    { "reset_password", "How do I reset my password?", "Use 'Forgot password' on the login page." },
    { "shipping", "Do you ship abroad?", "We ship to the whole EU." },
    { "human", "I want to talk to a human", "Connecting you to an agent.\\agent" },
    { "defaultFallback", "", "Sorry, I did not understand." },
  }
  for i, it in ipairs(intents) do
    S.coll("faq"):insert({ id_faq_kb = bot._id, intent_display_name = it[1], question = it[2], answer = it[3],
      intent_id = string.format("%08x-0000-4000-8000-%012x", i, i), enabled = true, language = "en",
      id_project = pid, createdBy = owner._id }, now - 88 * DAY + i * 1000)
  end

  local agents = { seeded.users.agent, seeded.users.admin, seeded.more_agents[1] }
  local pus = S.coll("project_users")
  local conv = require("sbx.conv")
  local archiver = require("sbx.archiver")
  local statuses = { 100, 200, 200, 300, 300, 300, 1000, 1000, 1000, 1000, 50, 150 }
  local dept_list = { default, default, billing, support }
  for i = 1, 320 do
    local at = now - (320 - i) * math.floor(60 * DAY / 320) - rand(3600000)
    local first = FIRST[rand(#FIRST)]
    local last = LASTN[rand(#LASTN)]
    local guest = string.format("%08x-aaaa-4bbb-8ccc-%012x", i, i * 7919)
    local email = rand(3) > 1 and string.format("%s.%s%d@example.com", first:lower(), last:lower(), i) or nil
    local pu = pus:insert({ id_project = pid, uuid_user = guest, role = "guest", roleType = 2, user_available = false,
      status = "active", trashed = false, attributes = {}, tags = util.arr() }, at)
    local lead = S.coll("leads"):insert({ lead_id = guest, fullname = first .. " " .. last, email = email,
      attributes = { plan = ({ "free", "pro", "business" })[rand(3)] }, tags = util.arr(), status = 100,
      id_project = pid, createdBy = guest, company = rand(4) == 1 and (last .. " Ltd") or nil }, at)
    local q = QUESTIONS[rand(#QUESTIONS)]:format(1000 + i)
    local dept = dept_list[rand(#dept_list)]
    local r = conv.create(pid, { request_id = string.format("support-group-%s-%032x", pid, i), first_text = q,
      sender = guest, senderFullname = first .. " " .. last, email = email, departmentid = dept._id,
      requester_pu = pu, lead_doc = lead, sourcePage = "https://shop.example.com/" .. ({ "", "cart", "help" })[rand(3)],
      userAgent = "Mozilla/5.0 (sandbox)" }, { id = guest }, at)
    local status = statuses[rand(#statuses)]
    local agent = agents[rand(#agents)]
    -- 200, 300 and 1000 were routed as they opened; 100, 50 and 150 never had anyone
    local handled = status == 200 or status == 300 or status == 1000
    if handled and dept.id_bot and rand(2) == 1 then
      r.participants = util.arr{ "bot_" .. bot._id }
    elseif handled then
      r.participants = util.arr{ agent._id }
    else
      r.participants = util.arr()
    end
    r.assigned_at = handled and S.iso(at) or nil
    r.status = handled and conv.STATUS.ASSIGNED or (status == 50 and 50 or conv.STATUS.UNASSIGNED)
    conv.refresh(r)
    if rand(5) == 1 then r.tags = util.arr{ { _id = S.id(), tag = ({ "vip", "bug", "billing" })[rand(3)], color = "#43B1F2" } } end
    r.priority = ({ "low", "medium", "medium", "high" })[rand(4)]
    archiver.request(r, "REQUEST_CREATE", at)
    archiver.created(r, at)
    r.status = status
    conv.add_message(pid, r, { text = q, sender = guest, senderFullname = first .. " " .. last }, { id = guest }, at)
    -- 200 is assigned but not answered yet: the first answer of a participant makes it 300
    local answers = status == 300 or status == 1000
    local n = 1 + rand(7)
    if status == 300 and n < 2 then n = 2 end
    local t, first_answer = at, nil
    for k = 2, n do
      t = t + 20000 + rand(300000)
      if k % 2 == 0 and answers and #r.participants > 0 then
        local who = r.participants[1]
        local is_bot = who:match("^bot_")
        conv.add_message(pid, r, { text = REPLIES[rand(#REPLIES)], sender = who,
          senderFullname = is_bot and bot.name or (agent.firstname .. " " .. agent.lastname) }, { id = who }, t)
        first_answer = first_answer or t
      else
        conv.add_message(pid, r, { text = VISITOR[rand(#VISITOR)], sender = guest,
          senderFullname = first .. " " .. last }, { id = guest }, t)
      end
    end
    if first_answer then
      r.first_response_at = S.iso(first_answer)
      r.waiting_time = first_answer - at
    end
    local last_change = t
    if status == 1000 then
      last_change = t + 60000
      r.closed_at = S.iso(last_change)
      r.closed_by = r.participants[1] or owner._id
      r.duration = last_change - at
      if rand(2) == 1 then
        r.rating = rand(5)
        r.rating_message = ({ "Slow", "Meh", "OK", "Good", "Great, thanks!" })[r.rating]
      end
    end
    r.updatedAt = S.iso(last_change)
    if r.hasBot then r.attributes._answerid = ({ "start", "opening_hours", "shipping" })[rand(3)] end
    if rand(6) == 1 then lead.tags = util.arr{ ({ "returning", "newsletter" })[rand(2)] } end
    if status == 1000 then archiver.request(r, "REQUEST_CLOSE", last_change) end
  end
  -- a few extra leads that never wrote
  for i = 1, 20 do
    S.coll("leads"):insert({ lead_id = string.format("lead-extra-%03d", i), fullname = FIRST[rand(#FIRST)] .. " Prospect",
      email = string.format("prospect%d@example.org", i), attributes = { source = "import" },
      tags = util.arr{ "prospect" }, status = 100, id_project = pid, createdBy = owner._id }, now - (30 - i) * DAY)
  end
  for _, c in ipairs({ { "Greeting", "Hello $recipient_name, how can I help you?" },
    { "Closing", "Thanks for contacting us, have a nice day!" }, { "Wait", "Please wait a moment while I check." } }) do
    S.coll("canned"):insert({ title = c[1], text = c[2], shared = true, status = 100, id_project = pid,
      createdBy = owner._id }, now - 80 * DAY)
  end
  for _, t in ipairs({ { "vip", "#f7b500" }, { "bug", "#e02020" }, { "billing", "#43B1F2" } }) do
    S.coll("tags"):insert({ tag = t[1], color = t[2], id_project = pid, createdBy = owner._id }, now - 80 * DAY)
  end
  S.coll("groups"):insert({ name = "Tier 1", members = util.arr{ seeded.users.agent._id, seeded.more_agents[1]._id },
    enabled = true, trashed = false, id_project = pid, createdBy = owner._id }, now - 80 * DAY)
  S.coll("events"):insert({ name = "typing.start", attributes = {}, status = 100, id_project = pid,
    project_user = seeded.pus.agent._id, createdBy = seeded.users.agent._id }, now - DAY)
  S.coll("events"):insert({ name = "page.view", attributes = { url = "https://shop.example.com/pricing" },
    status = 100, id_project = pid, createdBy = owner._id }, now - DAY / 2)
end
