-- /:pid/emails: internal e-mail.
local store = require("sbx.store")
local util = require("sbx.util")

local agent = { role = "agent", types = { "bot", "subscription" } }

local api = {}

-- Simplified: the server mails through its SMTP settings; the sandbox stores the email
-- (collection emails) and sends nothing.
function api.send(ctx)
  local b = ctx.body or {}
  if type(b.to) ~= "string" or not b.to:find("@") then return 422, { errors = util.arr{ util.invalid("to", b.to) } } end
  store.coll("emails"):insert{ id_project = ctx.pid, to = b.to, text = b.text, subject = b.subject,
    request_id = b.request_id, replyto = b.replyto }
  return 200, { queued = true }
end

api.routes = {
  { "POST", "/:pid/emails/internal/send", "send", agent },
}

return api
