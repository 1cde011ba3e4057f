-- Chatbot webhooks (automation triggers that run a bot flow).
local M = {}
M.routes = {
  { "list", "GET", "/webhooks", page = { all = true }, filters = {}, doc = "Webhooks of the project" },
  { "get", "GET", "/webhooks/{}", params = { "chatbot_id" }, doc = "The webhook of a bot" },
  { "get_by_id", "GET", "/webhooks/id/{}", params = { "webhook_id" }, doc = "A webhook by its id" },
  { "create", "POST", "/webhooks", fields = { "chatbot_id" }, body = "object",
    doc = "Create (block_id is required: the start block; async, copilot); one per chatbot (a second: 403), "
      .. "the chatbot is not checked",
    example = 'local webhook = assert(client.webhooks:create(chatbot_id, { block_id = "start", async = true }))' },
  { "update", "PUT", "/webhooks/{}", params = { "chatbot_id" }, body = "required", doc = "Update async, copilot, enabled",
    example = 'client.webhooks:update(chatbot_id, { enabled = false })' },
  { "regenerate", "PUT", "/webhooks/{}/regenerate", params = { "chatbot_id" }, doc = "New webhook id" },
  { "delete", "DELETE", "/webhooks/{}", params = { "chatbot_id" }, doc = "Delete" },
  { "run", "POST", "/webhook/{}", params = { "webhook_id" }, scope = "global", auth = "none", body = "object",
    doc = "Run the bot flow behind a webhook id (rate limited by the server)",
    example = 'client.webhooks:run(webhook_id, { order_id = "1234" })' },
  { "preload", "POST", "/webhooks/preload/{}", params = { "webhook_id" }, role = "admin",
    doc = "Turn on dev mode for 15 minutes: dev runs then log under the returned request_id (logs:flow(request_id))",
    example = 'local dev = assert(client.webhooks:preload(webhook_id)); print(dev.request_id)' },
  { "stop_dev", "DELETE", "/webhooks/preload/{}", params = { "webhook_id" }, role = "admin", doc = "Turn dev mode off" },
  { "run_dev", "POST", "/webhook/{}/dev", params = { "webhook_id" }, scope = "global", auth = "none", body = "object",
    doc = "Run the draft flow of the bot behind a webhook in dev mode (422 when dev mode is off)",
    example = 'client.webhooks:run_dev(webhook_id, { order_id = "1234" })' },
}
return M
