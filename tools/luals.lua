-- LuaLS annotations (---@meta) for editor completion, generated from the route table, the
-- docs of the hand-written methods and the client's options: types/tiledesk.lua (the module,
-- the client, one class per resource, the option tables, the error table, list filters) and
-- types/tiledesk.csv.lua. The methods exist only at run time (resources/init.lua makes them
-- from the routes), so without these files an editor completes nothing.
--   lua5.4 tools/luals.lua --write types    writes the files (./dev readme does it)
-- spec/unit/types_spec.lua fails when they drift or miss a route, a method or an option.
local routes = require("tiledesk.routes")
local resources = require("tiledesk.resources")
local options = require("tiledesk.options")

local M = {}

-- Client options: type and one line each (options not listed here still appear, as any).
local OPTION_DOCS = {
  base_url = { "string", "API root (default https://api.tiledesk.com/v3)" },
  project_id = { "string", "the project the resource methods address" },
  email = { "string", "sign in with email and password (JWT by default)" },
  password = { "string", "kept inside the transport, never in a Lua field" },
  token = { "string", 'a token as given ("JWT " is added when missing)' },
  auth = { '"jwt"|"basic"', "jwt: sign in once and send the token (default); basic: credentials on every call" },
  timeout = { "integer", "ms for the whole call (default 15000; 0: no limit)" },
  connect_timeout = { "integer", "ms to connect (default 5000)" },
  ssl_verify = { "boolean", "verify TLS certificates (default true)" },
  cafile = { "string", "CA bundle file" }, capath = { "string", "CA directory" },
  proxy = { "string", "proxy URL" },
  max_body_size = { "integer", "largest response in bytes (default 64 MiB; 0: no limit)" },
  retries = { "integer", "retries of idempotent calls (default 3)" },
  retry_base_ms = { "integer", "first backoff (default 200)" }, retry_max_ms = { "integer", "longest wait (default 10000)" },
  rate_limit = { "number", "requests per minute; the client waits instead of getting 429s" },
  rate_limit_store = { "table", "shared token-bucket store (an object with take())" },
  rate_limit_key = { "string", "the bucket's key in a shared store" },
  user_agent = { "string", "User-Agent header" },
  transport = { '"curl"|"ngx"|table', "the transport (default: curl in scripts, ngx inside OpenResty)" },
  on_request = { "fun(info: table)", "hook before each HTTP call (redacted)" },
  on_response = { "fun(info: table)", "hook after each HTTP call (redacted)" },
  log = { "boolean|fun(line: string)", "one line per HTTP call (stderr, or your function)" },
  timezone = { "string", "IANA zone the server reads dates in (default UTC)" },
}

-- The err table of nil, msg, err.
M.ERROR_FIELDS = {
  { "kind", "string", "http, timeout, connect, resolve, tls, transport, too_large, decode, empty, not_found, config, ..." },
  { "msg", "string", "the message (tostring(err) gives it too)" },
  { "status", "integer?", "HTTP status" },
  { "body", "any", "the response body, decoded when JSON, secrets redacted" },
  { "method", "string?", "HTTP method" }, { "url", "string?", "the URL, redacted" },
  { "retry_after", "number?", "seconds the server asked to wait" }, { "attempts", "integer?", "calls made" },
  { "code", "integer?", "libcurl code of a transport failure" },
  { "missing", "string[]?", "from_env(): the variables to set" },
}

local function lines_of(text)
  local out = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = l end
  return out
end

local function comment(w, text)
  for _, l in ipairs(lines_of(text)) do w("--- " .. l) end
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
  return out
end

