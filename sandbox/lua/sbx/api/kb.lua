-- The knowledge base (routes/kb.js, routes/unanswered.js, routes/answered.js,
-- services/aiManager.js, services/kbQuestionService.js; admin, or a bot or subscription token):
-- namespaces, their contents, asking them, and the questions asked.
--
-- Stand-ins for the AI service (the server sends contents to it to be indexed and asks it):
--   * indexing: a content is saved with status -1 (the answer shows it so) and is at once 100
--     (scheduled, as the scheduler's callback sets it); scrape/status answers { id, status_code
--     = 3, status_message } and the content becomes 300 (indexed); nothing is ever scraped;
--   * kb/qa answers from the namespace's contents by the words they share with the question:
--     { success, answer, id, source, namespace, sources, content_chunks, prompt_token_size,
--     duration }; success is false (and the answer empty) when no content shares a word;
--   * a sitemap is not fetched: it lists the pages /, /faq and /contact of its own origin;
--   * chunks of a content are its text cut in pieces of at most 500 bytes: { chunks = {...} }.
-- Plan limits (namespaces, contents) are not checked.
local store = require("sbx.store")
local util = require("sbx.util")
local json = require("sbx.json")
local multipart = require("sbx.multipart")
local archiver = require("sbx.archiver")

local namespaces = store.coll("kb_namespaces")
local contents = store.coll("kb_contents")
local unanswered = store.coll("kb_unanswered")
local answered = store.coll("kb_answered")

local DEFAULT_ENGINE = { name = "pinecone", type = "serverless", apikey = "", vector_size = 1536,
  index_name = "llm-sample-index" }
local DEFAULT_EMBEDDING = { provider = "openai", name = "text-embedding-ada-002", api_key = "", dimension = 1536 }
local function preview_settings()
  return { model = "gpt-4o", max_tokens = 256, temperature = 0.7, top_k = 4, alpha = 0.5, context = util.null }
end
local function scrape_options()
  return { tags_to_extract = util.arr{ "body" }, unwanted_tags = util.arr(), unwanted_classnames = util.arr() }
end

local api = {}

local function ns_view(n)
  local out = util.shallow(n)
  out._id, out.__v = nil, nil
  return out
end

-- aiManager.checkNamespace: the namespace, or a status and body
local function check_namespace(pid, id)
  local n = namespaces:find_one(function(x) return x.id == id end)
  if not n then return nil, 404, { success = false, error = "Namespace not found with id " .. tostring(id) } end
  if n.id_project ~= pid then
    return nil, 403, { success = false, error = "Namespace not belonging to project " .. pid }
  end
  return n
end

local function project_namespace(pid, id)
  return namespaces:find_one(function(x) return x.id_project == pid and x.id == id end)
end

local NOT_YOURS = { success = false, error = "Not allowed. The namespace does not belong to the current project." }

---------------------------------------------------------------------------------------------
-- namespaces

