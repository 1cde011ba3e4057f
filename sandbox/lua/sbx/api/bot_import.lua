-- Bots as code: POST /:pid/faq_kb/importjson/:bot (routes/faq_kb.js) and the intents in bulk,
-- POST /:pid/faq/ops_update and POST /:pid/faq/uploadcsv (routes/faq.js).
-- The server saves imported and bulk intents after it has answered (un-awaited callbacks); the
-- sandbox saves them before it answers, so a read just after sees them.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local events = require("sbx.events")
local bot_service = require("sbx.bot_service")
local json = require("sbx.json")
local multipart = require("sbx.multipart")
local archiver = require("sbx.archiver")

local bots = store.coll("faq_kb")
local faqs = store.coll("faq")

local admin = { role = "admin" }
local admin_or = { role = "admin", types = { "bot", "subscription" } }

local api = {}

-- the fields faq_kb.js copies from an imported intent
local INTENT_FIELDS = { "intent_display_name", "intent_id", "question", "answer", "reply", "form", "enabled",
  "webhook_enabled", "language", "actions", "attributes" }

local function new_intent(ctx, bot, src)
  local f = { id_faq_kb = bot._id, id_project = ctx.pid, createdBy = ctx.principal.id }
  for _, k in ipairs(INTENT_FIELDS) do if src[k] ~= nil then f[k] = src[k] end end
  if f.enabled == nil then f.enabled = true end
  f.intent_id = f.intent_id or store.uuid()
  f.intent_display_name = f.intent_display_name or ("intent" .. (faqs:count() + 1))
  return f
end

local function same_intent(bot, f)
  return faqs:find_one(function(x)
    return x.id_faq_kb == bot._id and (x.intent_display_name == f.intent_display_name or x.intent_id == f.intent_id)
  end)
end

-- rules' first participant becomes this bot (faq_kb.js does it on every import)
local function retarget_rules(attributes, bot)
  if type(attributes) ~= "table" or type(attributes.rules) ~= "table" then return end
  for _, rule in ipairs(attributes.rules) do
    local m = type(rule) == "table" and type(rule["do"]) == "table" and type(rule["do"][1]) == "table"
      and rule["do"][1].message
    if type(m) == "table" and type(m.participants) == "table" and m.participants[1] then
      m.participants[1] = "bot_" .. bot._id
    end
  end
end

-- the intents of an import: a duplicate (same name or intent_id in the bot) is skipped, as the
-- unique indexes make the server do, or with overwrite the one of the same name is updated
local function import_intents(ctx, b, intents, overwrite)
  for _, it in ipairs(type(intents) == "table" and intents or {}) do
    if type(it) == "table" then
      local f = new_intent(ctx, b, it)
      local old = overwrite and faqs:find_one(function(x)
        return x.id_faq_kb == b._id and x.intent_display_name == it.intent_display_name
      end)
      if old then
        for k, v in pairs(f) do if k ~= "_id" then old[k] = v end end
        faqs:touch(old)
        events.emit(ctx.pid, "faq.update", old)
      elseif not same_intent(b, f) then
        faqs:insert(f)
        events.emit(ctx.pid, "faq.create", f)
      end
    end
  end
end

local function import_source(ctx)
  local parts = multipart.parts(ctx)
  local file = parts and parts.uploadFile
  if file then
    local ok, v = pcall(json.decode, file.data)
    if not ok or type(v) ~= "table" then return nil end
    return v
  end
  return ctx.body or {}
end

-- importjson without create: the bot's fields the body sets, its rules retargeted, faqbot.update
-- (the updated bot: no secret), then the intents (q: replace, overwrite). Also the fork's
-- second call (intentsOnly=true, which this branch does not read).
function api.import_into(ctx, b, src, q)
  for _, k in ipairs({ "webhook_enabled", "webhook_url", "language", "name", "description" }) do
    if src[k] ~= nil and src[k] ~= false and src[k] ~= "" and src[k] ~= util.null then b[k] = src[k] end
  end
  if type(src.attributes) == "table" and type(src.attributes.rules) == "table" and #src.attributes.rules > 0 then
    retarget_rules(src.attributes, b)
    b.attributes = src.attributes
  end
  bots:touch(b)
  events.emit(ctx.pid, "faqbot.update", view.bot(b))
  if util.str(q.replace) == "true" then
    for _, f in ipairs(faqs:find(function(x) return x.id_faq_kb == b._id end)) do faqs:remove(f._id) end
  end
  import_intents(ctx, b, src.intents, util.str(q.overwrite) == "true")
  return b
end

function api.importjson(ctx)
  local src = import_source(ctx)
  -- the server's JSON.parse throws inside its async handler and never answers; the sandbox says so
  if not src then return 500, { success = false, msg = "Unexpected token: the uploaded file is not JSON" } end
  local q = ctx.query
  if util.str(q.create) == "true" then
    -- faqService.create with template "empty" (faqbot.create), the rules retargeted (the saved
    -- document shares its attributes with the body), findByIdAndUpdate of the attributes, then the
    -- route's own faqbot.create with the saved bot (secret included) and faqbot.created; the
    -- answer is the updated bot, which has no secret
    src.template = "empty"
    local b = bot_service.create(ctx.pid, ctx.principal.id, src, function(saved)
      retarget_rules(saved.attributes, saved)
    end)
    if not b then
      return 400, { succes = false, message = "Error creatings new chatbot", error = "Error saving object." }
    end
    bots:touch(b)
    events.emit(ctx.pid, "faqbot.create", bot_service.saved(b))
    archiver.chatbot(ctx.principal, "FAQ_KB_CREATE", b)
    import_intents(ctx, b, src.intents, false)
    return 200, view.bot(b)
  end
  local id = ctx.params.bot
  local b = util.is_oid(id) and bots:get(id)
  if not util.is_oid(id) then
    return 404, { success = false, message = "Error finding chatbot with id " .. id }
  end
  if not b or b.id_project ~= ctx.pid then
    return 404, { success = false, message = "Chatbot not found with id " .. id .. " for project " .. ctx.pid }
  end
  api.import_into(ctx, b, src, q)
  return 200, view.bot(b)
