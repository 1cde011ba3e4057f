-- Outbound email from the project.
local M = {}
M.routes = {
  { "send", "POST", "/emails/internal/send", fields = { "to", "text" }, body = "object",
    doc = "Queue an email (subject, request_id, replyto). to: an address, several separated by commas, "
      .. "\"@\" followed by anything (all owners and admins of the project) or a group's name (its agents)",
    example = 'client.emails:send("ann@example.com", "Your refund was sent today.", { subject = "Your refund", request_id = rid })' },
}
return M
