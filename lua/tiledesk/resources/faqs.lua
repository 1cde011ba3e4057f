-- Intents (faq) of a bot.
local M = {}
M.routes = {
  { "list", "GET", "/faq", fields = { "id_faq_kb" }, page = { size = 100 },
    filters = { text = "full-text search", intent_display_name = "intent name" }, doc = "Intents of a bot",
    example = 'local page = assert(client.faqs:list(bot_id))' },
  { "get", "GET", "/faq/{}", params = { "faq_id" }, doc = "One intent" },
  { "create", "POST", "/faq", fields = { "id_faq_kb" }, body = "object", doc = "Create (question, answer, intent_display_name, ...)",
    example = 'local faq = assert(client.faqs:create(bot_id, { question = "Where is my order?", answer = "Track it at example.com/track" }))' },
  { "update", "PUT", "/faq/{}", params = { "faq_id" }, body = "required", doc = "Update",
    example = 'client.faqs:update(faq_id, { answer = "Track it on your account page" })' },
  { "merge_attributes", "PATCH", "/faq/{}/attributes", params = { "faq_id" }, body = "required", doc = "Merge attributes",
    example = 'client.faqs:merge_attributes(faq_id, { reviewed = true })' },
  { "delete", "DELETE", "/faq/{}", params = { "faq_id" }, doc = "Delete" },
  { "csv", "GET", "/faq/csv", fields = { "id_faq_kb" }, raw = true, filters = {}, doc = "CSV export",
    example = 'local csv = assert(client.faqs:csv(bot_id))' },
}
return M