function api.ns_list(ctx)
  local list = namespaces:find(function(n) return n.id_project == ctx.pid end)
  if #list == 0 then
    local n = namespaces:insert{ id_project = ctx.pid, id = ctx.pid, name = "Default", preview_settings = preview_settings(),
      default = true, hybrid = false, engine = util.copy(DEFAULT_ENGINE), embedding = util.copy(DEFAULT_EMBEDDING) }
    return 200, util.arr{ ns_view(n) }
  end
  local out = util.arr()
  for _, n in ipairs(list) do
    local v = ns_view(n)
    if util.str(ctx.query.count) and util.str(ctx.query.count) ~= "" then
      v.count = #contents:find(function(c) return c.id_project == n.id_project and c.namespace == n.id end)
    end
    out[#out + 1] = v
  end
  return 200, out
end

function api.ns_create(ctx)
  local b = ctx.body or {}
  local hybrid = false
  if b.hybrid ~= nil then
    if type(b.hybrid) ~= "boolean" then
      return 400, { success = false, error = "Value not accepted for 'hybrid' field. Expected boolean." }
    end
    hybrid = b.hybrid
  end
  if hybrid then return 403, { success = false, error = "Hybrid mode is not allowed for the current project" } end
  -- the model requires a name: save fails with mongoose's validation error
  if type(b.name) ~= "string" or b.name == "" then
    return 500, { success = false, error = { message = "Namespace validation failed: name: Path `name` is required.",
      name = "ValidationError" } }
  end
  local first = not namespaces:find_one(function(n) return n.id_project == ctx.pid end)
  local n = namespaces:insert{ id_project = ctx.pid, id = store.id(), name = b.name, hybrid = hybrid,
    preview_settings = preview_settings(), default = first, engine = util.copy(DEFAULT_ENGINE),
    embedding = util.copy(DEFAULT_EMBEDDING) }
  archiver.namespace_created(ctx.principal, n)
  return 200, ns_view(n)
end

-- findOneAndUpdate({ id }, update, { upsert }): the project is not checked, an unknown id is created
function api.ns_update(ctx)
  local b = ctx.body or {}
  local n = namespaces:find_one(function(x) return x.id == ctx.params.ns end)
  if not n then n = namespaces:insert{ id = ctx.params.ns, default = false, hybrid = false } end
  if b.name and b.name ~= "" then n.name = b.name end
  if type(b.preview_settings) == "table" then n.preview_settings = b.preview_settings end
  namespaces:touch(n)
  return 200, ns_view(n)
end

local function remove_contents(pid, ns, types)
  local n = 0
  for _, c in ipairs(contents:find(function(c)
    return c.id_project == pid and c.namespace == ns and (not types or types[c.type])
  end)) do
    contents:remove(c._id)
    n = n + 1
  end
  return n
end

function api.ns_delete(ctx)
  local id = ctx.params.ns
  local n = project_namespace(ctx.pid, id)
  if not n then return 404, { success = false, error = "No namespace found for id " .. id } end
  -- kb.contents.delete (contents_only) / kb.namespace.delete, with the count of contents removed
  if util.bool(ctx.query.contents_only) then
    local count = remove_contents(ctx.pid, id)
    archiver.namespace_event(ctx.principal, ctx.pid, "KB_CONTENTS_DELETE", id, n.name,
      { namespaceName = n.name, deletedCount = count, deleteMode = "contents_only" })
    return 200, { success = true, message = "All contents deleted successfully" }
  end
  if n.default == true then return 403, { success = false, error = "Default namespace cannot be deleted" } end
  local count = remove_contents(ctx.pid, id)
  namespaces:remove(n._id)
  archiver.namespace_event(ctx.principal, ctx.pid, "KB_NAMESPACE_DELETE", id, n.name,
    { namespaceName = n.name, deletedCount = count })
  return 200, { success = true, message = "Namespace deleted succesfully" }
end

local EXPORTED = { url = true, text = true, faq = true }

function api.ns_export(ctx)
  local n, status, body = check_namespace(ctx.pid, ctx.params.ns)
  if not n then return status, body end
  local want = util.int(ctx.query.status, nil)
  local list = util.arr()
  for _, c in ipairs(contents:find(function(c)
    return c.id_project == ctx.pid and c.namespace == n.id and EXPORTED[c.type] and (not want or c.status == want)
  end)) do list[#list + 1] = c end
  local name = (n.name or "namespace"):gsub("[^%w%-_]", "_")
  ngx.header["Content-Disposition"] = 'attachment; filename="' .. name .. '.json"'
  -- res.send(string): the server's text/html
  return 200, json.encode({ name = n.name, preview_settings = n.preview_settings, contents = list }),
    "text/html; charset=utf-8"
end

-- the content fields an import keeps (kb.js)
local function imported(pid, ns, e)
  local c = { id_project = pid, name = e.name, source = e.source, type = e.type, content = e.content, namespace = ns,
    status = -1, tags = e.tags }
  for _, k in ipairs({ "scrape_type", "scrape_options", "refresh_rate" }) do c[k] = e[k] end
  if e.situated_context == true and (e.type ~= "url" or c.scrape_type == 0) then c.situated_context = true end
  return c
end

function api.ns_import(ctx)
  local parts = multipart.parts(ctx)
  local src = ctx.body
  if parts and parts.uploadFile then src = json.decode(parts.uploadFile.data) end
  if type(src) ~= "table" or src.contents == nil then
    return 400, { success = false, error = "Imported json must contain the contents array" }
  end
  if not require("sbx.api.tables").is_array(src.contents) then
    return 400, { success = false, error = "The content field must be of type Array[]" }
  end
  local n = project_namespace(ctx.pid, ctx.params.ns)
  if not n then return 403, NOT_YOURS end
  remove_contents(ctx.pid, n.id, EXPORTED)
  for _, e in ipairs(src.contents) do
    if type(e) == "table" then
      local c = contents:insert(imported(ctx.pid, n.id, e))
      c.status = 100
    end
  end
  return 200, { success = true, message = "Contents imported successfully" }
end

function api.ns_chatbots(ctx)
  local n, status, body = check_namespace(ctx.pid, ctx.params.ns)
  if not n then return status, body end
  local seen, out = {}, util.arr()
  for _, f in ipairs(store.coll("faq"):all()) do
    if f.id_project == ctx.pid and type(f.actions) == "table" and not seen[f.id_faq_kb] then
      for _, a in ipairs(f.actions) do
        if type(a) == "table" and a.namespace == n.id then
          seen[f.id_faq_kb] = true
          local b = store.coll("faq_kb"):get(f.id_faq_kb)
          if b and not b.trashed then out[#out + 1] = { _id = b._id, name = b.name } end
          break
        end
      end
    end
  end
  return 200, out
end

function api.ns_chunks(ctx)
  local n, status, body = check_namespace(ctx.pid, ctx.params.ns)
  if not n then return status, body end
  local c = contents:get(ctx.params.cid)
  local chunks = util.arr()
  if c and c.id_project == ctx.pid and c.namespace == n.id then
    local text = c.content or ""
    for i = 1, #text, 500 do
      chunks[#chunks + 1] = { id = c._id .. "#" .. math.floor((i - 1) / 500), text = text:sub(i, i + 499),
        metadata = { id = c._id, source = c.source, type = c.type } }
    end
  end
  return 200, { chunks = chunks }
end

---------------------------------------------------------------------------------------------
-- contents

-- after the answer: the scheduler's callback marks the content scheduled (100)
local function scheduled(list)
  store.timer_at(0, function()
    for _, c in ipairs(list) do
      if contents:get(c._id) then c.status = 100 end
    end
  end)
end

local function wire(c)
  local out = util.copy(c)
  return out
end

function api.list(ctx)
  local q = ctx.query
  local ns = util.str(q.namespace)
  if not ns or ns == "" then return 400, { success = false, error = "queryParam 'namespace' is not defined" } end
  local status = util.int(q.status, nil)
  local typ = util.str(q.type)
  local limit = util.int(q.limit, 200)
  local page = util.int(q.page, 0)
  local direction = util.int(q.direction, -1)
  local sort_field = util.str(q.sortField) or "updatedAt"
  local search = util.str(q.search)
  local list = contents:find(function(c)
    return c.id_project == ctx.pid and c.namespace == ns and (not status or c.status == status)
      and (not typ or c.type == typ) and (not search or (c.source or ""):find(search, 1, true) ~= nil)
  end)
  util.sort(list, sort_field, direction)
  local query = { limit = limit, sortField = sort_field, direction = direction, search = search }
  if status and status ~= 0 then query.status, query.page = status, page end
  local items = limit > 0 and util.paginate(list, page, limit) or util.paginate(list, page, #list + 1)
  local out = util.arr()
  for _, c in ipairs(items) do out[#out + 1] = wire(c) end
  return 200, { count = #list, query = query, kbs = out }
end

function api.get(ctx)
  local id = ctx.params.kb
  if not util.is_oid(id) then return 500, { success = false, error = "An error occurred retrieving the content" } end
  local c = contents:get(id)
  if not c or c.id_project ~= ctx.pid then
    return 404, { success = false, error = "Content not found with id " .. id .. " for project " .. ctx.pid }
  end
  return 200, wire(c)
end

local function all_strings(t)
  if type(t) ~= "table" then return false end
  for _, v in ipairs(t) do if type(v) ~= "string" then return false end end
  return true
end

-- the content kb.js builds from a body (POST and PUT)
local function content_of(pid, ns, b)
  local c = { id_project = pid, name = b.name, type = b.type, source = b.source, content = b.content, namespace = ns,
    status = -1 }
  if b.type == "txt" then c.scrape_type = 1 end
  if b.type == "url" then
    c.refresh_rate = b.refresh_rate or "never"
    if b.scrape_type == 0 or b.scrape_type == 4 then
      c.scrape_type, c.scrape_options = b.scrape_type, b.scrape_options
    else
      c.scrape_type, c.scrape_options = 2, scrape_options()
    end
  end
  if all_strings(b.tags) then c.tags = b.tags end
  if b.situated_context == true and (b.type ~= "url" or b.scrape_type == 0) then c.situated_context = true end
  return c
end

function api.add(ctx)
  local b = ctx.body or {}
  if not b.namespace then return 400, { success = false, error = "parameter 'namespace' is not defined" } end
  local n, status, body = check_namespace(ctx.pid, b.namespace)
  if not n then return status, body end
  local new = content_of(ctx.pid, n.id, b)
  if b.type == "regex_custom" then new.chunk_regex = b.chunk_regex end
  -- upsert by project, type and source (not the namespace: kb.js's filter)
  local old = contents:find_one(function(c) return c.id_project == ctx.pid and c.type == b.type and c.source == b.source end)
  local doc
  if old then
    for k in pairs(old) do
      if k ~= "_id" and k ~= "createdAt" and k ~= "__v" and k ~= "updatedAt" then old[k] = nil end
    end
    for k, v in pairs(new) do old[k] = v end
    contents:touch(old)
    doc = old
  else
    doc = contents:insert(new)
  end
  local shown = wire(doc)
  scheduled({ doc })
  -- kb.contents.add: one content
  local source = doc.source
  if source == nil or source == "" or source == util.null then source = doc.name end
  archiver.namespace_event(ctx.principal, ctx.pid, "KB_CONTENTS_ADD", b.namespace, n.name,
    { contentAddType = "content", namespaceName = n.name, count = 1, type = doc.type, source = source })
  local last = { n = 1, updatedExisting = old ~= nil }
  if not old then last.upserted = doc._id end
  return 200, { lastErrorObject = last, value = shown }
end

-- aiManager.addMultipleUrls / saveBulk: upsert each by (project, type, source, namespace), then
-- the documents of those sources
local function save_bulk(pid, ns, docs, typ)
  local sources = {}
  for _, d in ipairs(docs) do
    sources[d.source] = true
    local old = contents:find_one(function(c)
      return c.id_project == pid and c.type == typ and c.source == d.source and c.namespace == ns
    end)
    if old then
      for k, v in pairs(d) do old[k] = v end
      contents:touch(old)
    else
      contents:insert(d)
    end
  end
  local out = util.arr()
  for _, c in ipairs(contents:find(function(c)
    return c.id_project == pid and c.namespace == ns and sources[c.source]
  end)) do out[#out + 1] = wire(c) end
  scheduled(contents:find(function(c) return c.id_project == pid and c.namespace == ns and sources[c.source] end))
  return out
end

local function url_docs(n, urls, o)
  local docs = {}
  for _, u in ipairs(urls) do
    docs[#docs + 1] = { id_project = n.id_project, name = u, source = u, type = "url", content = "", namespace = n.id,
      status = -1, scrape_type = o.scrape_type, scrape_options = o.scrape_options, refresh_rate = o.refresh_rate,
      sitemap_origin_id = o.sitemap_origin_id, sitemap_origin = o.sitemap_origin, tags = o.tags,
      situated_context = o.situated_context }
  end
  return docs
end

local function url_options(b)
  local o = { refresh_rate = b.refresh_rate or "never", scrape_type = b.scrape_type or 2,
    scrape_options = b.scrape_options }
  if o.scrape_type == 2 and not o.scrape_options then o.scrape_options = scrape_options() end
  if b.situated_context == true and o.scrape_type == 0 then o.situated_context = true end
  return o
end

local function tags_field(v)
  if type(v) == "string" then v = json.decode(v) or util.split(v, ",") end
  if type(v) == "table" and #v > 0 then return v end
  return nil
end

function api.multi(ctx)
  local parts = multipart.parts(ctx)
  local b = ctx.body or {}
  local list
  if parts and parts.uploadFile then
    list = {}
    for line in (parts.uploadFile.data:gsub("^%s+", ""):gsub("%s+$", "") .. "\n"):gmatch("([^\n]*)\n") do
      list[#list + 1] = line
    end
    b = multipart.fields(parts)
  else
    list = b.list
  end
  local ns = util.str(ctx.query.namespace)
  if not ns or ns == "" then return 400, { success = false, error = "queryParam 'namespace' is not defined" } end
  local n, status, body = check_namespace(ctx.pid, ns)
  if not n then return status, body end
  -- list.length on undefined throws: Express's 500
  if type(list) ~= "table" then return 500, "<pre>TypeError: Cannot read properties of undefined (reading 'length')</pre>", "text/html" end
  if #list > 300 then
    return 403, { success = false, error = "Too many urls. Can't index more than 300 urls at a time." }
  end
  local o = url_options(b)
  o.tags = tags_field(b.tags)
  local out = save_bulk(ctx.pid, n.id, url_docs(n, list, o), "url")
  archiver.namespace_event(ctx.principal, ctx.pid, "KB_CONTENTS_ADD", ns, n.name,
    { contentAddType = "url_list", namespaceName = n.name, count = #list })
  return 200, out
end

function api.csv(ctx)
  local parts = multipart.parts(ctx) or {}
  local file = parts.uploadFile
  -- req.file.buffer on a missing file throws inside the async handler: the server never answers
  if not file then return 500, { success = false, error = "No file uploaded (uploadFile)" } end
  local fields = multipart.fields(parts)
  local ns = util.str(ctx.query.namespace)
  local n, status, body = check_namespace(ctx.pid, ns)
  if not n then return status, body end
  local tags = tags_field(fields.tags)
  local situated = fields.situated_context == "true"
  local docs = {}
  for _, row in ipairs(multipart.csv_rows(file.data, fields.delimiter or ";")) do
    local question, answer = row[1] or "", row[2] or ""
    docs[#docs + 1] = { id_project = ctx.pid, name = question, source = question, type = "faq",
      content = question .. "\n" .. answer, namespace = n.id, status = -1, tags = tags,
      situated_context = situated or nil }
  end
  local out = save_bulk(ctx.pid, n.id, docs, "faq")
  archiver.namespace_event(ctx.principal, ctx.pid, "KB_CONTENTS_ADD", ns, n.name,
    { contentAddType = "csv", namespaceName = n.name, count = #docs })
  return 200, out
end

-- the pages a sitemap lists (stand-in: three pages of its origin)
local function sitemap_pages(url)
  local origin = type(url) == "string" and url:match("^(https?://[^/]+)")
  if not origin then return nil end
  return util.arr{ origin .. "/", origin .. "/faq", origin .. "/contact" }
end

function api.sitemap(ctx)
  local url = (ctx.body or {}).sitemap
  local sites = sitemap_pages(url)
  if not sites then return 200, { url = url, sites = util.arr(), errors = util.arr{ { type = "InvalidURL", url = url } } } end
  return 200, { url = url, sites = sites, errors = util.arr() }
end

function api.sitemap_import(ctx)
  local b = ctx.body or {}
  if b.type ~= "sitemap" then return 403, { success = false, error = "Endpoint available for sitemap type only." } end
  local ns = util.str(ctx.query.namespace)
  if not ns or ns == "" then return 400, { success = false, error = "queryParam 'namespace' is not defined" } end
  local n, status, body = check_namespace(ctx.pid, ns)
  if not n then return status, body end
  local urls = sitemap_pages(b.source)
  if not urls then
    return 500, { success = false, error = "Unable to fecth sitemap due to an error: Invalid URL " .. tostring(b.source) }
  end
  local o = url_options(b)
  o.tags = tags_field(b.tags)
  local sm = contents:find_one(function(c)
    return c.id_project == ctx.pid and c.type == "sitemap" and c.source == b.source and c.namespace == n.id
  end) or contents:insert{ id_project = ctx.pid, type = "sitemap", source = b.source, namespace = n.id }
  sm.name, sm.content, sm.scrape_type, sm.scrape_options, sm.refresh_rate = b.source, "", o.scrape_type,
    o.scrape_options, o.refresh_rate
  sm.tags, sm.situated_context = o.tags, o.situated_context
  contents:touch(sm)
  o.sitemap_origin_id, o.sitemap_origin = sm._id, sm.source
  local out = save_bulk(ctx.pid, n.id, url_docs(n, urls, o), "url")
  out[#out + 1] = wire(sm)
  archiver.namespace_event(ctx.principal, ctx.pid, "KB_CONTENTS_ADD", ns, n.name,
    { contentAddType = "sitemap", namespaceName = n.name, count = #urls, type = "sitemap", source = b.source })
  return 200, out
end

function api.scrape_single(ctx)
  local b = ctx.body or {}
  local n, status, body = check_namespace(ctx.pid, b.namespace)
  if not n then return status, body end
  local c = b.id and util.is_oid(b.id) and contents:get(b.id)
  if b.type == "sitemap" then
    if not c then return 404, { success = false, error = "Content not found with id " .. tostring(b.id) } end
    return 200, { success = true, message = "Content queued for reindexing", added_urls = 0, removed_url = 0 }
  end
  if b.id and not util.is_oid(b.id) then return 500, { success = false, error = { name = "CastError" } } end
  if not c then return 404, { success = false, error = "Unable to find the kb requested" } end
  c.status = 100
  contents:touch(c)
  return 200, { success = true, message = "Content queued for reindexing" }
end

function api.scrape_status(ctx)
  local b = ctx.body or {}
  local n, status, body = check_namespace(ctx.pid, b.namespace)
  if not n then return status, body end
  local c = b.id and util.is_oid(b.id) and contents:get(b.id)
  local answer = { id = b.id, status_code = 3, status_message = "Indexed" }
  if c then
    c.status = 300
    c.last_refresh = store.now()
    contents:touch(c)
  end
  if util.bool(ctx.query.returnObject) then return 200, c and wire(c) or util.null end
  return 200, answer
end

function api.update(ctx)
  local b = ctx.body or {}
  if not b.namespace then return 400, { success = false, error = "Missing 'namespace' body parameter" } end
  local n, status, body = check_namespace(ctx.pid, b.namespace)
  if not n then return status, body end
  local id = ctx.params.kb
  local kb = util.is_oid(id) and contents:get(id)
  if not kb or kb.id_project ~= ctx.pid or kb.namespace ~= n.id then
    return 404, { success = false, error = "Content not found. Unable to update a non-existing content" }
  end
  -- kb.js deletes and upserts the content of the *new* source in the namespace
  local same = contents:find_one(function(c) return c.id_project == ctx.pid and c.namespace == n.id and c.source == b.source end)
  if same then contents:remove(same._id) end
  local new = content_of(ctx.pid, n.id, b)
  new.scrape_type = b.type == "url" and new.scrape_type or nil
  if kb.sitemap_origin_id then new.sitemap_origin_id, new.sitemap_origin = kb.sitemap_origin_id, kb.sitemap_origin end
  local doc = contents:insert(new)
  scheduled({ doc })
  return 200, wire(doc)
end

function api.delete(ctx)
  local id = ctx.params.kb
  if not util.is_oid(id) then return 500, { success = false, error = { name = "CastError" } } end
  local kb = contents:get(id)
  if not kb or kb.id_project ~= ctx.pid then return 404, { success = false, error = "Content not found" } end
  local n, status, body = check_namespace(ctx.pid, kb.namespace or ctx.pid)
  if not n then return status, body end
  if kb.type == "sitemap" then
    -- the workers delete the pages the sitemap added
    for _, c in ipairs(contents:find(function(c) return c.sitemap_origin_id == kb._id end)) do contents:remove(c._id) end
  end
  contents:remove(kb._id)
  -- kb.content.delete
  archiver.content_deleted(ctx.principal, ctx.pid, kb, kb.namespace or ctx.pid, n.name)
  return 200, wire(kb)
end

---------------------------------------------------------------------------------------------
-- asking

local function words(s)
  local out = {}
  for w in tostring(s or ""):lower():gmatch("[%w]+") do
    if #w > 2 then out[w] = true end
  end
  return out
end

function api.qa(ctx)
  local b = ctx.body or {}
  local n, status, body = check_namespace(ctx.pid, b.namespace)
  if not n then return status, body end
  local started = store.now_ms()
  local q = words(b.question)
  local best, best_score = nil, 0
  for _, c in ipairs(contents:find(function(c)
    return c.id_project == ctx.pid and c.namespace == n.id and c.status ~= 400
  end)) do
    local score = 0
    for w in pairs(words((c.content or "") .. " " .. (c.name or "") .. " " .. (c.source or ""))) do
      if q[w] then score = score + 1 end
    end
    if score > best_score then best, best_score = c, score end
  end
  local tokens = math.floor(#tostring(b.question or "") / 4) + 1
  local answer
  if best then
    answer = { success = true, answer = best.content or "", id = best._id, source = best.source, namespace = n.id,
      sources = util.arr{ best.source }, content_chunks = util.arr{ best.content or "" }, prompt_token_size = tokens }
    answered:insert{ id_project = ctx.pid, namespace = n.id, question = b.question, answer = answer.answer, tokens = tokens }
  else
    answer = { success = false, answer = "", namespace = n.id, sources = util.arr(), content_chunks = util.arr(),
      prompt_token_size = tokens, error_message = "No relevant content found in the namespace" }
    if b.question then unanswered:insert{ id_project = ctx.pid, namespace = n.id, question = b.question } end
  end
  answer.duration = (store.now_ms() - started) / 1000
  return 200, answer
end

---------------------------------------------------------------------------------------------
-- answered and unanswered questions (the same routes, one collection each)

local function questions(coll, kind, fields, csv_columns)
  local q = {}
  local noun = kind .. " question"

  function q.add(ctx)
    local b = ctx.body or {}
    local ok = b.namespace and b.question and (kind == "unanswered" or b.answer)
    -- kbQuestionService throws new Error({...}): the route answers its generic 500
    if not ok or not project_namespace(ctx.pid, b.namespace) then
      return 500, { success = false, error = "Error adding " .. noun }
    end
    local d = { id_project = ctx.pid, namespace = b.namespace, question = b.question }
    for _, k in ipairs(fields) do d[k] = b[k] end
    return 200, coll:insert(d)
  end

  function q.list(ctx)
    local ns = ctx.params.ns
    if not project_namespace(ctx.pid, ns) then return 403, NOT_YOURS end
    local page = util.int(ctx.query.page, 0)
    local limit = util.int(ctx.query.limit, 0)
    if limit == 0 then limit = 20 end
    local sort_field = util.str(ctx.query.sortField) or "createdAt"
    local direction = util.int(ctx.query.direction, 0)
    if direction == 0 then direction = -1 end
    local search = util.str(ctx.query.search)
    local terms = search and search ~= "" and words(search) or nil
    local list = coll:find(function(d)
      if d.id_project ~= ctx.pid or d.namespace ~= ns then return false end
      if not terms then return true end
      local have = words((d.question or "") .. " " .. (d.answer or ""))
      for w in pairs(terms) do if have[w] then return true end end
      return false
    end)
    util.sort(list, sort_field, direction)
    return 200, { count = #list, questions = util.paginate(list, page, limit),
      query = { page = page, limit = limit, sortField = sort_field, direction = direction, search = search } }
  end

  function q.delete(ctx)
    local id = ctx.params.qid
    if not util.is_oid(id) then return 500, { success = false, error = "Error deleting " .. noun } end
    local d = coll:get(id)
    if not d or d.id_project ~= ctx.pid then return 404, { success = false, error = "Question not found" } end
    coll:remove(id)
    return 200, { success = true, message = "Question deleted successfully" }
  end

  function q.delete_all(ctx)
    local ns = ctx.params.ns
    if not project_namespace(ctx.pid, ns) then return 403, NOT_YOURS end
    local n = 0
    for _, d in ipairs(coll:find(function(d) return d.id_project == ctx.pid and d.namespace == ns end)) do
      coll:remove(d._id)
      n = n + 1
    end
    return 200, { success = true, count = n, message = "All questions deleted successfully" }
  end

  function q.update(ctx)
    local b = ctx.body or {}
    if not b.question or b.question == "" then
      return 400, { success = false, error = "Missing required parameter: question" }
    end
    local id = ctx.params.qid
    if not util.is_oid(id) then return 500, { success = false, error = "Error updating " .. noun } end
    local d = coll:get(id)
    if not d or d.id_project ~= ctx.pid then return 404, { success = false, error = "Question not found" } end
    d.question = b.question
    coll:touch(d)
    return 200, d
  end

  function q.count(ctx)
    local ns = ctx.params.ns
    if not project_namespace(ctx.pid, ns) then return 403, NOT_YOURS end
    return 200, { count = #coll:find(function(d) return d.id_project == ctx.pid and d.namespace == ns end) }
  end

  function q.export(ctx)
    local ns = ctx.params.ns
    local mode = tostring(util.str(ctx.query.mode) or "csv"):lower()
    if mode ~= "csv" and mode ~= "json" then
      return 400, { success = false, error = "Invalid format. Use mode=json or mode=csv" }
    end
    if not project_namespace(ctx.pid, ns) then return 403, NOT_YOURS end
    local list = coll:find(function(d) return d.id_project == ctx.pid and d.namespace == ns end)
    util.sort(list, "createdAt", -1)
    local safe = tostring(ns):gsub("[^%w_.-]+", "_")
    if mode == "json" then
      local out = util.arr()
      for _, d in ipairs(list) do
        local v = util.shallow(d)
        v.__v, v.updatedAt = nil, nil
        out[#out + 1] = v
      end
      ngx.header["Content-Disposition"] = 'attachment; filename="' .. kind .. "-" .. safe .. '.json"'
      return 200, json.encode({ namespace = ns, exportedAt = store.now(), count = #out, questions = out }),
        "application/json; charset=utf-8"
    end
    ngx.header["Content-Disposition"] = 'attachment; filename="' .. kind .. "-" .. safe .. '.csv"'
    local lines = { table.concat(csv_columns, ",") }
    for _, d in ipairs(list) do
      local row = {}
      for i, col in ipairs(csv_columns) do
        local v = col == "id" and d._id or d[col]
        if v == nil or v == util.null then v = "" end
        v = tostring(v)
        -- fast-csv quotes a field holding the delimiter, a quote or a line break
        if v:find('[,"\r\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
        row[i] = v
      end
      lines[#lines + 1] = table.concat(row, ",")
    end
    return 200, table.concat(lines, "\n"), "text/csv; charset=utf-8"
  end

  return q
end

local U = questions(unanswered, "unanswered", { "request_id", "sender" }, { "id", "namespace", "question", "request_id", "createdAt" })
local A = questions(answered, "answered", { "answer", "tokens", "request_id" },
  { "id", "namespace", "question", "answer", "tokens", "request_id", "createdAt" })
for k, fn in pairs(U) do api["unanswered_" .. k] = fn end
for k, fn in pairs(A) do api["answered_" .. k] = fn end

local access = { role = "admin", types = { "bot", "subscription" } }
api.routes = {
  { "GET", "/:pid/kb/namespace/all", "ns_list", access },
  { "POST", "/:pid/kb/namespace", "ns_create", access },
  { "PUT", "/:pid/kb/namespace/:ns", "ns_update", access },
  { "DELETE", "/:pid/kb/namespace/:ns", "ns_delete", access },
  { "GET", "/:pid/kb/namespace/export/:ns", "ns_export", access },
  { "POST", "/:pid/kb/namespace/import/:ns", "ns_import", access },
  { "GET", "/:pid/kb/namespace/:ns/chatbots", "ns_chatbots", access },
  { "GET", "/:pid/kb/namespace/:ns/chunks/:cid", "ns_chunks", access },
  { "GET", "/:pid/kb", "list", access },
  { "GET", "/:pid/kb/:kb", "get", access },
  { "POST", "/:pid/kb", "add", access },
  { "POST", "/:pid/kb/multi", "multi", access },
  { "POST", "/:pid/kb/csv", "csv", access },
  { "POST", "/:pid/kb/sitemap", "sitemap", access },
  { "POST", "/:pid/kb/sitemap/import", "sitemap_import", access },
  { "POST", "/:pid/kb/scrape/single", "scrape_single", access },
  { "POST", "/:pid/kb/scrape/status", "scrape_status", access },
  { "PUT", "/:pid/kb/:kb", "update", access },
  { "DELETE", "/:pid/kb/:kb", "delete", access },
  { "POST", "/:pid/kb/qa", "qa", access },
}
-- the same routes for both kinds of question (routes/unanswered.js, routes/answered.js); only
-- unanswered questions can be changed
for _, kind in ipairs({ "unanswered", "answered" }) do
  local base = "/:pid/kb/" .. kind
  for _, r in ipairs({ { "POST", "", "add" }, { "GET", "/count/:ns", "count" }, { "GET", "/:ns/export", "export" },
    { "GET", "/:ns", "list" }, { "PUT", "/:qid", "update" }, { "DELETE", "/namespace/:ns", "delete_all" },
    { "DELETE", "/:qid", "delete" } }) do
    if r[3] ~= "update" or kind == "unanswered" then
      api.routes[#api.routes + 1] = { r[1], base .. r[2], kind .. "_" .. r[3], access }
    end
  end
end

return api
