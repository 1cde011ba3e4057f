-- Conversations ("requests"), addressed by their request_id string.
local util = require("tiledesk.util")
local url = require("tiledesk.url")
local E = require("tiledesk.error")

local M = {}

-- The filters the server reads (routes/request.js GET / and /csv, routes/user-request.js GET
-- /me); resources' filters are checked and converted by tiledesk.filters.
local START = { "from this date (inclusive; a day means its first second)", date = "start" }
local END = { "to this date (inclusive; a day means all of it)", date = "end" }
local common = {
  sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)",
  dept_id = "department _id", full_text = "full-text search", hasbot = "true/false: a bot takes part",
  participant = "a participant's user id, or bot_<id>", tags = "a tag name", location = "location",
  ticket_id = "ticket number", preflight = "true: include preflight conversations",
  start_date = START, end_date = END,
  snap_department_routing = "department routing at creation (assigned, pooled, fixed)",
  snap_department_default = "true/false: created in the default department",
  snap_department_id_bot = "bot _id of the department at creation",
  snap_department_id_bot_exists = "true/false: the department had a bot at creation",
  channel = "channel name (chat21, email, form, whatsapp, ...), or online/offline",
}
local function set(extra)
  local t = {}
  for k, v in pairs(common) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end
local list_filters = set{
  status = { "status codes (an array is comma-joined), or 'all'; default: open ones (below 1000, not 50 or 150)",
    list = "comma" },
  requester_email = "the lead's email", lead = "lead _id", phone = "contact phone (digits matched anywhere)",
  no_textscore = "true: full_text results sorted by sort, not by score",
  start_date_time = { "same as start_date", date = "start", alias = "start_date" },
  end_date_time = { "same as end_date", date = "end", alias = "end_date" },
  timezone = "IANA zone the dates are read in (default: the client's timezone option)",
  filterRangeField = "field the dates filter (default createdAt; updatedAt, closed_at, ...)",
  snap_lead_lead_id = "lead_id of the lead at creation", snap_lead_email = "lead email at creation",
  smartAssignment = "true/false", priority = "low, medium, high, urgent",
  caller = "voice: caller phone", called = "voice: called phone", call_id = "voice: call id",
  duration = "minutes (with duration_op)", duration_op = "gt (at least) or lt (at most)",
  abandoned = { "true: fully abandoned ones", also = "abandonded" },
  rated = "true: rated ones", draft = "false: leave drafts out",
}
local csv_filters = set{}
for k, v in pairs(list_filters) do csv_filters[k] = v end
csv_filters.mine = { "true: only the caller's (owners and admins; read by presence: false sends nothing)", presence = true }
csv_filters.page = "page of 100000 rows (from 0)"
list_filters.workingStatus = { "working status: a value or an array (in), or { in =, nin =, ne = }", list = "comma",
  ops = { "in", "nin", "ne" } }
list_filters.no_populate = "true: department, lead and requester as bare ids, no participatingAgents or participatingBots"
list_filters.no_count = "true: count left out (faster)"
local me_filters = set{
  status = "one status code, or 'all' (the server cannot read a list here)",
  filterRangeField = "field start_date filters when end_date is absent (default createdAt)",
}

