-- Leads (contacts), addressed by their Mongo _id.
local json = require("tiledesk.json")
local M = {}
M.routes = {
  { "list", "GET", "/leads", page = { items = "leads", size = 100 }, returns = "lead",
    filters = { full_text = "full-text search", email = "exact email",
      with_email = { "true: only leads with an email (the server reads the key's presence: false sends nothing); "
        .. "replaces email", presence = true },
      with_fullname = { "true: only leads with a name (read by presence: false sends nothing)", presence = true },
      tags = "a tag (one)",
      status = "status (default 100; 1000: deleted)",
      segment = "segment _id: all its filters apply, whatever its match (=, !=, >, >=, contains: a regular expression, "
        .. "is null, is not null; starts with: the server never answers)",
      sort = "field to sort by (default createdAt)", direction = "1 or asc ascending, -1 or desc descending (default)" },
    doc = "One page of leads (no date filters: the server reads none)",
    example = 'local page = assert(client.leads:list{ full_text = "acme", limit = 50 })' },
  { "get", "GET", "/leads/{}", params = { "lead_id" }, doc = "One lead" },
  { "create", "POST", "/leads", body = "required", doc = "Create a lead: the server reads lead_id, fullname, email, attributes only (update sets the rest)",
    example = 'local lead = assert(client.leads:create{ fullname = "Ann Lee", email = "ann@example.com", attributes = { plan = "pro" } })' },
  { "update", "PUT", "/leads/{}", params = { "lead_id" }, body = "required",
    doc = "Update fullname, email, attributes (replaced), status, phone, company, note, streetAddress, city, region, "
      .. "zipcode, country, tags (tags only when truthy); JSON null is ignored (the server skips undefined and null); "
      .. "an unknown id is created (upsert) and answered 200",
    example = 'client.leads:update(lead_id, { fullname = "Ann Lee-Smith", email = "ann@example.com" })' },
  { "merge_attributes", "PATCH", "/leads/{}/attributes", params = { "lead_id" }, body = "required", doc = "Merge attributes",
    example = 'client.leads:merge_attributes(lead_id, { plan = "enterprise" })' },
  { "merge_properties", "PATCH", "/leads/{}/properties", params = { "lead_id" }, body = "required", doc = "Merge custom properties",
    example = 'client.leads:merge_properties(lead_id, { company = "Acme" })' },
  { "add_tags", "PUT", "/leads/{}/tag", params = { "lead_id" }, body = "array", doc = "Add tags (array of strings)",
    example = 'client.leads:add_tags(lead_id, { "vip", "newsletter" })' },
  { "remove_tag", "DELETE", "/leads/{}/tag/{}", params = { "lead_id", "tag" }, doc = "Remove a tag",
    example = 'client.leads:remove_tag(lead_id, "newsletter")' },
  { "delete", "DELETE", "/leads/{}", params = { "lead_id" },
    doc = "Soft delete (status 1000); an unknown id is created (upsert) and answered 200 (status 1000)" },
  { "delete_physical", "DELETE", "/leads/{}/physical", params = { "lead_id" }, doc = "Hard delete (owner)" },
  { "csv", "GET", "/leads/csv", raw = true,
    filters = { full_text = "full-text search", email = "exact email", page = "page of 100000 rows (from 0)",
      sort = "field to sort by (default createdAt)", direction = "1 or asc ascending, -1 or desc descending (default)" },
    doc = "CSV export (no attributes)" },
}
M.methods = {}
-- search(text, q): full-text search, one page
function M.methods:search(text, q)
  if type(text) ~= "string" then error("leads:search(): bad argument #1 'text' (string expected, got " .. type(text) .. ")", 2) end
  if q ~= nil and type(q) ~= "table" then
    error("leads:search(): bad argument #2 'query' (table expected, got " .. type(q) .. ")", 2)
  end
  local query = {}
  for k, v in pairs(q or {}) do query[k] = v end
  query.full_text = text
  return self:list(query)
end
-- find_by_email(email): the first lead with that email, or false when none
function M.methods:find_by_email(email)
  if type(email) ~= "string" then error("leads:find_by_email(): bad argument #1 'email' (string expected, got " .. type(email) .. ")", 2) end
  local page, msg, err = self:list{ email = email, limit = 1 }
  if not page then return nil, msg, err end
  return (page.leads or {})[1] or false
