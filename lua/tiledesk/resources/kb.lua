-- Knowledge base contents (urls, texts, FAQs, sitemaps) of a namespace, and asking it
-- (routes/kb.js; admin, or a bot or subscription token). Contents are indexed by the AI
-- service after they are added: `status` goes -1 (queued), 100, 200 (indexing), 300 (done),
-- 400 (failed).
local check = require("tiledesk.check")
local multipart = require("tiledesk.multipart")
local json = require("tiledesk.json")

local M = {}
local ROLE = "admin (or a bot or subscription token)"
M.routes = {
  { "list", "GET", "/kb", fields = { "namespace" }, page = { items = "kbs", size = 100 }, role = ROLE,
    filters = { status = "indexing status (-1, 100, 200, 300, 400)", type = "url, text, faq, sitemap, ...",
      search = "text in the source", sortField = "field to sort by (default updatedAt)",
      direction = "1 or -1 (the default)" },
    doc = "Contents of a namespace (status, type, search in source, sortField, direction = 1|-1)",
    example = 'local page = assert(client.kb:list(ns_id, { type = "url", limit = 50 }))' },
  { "get", "GET", "/kb/{}", params = { "content_id" }, role = ROLE, filters = {}, doc = "One content" },
  { "add", "POST", "/kb", fields = { "namespace" }, body = "required", role = ROLE,
    doc = "Add (or replace, by type and source) one content: type url|text|faq|regex_custom, name, source, content, "
      .. "tags, scrape_type, refresh_rate",
    example = 'local res = assert(client.kb:add(ns_id, { type = "text", name = "Returns", source = "Returns", '
      .. 'content = "Items can be returned within 30 days." }))' },
  { "add_urls", "POST", "/kb/multi", skip = true, role = ROLE,
    call = "client.kb:add_urls(namespace, urls, { scrape_type = , scrape_options = , refresh_rate = , tags = })",
    doc = "Add up to 300 urls at once (one content each)" },
  { "import_csv", "POST", "/kb/csv", skip = true, role = ROLE,
    call = "client.kb:import_csv(namespace, csv, { delimiter = , tags = })",
    doc = "Add FAQ contents from CSV rows question;answer (multipart upload)" },
  { "sitemap", "POST", "/kb/sitemap", fields = { "sitemap" }, role = ROLE,
    doc = "The urls a sitemap lists ({ url, sites, errors }), without adding them",
    example = 'local found = assert(client.kb:sitemap("https://example.com/sitemap.xml")); print(#found.sites)' },
  { "import_sitemap", "POST", "/kb/sitemap/import", skip = true, role = ROLE,
    call = "client.kb:import_sitemap(namespace, sitemap_url, { scrape_type = , refresh_rate = , tags = })",
    doc = "Add the sitemap itself and one url content per page it lists" },
  { "scrape", "POST", "/kb/scrape/single", body = "required", role = ROLE,
    doc = "Index one content again ({ id, namespace, type, source, ... })",
    example = 'client.kb:scrape{ id = content._id, namespace = ns_id, type = content.type, source = content.source }' },
  { "scrape_status", "POST", "/kb/scrape/status", fields = { "namespace", "id" }, body = "object", role = ROLE,
    doc = "Indexing status of a content, from the AI service ({ status_code, ... }); the content's status follows it",
    example = 'local st = assert(client.kb:scrape_status(ns_id, content._id)); print(st.status_code)' },
  { "update", "PUT", "/kb/{}", params = { "content_id" }, fields = { "namespace" }, body = "required", role = ROLE,
    doc = "Replace a content (re-indexed): name, type, source, content, tags, ...",
    example = 'client.kb:update(content._id, ns_id, { type = "text", name = "Returns", source = "Returns", '
      .. 'content = "Items can be returned within 60 days." })' },
  { "delete", "DELETE", "/kb/{}", params = { "content_id" }, role = ROLE, doc = "Delete a content and its index" },
  { "ask", "POST", "/kb/qa", fields = { "namespace", "question" }, body = "object", role = ROLE, with = { stream = false },
    doc = "Ask the namespace: { answer, success, sources, ... } from the AI service (model, llm, top_k, "
      .. "system_context, ...); the question is recorded as answered or unanswered. Never streamed",
    example = 'local res = assert(client.kb:ask(ns_id, "Can I return a used item?")); print(res.success, res.answer)' },
}

M.methods = {}

