-- Custom events (they trigger event.emit webhooks).
local M = {}
M.routes = {
  { "create", "POST", "/events", fields = { "name" }, body = "object", doc = "Emit an event (attributes optional)",
    example = 'client.events:create("order_shipped", { attributes = { order_id = "1234" } })' },
  { "list", "GET", "/events", page = { items = "events", size = 40, fixed = true },
    filters = { project_user = "project user _id",
      sort = "field to sort by (default createdAt)", direction = "1 ascending, -1 descending (default)" }, doc = "Events, 40 per page",
    example = 'local page = assert(client.events:list{ page = 0 })' },
  { "get", "GET", "/events/{}", params = { "event_id" }, doc = "One event" },
}
return M
