-- /:pid/faq_kb (alias /:pid/bots) and /:pid/faq (alias /:pid/intents).
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local E = require("sbx.errors")
local events = require("sbx.events")
local crypto = require("sbx.crypto")

local BOT_FIELDS = { "name", "description", "url", "webhook_url", "webhook_enabled", "type", "trashed", "public",
  "certified", "mainCategory", "intentsEngine", "tags", "trained", "short_description", "title", "certifiedTags",
  "agents_available", "slug", "language", "attributes", "template", "subtype" }
local FAQ_FIELDS = { "question", "answer", "reply", "form", "topic", "enabled", "status", "language", "intent",
  "intent_display_name", "webhook_enabled", "actions", "attributes", "agents_available" }

return function(r)
  local bots = store.coll("faq_kb")
  local faqs = store.coll("faq")
  local read = { role = "agent", types = { "bot", "subscription" } }
  local admin_or = { role = "admin", types = { "bot", "subscription" } }
  local admin = { role = "admin" }
  local function find(ctx)
    local b = bots:get(ctx.params.id)
    if not b or b.id_project ~= ctx.pid or b.trashed then return nil end
    return b
  end
  for _, base in ipairs({ "faq_kb", "bots" }) do
    local P = "/:pid/" .. base
    r:add("GET", P, read, function(ctx)
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
    end)
    r:add("GET", P .. "/:id", admin_or, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      return 200, view.bot(b)
    end)
    r:add("POST", P, admin, function(ctx)
      local body = ctx.body or {}
      if type(body.name) ~= "string" or body.name == "" then
        return 422, { errors = util.arr{ util.invalid("name", body.name) } }
      end
      local b = { type = "internal", language = "en", id_project = ctx.pid, createdBy = ctx.principal.id,
        trashed = false, secret = crypto.hex(crypto.random(16)) }
      for _, k in ipairs(BOT_FIELDS) do if body[k] ~= nil then b[k] = body[k] end end
      bots:insert(b)
      events.emit(ctx.pid, "faqbot.create", view.bot(b))
      return 200, view.bot(b)
    end)
    r:add("PUT", P .. "/:id", admin_or, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      local body = ctx.body or {}
      if body.slug and bots:find_one(function(x) return x ~= b and x.id_project == ctx.pid and x.slug == body.slug end) then
        return 500, { success = false, msg = "Error updating object.", error_code = 12001 }
      end
      for _, k in ipairs(BOT_FIELDS) do if body[k] ~= nil then b[k] = body[k] end end
      bots:touch(b)
      events.emit(ctx.pid, "faqbot.update", view.bot(b))
      return 200, view.bot(b)
    end)
    r:add("PATCH", P .. "/:id/attributes", admin_or, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      b.attributes = b.attributes or {}
      for k, v in pairs(ctx.body or {}) do b.attributes[k] = v end
      bots:touch(b)
      return 200, view.bot(b)
    end)
    r:add("PUT", P .. "/:id/language/:lang", admin_or, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      b.language = ctx.params.lang
      for _, f in ipairs(faqs:find(function(f) return f.id_faq_kb == b._id end)) do f.language = b.language end
      bots:touch(b)
      return 200, view.bot(b)
    end)
    r:add("DELETE", P .. "/:id", admin, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      bots:remove(b._id)
      events.emit(ctx.pid, "faqbot.delete", view.bot(b))
      return 200, { success = true, message = "Chatbot with id " .. b._id .. " deleted successfully" }
    end)
    r:add("GET", P .. "/:id/jwt", admin_or, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      return 200, { jwt = events.bot_token(b) }
    end)
    r:add("GET", P .. "/:id/published", admin_or, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      return 200, bots:find(function(x) return x.root_id == b._id end)
    end)
    -- Simplified: the server publishes a release (a copy with its intents) through its bot
    -- service; the sandbox stores a trashed copy of the bot document only, no intents.
    r:add("PUT", P .. "/:id/publish", admin, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      local copy = util.copy(b)
      copy._id, copy.createdAt, copy.updatedAt = nil, nil, nil
      copy.root_id = b._id
      copy.release_note = (ctx.body or {}).release_note
      copy.publishedAt = store.now()
      copy.trashed = true -- published copies are not listed as bots
      bots:insert(copy)
      return 200, { message = "Chatbot published successfully", bot_id = copy._id }
    end)
    -- Simplified: the server forks the bot with its intents (and globals/public options); the
    -- sandbox copies the bot document only, without its intents.
    r:add("POST", P .. "/fork/:id", admin, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      local target = util.str(ctx.query.projectid) or ctx.pid
      local copy = util.copy(b)
      copy._id, copy.createdAt, copy.updatedAt = nil, nil, nil
      copy.id_project = target
      copy.secret = crypto.hex(crypto.random(16))
      bots:insert(copy)
      return 200, { message = "Chatbot forked successfully", bot_id = copy._id }
    end)
    r:add("GET", P .. "/exportjson/:id", admin, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      local out = view.bot(b)
      out.intents = faqs:find(function(f) return f.id_faq_kb == b._id end)
      return 200, out
    end)
    -- Simplified: the server asks the bot's intents engine (full-text or an AI engine); the
    -- sandbox scores the intents by the question words they share.
    r:add("POST", P .. "/askbot", admin, function(ctx)
      local body = ctx.body or {}
      local b = bots:get(body.id_faq_kb or "")
      if not b or b.id_project ~= ctx.pid then return E.not_found() end
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
    r:add("POST", P .. "/:id/training", admin, function(ctx)
      local b = find(ctx)
      if not b then return E.not_found() end
      b.trained = true
      bots:touch(b)
      return 200, { train = true, id_faq_kb = b._id, intentsEngine = b.intentsEngine or "standard" }
    end)
    -- Simplified like /:id/training above: nothing is trained.
    r:add("POST", P .. "/train", admin, function(ctx)
      local b = bots:get((ctx.body or {}).id_faq_kb or "")
      if not b or b.id_project ~= ctx.pid then return E.not_found() end
      b.trained = true
      return 200, { train = true, id_faq_kb = b._id }
    end)
  end

  -- intents
  local function by_intent(id) return id:match("^intentId(.+)$") end
  local function ffind(ctx)
    local f = faqs:get(ctx.params.id)
    if not f or f.id_project ~= ctx.pid then return nil end
    return f
  end
  for _, base in ipairs({ "faq", "intents" }) do
    local P = "/:pid/" .. base
    r:add("GET", P, read, function(ctx)
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
    end)
    r:add("GET", P .. "/csv", admin, function(ctx)
      local bot = util.str(ctx.query.id_faq_kb)
      local lines = {}
      for _, f in ipairs(faqs:find(function(f) return f.id_faq_kb == bot and f.id_project == ctx.pid end)) do
        lines[#lines + 1] = (f.question or ""):gsub(";", ",") .. ";" .. (f.answer or ""):gsub(";", ",")
      end
      return 200, table.concat(lines, "\n") .. "\n", "text/csv; charset=utf-8"
    end)
    r:add("GET", P .. "/:id", admin_or, function(ctx)
      local f = ffind(ctx)
      if not f then return E.not_found() end
      return 200, f
    end)
    r:add("POST", P, admin_or, function(ctx)
      local body = ctx.body or {}
      local b = bots:get(body.id_faq_kb or "")
      if not b or b.id_project ~= ctx.pid then return E.not_found() end
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
    r:add("PUT", P .. "/:id", admin_or, function(ctx)
      local f = ffind(ctx)
      if not f then return E.not_found() end
      for _, k in ipairs(FAQ_FIELDS) do
        local v = (ctx.body or {})[k]
        if v ~= nil then f[k] = v end
      end
      faqs:touch(f)
      events.emit(ctx.pid, "faq.update", f)
      return 200, f
    end)
    r:add("PATCH", P .. "/:id/attributes", admin_or, function(ctx)
      local f = ffind(ctx)
      if not f then return E.not_found() end
      f.attributes = f.attributes or {}
      for k, v in pairs(ctx.body or {}) do f.attributes[k] = v end
      faqs:touch(f)
      return 200, f
    end)
    -- {id} is the faq _id, or intentId<intent_id> together with ?id_faq_kb=
    r:add("DELETE", P .. "/:id", { role = "admin", types = { "bot", "subscription" }, oid_except = by_intent },
      function(ctx)
      local f
      local intent = by_intent(ctx.params.id)
      if intent then
        local bot = util.str(ctx.query.id_faq_kb)
        f = faqs:find_one(function(x)
          return x.id_project == ctx.pid and x.intent_id == intent and x.id_faq_kb == bot
        end)
      else
        f = ffind(ctx)
      end
      if not f then return E.not_found() end
      faqs:remove(f._id)
      events.emit(ctx.pid, "faq.delete", f)
      return 200, f
    end)
  end
end
