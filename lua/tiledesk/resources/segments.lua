-- Lead segments (saved filters, usable as leads:list{segment=id}).
local M = {}
M.routes = {
  { "list", "GET", "/segments", page = { items = "segments", size = 100 },
    filters = {
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" }, doc = "Segments" },
  { "get", "GET", "/segments/{}", params = { "segment_id" }, doc = "One segment" },
  { "create", "POST", "/segments", body = "required", doc = "Create (name, match, filters)",
    example = 'local segment = assert(client.segments:create{ name = "VIP", filters = { { field = "tags", operator = "contains", value = "vip" } } })' },
  { "update", "PUT", "/segments/{}", params = { "segment_id" }, body = "required",
    doc = "Update name, match, filters; JSON null is ignored (the server skips undefined and null); an unknown id is created (upsert) and answered 200",
    example = 'client.segments:update(segment_id, { name = "VIP customers" })' },
  { "delete", "DELETE", "/segments/{}", params = { "segment_id" }, doc = "Soft delete; an unknown id is created (upsert) and answered 200" },
}
return M
