-- Leads (contacts), addressed by their Mongo _id.
local M = {}
M.routes = {
  { "list", "GET", "/leads", page = { items = "leads", size = 100 }, doc = "One page of leads (full_text, email, tags, status, segment)" },
  { "get", "GET", "/leads/{}", params = { "lead_id" }, doc = "One lead" },
  { "create", "POST", "/leads", body = "required", doc = "Create a lead (fullname, email, attributes)" },
  { "update", "PUT", "/leads/{}", params = { "lead_id" }, body = "required", doc = "Update (attributes replaced)" },
  { "merge_attributes", "PATCH", "/leads/{}/attributes", params = { "lead_id" }, body = "required", doc = "Merge attributes" },
  { "merge_properties", "PATCH", "/leads/{}/properties", params = { "lead_id" }, body = "required", doc = "Merge custom properties" },
  { "add_tags", "PUT", "/leads/{}/tag", params = { "lead_id" }, body = "array", doc = "Add tags (array of strings)" },
  { "remove_tag", "DELETE", "/leads/{}/tag/{}", params = { "lead_id", "tag" }, doc = "Remove a tag" },
  { "delete", "DELETE", "/leads/{}", params = { "lead_id" }, doc = "Soft delete (status 1000)" },
  { "delete_physical", "DELETE", "/leads/{}/physical", params = { "lead_id" }, doc = "Hard delete (owner)" },
  { "csv", "GET", "/leads/csv", raw = true, doc = "CSV export" },
}
M.methods = {}
-- search(text, q): full-text search, one page
function M.methods:search(text, q)
  if type(text) ~= "string" then error("leads:search(): bad argument #1 'text' (string expected, got " .. type(text) .. ")", 2) end
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
return M
