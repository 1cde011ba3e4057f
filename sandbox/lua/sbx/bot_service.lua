-- Chatbots as the server's faqService.create (services/faqService.js) makes them: the fields it
-- picks from the body, the faq_kb model's defaults and pre-save slug (models/faq_kb.js), and
-- faqbot.create with the saved document. POST /faq_kb, importjson?create=true and the fork (through
-- its own POST /faq_kb) all go through here.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local events = require("sbx.events")

local _M = {}

local bots = store.coll("faq_kb")

-- models/faq_kb.js gives `secret` the default uuidv4() evaluated once, as the module loads: every
-- bot the service saves in one server process has that same secret, until a restart. The
-- sandbox's stands for its process: made on first use, kept through /__sandbox/reset.
local shared_secret
function _M.default_secret()
  shared_secret = shared_secret or store.uuid()
  return shared_secret
end

-- The fields faqService.create copies from the body, in its order.
local PICKED = { "name", "slug", "description", "url", "webhook_url", "webhook_enabled", "type", "subtype",
  "language", "mainCategory", "intentsEngine", "attributes" }

-- Latin-1 letters (lower case, as toLowerCase leaves them) that NFD splits into an ASCII letter
-- and a combining mark; what the slug keeps of them.
local BASE = {}
for letters, base in pairs({ ["àáâãäå"] = "a", ["ç"] = "c", ["èéêë"] = "e", ["ìíîï"] = "i", ["ñ"] = "n",
  ["òóôõö"] = "o", ["ùúûü"] = "u", ["ýÿ"] = "y" }) do
  for ch in letters:gmatch("[\xC0-\xDF][\x80-\xBF]") do BASE[ch] = base end
end
local UPPER_LATIN1 = {}
for ch in ("ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝ"):gmatch("[\xC0-\xDF][\x80-\xBF]") do
  -- upper and lower case differ by 0x20 in their second byte
  UPPER_LATIN1[ch] = ch:sub(1, 1) .. string.char(ch:byte(2) + 32)
end

-- models/faq_kb.js generateSlug: lower case, trimmed, accents dropped, only [a-z0-9 -_] kept,
-- blanks and underscores to dashes, runs of dashes to one.
function _M.slug_of(name)
  local s = tostring(name):lower():gsub("[\xC0-\xDF][\x80-\xBF]", UPPER_LATIN1)
  s = s:gsub("^%s+", ""):gsub("%s+$", "")
  s = s:gsub("[\xC0-\xDF][\x80-\xBF]", BASE)
  s = s:gsub("[^a-z0-9%s%-_]", "")
  s = s:gsub("%s+", "-"):gsub("_", "-"):gsub("%-+", "-")
  return s
end

-- The pre-save hook: the body's slug or one made of the name; when a bot of the project has it,
-- the next free `-N` after the highest the project's `<slug>-N` slugs use.
local function unique_slug(pid, base)
  local max, taken = 0, false
  for _, b in ipairs(bots:all()) do
    local s = b.id_project == pid and b.slug
    if type(s) == "string" then
      if s == base then taken = true end
      local n = s:sub(1, #base + 1) == base .. "-" and s:sub(#base + 2):match("^%d+$")
      if n and tonumber(n) > max then max = tonumber(n) end
    end
  end
  return taken and (base .. "-" .. (max + 1)) or base
end

local given = util.given

-- faqService.create(pid, user_id, data): the saved bot, or nil when the save fails (the name is
-- required: absent, null or empty). saved_hook(bot), when given, runs before faqbot.create: what
-- the caller does to the saved document before the event's payload is written.
function _M.create(pid, user_id, data, saved_hook)
  data = type(data) == "table" and data or {}
  local name = data.name
  if type(name) == "number" then name = tostring(name) end
  if type(name) ~= "string" or name == "" then return nil end
  local b = { id_project = pid, public = false, certified = false, trashed = false, createdBy = user_id,
    updatedBy = user_id }
  for _, k in ipairs(PICKED) do
    if data[k] ~= nil then b[k] = data[k] end
  end
  b.name = name
  -- the model's defaults (a JSON null stays null: mongoose applies a default to undefined only)
  if b.webhook_enabled == nil then b.webhook_enabled = false end
  if b.type == nil then b.type = "internal" end
  if b.subtype == nil and b.type == "tilebot" then b.subtype = "chatbot" end
  if b.language == nil then b.language = "en" end
  if b.intentsEngine == nil then b.intentsEngine = "none" end
  b.tags, b.score, b.trained, b.agents_available = util.arr(), 0, true, false
  b.secret = _M.default_secret()
  b.slug = unique_slug(pid, given(b.slug) and tostring(b.slug) or _M.slug_of(name))
  bots:insert(b)
  if saved_hook then saved_hook(b) end
  events.emit(pid, "faqbot.create", _M.saved(b))
  return b
end

-- The saved document as the service resolves it (and POST /faq_kb answers it): `select: false`
-- hides the secret from queries only, so this one has it.
function _M.saved(b)
  local out = view.bot(b)
  out.secret = b.secret
  return out
end

-- GET /exportjson/:id's JSON (routes/faq_kb.js): the bot's fields it names and the intents
-- without their own ids, project, topic, status, dates and creator; attributes.globals only
-- with `globals`.
local INTENT_DROPPED = { "_id", "id", "id_project", "topic", "status", "chatbot_id", "createdBy", "createdAt",
  "updatedAt", "__v" }
function _M.export(b, globals)
  local intents = util.arr()
  for _, f in ipairs(store.coll("faq"):find(function(f) return f.id_faq_kb == b._id end)) do
    local it = util.copy(f)
    for _, k in ipairs(INTENT_DROPPED) do it[k] = nil end
    intents[#intents + 1] = it
  end
  local attributes = util.copy(b.attributes)
  if not globals and type(attributes) == "table" then attributes.globals = nil end
  return { webhook_enabled = b.webhook_enabled, webhook_url = b.webhook_url, language = b.language, name = b.name,
    slug = b.slug, type = b.type, subtype = b.subtype, description = b.description, attributes = attributes,
    intents = intents }
end

return _M
