-- Conversations ("requests"), addressed by their request_id string.
local util = require("tiledesk.util")
local url = require("tiledesk.url")
local E = require("tiledesk.error")

local M = {}

M.routes = {
  { "list", "GET", "/requests", page = { items = "requests", size = 100, max = 100 },
    doc = "One page of conversations; closed ones only with status='all' or '1000'",
    example = 'local page = assert(client.requests:list{ status = "100,200", limit = 20, sort = "updatedAt" })' },
  { "me", "GET", "/requests/me", page = { items = "requests", size = 100, max = 100 },
    doc = "Conversations where the caller is the requester",
    example = 'local page = assert(client.requests:me{ limit = 10 })' },
  { "count", "GET", "/requests/count", doc = "Counts of unassigned/assigned conversations",
    example = 'local counts = assert(client.requests:count()); print(counts.unassigned)' },
  { "csv", "GET", "/requests/csv", raw = true, doc = "CSV export (same filters as list)",
    example = 'local csv = assert(client.requests:csv{ status = "all", start_date = "01/11/2026", end_date = "30/11/2026" })' },
  { "get", "GET", "/requests/{}", params = { "request_id" }, doc = "One conversation" },
  { "create", "POST", "/requests", body = "required", doc = "Open a conversation without a message (first_text required)",
    example = 'local conv = assert(client.requests:create{ first_text = "Order #1234 is late", departmentid = dep_id })' },
  { "update", "PATCH", "/requests/{}", params = { "request_id" }, body = "required",
    doc = "Patch status, tags, priority, subject, workingStatus, ...",
    example = 'client.requests:update(rid, { priority = "high", subject = "Refund for order #1234" })' },
  { "merge_attributes", "PATCH", "/requests/{}/attributes", params = { "request_id" }, body = "required",
    doc = "Merge keys into the conversation's attributes",
    example = 'client.requests:merge_attributes(rid, { order_id = "1234", channel = "email" })' },
  { "close", "PUT", "/requests/{}/close", params = { "request_id" }, body = "object", doc = "Close (force = true optional)",
    example = 'client.requests:close(rid, { force = true })' },
  { "reopen", "PUT", "/requests/{}/reopen", params = { "request_id" }, doc = "Reopen a closed conversation" },
  { "route", "PUT", "/requests/{}/departments", params = { "request_id" }, fields = { "departmentid" },
    body = "object", doc = "Reroute to a department (opts: nobot, no_populate)",
    example = 'client.requests:route(rid, dep_id, { nobot = true })' },
  { "assign", "PUT", "/requests/{}/assign", params = { "request_id" }, fields = { "departmentid" },
    body = "object", doc = "Assign if not yet assigned",
    example = 'client.requests:assign(rid, dep_id)' },
  { "handoff", "PUT", "/requests/{}/agent", params = { "request_id" }, doc = "Bot to human hand-off" },
  { "replace_bot", "PUT", "/requests/{}/replace", params = { "request_id" }, body = "required",
    doc = "Swap the bot participant ({id=}|{name=}|{slug=})",
    example = 'client.requests:replace_bot(rid, { name = "Sales Bot" })' },
  { "add_participant", "POST", "/requests/{}/participants", params = { "request_id" }, fields = { "member" },
    doc = "Add an agent (user id) or a bot (bot_<id>)",
    example = 'client.requests:add_participant(rid, agent_id) -- or "bot_" .. bot_id' },
  { "set_participants", "PUT", "/requests/{}/participants", params = { "request_id" }, body = "array",
    doc = "Replace all participants",
    example = 'client.requests:set_participants(rid, { agent_id, "bot_" .. bot_id })' },
  { "remove_participant", "DELETE", "/requests/{}/participants/{}", params = { "request_id", "member" },
    doc = "Remove a participant",
    example = 'client.requests:remove_participant(rid, agent_id)' },
  { "add_follower", "POST", "/requests/{}/followers", params = { "request_id" }, fields = { "member" },
    doc = "Add a follower",
    example = 'client.requests:add_follower(rid, agent_id)' },
  { "set_followers", "PUT", "/requests/{}/followers", params = { "request_id" }, body = "array",
    doc = "Replace all followers",
    example = 'client.requests:set_followers(rid, { agent_id, supervisor_id })' },
  { "remove_follower", "DELETE", "/requests/{}/followers/{}", params = { "request_id", "follower_id" },
    doc = "Remove a follower" },
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
  { "close_as_requester", "PUT", "/requests/{}/closeg", params = { "request_id" }, doc = "Requester-side close" },
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

-- A fresh support-group-<project>-<uuid> id, for callers that want it before sending.
function M.methods:new_id()
  return util.request_id(self.client.project_id)
end

-- README entries of the hand-written methods (tools/readme_api.lua; `after` places them there).
M.docs = {
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
return M