end

-- The intent an ops_update put/delete names: intent._id, or intentId<intent_id> as faq.js builds it.
local function target(ctx, bot_id, intent)
  if intent.intent_id then
    return faqs:find_one(function(x)
      return x.id_project == ctx.pid and x.intent_id == intent.intent_id and (bot_id == nil or x.id_faq_kb == bot_id)
    end)
  end
  local f = intent._id and faqs:get(intent._id)
  if f and f.id_project == ctx.pid then return f end
  return nil
end

-- Each operation is the server's own call to /faq (POST, PUT /:id, PATCH /:id/attributes,
-- DELETE /:id), made with the caller's credentials; a failing one is only logged.
function api.ops_update(ctx)
  local b = ctx.body or {}
  local ops = b.operations
  if type(ops) ~= "table" then
    -- `for (let op of operations)` on a non-iterable throws in the async handler: no answer
    return 500, { success = false, msg = "operations is not iterable" }
  end
  for _, o in ipairs(ops) do
    local intent = type(o) == "table" and type(o.intent) == "table" and o.intent or nil
    if o.type == "post" and intent then
      local bot = intent.id_faq_kb and bots:get(intent.id_faq_kb)
      if bot and bot.id_project == ctx.pid then
        local f = new_intent(ctx, bot, intent)
        for _, k in ipairs({ "topic" }) do if intent[k] ~= nil then f[k] = intent[k] end end
        f.language = bot.language
        if not same_intent(bot, f) then
          faqs:insert(f)
          events.emit(ctx.pid, "faq.create", f)
        end
      end
    elseif o.type == "put" and intent then
      local f = target(ctx, nil, intent)
      if f then
        for _, k in ipairs(INTENT_FIELDS) do if intent[k] ~= nil and k ~= "intent_id" then f[k] = intent[k] end end
        faqs:touch(f)
        events.emit(ctx.pid, "faq.update", f)
      end
    elseif o.type == "patch" and intent then
      local f = intent._id and faqs:get(intent._id)
      if f and f.id_project == ctx.pid and type(intent.attributes) == "table" then
        f.attributes = f.attributes or {}
        for k, v in pairs(intent.attributes) do f.attributes[k] = v end
        faqs:touch(f)
      end
    elseif o.type == "delete" and intent then
      local f = target(ctx, b.id_faq_kb, intent)
      if f then
        faqs:remove(f._id)
        events.emit(ctx.pid, "faq.delete", f)
      end
    end
  end
  return 200, { success = true }
end

-- uploadcsv: rows question;answer;intent_id;intent_display_name;webhook_enabled, each a reply
-- action with the answer (faq.js); a row that fails to save is only logged.
function api.uploadcsv(ctx)
  local parts = multipart.parts(ctx) or {}
  local fields = multipart.fields(parts)
  local file = parts.uploadFile
  -- req.file undefined: `req.file.buffer` throws, Express answers its 500 page
  if not file then return 500, "<pre>TypeError: Cannot read properties of undefined (reading 'buffer')</pre>", "text/html" end
  local bot_id = fields.id_faq_kb
  local bot = bot_id and util.is_oid(bot_id) and bots:get(bot_id)
  if bot_id and not util.is_oid(bot_id) then return 500, { success = false, msg = "Error getting object." } end
  if not bot then return 404, { success = false, msg = "Object not found." } end
  local delim = fields.delimiter or ";"
  for _, row in ipairs(multipart.csv_rows(file.data, delim)) do
    local answer = row[2]
    local f = { id_faq_kb = bot._id, id_project = ctx.pid, createdBy = ctx.principal.id, updatedBy = ctx.principal.id,
      question = row[1], intent_id = row[3] ~= "" and row[3] or nil, intent_display_name = row[4] ~= "" and row[4] or nil,
      webhook_enabled = row[5] == "true", language = bot.language, enabled = true,
      actions = util.arr{ { _tdActionType = "reply", _tdActionId = store.uuid(), text = answer,
        attributes = { commands = util.arr{ { type = "wait", time = 500 },
          { type = "message", message = { type = "text", text = answer } } } } } } }
    f.intent_id = f.intent_id or store.uuid()
    f.intent_display_name = f.intent_display_name or ("intent" .. (faqs:count() + 1))
    if not same_intent(bot, f) then
      faqs:insert(f)
      events.emit(ctx.pid, "faq.create", f)
    end
  end
  return 200, { success = true, msg = "CSV Parsed" }
end

api.aliases = { { "/:pid/faq_kb", "/:pid/bots" }, { "/:pid/faq", "/:pid/intents" } }

api.routes = {
  { "POST", "/:pid/faq_kb/importjson/:bot", "importjson", admin },
  { "POST", "/:pid/faq/ops_update", "ops_update", admin_or },
  { "POST", "/:pid/faq/uploadcsv", "uploadcsv", admin_or },
}

return api
