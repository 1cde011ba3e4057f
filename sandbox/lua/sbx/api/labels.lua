-- /:pid/labels: widget labels per language.
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")
local or_404 = require("sbx.crud").or_404

local api = {}

-- widget labels
local labels = store.coll("labels")
local DEFAULT = { EN = { LABEL_PLACEHOLDER = "type your message..", LABEL_START_NW_CONV = "New conversation" },
  IT = { LABEL_PLACEHOLDER = "scrivi il tuo messaggio..", LABEL_START_NW_CONV = "Nuova conversazione" } }
local function set_of(ctx)
  return labels:find_one(function(l) return l.id_project == ctx.pid end)
end
function api.get_all(ctx)
  return 200, set_of(ctx) or {}
end

-- Simplified: the server ships its full widget translations for many languages; the sandbox
-- has two labels in EN and IT.
function api.defaults()
  local out = util.arr()
  for lang, data in pairs(DEFAULT) do out[#out + 1] = { lang = lang, data = data } end
  return 200, { data = out }
end

function api.default_language(ctx)
  local lang = ctx.params.lang:upper()
  if not DEFAULT[lang] then return E.not_found() end
  return 200, { lang = lang, data = DEFAULT[lang] }
end

function api.get_language(ctx)
  local s = set_of(ctx)
  local lang = ctx.params.lang:upper()
  for _, d in ipairs(s and s.data or {}) do if d.lang == lang then return 200, d end end
  return 200, {}
end

local function save_lang(ctx, lang, data, default)
  local s = set_of(ctx) or labels:insert{ id_project = ctx.pid, data = util.arr() }
  local found
  for _, d in ipairs(s.data) do if d.lang == lang then found = d end end
  if not found then
    found = { lang = lang }
    s.data[#s.data + 1] = found
  end
  found.data = data
  if default then for _, d in ipairs(s.data) do d.default = (d == found) end end
  labels:touch(s)
  return s
end
function api.save(ctx)
  local b = ctx.body or {}
  if type(b.lang) ~= "string" or type(b.data) ~= "table" then
    return 422, { errors = util.arr{ util.invalid("lang", b.lang) } }
  end
  return 200, save_lang(ctx, b.lang:upper(), b.data, b.default == true)
end

function api.clone_default(ctx)
  local lang = type((ctx.body or {}).lang) == "string" and ctx.body.lang:upper()
  if not lang then return 422, { errors = util.arr{ util.invalid("lang", nil) } } end
  return 200, save_lang(ctx, lang, util.copy(DEFAULT[lang] or DEFAULT.EN), false)
end

api.make_default = or_404(set_of, function(ctx, s)
  local lang = ctx.params.lang:upper()
  for _, d in ipairs(s.data) do d.default = d.lang == lang end
  labels:touch(s)
  return 200, s
end)

function api.delete_all(ctx)
  local s = set_of(ctx)
  if s then labels:remove(s._id) end
  return 200, { success = true }
end

api.delete_language = or_404(set_of, function(ctx, s)
  local keep = util.arr()
  for _, d in ipairs(s.data) do if d.lang ~= ctx.params.lang:upper() then keep[#keep + 1] = d end end
  s.data = keep
  labels:touch(s)
  return 200, s
end)

api.routes = {
  { "GET", "/:pid/labels", "get_all", { auth = false } },
  { "GET", "/:pid/labels/default", "defaults", { auth = false } },
  { "GET", "/:pid/labels/default/:lang", "default_language", { auth = false } },
  { "GET", "/:pid/labels/:lang", "get_language", { auth = false } },
  { "POST", "/:pid/labels", "save", { role = "admin" } },
  { "POST", "/:pid/labels/default/clone", "clone_default", { role = "admin" } },
  { "PATCH", "/:pid/labels/:lang/default", "make_default", { role = "admin" } },
  { "DELETE", "/:pid/labels", "delete_all", { role = "admin" } },
  { "DELETE", "/:pid/labels/:lang", "delete_language", { role = "admin" } },
}

return api
