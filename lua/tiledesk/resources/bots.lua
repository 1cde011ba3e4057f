-- Chatbots (faq_kb).
local check = require("tiledesk.check")
local multipart = require("tiledesk.multipart")
local json = require("tiledesk.json")
local url = require("tiledesk.url")

local M = {}
M.routes = {
  { "list", "GET", "/faq_kb", page = { all = true },
    filters = { all = "true: include identity bots", text = "full-text search", language = "language of the text search",
      public = "true/false", certified = "true/false" },
    doc = "Bots, without the trashed ones" },
  { "get", "GET", "/faq_kb/{}", params = { "bot_id" }, doc = "One bot" },
  { "create", "POST", "/faq_kb", fields = { "name" }, body = "object", doc = "Create (type internal/external/tilebot, url, ...)",
    example = 'local bot = assert(client.bots:create("Order Helper", { type = "external", url = "https://bots.example.com/hook" }))' },
  { "update", "PUT", "/faq_kb/{}", params = { "bot_id" }, body = "required", doc = "Update",
    example = 'client.bots:update(bot_id, { name = "Order Helper", description = "Answers order questions" })' },
  { "merge_attributes", "PATCH", "/faq_kb/{}/attributes", params = { "bot_id" }, body = "required", doc = "Merge attributes",
    example = 'client.bots:merge_attributes(bot_id, { tone = "friendly" })' },
  { "set_language", "PUT", "/faq_kb/{}/language/{}", params = { "bot_id", "language" }, doc = "Change the language",
    example = 'client.bots:set_language(bot_id, "it")' },
  { "delete", "DELETE", "/faq_kb/{}", params = { "bot_id" }, doc = "Delete" },
  { "token", "GET", "/faq_kb/{}/jwt", params = { "bot_id" }, secret = "response", doc = "Mint a bot token ({jwt=})",
    example = 'local jwt = assert(client.bots:token(bot_id)).jwt' },
  { "published", "GET", "/faq_kb/{}/published", params = { "bot_id" }, doc = "Published copies" },
  { "publish", "PUT", "/faq_kb/{}/publish", params = { "bot_id" }, body = "object", doc = "Publish (release_note)",
    example = 'client.bots:publish(bot_id, { release_note = "New return policy" })' },
  { "fork", "POST", "/faq_kb/fork/{}", params = { "bot_id" }, doc = "Fork into a project (query projectid, public, globals)",
    example = 'local res = assert(client.bots:fork(bot_id, { projectid = other_project_id, public = false }))' },
  { "export", "GET", "/faq_kb/exportjson/{}", params = { "bot_id" }, role = "admin",
    doc = "Export as JSON: the bot and its intents (globals = true keeps attributes.globals; intentsOnly = true)" },
  { "import", "POST", "/faq_kb/importjson/{}", params = { "bot_id" }, skip = true, role = "admin",
    call = "client.bots:import(bot_json, { create = true } | { bot_id = , replace = , overwrite = })",
    doc = "Import an exported bot: as a new bot (create), or into a bot (its intents added, replaced or overwritten)" },
  { "ask", "POST", "/faq_kb/askbot", fields = { "id_faq_kb", "question" }, doc = "Ask a question, get scored hits",
    example = 'local res = assert(client.bots:ask(bot_id, "Where is my order?")); print(#res.hits)' },
  { "train", "POST", "/faq_kb/train", fields = { "id_faq_kb" }, body = "object", doc = "Train",
    example = 'client.bots:train(bot_id)' },
  { "training", "POST", "/faq_kb/{}/training", params = { "bot_id" }, body = "object",
    doc = "Train one bot (its intents engine)",
    example = 'client.bots:training(bot_id)' },
}

local IMPORT_OPTS = { create = check.is_bool, bot_id = check.is_str, replace = check.is_bool, overwrite = check.is_bool }

M.methods = {}

-- import(bot, opts): bot is the table bots:export() gave, or the text of an exported file (sent
-- as the upload `uploadFile`, as the dashboard does). opts.create = true makes a new bot; else
-- opts.bot_id names the bot to import into: its name, description, language, webhook and
-- rules are updated, its intents added (replace = true deletes the old ones first,
-- overwrite = true updates those with the same intent_display_name). Never repeated.
function M.methods:import(bot, opts)
  local op = "bots:import()"
  if type(bot) ~= "table" and type(bot) ~= "string" then
    error(op .. ": bad argument #1 'bot' (table or JSON text expected, got " .. type(bot) .. ")", 2)
  end
  opts = check.options(op, 2, opts, IMPORT_OPTS, 2)
  if opts.create and opts.bot_id then error(op .. ": give either create = true or bot_id, not both", 2) end
  if not opts.create and not opts.bot_id then
    error(op .. ": give create = true (a new bot) or bot_id (the bot to import into)", 2)
  end
  if opts.create and (opts.replace or opts.overwrite) then
    error(op .. ": replace and overwrite apply to an existing bot (bot_id), not to create", 2)
  end
  if type(bot) == "string" then
    local decoded = json.decode(bot)
    if type(decoded) ~= "table" or decoded[1] ~= nil then
      error(op .. ": bad argument #1 'bot' (the text is not a JSON object)", 2)
    end
  end
  local query = {}
  for _, k in ipairs({ "create", "replace", "overwrite" }) do
    if opts[k] then query[k] = "true" end
  end
  local spec = { method = "POST", query = query, retry = false,
    -- with create the server takes a new bot and ignores the id segment (the dashboard sends "null")
    path = "/faq_kb/importjson/" .. (opts.create and "null" or url.segment(opts.bot_id)) }
  if type(bot) == "string" then
    local body, header = multipart.body({ field = "uploadFile", name = "bot.json", type = "application/json", content = bot })
    spec.body, spec.headers = body, { ["content-type"] = header }
  else
    spec.body = bot
  end
  local res, msg, err = self.client:call(op, spec)
  return res, msg, err
end

M.docs = {
  import = {
    syntax = "bot, msg, err = client.bots:import(bot_json, { create = true } | { bot_id, replace?, overwrite? })",
    doc = "Import a bot exported with `bots:export()` (admin): `bot_json` is the exported table, or the text of "
      .. "an exported file (sent as an upload). `create = true` makes a new bot; `bot_id` imports into that bot "
      .. "(name, description, language, webhook and rules updated; intents added, or with `replace = true` "
      .. "the old ones deleted first, with `overwrite = true` those of the same `intent_display_name` updated). "
      .. "Returns the bot; the server saves the intents just after it answers. Never repeated",
    example = 'local copy = assert(client.bots:import(assert(client.bots:export(bot_id)), { create = true }))' },
}
return M