-- A filter declaration (name -> doc string or { doc, ... }) as { name, doc }.
local function filters_of(r)
  local out = {}
  local f = r.filters
  if type(f) ~= "table" then return out end
  for _, v in ipairs(f) do
    if type(v) == "string" then out[#out + 1] = { v }
    elseif type(v) == "table" then out[#out + 1] = { v.name or v[1], v.doc or v[2] } end
  end
  for _, k in ipairs(sorted_keys(f)) do
    if type(k) == "string" then
      local v = f[k]
      out[#out + 1] = { k, type(v) == "string" and v or (type(v) == "table" and (v.doc or v[1])) or nil }
    end
  end
  return out
end

local function ident(name)
  name = tostring(name):gsub("[^%w_]", "_")
  if name:match("^%d") then name = "_" .. name end
  return name
end

-- Parameters of a route's method: { name, type, optional, doc }.
local function route_params(r, query_class)
  local ps = {}
  for i, p in ipairs(r.params or {}) do
    ps[#ps + 1] = { ident(p), "string", i == 1 and r.default_project, nil }
  end
  for _, f in ipairs(r.fields or {}) do
    local opt = f:sub(-1) == "?"
    ps[#ps + 1] = { ident(opt and f:sub(1, -2) or f), "any", opt }
  end
  local write = not (r.method == "GET" or r.method == "DELETE" or r.method == "HEAD")
  if r.body == "array" then ps[#ps + 1] = { "list", "any[]", r.fields ~= nil }
  elseif r.body == "required" then ps[#ps + 1] = { "body", "table", r.fields ~= nil }
  elseif r.body == "object" or (write and r.fields) then ps[#ps + 1] = { "body", "table", true }
  else ps[#ps + 1] = { "query", query_class or "table", true } end
  return ps
end

-- Parameters read off a `syntax:` line: "page, msg, err = client.leads:search(text, query?)".
local function syntax_params(syntax)
  local args = syntax:match("%((.*)%)%s*$") or syntax:match("%((.-)%)") or ""
  local ps = {}
  local depth, cur = 0, {}
  local function flush()
    local a = table.concat(cur):match("^%s*(.-)%s*$")
    cur = {}
    if a == "" then return end
    local opt = a:sub(-1) == "?"
    if opt then a = a:sub(1, -2) end
    if a:match("^{") then ps[#ps + 1] = { "opts", "table", opt }
    elseif a == "..." then ps[#ps + 1] = { "...", "any", false }
    else ps[#ps + 1] = { ident(a:match("^[%w_]+") or "arg"), "any", opt } end
  end
  for ch in args:gmatch(".") do
    if ch == "{" or ch == "(" then depth = depth + 1 elseif ch == "}" or ch == ")" then depth = depth - 1 end
    if ch == "," and depth == 0 then flush() else cur[#cur + 1] = ch end
  end
  flush()
  return ps
end

local function method(w, class, name, doc, ps, ret)
  if doc then comment(w, doc) end
  local names = {}
  for _, p in ipairs(ps) do
    if p[1] == "..." then w("---@param ... any")
    else w("---@param " .. p[1] .. (p[3] and "? " or " ") .. p[2] .. (p[4] and (" " .. p[4]) or "")) end
    names[#names + 1] = p[1]
  end
  for _, r in ipairs(ret) do w("---@return " .. r) end
  w("function " .. class .. ":" .. name .. "(" .. table.concat(names, ", ") .. ") end")
  w("")
end

local RESULT = { "any result the decoded JSON (nil on failure)", "string? msg one line, starting with the operation",
  "tiledesk.Error? err" }

local function resource(w, res)
  local class = "tiledesk.resource." .. res
  local mod = routes.modules[res]
  local docs = mod.docs or {}
  w("---@class " .. class)
  w("---@field client tiledesk.Client")
  w("local " .. res .. " = {}")
  w("")
  local methods = resources.methods(res)
  local names = {}
  for k, v in pairs(methods) do
    if type(v) == "function" and not k:match("^_") then names[#names + 1] = k end
  end
  table.sort(names)
  local count = 0
  for _, name in ipairs(names) do
    local base = name:match("^each_(.+)$") or name:match("^pages_(.+)$")
      or ((name == "each" or name == "pages") and "list") or nil
    local r = routes.index[res .. "." .. (base or name)]
    local qclass
    if r and #filters_of(r) > 0 then qclass = "tiledesk.query." .. res .. "." .. r.name end
    if base then
      local ps = route_params(r, qclass)
      ps[#ps][1], ps[#ps][2] = "query", qclass or "table"
      local doc = (name:match("^each") and "Iterates the items of every page of " or "A pager over the pages of ")
        .. res .. ":" .. base .. "() (raises on failure)"
      if name:match("^each") then
        method(w, res, name, doc, ps, { "fun(): any iterator of the items" })
      else
        method(w, res, name, doc .. "; pager:next() returns { items, number, count, per_page } or nil, msg, err",
          ps, { "tiledesk.Pager" })
      end
    elseif docs[name] then
      local d = docs[name]
      method(w, res, name, d.doc .. "\n`" .. d.syntax .. "`", syntax_params(d.syntax), RESULT)
    elseif r then
      method(w, res, name, (r.doc or name) .. "\n`" .. r.method .. " " .. routes.shown_path(r) .. "`",
        route_params(r, qclass), RESULT)
    else
      method(w, res, name, nil, { { "...", "any" } }, RESULT)
    end
    count = count + 1
  end
  -- the filters of each list that declares them
  for _, r in ipairs(routes.by_resource[res]) do
    local fs = filters_of(r)
    if #fs > 0 then
      w("---@class tiledesk.query." .. res .. "." .. r.name)
      for _, f in ipairs(fs) do
        w("---@field " .. (f[1]:match("^[%a_][%w_]*$") and f[1] or ('["' .. f[1] .. '"]')) .. "? any"
          .. (f[2] and (" " .. tostring(f[2]):gsub("\n", " ")) or ""))
      end
      if r.page then
        w("---@field page? integer page number, from 0")
        w("---@field limit? integer items a page")
        w("---@field max_items? integer :each()/:pages(): stop after this many (not sent)")
        w("---@field prefetch? integer|boolean :each()/:pages(): pages asked for ahead at once, 1-16 (true: 4; not sent)")
      end
      w("---@field raw_query? table more query keys, sent unchecked")
      w("")
    end
  end
  return count
end

-- The text of types/tiledesk.lua, and the number of resource methods annotated.
function M.generate()
  local out = {}
  local function w(s) out[#out + 1] = s end
  w("---@meta tiledesk")
  w("-- Generated by tools/luals.lua (./dev readme) from the route table; do not edit.")
  w("-- LuaLS: add this directory to workspace.library (see README.md, Editor completion).")
  w("")
  w("---@class tiledesk.Options")
  local opts = options.CLIENT
  for _, k in ipairs(sorted_keys(opts)) do
    local d = OPTION_DOCS[k] or { "any", "" }
    w("---@field " .. k .. "? " .. d[1] .. (d[2] ~= "" and (" " .. d[2]) or ""))
  end
  w("")
  w("---@class tiledesk.Error")
  for _, f in ipairs(M.ERROR_FIELDS) do w("---@field " .. f[1] .. " " .. f[2] .. " " .. f[3]) end
  w("")
  w("---@class tiledesk.Pager")
  w("---@field next fun(self: tiledesk.Pager): table|nil, string?, tiledesk.Error?")
  w("")
  w("---@class tiledesk.Response")
  w("---@field status integer")
  w("---@field headers table<string, string|string[]>")
  w("---@field body string")
  w("---@field json any decoded body, when JSON")
  w("")
  w("---@class tiledesk.RequestSpec")
  w("---@field method string")
  w("---@field path string")
  w("---@field query? table")
  w("---@field body? any")
  w("---@field headers? table<string, string>")
  w("---@field project? boolean prefix the project id (default true)")
  w("---@field timeout? integer")
  w("---@field retries? integer")
  w("---@field retry? boolean allow repeating a POST or PATCH")
  w("")
  w("---@class tiledesk.Client")
  w("---@field base_url string")
  w("---@field project_id string?")
  for _, res in ipairs(routes.resources) do w("---@field " .. res .. " tiledesk.resource." .. res) end
  w("local Client = {}")
  w("")
  local client_methods = {
    { "signin", "Signs in with the email and password; returns the user", {}, { "table|nil user", "string? msg",
      "tiledesk.Error? err" } },
    { "signin_with_custom_token", "Exchanges a JWT your system signed with the project secret", { { "jwt", "string" } },
      { "table|nil user", "string? msg", "tiledesk.Error? err" } },
    { "auth_kind", "What the next call sends", {}, { '"basic"|"jwt"|"none"' } },
    { "request", "Any call: a response for every status; nil, msg, err only when none came",
      { { "spec", "tiledesk.RequestSpec" } }, { "tiledesk.Response|nil res", "string? msg", "tiledesk.Error? err" } },
    { "get", "GET path (under the project): decoded JSON, or nil, msg, err on >= 400",
      { { "path", "string" }, { "query", "table", true }, { "opts", "table", true } }, RESULT },
    { "delete", "DELETE path", { { "path", "string" }, { "query", "table", true }, { "opts", "table", true } }, RESULT },
    { "post", "POST path with a JSON body (never repeated unless opts.retry)",
      { { "path", "string" }, { "body", "any", true }, { "opts", "table", true } }, RESULT },
    { "put", "PUT path with a JSON body", { { "path", "string" }, { "body", "any", true }, { "opts", "table", true } }, RESULT },
    { "patch", "PATCH path with a JSON body", { { "path", "string" }, { "body", "any", true }, { "opts", "table", true } },
      RESULT },
    { "with", "A view of the client with other call options (retry, retries, timeout)",
      { { "opts", "{ retry?: boolean, retries?: integer, timeout?: integer }" } }, { "tiledesk.Client" } },
    { "batch", "Runs several calls at once (curl multi): each a client:request table or a function; the results in "
      .. "order, each { res, msg, err } as a single call gives", { { "calls", "(tiledesk.RequestSpec|fun(client: tiledesk.Client): any)[]" },
      { "opts", "{ concurrency?: integer }", true } }, { "table[] results" } },
    { "close", "Releases the connection; later calls raise", {}, {} },
  }
  local listed = {}
  for _, m in ipairs(client_methods) do
    method(w, "Client", m[1], m[2], m[3], m[4])
    listed[m[1]] = true
  end
  -- a client function added since: still completed, with a generic signature
  local Client = require("tiledesk.client").Client
  for _, name in ipairs(sorted_keys(Client)) do
    if type(Client[name]) == "function" and not name:match("^_") and name ~= "call" and not listed[name] then
      method(w, "Client", name, "See docs/api.md", { { "...", "any" } }, RESULT)
    end
  end
  local count = 0
  for _, res in ipairs(routes.resources) do count = count + resource(w, res) end
  w("---@class tiledesk")
  w("---@field _VERSION string")
  w("---@field null lightuserdata JSON null")
  w("---@field empty_array table JSON []")
  w("---@field Error table the metatable of err tables")
  w("local tiledesk = {}")
  w("")
  local module_fns = {
    { "new", "A client; unknown options raise", { { "opts", "tiledesk.Options" } }, { "tiledesk.Client" } },
    { "from_env", "A client from TILEDESK_URL, TILEDESK_PROJECT_ID, TILEDESK_TOKEN or TILEDESK_EMAIL and "
      .. "TILEDESK_PASSWORD, TILEDESK_TIMEZONE", { { "opts", "tiledesk.Options|{ getenv?: fun(name: string): string? }",
      true } }, { "tiledesk.Client|nil client", "string? msg", "tiledesk.Error? err" } },
    { "signin_anonymously", "A guest client and its user",
      { { "opts", "tiledesk.Options|{ firstname?: string, lastname?: string, email?: string, attributes?: table }" } },
      { "tiledesk.Client|nil client", "table|string user_or_msg", "tiledesk.Error? err" } },
    { "path", 'Fills each {} of a path with one percent-encoded segment', { { "pattern", "string" }, { "...", "string" } },
      { "string" } },
    { "array", "Marks a table as a JSON array ([] when empty)", { { "t", "table", true } }, { "table" } },
    { "json_encode", "JSON text, or nil, msg", { { "v", "any" } }, { "string|nil", "string? msg" } },
    { "json_decode", "A value, or nil, msg", { { "text", "string" } }, { "any", "string? msg" } },
  }
  local mod_listed = {}
  for _, m in ipairs(module_fns) do mod_listed[m[1]] = true end
  local tiledesk = require("tiledesk")
  for _, name in ipairs(sorted_keys(tiledesk)) do
    if type(tiledesk[name]) == "function" and not mod_listed[name] then
      module_fns[#module_fns + 1] = { name, "See docs/api.md", { { "...", "any" } }, { "any" } }
    end
  end
  for _, m in ipairs(module_fns) do
    comment(w, m[2])
    local names = {}
    for _, p in ipairs(m[3]) do
      w("---@param " .. p[1] .. (p[3] and "? " or " ") .. p[2])
      names[#names + 1] = p[1]
    end
    for _, r in ipairs(m[4]) do w("---@return " .. r) end
    w("function tiledesk." .. m[1] .. "(" .. table.concat(names, ", ") .. ") end")
    w("")
  end
  w("return tiledesk")
  return table.concat(out, "\n") .. "\n", count
end

-- types/tiledesk.csv.lua
function M.generate_csv()
  return [[
---@meta tiledesk.csv
-- Generated by tools/luals.lua (./dev readme); do not edit.

---@alias tiledesk.csv.Source string|file*|fun(): string?

---@class tiledesk.csv.Options
---@field separator? string one character (default ",")
---@field name? string the name in error messages (default "csv")

---@class tiledesk.csv.WriterOptions
---@field columns? string[] names: write() takes tables keyed by them, the header comes first
---@field header? boolean write the header (default true with columns)
---@field eol? "\r\n"|"\n" record end (default CRLF)
---@field separator? string

---@class tiledesk.csv.Reader
local Reader = {}
--- The next record and the line it starts on; nil at the end; nil, msg on malformed input.
---@return string[]|nil row
---@return integer|string|nil line_or_msg
function Reader:next() end
---@return integer line the line the next record starts on
function Reader:line() end
---@return integer bytes read up to the end of the last record
function Reader:offset() end

---@class tiledesk.csv.Writer
---@field columns string[]?
---@field count integer records written
local Writer = {}
--- Writes one record (one sink write); true, or nil, msg when the sink fails.
---@param record table
---@return true|nil ok
---@return string? msg
function Writer:write(record) end

---@class tiledesk.csv
local csv = {}
---@param source tiledesk.csv.Source
---@param opts? tiledesk.csv.Options
---@return tiledesk.csv.Reader
function csv.reader(source, opts) end
--- for row, line in csv.rows(source) do ... end (raises on malformed input)
---@param source tiledesk.csv.Source
---@param opts? tiledesk.csv.Options
---@return fun(): string[]?, integer?
function csv.rows(source, opts) end
--- for rec, line in csv.records(source) do ... end: tables keyed by the header
---@param source tiledesk.csv.Source
---@param opts? tiledesk.csv.Options
---@return fun(): table<string, string>?, integer?
---@return string[]? header
function csv.records(source, opts) end
---@param sink file*|fun(text: string): any
---@param opts? tiledesk.csv.WriterOptions
---@return tiledesk.csv.Writer
function csv.writer(sink, opts) end
--- One record as text, with its line end.
---@param row any[]
---@param opts? tiledesk.csv.WriterOptions
---@return string
function csv.format_row(row, opts) end
---@param v any
---@return string
function csv.text_of(v) end
return csv
]]
end

M.FILES = { ["tiledesk.lua"] = M.generate, ["tiledesk.csv.lua"] = M.generate_csv }

if ... == "tools.luals" then return M end

local argv = { ... }
if argv[1] == "--write" and argv[2] then
  local common = require("tools.common")
  for name, gen in pairs(M.FILES) do common.write(argv[2] .. "/" .. name, (gen())) end
else
  io.stderr:write("usage: lua tools/luals.lua --write DIR\n")
  os.exit(2)
end
