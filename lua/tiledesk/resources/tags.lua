-- The project's tag library.
local M = {}
M.routes = {
  { "list", "GET", "/tags", page = { size = 40, fixed = true },
    filters = {
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" }, doc = "Tags, 40 per page" },
  { "get", "GET", "/tags/{}", params = { "tag_id" }, doc = "One tag" },
  { "create", "POST", "/tags", fields = { "tag", "color?" }, doc = "Create (an existing one is returned on duplicate)",
    example = 'local tag = assert(client.tags:create("vip", "#43a047"))' },
  { "update", "PUT", "/tags/{}", params = { "tag_id" }, fields = { "tag", "color" },
    doc = "Update name and color (the server writes both); an unknown id is created (upsert) and answered 200",
    example = 'client.tags:update(tag_id, "vip", "#fb8c00")' },
  { "delete", "DELETE", "/tags/{}", params = { "tag_id" }, doc = "Delete" },
}
return M
