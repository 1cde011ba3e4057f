-- /:pid/labels: widget labels per language (the server's routes/labels.js and
-- services/labelService.js). One document per project holds `data`, a list of language
-- entries { _id, lang, data, default }. Language codes are compared as given (the server's
-- own defaults are upper case: "EN", "IT"). Reads need no authentication.
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")

local api = {}

local labels = store.coll("labels")

-- config/labels/widget.json of the server (a bare array); "EN" is the fallback language.
-- Simplified: the server ships its full widget translations in fifteen languages; the
-- sandbox has two labels in EN and IT.
local FALLBACK = "EN"
local DEFAULTS = {
  { lang = "EN", data = { LABEL_PLACEHOLDER = "type your message..", LABEL_START_NW_CONV = "New conversation" } },
  { lang = "IT", data = { LABEL_PLACEHOLDER = "scrivi il tuo messaggio..", LABEL_START_NW_CONV = "Nuova conversazione" } },
}

local function default_of(lang)
  for _, d in ipairs(DEFAULTS) do if d.lang == lang then return util.copy(d) end end
  return nil
end

local function set_of(ctx)
  return labels:find_one(function(l) return l.id_project == ctx.pid end)
end

local function entry_of(set, pred)
  for i, d in ipairs(set.data) do if pred(d) then return d, i end end
  return nil
end

-- labelService.getLanguage: the language asked, else the project's default language, else
-- EN, else the server's EN.
local function language(ctx, lang)
  local set = set_of(ctx)
  if not set then return default_of(FALLBACK) end
  return entry_of(set, function(d) return d.lang == lang end)
    or entry_of(set, function(d) return d.default == true end)
    or entry_of(set, function(d) return d.lang == FALLBACK end)
    or default_of(FALLBACK)
end

-- Saves entry into the project's set, made (with this entry as its default) when there is
-- none yet; an entry of the same language is replaced.
local function save_entry(ctx, entry)
  local set = set_of(ctx)
  if not set then
    entry.default = true
    labels:insert{ id_project = ctx.pid, createdBy = ctx.principal.id, data = util.arr{ entry } }
    return
  end
  local _, i = entry_of(set, function(d) return d.lang == entry.lang end)
  set.data[i or #set.data + 1] = entry
  labels:touch(set)
end

function api.get_all(ctx)
  return 200, set_of(ctx) or {}
end

function api.defaults()
  local out = util.arr()
  for i, d in ipairs(DEFAULTS) do out[i] = util.copy(d) end
  return 200, out
end

-- res.json(undefined) for a language the server has no labels for: 200, no body
function api.default_language(ctx)
  local d = default_of(ctx.params.lang)
  if not d then return 200, "", "application/json; charset=utf-8" end
  return 200, d
end

function api.get_language(ctx)
  return 200, language(ctx, ctx.params.lang)
end

-- No validation: a missing lang or data fails the model's `required` on save (500).
function api.save(ctx)
  local b = ctx.body or {}
  if type(b.lang) ~= "string" or b.lang == "" or b.data == nil or b.data == util.null then
    return 500, { success = false, msg = "Error saving object." }
  end
  local set = set_of(ctx)
  if set and b.default == true then
    for _, d in ipairs(set.data) do if d.default == true then d.default = false end end
  end
  save_entry(ctx, { _id = store.id(), lang = b.lang, data = b.data, default = b.default == true })
  return 200, language(ctx, b.lang)
end

-- A copy of the server's labels of `lang` (of EN under the name `lang` when it has none);
-- answers the whole set, as GET /labels.
function api.clone_default(ctx)
  local b = ctx.body or {}
  if b.lang == nil or b.lang == "" or b.lang == util.null then
    return E.validation{ util.invalid("lang", b.lang) }
  end
  local lang = tostring(b.lang)
  local entry = default_of(lang) or default_of(FALLBACK)
  entry.lang, entry._id, entry.default = lang, store.id(), false
  save_entry(ctx, entry)
  return 200, set_of(ctx)
end

-- The default moves to :lang (no language is the default when :lang has no entry).
function api.make_default(ctx)
  local set = set_of(ctx)
  if not set then return 404, { success = false, msg = "Lang not found" } end
  for _, d in ipairs(set.data) do d.default = d.lang == ctx.params.lang end
  labels:touch(set)
  return 200, language(ctx, ctx.params.lang)
end

-- Label.remove's raw result
function api.delete_all(ctx)
  local set = set_of(ctx)
  if set then labels:remove(set._id) end
  local n = set and 1 or 0
  return 200, crud.removed(n)
end

-- The default language cannot be deleted; the answer is what GET /labels/:lang gives after
-- (the default language, the deleted one being gone).
function api.delete_language(ctx)
  local set = set_of(ctx)
  if not set then return E.not_found() end
  local entry, i = entry_of(set, function(d) return d.lang == ctx.params.lang end)
  if not entry then return E.not_found() end
  if entry.default == true then
    return 400, { success = false, msg = "You can't delete the default language." }
  end
  table.remove(set.data, i)
  labels:touch(set)
  return 200, language(ctx, ctx.params.lang)
end

local ADMIN = { role = "admin" }
local OPEN = { auth = false }

api.routes = {
  { "GET", "/:pid/labels", "get_all", OPEN },
  { "GET", "/:pid/labels/default", "defaults", OPEN },
  { "GET", "/:pid/labels/default/:lang", "default_language", OPEN },
  { "GET", "/:pid/labels/:lang", "get_language", OPEN },
  { "POST", "/:pid/labels", "save", ADMIN },
  { "POST", "/:pid/labels/default/clone", "clone_default", ADMIN },
  { "PATCH", "/:pid/labels/:lang/default", "make_default", ADMIN },
  { "DELETE", "/:pid/labels", "delete_all", ADMIN },
  { "DELETE", "/:pid/labels/:lang", "delete_language", ADMIN },
}

return api