M.routes = {
  { "list", "GET", "/requests", page = { items = "requests", size = 100, max = 100 },
    filters = list_filters, dates = "tz", returns = "conversation",
    doc = "One page of conversations; closed ones only with status = 'all' or 1000",
    example = 'local page = assert(client.requests:list{ status = { 100, 200 }, start_date = { 2026, 11, 1 }, sort = "updatedAt" })' },
  { "me", "GET", "/requests/me", page = { items = "requests", size = 100, max = 100 },
    filters = me_filters, dates = "utc_days", returns = "conversation",
    doc = "Conversations where the caller is the requester (dates: whole UTC days)",
    example = 'local page = assert(client.requests:me{ limit = 10 })' },
  { "count", "GET", "/requests/count",
    filters = { merge_assigned = "true: bot-assigned counted with assigned",
      conversation_quota = "true: { open, closed, slot = { startDate, endDate } } of the plan's slot (DD/MM/YYYY)" },
    doc = "Counts of unassigned/assigned conversations",
    example = 'local counts = assert(client.requests:count()); print(counts.unassigned)' },
  { "csv", "GET", "/requests/csv", raw = true, filters = csv_filters, dates = "tz",
    doc = "CSV export, 100000 rows a page (the list's filters but workingStatus, no_populate and no_count; mine)",
    example = 'local csv = assert(client.requests:csv{ status = "all", start_date = "2026-11-01", end_date = "2026-11-30" })' },
  { "get", "GET", "/requests/{}", params = { "request_id" }, doc = "One conversation" },
  { "create", "POST", "/requests", body = "required", doc = "Open a conversation without a message (first_text required)",
    example = 'local conv = assert(client.requests:create{ first_text = "Order #1234 is late", departmentid = dep_id })' },
  { "update", "PATCH", "/requests/{}", params = { "request_id" }, body = "required",
    doc = "Patch lead, status, tags, rating, rating_message, sourcePage, language, first_text, subject, location, "
      .. "priority, smartAssignment, workingStatus, channelName; other keys, and falsy values (null, false, \"\", 0) "
      .. "but for smartAssignment and workingStatus, are ignored",
    example = 'client.requests:update(rid, { priority = "high", subject = "Refund for order #1234" })' },
  { "merge_attributes", "PATCH", "/requests/{}/attributes", params = { "request_id" }, body = "required",
    doc = "Merge keys into the conversation's attributes",
    example = 'client.requests:merge_attributes(rid, { order_id = "1234", channel = "email" })' },
  { "close", "PUT", "/requests/{}/close", params = { "request_id" }, body = "object", doc = "Close (force = true optional)",
    example = 'client.requests:close(rid, { force = true })' },
  { "reopen", "PUT", "/requests/{}/reopen", params = { "request_id" },
    doc = "Reopen a closed conversation (an unknown request_id answers a bare 500, which cannot tell it from other failures)" },
  { "route", "PUT", "/requests/{}/departments", params = { "request_id" }, fields = { "departmentid" },
    body = "object",
    doc = "Reroute to a department (opts: nobot, no_populate) (an unknown request_id answers a bare 500, which cannot tell it from other failures)",
    example = 'client.requests:route(rid, dep_id, { nobot = true })' },
  { "assign", "PUT", "/requests/{}/assign", params = { "request_id" }, fields = { "departmentid" },
    body = "object", doc = "Assign if not yet assigned",
    example = 'client.requests:assign(rid, dep_id)' },
  { "handoff", "PUT", "/requests/{}/agent", params = { "request_id" }, doc = "Bot to human hand-off" },
  { "replace_bot", "PUT", "/requests/{}/replace", params = { "request_id" }, body = "required",
    doc = "Make a bot ({id=}|{name=}|{slug=}) the ONLY participant: every agent and other bot leaves "
      .. "(change_bot keeps the agents); 404 for an unknown name or slug, an id is not checked",
    example = 'client.requests:replace_bot(rid, { name = "Sales Bot" })' },
  { "add_participant", "POST", "/requests/{}/participants", params = { "request_id" }, fields = { "member" },
    doc = "Add an agent (user id) or a bot (bot_<id>) (an unknown request_id answers a bare 500, which cannot tell it from other failures)",
    example = 'client.requests:add_participant(rid, agent_id) -- or "bot_" .. bot_id' },
  { "set_participants", "PUT", "/requests/{}/participants", params = { "request_id" }, body = "array",
    doc = "Replace all participants (an unknown request_id answers a bare 500, which cannot tell it from other failures)",
    example = 'client.requests:set_participants(rid, { agent_id, "bot_" .. bot_id })' },
  { "remove_participant", "DELETE", "/requests/{}/participants/{}", params = { "request_id", "member" },
    doc = "Remove a participant (an unknown request_id answers 400)",
    example = 'client.requests:remove_participant(rid, agent_id)' },
  { "add_follower", "POST", "/requests/{}/followers", params = { "request_id" }, fields = { "member" },
    doc = "Add a follower (an unknown request_id answers a bare 500, which cannot tell it from other failures)",
    example = 'client.requests:add_follower(rid, agent_id)' },
  { "set_followers", "PUT", "/requests/{}/followers", params = { "request_id" }, body = "array",
    doc = "Replace all followers (an unknown request_id answers a bare 500, which cannot tell it from other failures)",
    example = 'client.requests:set_followers(rid, { agent_id, supervisor_id })' },
  { "remove_follower", "DELETE", "/requests/{}/followers/{}", params = { "request_id", "follower_id" },
    doc = "Remove a follower (an unknown request_id answers a bare 500, which cannot tell it from other failures)" },
  { "add_note", "POST", "/requests/{}/notes", params = { "request_id" }, fields = { "text" },
    doc = "Add an internal note",
    example = 'client.requests:add_note(rid, "Customer called back; refund approved")' },
  { "remove_note", "DELETE", "/requests/{}/notes/{}", params = { "request_id", "note_id" }, doc = "Remove a note" },
  { "add_tags", "PUT", "/requests/{}/tag", params = { "request_id" }, body = "array",
    doc = "Add tags (plain strings or {tag=, color=}; the server de-duplicates by tag)" },
  { "remove_tag", "DELETE", "/requests/{}/tag/{}", params = { "request_id", "tag_id" },
    doc = "Remove a tag by its sub-document _id" },
  { "send_transcript", "POST", "/requests/{}/email/send", params = { "request_id" }, fields = { "text?" },
    body = "object", doc = "Email the lead the transcript, or a text of your own (opts: subject, replyto)",
    example = 'client.requests:send_transcript(rid, "Here is our conversation.", { subject = "Your chat with Acme" })' },
  { "rate", "PATCH", "/requests/{}/rating", params = { "request_id" }, fields = { "rating", "rating_message?" },
    doc = "Rate as the requester",
    example = 'client.requests:rate(rid, 5, "Quick and helpful")' },
  { "close_as_requester", "PUT", "/requests/{}/closeg", params = { "request_id" },
    doc = "Requester-side close (an unknown request_id answers a bare 500, which cannot tell it from other failures)" },
  { "delete", "DELETE", "/requests/{}", params = { "request_id" }, doc = "Delete with its messages (owner)" },
  { "delete_by_id", "DELETE", "/requests/id/{}", params = { "_id" }, doc = "Delete by Mongo _id (owner)",
    example = 'client.requests:delete_by_id(conv._id)' },
  { "chatbot_parameters", "GET", "/requests/{}/chatbot/parameters", params = { "request_id" },
    doc = "Chatbot parameters of a conversation" },
  { "lookup_project", "GET", "/requests_util/lookup/id_project/{}", params = { "request_id" }, scope = "global",
    doc = "Which project a conversation belongs to" },
  { "public_messages", "GET", "/public/requests/{}/messages", params = { "request_id" }, scope = "global",
    auth = "none", doc = "Public transcript (no auth)" },
}

