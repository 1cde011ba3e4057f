-- /:pid/faq_kb (alias /:pid/bots): chatbots.
local crud = require("sbx.crud")
local access = require("sbx.access")
local store = require("sbx.store")
local util = require("sbx.util")
local json = require("sbx.json")
local view = require("sbx.view")
local events = require("sbx.events")
local bot_service = require("sbx.bot_service")
local or_404 = require("sbx.crud").or_404
local archiver = require("sbx.archiver")
local bot_import = require("sbx.api.bot_import")

-- routes/faq_kb.js PUT /:faq_kbid: the fields it takes from the body (allowedFields)
local BOT_FIELDS = { "name", "description", "url", "webhook_url", "webhook_enabled", "type", "trashed", "public",
  "certified", "mainCategory", "intentsEngine", "tags", "trained", "short_description", "title", "certifiedTags",
  "agents_available", "slug" }

local api = {}

local bots = store.coll("faq_kb")
local faqs = store.coll("faq")
-- models/faq_kb.js's Boolean fields among them, and mongoose's cast of a Boolean
local BOOLEAN_FIELDS = { webhook_enabled = true, trashed = true, public = true, certified = true, trained = true,
  agents_available = true }
local BOOLEAN_CAST = { [true] = true, ["true"] = true, [1] = true, ["1"] = true, yes = true,
  [false] = false, ["false"] = false, [0] = false, ["0"] = false, no = false }

-- Faq_kb.findOne({ _id, id_project }) as the routes by id ask it: a trashed bot is found too
local function find(ctx)
  local b = bots:get(ctx.params.id)
  if not b or b.id_project ~= ctx.pid then return nil end
  return b
end
-- the routes' own 404 (GET, PUT, PATCH attributes, PUT language, DELETE, GET jwt)
local function by_id(fn)
  return function(ctx)
    local b = find(ctx)
    if not b then
      return 404, { success = false, msg = "Chatbot not found with id " .. ctx.params.id .. " for project " .. ctx.pid }
    end
    return fn(ctx, b)
  end
end

-- models/faq_kb.js post('findOneAndUpdate') on a bot that comes out trashed, then
-- event/botEvent.js faqbot.update.virtual.delete: unless it is a published release, its intents
-- are trashed with its trashedAt, its webhook deleted, and its releases (root_id) trashed with
-- their intents.
local function virtual_delete(b)
  if b.publishedAt ~= nil then return end
  local at = b.trashedAt == nil and util.null or b.trashedAt
  local function trash_intents(id)
    for _, f in ipairs(faqs:find(function(x) return x.id_faq_kb == id end)) do
      f.trashed, f.trashedAt = true, at
      faqs:touch(f)
    end
  end
  trash_intents(b._id)
  local hooks = store.coll("webhooks")
  local hook = hooks:find_one(function(h) return h.chatbot_id == b._id end)
  if hook then hooks:remove(hook._id) end
  for _, r in ipairs(bots:find(function(x) return x.root_id == b._id end)) do
    r.trashed, r.trashedAt = true, at
    bots:touch(r)
    trash_intents(r._id)
  end
