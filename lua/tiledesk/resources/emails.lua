-- Outbound email from the project.
local M = {}
M.routes = {
  { "send", "POST", "/emails/internal/send", fields = { "to", "text" }, body = "object",
    doc = "Queue an email (subject, request_id, replyto)",
    example = 'client.emails:send("ann@example.com", "Your refund was sent today.", { subject = "Your refund", request_id = rid })' },
}
return M
