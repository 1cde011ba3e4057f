-- Leads (contacts), addressed by their Mongo _id.
local M = {}
M.routes = {
  { "list", "GET", "/leads", page = { items = "leads", size = 100 }, doc = "One page of leads (full_text, email, tags, status, segment)",
    example = 'local page = assert(client.leads:list{ full_text = "acme", limit = 50 })' },
  { "get", "GET", "/leads/{}", params = { "lead_id" }, doc = "One lead" },
  { "create", "POST", "/leads", body = "required", doc = "Create a lead (fullname, email, attributes)",
    example = 'local lead = assert(client.leads:create{ fullname = "Ann Lee", email = "ann@example.com", attributes = { plan = "pro" } })' },
  { "update", "PUT", "/leads/{}", params = { "lead_id" }, body = "required", doc = "Update (attributes replaced)",
    example = 'client.leads:update(lead_id, { fullname = "Ann Lee-Smith", email = "ann@example.com" })' },
  { "merge_attributes", "PATCH", "/leads/{}/attributes", params = { "lead_id" }, body = "required", doc = "Merge attributes",
    example = 'client.leads:merge_attributes(lead_id, { plan = "enterprise" })' },
  { "merge_properties", "PATCH", "/leads/{}/properties", params = { "lead_id" }, body = "required", doc = "Merge custom properties",
    example = 'client.leads:merge_properties(lead_id, { company = "Acme" })' },
  { "add_tags", "PUT", "/leads/{}/tag", params = { "lead_id" }, body = "array", doc = "Add tags (array of strings)",
    example = 'client.leads:add_tags(lead_id, { "vip", "newsletter" })' },
  { "remove_tag", "DELETE", "/leads/{}/tag/{}", params = { "lead_id", "tag" }, doc = "Remove a tag",
    example = 'client.leads:remove_tag(lead_id, "newsletter")' },
  { "delete", "DELETE", "/leads/{}", params = { "lead_id" }, doc = "Soft delete (status 1000)" },
  { "delete_physical", "DELETE", "/leads/{}/physical", params = { "lead_id" }, doc = "Hard delete (owner)" },
  { "csv", "GET", "/leads/csv", raw = true, doc = "CSV export" },
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
return M