end
function api.list(ctx)
  local all = util.bool(ctx.query.all)
  local text = util.str(ctx.query.text)
  return 200, (function()
    local out = util.arr()
    for _, b in ipairs(bots:all()) do
      if b.id_project == ctx.pid and not b.trashed and (all or b.type ~= "identity")
        and (not text or (b.name or ""):lower():find(text:lower(), 1, true)) then
        out[#out + 1] = view.bot(b)
      end
    end
    return out
  end)()
end

api.get = by_id(function(_, b)
  return 200, view.bot(b)
end)

-- routes/faq_kb.js POST /: faqService.create (sbx.bot_service); the save's failure (no name)
-- answers 500 {succes:false, error}. The answer is the saved document, secret included.
function api.create(ctx)
  local b = bot_service.create(ctx.pid, ctx.principal.id, ctx.body)
  if not b then return 500, { succes = false, error = "Error saving object." } end
  -- faqbot.created unless ?skip_activity=true (the fork's own call)
  if util.str(ctx.query.skip_activity) ~= "true" then archiver.chatbot(ctx.principal, "FAQ_KB_CREATE", b) end
  return 200, bot_service.saved(b)
end

-- PUT /:faq_kbid: the allowed fields and modified = true, through findOneAndUpdate and its
-- hooks: trashed set to the boolean true renames a bot's slug to <slug>-trashed-<ms> and sets
-- trashedAt (no slug: neither); a bot that comes out trashed is deleted virtually. A slug taken
-- in the project (the unique index over bots with a slug) is error 11000.
api.update = by_id(function(ctx, b)
  local body = ctx.body or {}
  local update = {}
  for _, k in ipairs(BOT_FIELDS) do if body[k] ~= nil then update[k] = body[k] end end
  update.modified = true
  -- the hooks read the update as sent; the Boolean fields are then cast (mongoose: true, 'true',
  -- 1, '1', 'yes' / false, 'false', 0, '0', 'no'; null stays; anything else fails the update)
  local uncast_trashed = update.trashed
  for k in pairs(BOOLEAN_FIELDS) do
    local v = update[k]
    if v ~= nil and v ~= util.null then
      local c = BOOLEAN_CAST[v]
      if c == nil then return 500, { success = false, msg = "Error updating object." } end
      update[k] = c
    end
  end
  if uncast_trashed == true and b.slug ~= nil and b.slug ~= util.null then
    update.trashedAt = store.now()
    update.slug = tostring(b.slug) .. "-trashed-" .. string.format("%d", store.now_ms())
  end
  local slug = update.slug
  if slug ~= nil and slug ~= util.null
    and bots:find_one(function(x) return x ~= b and x.id_project == ctx.pid and x.slug == slug end) then
    return 500, { success = false, msg = "Error updating object.", error = "Slug already exists: " .. tostring(slug),
      error_code = 12001 }
  end
  for k, v in pairs(update) do b[k] = v end
  bots:touch(b)
  if b.trashed == true then virtual_delete(b) end
  events.emit(ctx.pid, "faqbot.update", view.bot(b))
  -- PUT with trashed true is a soft delete: faqbot.deleted, as the hard delete
  if body.trashed == true or body.trashed == "true" then archiver.chatbot(ctx.principal, "FAQ_KB_DELETE", b) end
  return 200, view.bot(b)
end)

-- PATCH /:faq_kbid/attributes: merged, saved (no findOneAndUpdate hooks), faqbot.update
api.set_attributes = by_id(function(ctx, b)
  b.attributes = b.attributes or {}
  for k, v in pairs(ctx.body or {}) do b.attributes[k] = v end
  bots:touch(b)
  events.emit(ctx.pid, "faqbot.update", view.bot(b))
  return 200, view.bot(b)
end)

-- PUT /:faq_kbid/language/:language: findOneAndUpdate (a trashed bot is deleted virtually
-- again by the post hook), then its intents' language
api.set_language = by_id(function(ctx, b)
  b.language = ctx.params.lang
  bots:touch(b)
  if b.trashed == true then virtual_delete(b) end
  for _, f in ipairs(faqs:find(function(f) return f.id_faq_kb == b._id end)) do f.language = b.language end
  return 200, view.bot(b)
end)

api.delete = by_id(function(ctx, b)
  bots:remove(b._id)
  events.emit(ctx.pid, "faqbot.delete", view.bot(b))
  archiver.chatbot(ctx.principal, "FAQ_KB_DELETE", b)
  return 200, { success = true, message = "Chatbot with id " .. b._id .. " deleted successfully" }
end)

api.jwt = by_id(function(_, b)
  return 200, { jwt = events.bot_token(b) }
end)

-- GET /:faq_kbid/published: find({ id_project, root_id }), an empty list for an unknown bot
function api.published(ctx)
  local out = util.arr()
  for _, x in ipairs(bots:find(function(x) return x.id_project == ctx.pid and x.root_id == ctx.params.id end)) do
    out[#out + 1] = view.bot(x)
  end
  return 200, out
end

-- Simplified: the server publishes a release (a copy with its intents) through its bot
-- service; the sandbox stores a trashed copy of the bot document only, no intents. The release
-- is of the bot, or of the release restore_from names ("Restored from <id>" its note; else
-- the body's note, "No comment" without one). faqbot.publish: FAQ_KB_PUBLISH of the bot.
-- A bot the fork cannot export fails the fork, and the route answers its catch's 500.
local function publish_failed() return 500, { success = false, message = "Unable publish chatbot" } end
function api.publish(ctx)
  local b = find(ctx)
  if not b then return publish_failed() end
  local body = ctx.body or {}
  local from, note = b, body.release_note
  if body.restore_from ~= nil and body.restore_from ~= util.null and body.restore_from ~= "" then
    from = bots:get(tostring(body.restore_from))
    if not from then return publish_failed() end
    note = "Restored from " .. tostring(body.restore_from)
  elseif note == nil or note == util.null or note == "" or note == false or note == 0 then
    note = "No comment"
  end
  local copy = util.copy(from)
  copy._id, copy.createdAt, copy.updatedAt = nil, nil, nil
  copy.root_id = b._id
  -- the release is a fork (faqService.create: the shared secret), its slug unset
  copy.secret, copy.slug = bot_service.default_secret(), nil
  copy.release_note = note
  copy.publishedAt = store.now()
  copy.trashed = true -- published copies are not listed as bots
  bots:insert(copy)
  archiver.chatbot(ctx.principal, "FAQ_KB_PUBLISH", b, { publishedBotId = copy._id, release_note = note })
  return 200, { message = "Chatbot published successfully", bot_id = copy._id }
end

-- The bot of GET /exportjson/:id (routes/faq_kb.js): any project's public bot, else the caller
-- project's; nil, status, body when there is none.
local function exportable(ctx)
  local id = ctx.params.id
  if not util.is_oid(id) then return nil, 500, { success = false, msg = "Error getting bot." } end
  local b = bots:get(id)
  if not b then return nil, 404, { success = false, msg = "Chatbot not found with id " .. id } end
  if b.public ~= true and b.id_project ~= ctx.pid then
    return nil, 403, { success = false, msg = "Chatbot not found with id " .. id .. " for project " .. ctx.pid }
  end
  return b
end

-- POST /fork/:id (routes/faq_kb.js with services/chatbotService.js): the bot as GET /exportjson
-- gives it (globals kept when the query names them, as the export is asked `?globals=<value>`),
-- without modified, template "empty"; then POST /<projectid>/faq_kb?skip_activity=true with it
-- (faqService.create: faqbot.create there), then POST importjson/<new id>?intentsOnly=true (the
-- import without create: faqbot.update, then faq.create for each intent). All three calls are
-- made with the caller's token, so the caller must be an admin of the landing project.
-- Simplified: without public=false the server reads the bot from the public templates service;
-- the sandbox exports it from the project all the same.
function api.fork(ctx)
  local b = exportable(ctx)
  if not b then return 500, { success = false, error = "Unable to get chatbot to be forked" } end
  local globals = util.query_true(ctx.query.globals)
  local chatbot = bot_service.export(b, true)
  if not globals and type(chatbot.attributes) == "table" then chatbot.attributes.globals = nil end
  chatbot.template = "empty"
  local landing = util.str(ctx.query.projectid)
  local pu = landing and require("sbx.app").membership(ctx.principal, landing)
  local rank = require("sbx.app").ROLE_RANK
  local copy = pu and (rank[pu.role] or 0) >= rank.admin and bot_service.create(landing, ctx.principal.id, chatbot)
  if not copy then return 500, { success = false, message = "An error occurred during chatbot creation" } end
  local saved = bot_service.saved(copy)
  bot_import.import_into({ pid = landing, principal = ctx.principal }, copy, chatbot, {})
  -- faqbot.created with the bot the fork's POST answered (JSON: its dates strings), in the
  -- landing project; not for a fork made to publish
  if util.str(ctx.query.for_publish) ~= "true" then
    archiver.chatbot(ctx.principal, "FAQ_KB_CREATE", saved, nil, { id_project = landing, string_dates = true })
  end
  return 200, { message = "Chatbot forked successfully", bot_id = copy._id }
end

-- GET /exportjson/:id: the export's fields (sbx.bot_service.export), or {intents} alone with
-- intentsOnly=true, as an attachment.
function api.export_json(ctx)
  local b, status, err = exportable(ctx)
  if not b then return status, err end
  local out = bot_service.export(b, util.query_true(ctx.query.globals))
  local name = "bot.json"
  if util.str(ctx.query.intentsOnly) == "true" then out, name = { intents = out.intents }, "intents.json" end
  -- the route sends JSON.stringify's text: express's res.send of a string answers text/html
  return 200, json.encode(out), "text/html; charset=utf-8",
    { ["Content-Disposition"] = 'attachment; filename="' .. name .. '"' }
end

-- Simplified: the server asks the bot's intents engine (full-text or an AI engine); the
-- sandbox scores the intents by the question words they share.
api.ask = or_404(crud.BOT_IN_BODY, function(ctx, b)
  local body = ctx.body or {}
  local q = tostring(body.question or ""):lower()
  local hits = util.arr()
  for _, f in ipairs(faqs:find(function(f) return f.id_faq_kb == b._id end)) do
    local score = 0
    for word in q:gmatch("%w+") do
      if (f.question or ""):lower():find(word, 1, true) then score = score + 1 end
    end
    if score > 0 then
      local hit = util.shallow(f)
      hit.score = score
      hits[#hits + 1] = hit
    end
  end
  table.sort(hits, function(a, c) return a.score > c.score end)
  return 200, { hits = hits }
end)

-- Simplified: the server hands the intents to its training service and answers with that
-- service's status; the sandbox trains nothing, marks the bot trained and answers {train:true}.
api.train = or_404(find, function(_, b)
  b.trained = true
  bots:touch(b)
  return 200, { train = true, id_faq_kb = b._id, intentsEngine = b.intentsEngine or "standard" }
end)

-- Simplified like /:id/training above: nothing is trained.
api.train_by_body = or_404(crud.BOT_IN_BODY, function(_, b)
  b.trained = true
  return 200, { train = true, id_faq_kb = b._id }
end)

api.aliases = { { "/:pid/faq_kb", "/:pid/bots" } }

api.routes = {
  { "GET", "/:pid/faq_kb", "list", access.AGENT_OR_TOKENS },
  { "GET", "/:pid/faq_kb/:id", "get", access.ADMIN_OR_TOKENS },
  { "POST", "/:pid/faq_kb", "create", access.ADMIN },
  { "PUT", "/:pid/faq_kb/:id", "update", access.ADMIN_OR_TOKENS },
  { "PATCH", "/:pid/faq_kb/:id/attributes", "set_attributes", access.ADMIN_OR_TOKENS },
  { "PUT", "/:pid/faq_kb/:id/language/:lang", "set_language", access.ADMIN_OR_TOKENS },
  { "DELETE", "/:pid/faq_kb/:id", "delete", access.ADMIN },
  { "GET", "/:pid/faq_kb/:id/jwt", "jwt", access.ADMIN_OR_TOKENS },
  { "GET", "/:pid/faq_kb/:id/published", "published", access.ADMIN_OR_TOKENS },
  { "PUT", "/:pid/faq_kb/:id/publish", "publish", access.ADMIN },
  { "POST", "/:pid/faq_kb/fork/:id", "fork", { role = "admin", oid = false } },
  { "GET", "/:pid/faq_kb/exportjson/:id", "export_json", { role = "admin", oid = false } },
  { "POST", "/:pid/faq_kb/askbot", "ask", access.ADMIN },
  { "POST", "/:pid/faq_kb/:id/training", "train", access.ADMIN },
  { "POST", "/:pid/faq_kb/train", "train_by_body", access.ADMIN },
}

return api
