-- Widget translation labels (UI strings of the chat widget), routes/labels.js.
-- Language codes are upper case on the server ("EN", "IT"; its lookups are case-sensitive), so
-- every method upper-cases the code it is given. The project keeps one document whose `data` is
-- the list of its languages ({ lang, data, default, _id }); the first language saved becomes
-- the default, and the default cannot be deleted.
local M = {}
local unpack = rawget(table, "unpack") or rawget(_G, "unpack")
M.routes = {
  { "list", "GET", "/labels", auth = "none",
    doc = "The project's label document ({ _id, id_project, data = { { lang, data, default, _id }, ... } }), {} when none" },
  { "get", "GET", "/labels/{}", params = { "lang" }, auth = "none",
    doc = "One language object ({ lang, data, default, _id }); an unknown code answers the default language "
      .. "(else EN, else the built-in EN), never a 404",
    example = 'local labels = assert(client.labels:get("it"))' },
  { "defaults", "GET", "/labels/default", auth = "none",
    doc = "The built-in labels: a bare array of { lang, data } (EN, IT, FR, ES, DE, PT, ...)" },
  { "default", "GET", "/labels/default/{}", params = { "lang" }, auth = "none",
    doc = "Built-in labels of a language ({ lang, data }); an unknown code answers an empty body",
    example = 'local labels = assert(client.labels:default("en"))' },
  { "save", "POST", "/labels", fields = { "lang", "data" }, body = "object",
    doc = "Create or replace a language (opts: default = true makes it the default; replacing the default "
      .. "language without it leaves the project without one); the first saved is the default; answers that "
      .. "language object",
    example = 'client.labels:save("it", { LABEL_PLACEHOLDER = "Scrivi qui..." })' },
  { "clone_default", "POST", "/labels/default/clone", fields = { "lang" },
    doc = "Start a language from the built-in one (EN's when there is none); answers the whole label document",
    example = 'client.labels:clone_default("it")' },
  { "make_default", "PATCH", "/labels/{}/default", params = { "lang" },
    doc = "Make a language the default (404 when the project has no labels; an unknown code leaves no "
      .. "default); answers that language object",
    example = 'client.labels:make_default("it")' },
  { "delete_all", "DELETE", "/labels", doc = "Delete every label set (answers the database's delete result)" },
  { "delete", "DELETE", "/labels/{}", params = { "lang" },
    doc = "Delete a language (400 for the default one, 404 when unknown); answers the language object the "
      .. "server falls back to",
    example = 'client.labels:delete("it")' },
}

-- Upper-cases the language code (argument `pos`) of a route call.
local function upper_lang(name, pos)
  return function(self, ...)
    local args = { n = select("#", ...), ... }
    local lang = args[pos]
    if type(lang) ~= "string" or lang == "" then
      error(string.format("labels:%s(): bad argument #%d 'lang' (a language code such as \"en\" expected, got %s)",
        name, pos, lang == "" and "an empty string" or type(lang)), 2)
    end
    args[pos] = lang:upper()
    return self:_call(name, unpack(args, 1, args.n))
  end
end

M.methods = {
  get = upper_lang("get", 1), default = upper_lang("default", 1), save = upper_lang("save", 1),
  clone_default = upper_lang("clone_default", 1), make_default = upper_lang("make_default", 1),
  delete = upper_lang("delete", 1),
}

-- Reference entries of the wrapped routes (tools/readme_api.lua): the route's own, plus the case rule.
local ARGS = { get = "lang", default = "lang", save = "lang, data, opts?", clone_default = "lang",
  make_default = "lang", delete = "lang" }
M.docs = {}
for _, r in ipairs(M.routes) do
  if ARGS[r[1]] then
    M.docs[r[1]] = { syntax = "res, msg, err = client.labels:" .. r[1] .. "(" .. ARGS[r[1]] .. ")",
      doc = r.doc .. "; `lang` is sent upper case (\"it\" -> \"IT\")",
      example = r.example or ("local res = assert(client.labels:" .. r[1] .. '("it"))') }
  end
end
return M