local function strings(v) return type(v) == "table" or "an array of strings" end
local SCRAPE = { scrape_type = function(v) return v == 0 or v == 2 or v == 4 or "0, 2 or 4" end,
  scrape_options = check.is_table, refresh_rate = check.is_str, tags = strings, situated_context = check.is_bool }

local function with_namespace(op, namespace, level)
  check.str(op, 1, "namespace", namespace, level + 1)
  return { namespace = namespace }
end

-- add_urls(namespace, urls, opts): one url content per address (at most 300 a call).
function M.methods:add_urls(namespace, urls, opts)
  local op = "kb:add_urls()"
  local query = with_namespace(op, namespace, 2)
  check.tbl(op, 2, "urls", urls, 2)
  if #urls == 0 or #urls > 300 then error(op .. ": bad argument #2 'urls' (1 to 300 addresses expected, got " .. #urls .. ")", 2) end
  for i, u in ipairs(urls) do
    if type(u) ~= "string" or u == "" then error(op .. ": url " .. i .. " is not a non-empty string", 2) end
  end
  opts = check.options(op, 3, opts, SCRAPE, 2)
  local body = { list = json.array(urls) }
  for k, v in pairs(opts) do body[k] = v end
  if body.tags then body.tags = json.array(body.tags) end
  local res, msg, err = self.client:call(op, { method = "POST", path = "/kb/multi", query = query, body = body })
  return res, msg, err
end

-- import_csv(namespace, csv, opts): one FAQ content per row question;answer (no header row).
function M.methods:import_csv(namespace, csv, opts)
  local op = "kb:import_csv()"
  local query = with_namespace(op, namespace, 2)
  if type(csv) ~= "string" then error(op .. ": bad argument #2 'csv' (string expected, got " .. type(csv) .. ")", 2) end
  opts = check.options(op, 3, opts, { delimiter = check.is_str, tags = strings, situated_context = check.is_bool }, 2)
  local fields = { { "delimiter", opts.delimiter or ";" } }
  if opts.tags then fields[#fields + 1] = { "tags", json.encode(json.array(opts.tags)) } end
  if opts.situated_context ~= nil then fields[#fields + 1] = { "situated_context", tostring(opts.situated_context) } end
  local body, header = multipart.body({ field = "uploadFile", name = "contents.csv", type = "text/csv", content = csv }, fields)
  local res, msg, err = self.client:call(op, { method = "POST", path = "/kb/csv", query = query, body = body,
    headers = { ["content-type"] = header } })
  return res, msg, err
end

-- import_sitemap(namespace, sitemap_url, opts): the sitemap as a content, and a url content
-- for each page it lists.
function M.methods:import_sitemap(namespace, sitemap_url, opts)
  local op = "kb:import_sitemap()"
  local query = with_namespace(op, namespace, 2)
  check.str(op, 2, "sitemap_url", sitemap_url, 2)
  opts = check.options(op, 3, opts, SCRAPE, 2)
  local body = { type = "sitemap", source = sitemap_url }
  for k, v in pairs(opts) do body[k] = v end
  if body.tags then body.tags = json.array(body.tags) end
  local res, msg, err = self.client:call(op, { method = "POST", path = "/kb/sitemap/import", query = query, body = body })
  return res, msg, err
end

M.docs = {
  add_urls = {
    syntax = "list, msg, err = client.kb:add_urls(namespace, urls, { scrape_type?, scrape_options?, refresh_rate?, tags? })",
    doc = "Add up to 300 url contents at once (sent as `list`, the namespace in the query); returns the saved "
      .. "contents, queued for indexing",
    example = 'local added = assert(client.kb:add_urls(ns_id, { "https://example.com/faq", "https://example.com/returns" }))' },
  import_csv = {
    syntax = "list, msg, err = client.kb:import_csv(namespace, csv, { delimiter?, tags? })",
    doc = "Add one FAQ content per CSV row `question;answer` (multipart upload, no header row; `;` by default); "
      .. "returns the saved contents",
    example = 'local added = assert(client.kb:import_csv(ns_id, "Can I return a used item?;No, only unused items.\\n"))' },
  import_sitemap = {
    syntax = "list, msg, err = client.kb:import_sitemap(namespace, sitemap_url, { scrape_type?, refresh_rate?, tags? })",
    doc = "Add a sitemap: the server fetches it, saves it as a `sitemap` content and adds a url content for each "
      .. "page it lists; returns the saved contents, the sitemap last",
    example = 'local added = assert(client.kb:import_sitemap(ns_id, "https://example.com/sitemap.xml"))' },
}

return M
