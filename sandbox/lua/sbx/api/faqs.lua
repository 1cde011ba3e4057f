-- /:pid/faq (alias /:pid/intents): the intents of a chatbot.
local crud = require("sbx.crud")
local access = require("sbx.access")
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local E = require("sbx.errors")
local events = require("sbx.events")
local owned = require("sbx.crud").owned
local or_404 = require("sbx.crud").or_404

local FAQ_FIELDS = { "question", "answer", "reply", "form", "topic", "enabled", "status", "language", "intent",
  "intent_display_name", "webhook_enabled", "actions", "attributes", "agents_available" }

local api = {}

local bots = store.coll("faq_kb")
local faqs = store.coll("faq")
-- intents
local function by_intent(id) return id:match("^intentId(.+)$") end
function api.list(ctx)
  local bot = util.str(ctx.query.id_faq_kb)
  local limit = util.int(ctx.query.limit, 3000)
  local page = math.max(0, util.int(ctx.query.page, 0))
  local text = util.str(ctx.query.text)
  local name = util.str(ctx.query.intent_display_name)
  local list = faqs:find(function(f)
    return (not bot or f.id_faq_kb == bot) and (bot or f.id_project == ctx.pid)
      and (not text or (f.question or ""):lower():find(text:lower(), 1, true))
      and (not name or f.intent_display_name == name)
  end)
  util.sort(list, "createdAt", 1)
  local out = util.arr()
  for _, f in ipairs(util.paginate(list, page, limit > 0 and limit or #list + 1)) do
    local v = util.shallow(f)
    v.faq_kb = util.arr{ view.bot(bots:get(f.id_faq_kb)) }
    out[#out + 1] = v
  end
  return 200, out
end

function api.csv(ctx)
  local bot = util.str(ctx.query.id_faq_kb)
  local lines = {}
  for _, f in ipairs(faqs:find(function(f) return f.id_faq_kb == bot and f.id_project == ctx.pid end)) do
    lines[#lines + 1] = (f.question or ""):gsub(";", ",") .. ";" .. (f.answer or ""):gsub(";", ",")
  end
  return 200, table.concat(lines, "\n") .. "\n", "text/csv; charset=utf-8"
end

api.get = or_404("faq", function(_, f)
  return 200, f
end)

api.create = or_404(crud.BOT_IN_BODY, function(ctx, b)
  local body = ctx.body or {}
  local name = body.intent_display_name
  if name and faqs:find_one(function(f) return f.id_faq_kb == b._id and f.intent_display_name == name end) then
    return 409, { success = false, msg = "Duplicate  intent_display_name." }
  end
  local f = { id_faq_kb = b._id, id_project = ctx.pid, createdBy = ctx.principal.id, enabled = true,
    language = b.language, intent_id = store.uuid(), _id = body._id }
  for _, k in ipairs(FAQ_FIELDS) do if body[k] ~= nil then f[k] = body[k] end end
  f.intent_display_name = f.intent_display_name or ("intent" .. (faqs:count() + 1))
  faqs:insert(f)
  events.emit(ctx.pid, "faq.create", f)
  return 200, f
end)

-- routes/faq.js PUT /:faqid: id_faq_kb in the body is required (422); the listed fields
-- that are neither absent nor null are written. intentId<intent_id> names the intent within
-- that bot (200 null when there is none); any other id is updated or made (upsert: an unknown
-- id makes an intent of these fields only).
local UPDATABLE = { "intent", "question", "answer", "topic", "status", "language", "intent_display_name",
  "webhook_enabled", "enabled", "reply", "form", "actions", "attributes", "agents_available" }

function api.update(ctx)
  local b = ctx.body or {}
  if b.id_faq_kb == nil or b.id_faq_kb == "" or b.id_faq_kb == util.null or b.id_faq_kb == false then
    return 422, { err = "Missing id_faq_kb in Request Body" }
  end
  local f
  local intent = by_intent(ctx.params.id)
  if intent then
    f = faqs:find_one(function(x) return x.id_faq_kb == b.id_faq_kb and x.intent_id == intent end)
    if not f then return 200, util.null end
  else
    f = faqs:get(ctx.params.id) or faqs:insert{ _id = ctx.params.id }
  end
  for _, k in ipairs(UPDATABLE) do
    if b[k] ~= nil and b[k] ~= util.null then f[k] = b[k] end
  end
  faqs:touch(f)
  events.emit(f.id_project or ctx.pid, "faq.update", f)
  return 200, f
end

api.set_attributes = or_404("faq", function(ctx, f)
  f.attributes = f.attributes or {}
  for k, v in pairs(ctx.body or {}) do f.attributes[k] = v end
  faqs:touch(f)
  return 200, f
end)

-- {id} is the faq _id, or intentId<intent_id> together with ?id_faq_kb=
function api.delete(ctx)
  local f
  local intent = by_intent(ctx.params.id)
  if intent then
    -- routes/faq.js DELETE /:faqid by intent: its own words
    local bot = util.str(ctx.query.id_faq_kb)
    if not bot then
      return 500, { success = false,
        msg = "Unable to delete object. Query param 'id_faq_kb' is mandatory if you want to delete via intent_id" }
    end
    f = faqs:find_one(function(x)
      return x.id_project == ctx.pid and x.intent_id == intent and x.id_faq_kb == bot
    end)
    if not f then return 404, { success = false, msg = "Error deleting object. The object does not exists." } end
  else
    f = owned("faq", ctx)
  end
  if not f then return E.not_found() end
  faqs:remove(f._id)
  events.emit(ctx.pid, "faq.delete", f)
  return 200, f
end

api.aliases = { { "/:pid/faq", "/:pid/intents" } }

api.routes = {
  { "GET", "/:pid/faq", "list", access.AGENT_OR_TOKENS },
  { "GET", "/:pid/faq/csv", "csv", access.ADMIN },
  { "GET", "/:pid/faq/:id", "get", access.ADMIN_OR_TOKENS },
  { "POST", "/:pid/faq", "create", access.ADMIN_OR_TOKENS },
  { "PUT", "/:pid/faq/:id", "update", { role = "admin", types = { "bot", "subscription" }, oid_except = by_intent } },
  { "PATCH", "/:pid/faq/:id/attributes", "set_attributes", access.ADMIN_OR_TOKENS },
  { "DELETE", "/:pid/faq/:id", "delete", { role = "admin", types = { "bot", "subscription" }, oid_except = by_intent } },
}

return api