M.methods = {}

-- add_tags(id, {"vip", {tag="x", color="#f00"}}): strings become {tag=s} (the server drops
-- anything that is not a {tag=} object without a word)
function M.methods:add_tags(id, tags)
  if type(tags) ~= "table" then error("requests:add_tags(): bad argument #2 'tags' (table expected, got " .. type(tags) .. ")", 2) end
  local list = {}
  for i, t in ipairs(tags) do
    if type(t) == "string" then list[i] = { tag = t }
    elseif type(t) == "table" and type(t.tag) == "string" then list[i] = t
    else error("requests:add_tags(): tag #" .. i .. " must be a string or {tag=, color=}", 2) end
  end
  if #list == 0 then error("requests:add_tags(): no tags given", 2) end
  return self:_call("add_tags", id, list)
end

-- start{ text = "...", ... }: a new conversation with its first message; returns the conversation.
-- Fields besides text go to the first message (departmentid, sourcePage, subject, attributes, ...).
-- opts.request_id sets the id (default support-group-<project>-<uuid>).
function M.methods:start(msg)
  if type(msg) ~= "table" then error("requests:start(): bad argument #1 (table expected, got " .. type(msg) .. ")", 2) end
  if msg.text ~= nil and type(msg.text) ~= "string" then error("requests:start(): 'text' must be a string", 2) end
  if msg.text == nil and (msg.type == nil or msg.type == "text") then
    error("requests:start(): 'text' is required", 2)
  end
  local client = self.client
  if not client.project_id then error("requests:start(): the client has no project_id", 2) end
  local body = {}
  for k, v in pairs(msg) do body[k] = v end
  local rid = body.request_id or util.request_id(client.project_id)
  body.request_id = nil
  local sent, m, err = client.messages:send(rid, body)
  if not sent then return nil, m, err end
  if type(sent) == "table" and type(sent.request) == "table" then
    return sent.request, sent
  end
  local conv, m2, e2 = self:get(rid)
  if not conv then return nil, m2, e2 end
  return conv, sent
end

