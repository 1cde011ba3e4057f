-- Questions the knowledge base could not answer (kb:ask() records them). routes/unanswered.js;
-- the routes are those of resources/kb_questions.lua, plus update.
local questions = require("tiledesk.resources.kb_questions")
local M = {}
M.routes = questions("unanswered", {
  title = "Unanswered",
  search = "words of the question",
  columns = "id, namespace, question, request_id, createdAt",
  add = { fields = { "namespace", "question" }, doc = "Record one (request_id, sender)",
    example = 'local q = assert(client.unanswered:add(ns_id, "Do you price match?", { request_id = rid }))' },
  extra = {
    { "update", "PUT", "/kb/unanswered/{}", params = { "question_id" }, fields = { "question" },
      doc = "Change the question's text",
      example = 'client.unanswered:update(q._id, "Do you match competitors\' prices?")' },
  },
})
return M
