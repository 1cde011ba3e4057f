-- Outbound email from the project.
local M = {}
M.routes = {
  { "send", "POST", "/emails/internal/send", fields = { "to", "text" }, body = "object",
    doc = "Queue an email (subject, request_id, replyto)" },
}
return M
