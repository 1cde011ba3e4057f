-- /:pid/emails: internal e-mail.
local store = require("sbx.store")

local agent = { role = "agent", types = { "bot", "subscription" } }

local api = {}

-- The recipients routes/email.js mails (utils/recipientEmailUtil.js): "@..." names the
-- project's active owners and admins, a text without "@" a group of the project (its active
-- teammates), anything else is the address list as given.
local AGENT_ROLES = { owner = true, admin = true, supervisor = true, agent = true }
local function recipients(pid, to)
  if to:sub(1, 1) ~= "@" and to:find("@", 1, true) then return to end
  local members
  if to:sub(1, 1) ~= "@" then
    local g = store.coll("groups"):find_one(function(x) return x.id_project == pid and x.name == to end)
    if not g then return "" end
    members = {}
    for _, m in ipairs(g.members or {}) do members[m] = true end
  end
  local out = {}
  for _, pu in ipairs(store.coll("project_users"):all()) do
    local role_ok = members and AGENT_ROLES[pu.role] or (not members and (pu.role == "owner" or pu.role == "admin"))
    if pu.id_project == pid and pu.status == "active" and role_ok and (not members or members[pu.id_user]) then
      local u = store.coll("users"):get(pu.id_user)
      if u and u.email then out[#out + 1] = u.email end
    end
  end
  return table.concat(out, ",")
end

-- Simplified: the server mails through its SMTP settings; the sandbox stores the email
-- (collection emails, `to` as resolved) and sends nothing.
function api.send(ctx)
  local b = ctx.body or {}
  -- to.startsWith on a non-string throws in the server's async handler (it never answers)
  if type(b.to) ~= "string" then return 500, { success = false, msg = "to must be a string" } end
  store.coll("emails"):insert{ id_project = ctx.pid, to = recipients(ctx.pid, b.to), text = b.text, subject = b.subject,
    request_id = b.request_id, replyto = b.replyto }
  return 200, { queued = true }
end

api.routes = {
  { "POST", "/:pid/emails/internal/send", "send", agent },
}

return api
