-- Intents (faq) of a bot.
local M = {}
M.routes = {
  { "list", "GET", "/faq", fields = { "id_faq_kb" }, page = { size = 100 }, doc = "Intents of a bot" },
  { "get", "GET", "/faq/{}", params = { "faq_id" }, doc = "One intent" },
  { "create", "POST", "/faq", fields = { "id_faq_kb" }, body = "object", doc = "Create (question, answer, intent_display_name, ...)" },
  { "update", "PUT", "/faq/{}", params = { "faq_id" }, body = "required", doc = "Update" },
  { "merge_attributes", "PATCH", "/faq/{}/attributes", params = { "faq_id" }, body = "required", doc = "Merge attributes" },
  { "delete", "DELETE", "/faq/{}", params = { "faq_id" }, doc = "Delete" },
  { "csv", "GET", "/faq/csv", fields = { "id_faq_kb" }, raw = true, doc = "CSV export" },
}
return M
