-- /:pid/faq_kb (alias /:pid/bots): chatbots.
local crud = require("sbx.crud")
local access = require("sbx.access")
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local events = require("sbx.events")
local crypto = require("sbx.crypto")
local or_404 = require("sbx.crud").or_404
local archiver = require("sbx.archiver")

local BOT_FIELDS = { "name", "description", "url", "webhook_url", "webhook_enabled", "type", "trashed", "public",
  "certified", "mainCategory", "intentsEngine", "tags", "trained", "short_description", "title", "certifiedTags",
  "agents_available", "slug", "language", "attributes", "template", "subtype" }

local api = {}

local bots = store.coll("faq_kb")
local faqs = store.coll("faq")
local function find(ctx)
  local b = bots:get(ctx.params.id)
  if not b or b.id_project ~= ctx.pid or b.trashed then return nil end
  return b
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

api.get = or_404(find, function(_, b)
  return 200, view.bot(b)
end)

function api.create(ctx)
  local body = ctx.body or {}
  if type(body.name) ~= "string" or body.name == "" then
    return 422, { errors = util.arr{ util.invalid("name", body.name) } }
  end
  local b = { type = "internal", language = "en", id_project = ctx.pid, createdBy = ctx.principal.id,
    trashed = false, secret = crypto.hex(crypto.random(16)) }
  for _, k in ipairs(BOT_FIELDS) do if body[k] ~= nil then b[k] = body[k] end end
  bots:insert(b)
  events.emit(ctx.pid, "faqbot.create", view.bot(b))
  -- routes/faq_kb.js POST /: faqbot.created unless ?skip_activity=true (the fork's own call)
  if util.str(ctx.query.skip_activity) ~= "true" then archiver.chatbot(ctx.principal, "FAQ_KB_CREATE", b) end
  return 200, view.bot(b)
end

api.update = or_404(find, function(ctx, b)
  local body = ctx.body or {}
  if body.slug and bots:find_one(function(x) return x ~= b and x.id_project == ctx.pid and x.slug == body.slug end) then
    return 500, { success = false, msg = "Error updating object.", error_code = 12001 }
  end
  for _, k in ipairs(BOT_FIELDS) do if body[k] ~= nil then b[k] = body[k] end end
  bots:touch(b)
  events.emit(ctx.pid, "faqbot.update", view.bot(b))
  -- PUT with trashed true is a soft delete: faqbot.deleted, as the hard delete
  if body.trashed == true or body.trashed == "true" then archiver.chatbot(ctx.principal, "FAQ_KB_DELETE", b) end
  return 200, view.bot(b)
end)

api.set_attributes = or_404(find, function(ctx, b)
  b.attributes = b.attributes or {}
  for k, v in pairs(ctx.body or {}) do b.attributes[k] = v end
  bots:touch(b)
  return 200, view.bot(b)
end)

api.set_language = or_404(find, function(ctx, b)
  b.language = ctx.params.lang
  for _, f in ipairs(faqs:find(function(f) return f.id_faq_kb == b._id end)) do f.language = b.language end
  bots:touch(b)
  return 200, view.bot(b)
end)

api.delete = or_404(find, function(ctx, b)
  bots:remove(b._id)
  events.emit(ctx.pid, "faqbot.delete", view.bot(b))
  archiver.chatbot(ctx.principal, "FAQ_KB_DELETE", b)
  return 200, { success = true, message = "Chatbot with id " .. b._id .. " deleted successfully" }
end)

api.jwt = or_404(find, function(_, b)
  return 200, { jwt = events.bot_token(b) }
end)

api.published = or_404(find, function(_, b)
  return 200, bots:find(function(x) return x.root_id == b._id end)
end)

-- Simplified: the server publishes a release (a copy with its intents) through its bot
-- service; the sandbox stores a trashed copy of the bot document only, no intents. The release
-- is of the bot, or of the release restore_from names ("Restored from <id>" its note; else
-- the body's note, "No comment" without one). faqbot.publish: FAQ_KB_PUBLISH of the bot.
api.publish = or_404(find, function(ctx, b)
  local body = ctx.body or {}
  local from, note = b, body.release_note
  if body.restore_from ~= nil and body.restore_from ~= util.null and body.restore_from ~= "" then
    from = bots:get(tostring(body.restore_from))
    if not from then return 500, { success = false, message = "Unable publish chatbot" } end
    note = "Restored from " .. tostring(body.restore_from)
  elseif note == nil or note == util.null or note == "" or note == false or note == 0 then
    note = "No comment"
  end
  local copy = util.copy(from)
  copy._id, copy.createdAt, copy.updatedAt = nil, nil, nil
  copy.root_id = b._id
  copy.release_note = note
  copy.publishedAt = store.now()
  copy.trashed = true -- published copies are not listed as bots
  bots:insert(copy)
  archiver.chatbot(ctx.principal, "FAQ_KB_PUBLISH", b, { publishedBotId = copy._id, release_note = note })
  return 200, { message = "Chatbot published successfully", bot_id = copy._id }
end)

-- Simplified: the server forks the bot with its intents (and globals/public options); the
-- sandbox copies the bot document only, without its intents.
api.fork = or_404(find, function(ctx, b)
  local target = util.str(ctx.query.projectid) or ctx.pid
  local copy = util.copy(b)
  copy._id, copy.createdAt, copy.updatedAt = nil, nil, nil
  copy.id_project = target
  copy.secret = crypto.hex(crypto.random(16))
  bots:insert(copy)
  -- faqbot.created with the bot the fork's POST answered (JSON: its dates strings), in the
  -- landing project; not for a fork made to publish
  if util.str(ctx.query.for_publish) ~= "true" then
    local landing = util.str(ctx.query.projectid)
    archiver.chatbot(ctx.principal, "FAQ_KB_CREATE", copy, nil,
      { id_project = landing ~= "" and landing or nil, string_dates = true })
  end
  return 200, { message = "Chatbot forked successfully", bot_id = copy._id }
end)

api.export_json = or_404(find, function(_, b)
  local out = view.bot(b)
  out.intents = faqs:find(function(f) return f.id_faq_kb == b._id end)
  return 200, out
end)

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
  { "POST", "/:pid/faq_kb/fork/:id", "fork", access.ADMIN },
  { "GET", "/:pid/faq_kb/exportjson/:id", "export_json", access.ADMIN },
  { "POST", "/:pid/faq_kb/askbot", "ask", access.ADMIN },
  { "POST", "/:pid/faq_kb/:id/training", "train", access.ADMIN },
  { "POST", "/:pid/faq_kb/train", "train_by_body", access.ADMIN },
}

return api
