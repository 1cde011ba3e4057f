-- Leads (contacts), addressed by their Mongo _id.
local M = {}
M.routes = {
  { "list", "GET", "/leads", page = { items = "leads", size = 100 }, returns = "lead",
    filters = { full_text = "full-text search", email = "exact email", with_email = "true: only leads with an email",
      with_fullname = "true: only leads with a name", tags = "a tag (one)", status = "status (default 100; 1000: deleted)",
      segment = "segment _id (its rules are applied)",
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" },
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
    filters = { full_text = "full-text search", email = "exact email", page = "page of 100000 rows",
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" },
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
