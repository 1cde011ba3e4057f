-- Messages of a conversation, and direct messages.
local M = {}

M.routes = {
  { "list", "GET", "/requests/{}/messages", params = { "request_id" }, page = { all = true },
    filters = {}, returns = "message", doc = "The whole transcript, oldest first (the server reads no filter; an unknown request_id answers [])",
    example = 'local list = assert(client.messages:list(rid))' },
  { "get", "GET", "/requests/{}/messages/{}", params = { "request_id", "message_id" }, doc = "One message" },
  { "send", "POST", "/requests/{}/messages", params = { "request_id" }, body = "required",
    doc = "Send a message (creates the conversation on the first one)",
    example = 'client.messages:send(rid, { text = "Your order shipped today", attributes = { order_id = "1234" } })' },
  { "send_many", "POST", "/requests/{}/messages/multi", params = { "request_id" }, body = "array",
    doc = "Send several messages at once",
    example = 'client.messages:send_many(rid, { { text = "Hello!" }, { text = "How can I help?" } })' },
  { "csv", "GET", "/requests/{}/messages/csv", params = { "request_id" }, raw = true, filters = {},
    doc = "The server's CSV of a conversation's messages: it hands mongoose documents to csv-express, so the columns "
      .. "are the documents' internals ($__;isNew;errors;$locals;$op;_doc;$init), one identical line a message, "
      .. "not the messages: read them with messages:list, or csv_project" },
  { "send_direct", "POST", "/messages", body = "required",
    doc = "Direct or group message outside a conversation (recipient, recipientFullname)",
    example = 'client.messages:send_direct{ recipient = user_id, recipientFullname = "Joe Park", text = "Can you take the Acme chat?" }' },
  { "list_project", "GET", "/messages", page = { size = 50, max = 50 },
    filters = { populate_request = "true: each message with its conversation" },
    doc = "All messages of the project, newest first (owner)",
    example = 'local page = assert(client.messages:list_project{ limit = 50 })' },
  { "csv_project", "GET", "/messages/csv", raw = true, filters = {},
    doc = "All messages of the project as CSV (owner; fast-csv: `,` separated, the stored fields less channel, "
      .. "attributes and metadata)" },
}

M.methods = {}

local function message(op, text, opts)
  if text ~= nil and type(text) ~= "string" then error(op .. ": bad argument #2 'text' (string expected, got " .. type(text) .. ")", 3) end
  if opts ~= nil and type(opts) ~= "table" then error(op .. ": bad argument #3 'opts' (table expected, got " .. type(opts) .. ")", 3) end
  local body = {}
  for k, v in pairs(opts or {}) do body[k] = v end
  body.text = text
  return body
end

-- a copy of the caller's attributes with the subtype set (the caller's table stays as it was)
local function with_subtype(attributes, subtype)
  local out = {}
  for k, v in pairs(attributes or {}) do out[k] = v end
  out.subtype = subtype
  return out
end

-- send_text(request_id, text, opts): a plain text message from the caller.
function M.methods:send_text(rid, text, opts)
  if text == nil then error("messages:send_text(): bad argument #2 'text' (string expected, got nil)", 2) end
  return self:send(rid, message("messages:send_text()", text, opts))
end

-- send_as_bot(request_id, bot, text, opts): bot = { _id=, name= } or a bot id; sender bot_<id>.
function M.methods:send_as_bot(rid, bot, text, opts)
  local id, name
  if type(bot) == "table" then id, name = bot._id or bot.id, bot.name
  else id = bot end
  if type(id) ~= "string" or id == "" then error("messages:send_as_bot(): bad argument #2 'bot' (bot id expected)", 2) end
  local body = message("messages:send_as_bot()", text, opts)
  body.sender = id:match("^bot_") and id or ("bot_" .. id)
  body.senderFullname = body.senderFullname or name
  return self:send(rid, body)
end

-- send_as_agent(request_id, user, text, opts): user = { _id=, firstname=, lastname= } or an id.
function M.methods:send_as_agent(rid, user, text, opts)
  local id, name
  if type(user) == "table" then
    id = user._id or user.id
    name = user.fullName or (user.firstname and ((user.firstname or "") .. " " .. (user.lastname or "")):gsub("%s+$", ""))
  else id = user end
  if type(id) ~= "string" or id == "" then error("messages:send_as_agent(): bad argument #2 'user' (user id expected)", 2) end
  local body = message("messages:send_as_agent()", text, opts)
  body.sender = id
  body.senderFullname = body.senderFullname or name
  return self:send(rid, body)
