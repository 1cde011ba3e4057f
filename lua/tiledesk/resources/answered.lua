-- Questions the knowledge base answered (kb:ask() records them with the answer and the tokens
-- used). routes/answered.js; the routes are those of resources/kb_questions.lua.
local questions = require("tiledesk.resources.kb_questions")
local M = {}
M.routes = questions("answered", {
  title = "Answered",
  search = "words of the question or the answer",
  columns = "id, namespace, question, answer, tokens, request_id, createdAt",
  add = { fields = { "namespace", "question", "answer" }, doc = "Record one (tokens, request_id)",
    example = 'local q = assert(client.answered:add(ns_id, "Do you ship abroad?", "Yes, to the EU."))' },
})
return M