end
-- What a lead is made of, as the server stores it (models/lead.js): these fields are strings,
-- tags an array of strings, attributes a free-form table. POST /leads reads lead_id, fullname,
-- email and attributes only (routes/lead.js, leadService.createWitId); PUT /leads/:id reads the
-- other fields, replaces attributes whole, sets tags only when truthy, and never lead_id.
local STRING_FIELDS = { "fullname", "email", "phone", "company", "note", "streetAddress", "city", "region",
  "zipcode", "country" }
local IS_STRING, KNOWN = {}, { "lead_id", "tags", "attributes" }
for _, k in ipairs(STRING_FIELDS) do
  IS_STRING[k] = true
  KNOWN[#KNOWN + 1] = k
end
IS_STRING.lead_id = true
table.sort(KNOWN)
local IS_KNOWN = {}
for _, k in ipairs(KNOWN) do IS_KNOWN[k] = true end
local ON_CREATE = { lead_id = true, fullname = true, email = true, attributes = true }

-- Two decoded JSON values hold the same data (tables compared key by key, both ways).
local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not same(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function check_lead(op, lead)
  if type(lead) ~= "table" then error(op .. ": bad argument #1 'lead' (table expected, got " .. type(lead) .. ")", 3) end
  for k, v in pairs(lead) do
    if not IS_KNOWN[k] then
      error(op .. ": unknown field '" .. tostring(k) .. "' (known: " .. table.concat(KNOWN, ", ") .. ")", 3)
    end
    if IS_STRING[k] and type(v) ~= "string" then
      error(op .. ": field '" .. k .. "' must be a string (got " .. type(v) .. ")", 3)
    end
  end
  if lead.email == nil or lead.email == "" then error(op .. ": field 'email' is required (leads are found by it)", 3) end
  local tags = lead.tags
  if tags ~= nil then
    local n = 0
    for _ in pairs(type(tags) == "table" and tags or {}) do n = n + 1 end
    if type(tags) ~= "table" or n ~= #tags then error(op .. ": field 'tags' must be an array of strings", 3) end
    for _, t in ipairs(tags) do
      if type(t) ~= "string" then error(op .. ": field 'tags' must be an array of strings", 3) end
    end
  end
  if lead.attributes ~= nil and type(lead.attributes) ~= "table" then
    error(op .. ": field 'attributes' must be a table (got " .. type(lead.attributes) .. ")", 3)
  end
end

-- upsert(lead, opts?): the lead with lead.email made to hold lead's fields, created when no lead
-- has that email. Returns the lead and what happened ("created", "updated", "unchanged").
function M.methods:upsert(lead, opts)
  local op = "leads:upsert()"
  check_lead(op, lead)
  if opts ~= nil and type(opts) ~= "table" then error(op .. ": bad argument #2 'opts' (table expected, got " .. type(opts) .. ")", 2) end
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "attributes" then error(op .. ": unknown option '" .. tostring(k) .. "' (known: attributes)", 2) end
  end
  local mode = opts.attributes or "merge"
  if mode ~= "merge" and mode ~= "replace" then
    error(op .. ": option 'attributes' must be \"merge\" or \"replace\" (got " .. tostring(mode) .. ")", 2)
  end
  local attrs = lead.attributes
  if attrs ~= nil and next(attrs) == nil and mode == "merge" then attrs = nil end
  local function fail(msg, err) return nil, op .. ": " .. tostring(msg), err end
  local function sent(k, v)
    if k ~= "tags" then return v end
    local copy = {} -- the caller's table untouched; [] stays an array on the wire
    for i, t in ipairs(v) do copy[i] = t end
    return json.array(copy)
  end

  local found, m, e = self:find_by_email(lead.email)
  if found == nil then return fail(m, e) end
  if not found then
    local first, rest = {}, {}
    for k, v in pairs(lead) do
      if k ~= "attributes" then
        if ON_CREATE[k] then first[k] = v else rest[k] = sent(k, v) end
      end
    end
    first.attributes = attrs
    local made
    made, m, e = self:create(first)
    if not made then return fail(m, e) end
    if next(rest) == nil then return made, "created" end
    local names = {}
    for k in pairs(rest) do names[#names + 1] = k end
    table.sort(names)
    local done
    done, m, e = self:update(made._id, rest)
    if not done then
      -- the lead exists now: say so, and hand it over; a rerun finds it by email and sets the rest
      if type(e) == "table" then e.lead = made end
      return fail("lead " .. tostring(made._id) .. " created, but not its " .. table.concat(names, ", ")
        .. " (a rerun sets them): " .. tostring(m), e)
    end
    return done, "created"
  end
  local change = {}
  for k, v in pairs(lead) do
    if k ~= "lead_id" and k ~= "attributes" and not same(found[k], v) then change[k] = sent(k, v) end
  end
  local held = type(found.attributes) == "table" and found.attributes or {}
  if mode == "replace" then
    if not same(held, attrs or {}) then change.attributes = attrs or {} end
  elseif attrs then
    local merged, differs = {}, false
    for k, v in pairs(held) do merged[k] = v end
    for k, v in pairs(attrs) do
      if not same(merged[k], v) then differs = true end
      merged[k] = v
    end
    if differs then change.attributes = merged end
  end
  if next(change) == nil then return found, "unchanged" end
  local done
  done, m, e = self:update(found._id, change)
  if not done then return fail(m, e) end
  return done, "updated"
end

-- from_row(row): a lead table from a flat row (a CSV record): the lead's string fields by name,
-- every other column into attributes; empty cells are left out.
function M.methods.from_row(_, row)
  if type(row) ~= "table" then error("leads:from_row(): bad argument #1 'row' (table expected, got " .. type(row) .. ")", 2) end
  local lead, attrs = {}, {}
  for k, v in pairs(row) do
    if v ~= "" then
      if IS_STRING[k] then lead[k] = v else attrs[k] = v end
    end
  end
  if next(attrs) then lead.attributes = attrs end
  return lead
end

-- README entries of the hand-written methods (tools/readme_api.lua; `after` places them there).
M.docs = {
  search = { after = "list",
    syntax = "page, msg, err = client.leads:search(text, query?)",
    doc = "Full-text search, one page (`full_text = text`; the query adds limit, page, sort, ...)",
    via = "list",
    example = 'local page = assert(client.leads:search("acme", { limit = 20 }))' },
  find_by_email = { after = "list",
    syntax = "lead, msg, err = client.leads:find_by_email(email)",
    doc = "The first lead with that email, or false when there is none",
    via = "list",
    example = 'local lead, msg = client.leads:find_by_email("ann@example.com")' },
  upsert = { after = "update",
    syntax = "lead, what_or_msg, err = client.leads:upsert(lead, opts?)",
    doc = "The lead with `lead.email` made to hold `lead`'s fields (fullname, phone, company, note, streetAddress, city, "
      .. "region, zipcode, country, tags, attributes; lead_id on creation only): created when no lead (status 100) has "
      .. "that email (POST, then a PUT of the fields the POST does not read), else updated with the fields that differ, "
      .. "attributes merged into the lead's (`opts.attributes = \"replace\"`: replaced); `what` is \"created\", \"updated\" "
      .. "or \"unchanged\" (no write), so a rerun changes nothing. A lead created whose other fields could not be set "
      .. "is in `err.lead`, and a rerun sets them",
    via = { "list", "create", "update" },
    example = 'local lead, what = assert(client.leads:upsert{ email = "ann@example.com", fullname = "Ann Lee", attributes = { plan = "pro" } })' },
  from_row = { after = "update",
    syntax = "lead = client.leads:from_row(row)",
    doc = "A lead table for upsert from a flat row (a CSV record): the lead's string fields by name, every other column "
      .. "into attributes; empty cells left out (no HTTP call)",
    example = 'for rec in require("tiledesk.csv").records(f) do assert(client.leads:upsert(client.leads:from_row(rec))) end' },
}
-- The objects users read most (models/lead.js), for the reference.
M.objects = {
  lead = { doc = "A lead (contact); also _id, createdAt and updatedAt (ISO 8601 UTC with ms) and __v",
    fields = {
      lead_id = "the visitor's user id (uuid or user _id)", fullname = "name", email = "email",
      phone = "phone", company = "company", note = "note", streetAddress = "address", city = "city",
      region = "region", zipcode = "zip code", country = "country", tags = "array of strings",
      attributes = "free-form table", properties = "custom properties (merge_properties)",
      status = "100 normal, 1000 deleted (delete is soft)", id_project = "project id", createdBy = "user id" } },
}
return M