-- The transcript of a conversation as plain text, one line a message:
-- "2026-11-25 10:04:05 UTC  Ann: Where is my order?". Hidden notices (subtype info/support)
-- and system triggers stay out; attachments show as [file name].
function M.transcript(messages)
  local lines = {}
  for _, m in ipairs(messages or {}) do
    local attrs = type(m.attributes) == "table" and m.attributes or {}
    local hidden = attrs.subtype == "info/support" or m.sender == "system"
    if not hidden then
      local text = type(m.text) == "string" and m.text or ""
      local meta = type(m.metadata) == "table" and m.metadata or nil
      if meta and (m.type == "image" or m.type == "file") then
        local name = meta.name or meta.src or m.type
        text = (text ~= "" and text ~= name) and (text .. " [" .. tostring(name) .. "]") or ("[" .. tostring(name) .. "]")
      end
      local when = tostring(m.createdAt or ""):gsub("^(%d+%-%d+%-%d+)T(%d+:%d+:%d+).*$", "%1 %2 UTC")
      lines[#lines + 1] = when .. "  " .. tostring(m.senderFullname or m.sender or "?") .. ": " .. text
    end
  end
  return table.concat(lines, "\n")
end

-- send_transcript(request_id, text?, opts?): emails the lead; without a text, the conversation's
-- transcript (M.transcript) is the text. opts: subject, replyto.
function M.methods:send_transcript(rid, text, opts)
  local op = "requests:send_transcript()"
  if text ~= nil and type(text) ~= "string" then
    error(op .. ": bad argument #2 'text' (string expected, got " .. type(text) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(op .. ": bad argument #3 'opts' (table expected, got " .. type(opts) .. ")", 2)
  end
  if text == nil then
    local messages, m, err = self.client.messages:list(rid)
    if not messages then return nil, op .. ": " .. m, err end
    text = M.transcript(messages)
    if text == "" then
      local msg = op .. ": the conversation has no message to send"
      return nil, msg, E.new{ kind = "empty", method = "GET", msg = msg, attempts = 1,
        url = self.client.base_url .. "/" .. url.segment(self.client.project_id) .. "/requests/" .. url.segment(rid)
          .. "/messages" }
    end
  end
  return self:_call("send_transcript", rid, text, opts)
end

-- change_bot(request_id, bot, opts?): the conversation's bot becomes `bot` (a bot _id, "bot_<id>",
-- or { name = } looked up among the project's bots) and its agents stay: every other bot
-- participant is removed one by one, the new one added; opts.message (a text or a message table)
-- is then sent, to greet or to trigger the new bot. (replace_bot, the server's /replace, removes
-- the agents too.) Returns the conversation as the last change left it, and the sent message.
function M.methods:change_bot(rid, bot, opts)
  local op = "requests:change_bot()"
  if type(rid) ~= "string" then error(op .. ": bad argument #1 'request_id' (string expected, got " .. type(rid) .. ")", 2) end
  local tb = type(bot)
  if not (tb == "string" and bot ~= "" and bot ~= "bot_") and not (tb == "table" and type(bot.name) == "string") then
    error(op .. ": bad argument #2 'bot' (a bot id, \"bot_<id>\" or { name = } expected, got " .. tb .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error(op .. ": bad argument #3 'opts' (table expected, got " .. type(opts) .. ")", 2) end
  local message = opts and opts.message
  if message ~= nil and type(message) ~= "string" and type(message) ~= "table" then
    error(op .. ": 'message' must be a text or a message table (got " .. type(message) .. ")", 2)
  end
  for k in pairs(opts or {}) do
    if k ~= "message" then error(op .. ": unknown option '" .. tostring(k) .. "' (known: message)", 2) end
  end
  local function fail(msg, err) return nil, op .. ": " .. tostring(msg), err end
  local client = self.client
  local id
  if tb == "table" then
    local bots, m, e = client.bots:list()
    if not bots then return fail(m, e) end
    for _, b in ipairs(bots) do
      if b.name == bot.name and not b.trashed then id = b._id break end
    end
    if not id then
      local msg = op .. ": no bot named '" .. bot.name .. "' in the project"
      return nil, msg, require("tiledesk.error").new{ kind = "not_found", msg = msg, method = "GET", attempts = 1 }
    end
  else
    id = bot:gsub("^bot_", "")
  end
  local conv, m, e = self:get(rid)
  if not conv then return fail(m, e) end
  local present = false
  for _, b in ipairs(type(conv.participantsBots) == "table" and conv.participantsBots or {}) do
    local bid = tostring(b):gsub("^bot_", "")
    if bid == id then present = true
    else
      local updated
      updated, m, e = self:remove_participant(rid, "bot_" .. bid)
      if not updated then return fail(m, e) end
      conv = updated
    end
  end
  if not present then
    local updated
    updated, m, e = self:add_participant(rid, "bot_" .. id)
    if not updated then return fail(m, e) end
    conv = updated
  end
  if message == nil then return conv end
  local sent
  sent, m, e = client.messages:send(rid, type(message) == "string" and { text = message } or message)
  if not sent then return fail(m, e) end
  return conv, sent
end

-- A fresh support-group-<project>-<uuid> id, for callers that want it before sending.
function M.methods:new_id()
  return util.request_id(self.client.project_id)
end

-- README entries of the hand-written methods (tools/readme_api.lua; `after` places them there).
M.docs = {
  change_bot = { after = "replace_bot",
    syntax = "conv, sent_or_msg, err = client.requests:change_bot(request_id, bot, opts?)",
    doc = "The conversation's bot becomes `bot` (an id, `bot_<id>` or `{ name = }`) and the agents stay: the "
      .. "other bots are removed one by one, the new one added (as the official Node client's changeBot); "
      .. "`opts.message` (a text or a message table) is then sent, e.g. to trigger the bot. Returns the "
      .. "conversation as the last change left it, and the message sent",
    via = { "get", "remove_participant", "add_participant", "messages.send", "bots.list" },
    example = 'client.requests:change_bot(rid, { name = "Sales Bot" }, { message = "/start" })' },
  start = { after = "get",
    syntax = "conv, sent_or_msg, err = client.requests:start{ text, departmentid?, attributes?, request_id?, ... }",
    doc = "A new conversation with its first message: every field but request_id goes to the message; "
      .. "returns the conversation and the sent message (the conversation is read back when the answer lacks it)",
    via = "messages.send",
    example = 'local conv = assert(client.requests:start{ text = "Where is my order?", departmentid = dep_id })' },
  new_id = {
    syntax = "request_id = client.requests:new_id()",
    doc = "A fresh `support-group-<project>-<uuid>` id, for callers that want it before sending (no HTTP call)",
    example = 'local rid = client.requests:new_id(); client.messages:send_text(rid, "Hello")' },
  send_transcript = {
    syntax = "res, msg, err = client.requests:send_transcript(request_id, text?, opts?)",
    doc = "Emails the lead (`POST /{pid}/requests/{request_id}/email/send`, `{queued = true}`): without a text, "
      .. "the conversation's transcript, one line a message (hidden notices left out); opts: subject, replyto",
    via = { "send_transcript", "messages.list" },
    example = 'client.requests:send_transcript(rid, nil, { subject = "Your chat with Acme" })' },
  add_tags = {
    syntax = "conv, msg, err = client.requests:add_tags(request_id, tags)",
    doc = "Add tags: plain strings become `{ tag = s }`, `{ tag =, color = }` tables go as they are "
      .. "(the server drops anything else without a word, and de-duplicates by tag)",
    example = 'client.requests:add_tags(rid, { "vip", { tag = "refund", color = "#e53935" } })' },
}
-- The objects users read most (models/request.js), for the reference.
M.objects = {
  conversation = { doc = "A conversation (Request) as lists and get return it; every object also has _id, "
    .. "createdAt and updatedAt (ISO 8601 UTC with ms: tiledesk.time.parse reads them) and __v",
    fields = {
      request_id = "its id (support-group-<project>-<uuid>)", ticket_id = "number shown to people",
      status = "50 temporary, 100 unassigned (waiting for an agent), 150 abandoned, 200 assigned, 300 served, "
        .. "1000 closed; \"open\" means below 1000 and neither 50 nor 150, what lists return by default",
      first_text = "the first message", subject = "subject", requester = "the requester's project user (populated)",
      lead = "the lead (populated)", department = "the department (populated)",
      participants = "user ids and bot_<id> taking part", participantsAgents = "the agents among them",
      participantsBots = "the bots among them", hasBot = "a bot takes part", followers = "project user ids following",
      assignee = "assigned user id", priority = "low, medium (default), high, urgent",
      tags = "{ tag, color, _id } tables", notes = "{ _id, text, createdBy, createdAt } tables",
      waiting_time = "ms from creation to the first agent's answer", first_response_at = "ISO 8601",
      assigned_at = "ISO 8601", closed_at = "ISO 8601", closed_by = "user id that closed it",
      duration = "ms from creation to closing", rating = "1..5", rating_message = "the requester's comment",
      channel = "{ name = chat21|email|form|whatsapp|... }", sourcePage = "page the widget was on",
      language = "language", userAgent = "browser", location = "location", attributes = "free-form table",
      snapshot = "department, lead, requester and agents as they were at creation",
      workingStatus = "free-form working status", smartAssignment = "true/false",
      draft = "a draft (not yet sent)", preflight = "preflight (the widget opened, no message yet)",
      contact = "{ phone, email }", id_project = "project id" } },
}
return M