end

-- send_as_user(request_id, lead, text, opts): as the visitor; lead = { id=, fullname=, email= } or id.
function M.methods:send_as_user(rid, lead, text, opts)
  local body = message("messages:send_as_user()", text, opts)
  if type(lead) == "table" then
    body.sender = lead.id or lead.lead_id or lead._id
    body.senderFullname = body.senderFullname or lead.fullname
    body.email = body.email or lead.email
  elseif lead ~= nil then
    body.sender = lead
  end
  return self:send(rid, body)
end

-- send_info(request_id, text, opts): an "info" system message (attributes.subtype = "info").
function M.methods:send_info(rid, text, opts)
  local body = message("messages:send_info()", text, opts)
  body.attributes = with_subtype(body.attributes, "info")
  return self:send(rid, body)
end

-- send_hidden(request_id, text, opts): a message the widget does not show to the visitor
-- (attributes.subtype = "info/support", as the server marks its own support-side notices),
-- e.g. a note for agents inside the transcript.
function M.methods:send_hidden(rid, text, opts)
  local body = message("messages:send_hidden()", text, opts)
  body.attributes = with_subtype(body.attributes, "info/support")
  return self:send(rid, body)
end

-- send_file(request_id, file, text, opts): an attachment, file = { src = url, name =, type =,
-- width =, height = }, or { content = bytes, name =, type = } to upload it first (files:upload)
-- and send its public address. Returns the message (and the upload's answer when it uploaded).
function M.methods:send_file(rid, file, text, opts)
  local op = "messages:send_file()"
  if type(file) ~= "table" or (type(file.src) ~= "string") == (type(file.content) ~= "string") then
    error(op .. ": bad argument #2 'file' ({ src = url, ... } or { content = bytes, name = } expected)", 2)
  end
  for _, k in ipairs({ "name", "type" }) do
    if file[k] ~= nil and type(file[k]) ~= "string" then
      error(op .. ": bad argument #2 'file': '" .. k .. "' must be a string (got " .. type(file[k]) .. ")", 2)
    end
  end
  local src, mime, uploaded = file.src, file.type, nil
  if file.content then
    if not file.name then error(op .. ": bad argument #2 'file': uploading needs a 'name' with its extension", 2) end
    mime = mime or require("tiledesk.resources.files").type_of(file.name)
    local up, m, err = self.client.files:upload(file.content, { name = file.name, type = mime })
    if not up then return nil, op .. ": " .. m, err end
    src, uploaded = self.client.files:url(up.filename), up
  end
  local body = message(op, text or file.name or "", opts)
  body.type = body.type or ((mime or ""):match("^image/") and "image" or "file")
  body.metadata = { src = src, name = file.name, type = mime, width = file.width, height = file.height }
  local sent, m, err = self:send(rid, body)
  if not sent then return nil, m, err end
  return sent, uploaded
end

-- README entries of the hand-written methods (tools/readme_api.lua; `after` places them there).
-- The transcripts of many conversations at once (client:batch: concurrent over curl multi,
-- light threads inside nginx). results[i] = { request_id =, res = messages | nil, msg =, err = }
-- for request_ids[i], in order; failed = how many failed. Misuse raises before any call.
function M.methods:list_many(ids, opts)
  local op = "messages:list_many()"
  if type(ids) ~= "table" then
    error(op .. ": bad argument #1 'request_ids' (array of request ids expected, got " .. type(ids) .. ")", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(op .. ": bad argument #2 'opts' (table expected, got " .. type(opts) .. ")", 2)
  end
  for k in pairs(opts or {}) do
    if k ~= "concurrency" then error(op .. ": unknown option '" .. tostring(k) .. "' (concurrency)", 2) end
  end
  local n = 0
  for _ in pairs(ids) do n = n + 1 end
  if n ~= #ids then error(op .. ": bad argument #1 'request_ids' (an array expected: keys 1.." .. #ids .. " only)", 2) end
  local segment = require("tiledesk.url").segment
  local calls = {}
  for i, rid in ipairs(ids) do
    local _, why = segment(rid)
    if why then error(op .. ": request id #" .. i .. " " .. why, 2) end
    calls[i] = function() return self:list(rid) end
  end
  local concurrency = (opts or {}).concurrency or 16
  if type(concurrency) ~= "number" or concurrency ~= math.floor(concurrency) or concurrency < 1 or concurrency > 1024 then
    error(op .. ": 'concurrency' must be an integer from 1 to 1024", 2)
  end
  if #calls == 0 then return {}, 0 end
  local results, failed = require("tiledesk.batch").gather(self.client, calls, concurrency)
  for i, r in ipairs(results) do r.request_id = ids[i] end
  return results, failed
end

M.docs = {
  list_many = { after = "list",
    syntax = "results, failed = client.messages:list_many(request_ids, { concurrency = 16 }?)",
    doc = "The transcripts of many conversations at once, over `client:batch` (curl multi; light threads "
      .. "inside nginx): `results[i]` is `{ request_id =, res = messages }` or `{ request_id =, res = nil, "
      .. "msg =, err = }` for `request_ids[i]`, in order; `failed` counts the failures. Bad ids raise before any call",
    via = "list",
    example = 'local results = client.messages:list_many({ rid1, rid2 }); for _, r in ipairs(results) do print(r.request_id, r.res and #r.res or r.msg) end' },
  send_text = { after = "send",
    syntax = "message, msg, err = client.messages:send_text(request_id, text, opts?)",
    doc = "A plain text message from the caller (opts: more message fields: attributes, type, metadata, ...)",
    via = "send",
    example = 'client.messages:send_text(rid, "Let me check for you.")' },
  send_as_bot = { after = "send",
    syntax = "message, msg, err = client.messages:send_as_bot(request_id, bot, text, opts?)",
    doc = "As a bot: bot is `{ _id =, name = }` or a bot id; the sender becomes `bot_<id>`",
    via = "send",
    example = 'client.messages:send_as_bot(rid, { _id = bot_id, name = "Helper" }, "Hi! How can I help?")' },
  send_as_agent = { after = "send",
    syntax = "message, msg, err = client.messages:send_as_agent(request_id, user, text, opts?)",
    doc = "As a teammate: user is `{ _id =, firstname =, lastname = }` or a user id",
    via = "send",
    example = 'client.messages:send_as_agent(rid, { _id = user_id, firstname = "Joe", lastname = "Park" }, "Taking over now.")' },
  send_as_user = { after = "send",
    syntax = "message, msg, err = client.messages:send_as_user(request_id, lead, text, opts?)",
    doc = "As the visitor: lead is `{ id =, fullname =, email = }` or the visitor's sender id",
    via = "send",
    example = 'client.messages:send_as_user(rid, { id = "visitor-42", fullname = "Ann Lee", email = "ann@example.com" }, "Thanks!")' },
  send_info = { after = "send",
    syntax = "message, msg, err = client.messages:send_info(request_id, text, opts?)",
    doc = "An info system message (`attributes.subtype = \"info\"`); the caller's attributes are copied, not changed",
    via = "send",
    example = 'client.messages:send_info(rid, "Conversation moved to Billing")' },
  send_hidden = { after = "send",
    syntax = "message, msg, err = client.messages:send_hidden(request_id, text, opts?)",
    doc = "A message shown to agents, not to the visitor (`attributes.subtype = \"info/support\"`)",
    via = "send",
    example = 'client.messages:send_hidden(rid, "Customer is on the premium plan")' },
  send_file = { after = "send",
    syntax = "message, msg, err = client.messages:send_file(request_id, file, text?, opts?)",
    doc = "An attachment: file is `{ src = url, name =, type =, width =, height = }`, or "
      .. "`{ content = bytes, name = }` to upload it first (files:upload) and send its public address; "
      .. "an `image/*` type sends an image, anything else a file; text defaults to the file name",
    via = "send",
    example = 'client.messages:send_file(rid, { src = "https://example.com/invoice.pdf", name = "invoice.pdf", type = "application/pdf" })' },
}
-- The objects users read most (models/message.js), for the reference.
M.objects = {
  message = { doc = "A message; also _id, createdAt and updatedAt (ISO 8601 UTC with ms) and __v",
    fields = {
      recipient = "the request_id (or the user or group id of a direct message)", sender = "user id, bot_<id> or system",
      senderFullname = "sender's name", recipientFullname = "recipient's name",
      text = "the text", type = "text (default), image, file, frame, ...", channel_type = "group or direct",
      metadata = "image or file: { src, name, type, width, height }",
      attributes = "free-form; subtype = \"info\" or \"info/support\" marks notices",
      status = "-100 failed, 0 sending, 100 sent, 150 delivered, 200 received, 250 returned receipt, 300 seen",
      language = "ISO 639-1 code", channel = "{ name }", id_project = "project id",
      createdBy = "user id that sent it" } },
}
return M
