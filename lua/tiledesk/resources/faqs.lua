-- Intents (faq) of a bot.
local check = require("tiledesk.check")
local multipart = require("tiledesk.multipart")
local json = require("tiledesk.json")

local M = {}
M.routes = {
  { "list", "GET", "/faq", fields = { "id_faq_kb" }, page = { size = 100 },
    filters = { text = "full-text search", intent_display_name = "intent name" }, doc = "Intents of a bot",
    example = 'local page = assert(client.faqs:list(bot_id))' },
  { "get", "GET", "/faq/{}", params = { "faq_id" }, doc = "One intent" },
  { "create", "POST", "/faq", fields = { "id_faq_kb" }, body = "object", doc = "Create (question, answer, intent_display_name, ...)",
    example = 'local faq = assert(client.faqs:create(bot_id, { question = "Where is my order?", answer = "Track it at example.com/track" }))' },
  { "update", "PUT", "/faq/{}", params = { "faq_id" }, fields = { "id_faq_kb" }, body = "object",
    doc = "Update an intent of the bot id_faq_kb (the server refuses a body without it: 422). It applies intent, "
      .. "question, answer, topic, status, language, intent_display_name, webhook_enabled, enabled, reply, form, "
      .. "actions, attributes, agents_available, and ignores JSON null; an unknown faq_id is created (upsert), "
      .. "without bot or project",
    example = 'client.faqs:update(faq_id, bot_id, { answer = "Track it on your account page" })' },
  { "merge_attributes", "PATCH", "/faq/{}/attributes", params = { "faq_id" }, body = "required", doc = "Merge attributes",
    example = 'client.faqs:merge_attributes(faq_id, { reviewed = true })' },
  { "delete", "DELETE", "/faq/{}", params = { "faq_id" }, doc = "Delete" },
  { "csv", "GET", "/faq/csv", fields = { "id_faq_kb" }, raw = true, filters = {}, doc = "CSV export",
    example = 'local csv = assert(client.faqs:csv(bot_id))' },
  { "ops_update", "POST", "/faq/ops_update", skip = true, role = "admin (or a bot or subscription token)",
    call = "client.faqs:ops_update(bot_id, { { type = , intent = }, ... })",
    doc = "Create, replace, patch and delete intents of a bot in one call (applied by the server after it answers)" },
  { "upload_csv", "POST", "/faq/uploadcsv", skip = true, role = "admin (or a bot or subscription token)",
    call = "client.faqs:upload_csv(bot_id, csv, { delimiter = })",
    doc = "Create intents from CSV rows question;answer;intent_id;intent_display_name;webhook_enabled" },
}

M.methods = {}

local OP_TYPES = { post = true, put = true, patch = true, delete = true }

-- ops_update(bot_id, operations): each operation is { type = "post"|"put"|"patch"|"delete",
-- intent = {...} }. post creates the intent; put replaces and delete removes the intent named
-- by intent._id or intent.intent_id; patch merges intent.attributes into the intent intent._id.
-- The server answers { success = true } at once and applies them one by one afterwards.
function M.methods:ops_update(bot_id, operations)
  local op = "faqs:ops_update()"
  check.str(op, 1, "bot_id", bot_id, 2)
  check.tbl(op, 2, "operations", operations, 2)
  if #operations == 0 then error(op .. ": bad argument #2 'operations' (a non-empty array expected)", 2) end
  for i, o in ipairs(operations) do
    if type(o) ~= "table" or not OP_TYPES[o.type] then
      error(op .. ": operation " .. i .. " needs type = \"post\", \"put\", \"patch\" or \"delete\"", 2)
    end
    if type(o.intent) ~= "table" then error(op .. ": operation " .. i .. " needs an intent table", 2) end
    if o.type == "patch" and (o.intent._id == nil or type(o.intent.attributes) ~= "table") then
      error(op .. ": operation " .. i .. " (patch) needs intent._id and intent.attributes", 2)
    end
    if (o.type == "put" or o.type == "delete") and o.intent._id == nil and o.intent.intent_id == nil then
      error(op .. ": operation " .. i .. " (" .. o.type .. ") needs intent._id or intent.intent_id", 2)
    end
  end
  local res, msg, err = self.client:call(op, { method = "POST", path = "/faq/ops_update", retry = false,
    body = { id_faq_kb = bot_id, operations = json.array(operations) } })
  return res, msg, err
end

-- upload_csv(bot_id, csv, { delimiter = ";" }): one intent per row: question;answer;intent_id;
-- intent_display_name;webhook_enabled (no header row). The server answers before it saves them.
function M.methods:upload_csv(bot_id, csv, opts)
  local op = "faqs:upload_csv()"
  check.str(op, 1, "bot_id", bot_id, 2)
  if type(csv) ~= "string" then error(op .. ": bad argument #2 'csv' (string expected, got " .. type(csv) .. ")", 2) end
  opts = check.options(op, 3, opts, { delimiter = check.is_str }, 2)
  local body, header = multipart.body({ field = "uploadFile", name = "intents.csv", type = "text/csv", content = csv },
    { { "id_faq_kb", bot_id }, { "delimiter", opts.delimiter or ";" } })
  local res, msg, err = self.client:call(op, { method = "POST", path = "/faq/uploadcsv", body = body, retry = false,
    headers = { ["content-type"] = header } })
  return res, msg, err
end

M.docs = {
  ops_update = {
    syntax = "res, msg, err = client.faqs:ops_update(bot_id, operations)",
    doc = "Several intent changes in one call: each operation is `{ type = \"post\"|\"put\"|\"patch\"|\"delete\", "
      .. "intent = {...} }` (put and delete name the intent by `_id` or `intent_id`; patch merges "
      .. "`intent.attributes` into intent `_id`). The server answers `{ success = true }` at once and applies "
      .. "them afterwards, in order",
    example = 'assert(client.faqs:ops_update(bot_id, { { type = "post", intent = { id_faq_kb = bot_id, '
      .. 'question = "Opening hours?", answer = "9 to 5" } }, { type = "delete", intent = { _id = old_faq_id } } }))' },
  upload_csv = {
    syntax = "res, msg, err = client.faqs:upload_csv(bot_id, csv, { delimiter? })",
    doc = "Create intents from CSV (multipart upload; no header row; `;` by default): "
      .. "`question;answer;intent_id;intent_display_name;webhook_enabled`. The server answers "
      .. "`{ success = true, msg = \"CSV Parsed\" }` and saves the intents just after",
    example = 'assert(client.faqs:upload_csv(bot_id, "Opening hours?;9 to 5\\nDo you ship abroad?;Yes\\n"))' },
}

-- update(faq_id, id_faq_kb, body?): the bot's id is required by the server (422 without it);
-- a table in its place is the old update(faq_id, body) call, refused with a clear message.
function M.methods:update(faq_id, id_faq_kb, body)
  if type(id_faq_kb) ~= "string" or id_faq_kb == "" then
    error("faqs:update(): bad argument #2 'id_faq_kb' (the bot's id expected, got "
      .. (id_faq_kb == "" and "an empty string" or type(id_faq_kb)) .. "): the server refuses an update without it", 2)
  end
  return self:_call("update", faq_id, id_faq_kb, body)
end
M.docs.update = {
  syntax = "faq, msg, err = client.faqs:update(faq_id, id_faq_kb, body?)",
  doc = M.routes[4].doc,
  example = M.routes[4].example }
return M
