-- Chatbots (faq_kb).
local M = {}
M.routes = {
  { "list", "GET", "/faq_kb", page = { all = true }, doc = "Bots (all=true includes identity bots)" },
  { "get", "GET", "/faq_kb/{}", params = { "bot_id" }, doc = "One bot" },
  { "create", "POST", "/faq_kb", fields = { "name" }, body = "object", doc = "Create (type internal/external/tilebot, url, ...)" },
  { "update", "PUT", "/faq_kb/{}", params = { "bot_id" }, body = "required", doc = "Update" },
  { "merge_attributes", "PATCH", "/faq_kb/{}/attributes", params = { "bot_id" }, body = "required", doc = "Merge attributes" },
  { "set_language", "PUT", "/faq_kb/{}/language/{}", params = { "bot_id", "language" }, doc = "Change the language" },
  { "delete", "DELETE", "/faq_kb/{}", params = { "bot_id" }, doc = "Delete" },
  { "token", "GET", "/faq_kb/{}/jwt", params = { "bot_id" }, secret = "response", doc = "Mint a bot token ({jwt=})" },
  { "published", "GET", "/faq_kb/{}/published", params = { "bot_id" }, doc = "Published copies" },
  { "publish", "PUT", "/faq_kb/{}/publish", params = { "bot_id" }, body = "object", doc = "Publish (release_note)" },
  { "fork", "POST", "/faq_kb/fork/{}", params = { "bot_id" }, doc = "Fork into a project (query projectid, public, globals)" },
  { "export", "GET", "/faq_kb/exportjson/{}", params = { "bot_id" }, doc = "Export as JSON" },
  { "ask", "POST", "/faq_kb/askbot", fields = { "id_faq_kb", "question" }, doc = "Ask a question, get scored hits" },
  { "train", "POST", "/faq_kb/train", fields = { "id_faq_kb" }, body = "object", doc = "Train" },
  { "training", "POST", "/faq_kb/{}/training", params = { "bot_id" }, body = "object",
    doc = "Train one bot (its intents engine)" },
}
return M
