-- Resthook subscriptions (webhooks): the server POSTs events to your URL with x-hook-secret.
local M = {}
M.routes = {
  { "list", "GET", "/subscriptions", page = { all = true }, filters = {}, doc = "Subscriptions (no secrets)" },
  { "get", "GET", "/subscriptions/{}", params = { "subscription_id" }, doc = "One subscription" },
  { "create", "POST", "/subscriptions", fields = { "event", "target" }, secret = "response",
    doc = "Subscribe a URL to an event; the answer carries the secret",
    example = 'local sub = assert(client.subscriptions:create("request.create", "https://hooks.example.com/tiledesk")); print(sub.secret)' },
  { "update", "PUT", "/subscriptions/{}", params = { "subscription_id" }, body = "required",
    doc = "Update: the server applies the whole body as it is (any field); an unknown id is created (upsert) and answered 200",
    example = 'client.subscriptions:update(subscription_id, { target = "https://hooks.example.com/v2" })' },
  { "delete", "DELETE", "/subscriptions/{}", params = { "subscription_id" }, doc = "Unsubscribe (an unknown id answers 200 null)" },
  { "history", "GET", "/subscriptions/history", page = { size = 40, fixed = true }, filters = {},
    doc = "Delivery log, newest first" },
}
return M
