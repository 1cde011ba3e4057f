-- Messages of a conversation, and direct messages.
local M = {}

M.routes = {
  { "list", "GET", "/requests/{}/messages", params = { "request_id" }, page = { all = true },
    doc = "The whole transcript, oldest first (unpaginated)" },
  { "get", "GET", "/requests/{}/messages/{}", params = { "request_id", "message_id" }, doc = "One message" },
  { "send", "POST", "/requests/{}/messages", params = { "request_id" }, body = "required",
    doc = "Send a message (creates the conversation on the first one)" },
  { "send_many", "POST", "/requests/{}/messages/multi", params = { "request_id" }, body = "array",
    doc = "Send several messages at once" },
  { "csv", "GET", "/requests/{}/messages/csv", params = { "request_id" }, raw = true, doc = "Transcript as CSV" },
  { "send_direct", "POST", "/messages", body = "required",
    doc = "Direct or group message outside a conversation (recipient, recipientFullname)" },
  { "list_project", "GET", "/messages", page = { size = 50, max = 50 },
    doc = "All messages of the project, newest first (owner)" },
  { "csv_project", "GET", "/messages/csv", raw = true, doc = "All messages as CSV (owner)" },
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

-- send_file(request_id, { src=, name=, type=, width=, height= }, text, opts): an attachment by URL.
function M.methods:send_file(rid, file, text, opts)
  if type(file) ~= "table" or type(file.src) ~= "string" then
    error("messages:send_file(): bad argument #2 'file' ({src=url, ...} expected)", 2)
  end
  local body = message("messages:send_file()", text or file.name or "", opts)
  local mime = file.type or ""
  body.type = body.type or (mime:match("^image/") and "image" or "file")
  body.metadata = { src = file.src, name = file.name, type = file.type, width = file.width, height = file.height }
  return self:send(rid, body)
end

return M
