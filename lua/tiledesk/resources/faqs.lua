-- Intents (faq) of a bot.
local M = {}
M.routes = {
  { "list", "GET", "/faq", fields = { "id_faq_kb" }, page = { size = 100 },
    filters = { text = "full-text search", intent_display_name = "intent name" }, doc = "Intents of a bot",
    example = 'local page = assert(client.faqs:list(bot_id))' },
  { "get", "GET", "/faq/{}", params = { "faq_id" }, doc = "One intent" },
  { "create", "POST", "/faq", fields = { "id_faq_kb" }, body = "object", doc = "Create (question, answer, intent_display_name, ...)",
    example = 'local faq = assert(client.faqs:create(bot_id, { question = "Where is my order?", answer = "Track it at example.com/track" }))' },
  { "update", "PUT", "/faq/{}", params = { "faq_id" }, fields = { "id_faq_kb" }, body = "object",
    doc = "Update an intent of the bot id_faq_kb (the server refuses a body without it: 422). It applies intent, "
      .. "question, answer, topic, status, language, intent_display_name, webhook_enabled, enabled, reply, form, "
      .. "actions, attributes, agents_available, and ignores JSON null; an unknown faq_id is created (upsert), "
      .. "without bot or project",
    example = 'client.faqs:update(faq_id, bot_id, { answer = "Track it on your account page" })' },
  { "merge_attributes", "PATCH", "/faq/{}/attributes", params = { "faq_id" }, body = "required", doc = "Merge attributes",
    example = 'client.faqs:merge_attributes(faq_id, { reviewed = true })' },
  { "delete", "DELETE", "/faq/{}", params = { "faq_id" }, doc = "Delete" },
  { "csv", "GET", "/faq/csv", fields = { "id_faq_kb" }, raw = true, filters = {}, doc = "CSV export",
    example = 'local csv = assert(client.faqs:csv(bot_id))' },
}
M.methods = {}
-- update(faq_id, id_faq_kb, body?): the bot's id is required by the server (422 without it);
-- a table in its place is the old update(faq_id, body) call, refused with a clear message.
function M.methods:update(faq_id, id_faq_kb, body)
  if type(id_faq_kb) ~= "string" or id_faq_kb == "" then
    error("faqs:update(): bad argument #2 'id_faq_kb' (the bot's id expected, got "
      .. (id_faq_kb == "" and "an empty string" or type(id_faq_kb)) .. "): the server refuses an update without it", 2)
  end
  return self:_call("update", faq_id, id_faq_kb, body)
end
M.docs = {
  update = {
    syntax = "faq, msg, err = client.faqs:update(faq_id, id_faq_kb, body?)",
    doc = M.routes[4].doc,
    example = M.routes[4].example },
}
return M
