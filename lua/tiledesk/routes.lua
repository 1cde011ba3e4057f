-- THE route table: every endpoint the SDK reaches, gathered from resources/<name>.lua, plus the
-- endpoints reached by client methods and those deliberately left out (with the reason).
-- docs/coverage.md is generated from it (./dev coverage); a unit spec keeps the two in step.
local _M = {}

_M.resources = {
  "users", "projects", "requests", "messages", "leads", "activities", "team", "departments",
  "groups", "bots", "faqs", "canned", "tags", "subscriptions", "webhooks", "events", "keys",
  "analytics", "labels", "properties", "segments", "roles", "campaigns", "emails", "quotes", "files",
  "logs", "namespaces", "kb", "unanswered", "answered", "tables", "triggers", "widgets",
}

-- Each area's module is read when the area is first used (routes.area(name), by a client's
-- resource object on its first method), so `require "tiledesk"` reads none of them. The four
-- tables below are the whole table: the first read of any of them loads every area.
--   list         every route, in resource order
--   index        "requests.get" -> route
--   by_resource  "requests" -> { routes }
--   modules      "requests" -> the resources/requests.lua module
local index, by_resource, modules = {}, {}, {}
local known = {}
for _, res in ipairs(_M.resources) do known[res] = true end

-- The routes and module of one area (nil for a name that is no area), loaded once.
function _M.area(res)
  local list = by_resource[res]
  if list then return list, modules[res] end
  if not known[res] then return nil end
  local mod = require("tiledesk.resources." .. res)
  list = {}
  for _, r in ipairs(mod.routes or {}) do
    local route = {}
    for k, v in pairs(r) do route[k] = v end
    route.name, route.method, route.path = r[1], r[2], r[3]
    route[1], route[2], route[3] = nil, nil, nil
    route.res = res
    route.scope = route.scope or "project"
    route.op = res .. ":" .. route.name .. "()"
    list[#list + 1] = route
    index[res .. "." .. route.name] = route
  end
  modules[res] = mod
  by_resource[res] = list
  return list, mod
end

local WHOLE = { list = true, index = true, by_resource = true, modules = true }
setmetatable(_M, { __index = function(t, k)
  if not WHOLE[k] then return nil end
  local all = {}
  for _, res in ipairs(_M.resources) do
    for _, route in ipairs((_M.area(res))) do all[#all + 1] = route end
  end
  rawset(t, "list", all)
  rawset(t, "index", index)
  rawset(t, "by_resource", by_resource)
  rawset(t, "modules", modules)
  return rawget(t, k)
end })

-- A route's endpoint as the reference writes it: "/{pid}/requests/{request_id}/notes".
function _M.shown_path(r)
  local p = r.path
  if r.scope ~= "global" then p = "/{pid}" .. p end
  local i = 0
  return (p:gsub("{}", function()
    i = i + 1
    return "{" .. ((r.params or {})[i] or "id") .. "}"
  end))
end

-- The arguments a generated method takes, as resources/init.lua reads them ("?": may be left
-- out): ids, fields, then the body (writes) or the query (reads).
function _M.arguments(r)
  local args = {}
  for i, p in ipairs(r.params or {}) do
    args[#args + 1] = (i == 1 and r.default_project) and (p .. "?") or p
  end
  for _, f in ipairs(r.fields or {}) do args[#args + 1] = f end
  local write = not (r.method == "GET" or r.method == "DELETE" or r.method == "HEAD")
  if r.body == "array" then args[#args + 1] = r.fields and "list?" or "list"
  elseif r.body == "required" then args[#args + 1] = r.fields and "body?" or "body"
  elseif r.body == "object" or (write and r.fields) then args[#args + 1] = "body?"
  else args[#args + 1] = "query?" end
  return table.concat(args, ", ")
end

-- Endpoints reached through client methods rather than a resource.
_M.client_calls = {
  { method = "POST", path = "/auth/signin", call = "client:signin() (also lazily on the first call)" },
  { method = "POST", path = "/auth/signinAnonymously", call = "tiledesk.signin_anonymously{...}" },
  { method = "POST", path = "/auth/signinWithCustomToken", call = "client:signin_with_custom_token(jwt)" },
}

-- Endpoints of the reference (docs/reference-endpoints.txt) the SDK does not wrap, and why.
-- (client:request{} reaches any of them all the same.)
_M.left_out = {
  { method = "POST", path = "/auth/signup", why = "account creation is a dashboard flow (reCAPTCHA)" },
  { method = "PUT", path = "/auth/requestresetpsw", why = "password-reset email flow for people, not scripts" },
  { method = "PUT", path = "/auth/resetpsw/{}", why = "password-reset flow for people" },
  { method = "GET", path = "/auth/checkpswresetkey/{}", why = "password-reset flow for people" },
  { method = "PUT", path = "/auth/verifyemail/{}/{}", why = "email-verification link for people" },
  { method = "GET", path = "/auth/pendinginvitationsnoauth/{}", why = "invitation landing page for people" },
  { method = "GET", path = "/auth/google", why = "browser OAuth flow" },
  { method = "GET", path = "/auth/oauth2", why = "browser OAuth flow" },
  { method = "GET", path = "/{pid}/authtestWithRoleCheck", why = "server self-test; users:check_auth() covers it" },
  { method = "DELETE", path = "/users/physical", why = "irreversible account erasure: call client:request{} knowingly" },
  { method = "POST", path = "/users/loginemail", why = "dashboard helper" },
  { method = "GET", path = "/projects/all", why = "server super-admin only" },
  { method = "DELETE", path = "/projects/{}/physical", why = "irreversible: call client:request{} knowingly" },
  { method = "PATCH", path = "/projects/{}", why = "same handler as PUT; projects:update() uses PUT" },
  { method = "POST", path = "/{pid}/pendinginvitations", why = "team:invite() creates invitations (and members) the supported way" },
  { method = "GET", path = "/auth/google/callback", why = "browser OAuth flow" },
  { method = "GET", path = "/auth/oauth2/callback", why = "browser OAuth flow" },
  { method = "GET", path = "/{pid}/authtestWithRoleCheck/bot", why = "server self-test for bot tokens" },
  { method = "POST", path = "/{pid}/leads/{}/properties", why = "same handler as PATCH; leads:merge_properties() uses PATCH" },
  { method = "GET", path = "/public/requests/{}/messages.html|.csv|.txt|.pdf",
    why = "rendered transcripts for people; requests:public_messages() gives the data, messages:csv() the CSV" },
  { method = "GET", path = "/public/requests/{}/messages-user.*", why = "rendered transcripts for people" },
  { method = "POST", path = "/{pid}/emails/internal/test/*", why = "SMTP settings test from the dashboard" },
  { method = "GET", path = "/{pid}/emails/templates/{}", why = "email template editor of the dashboard" },
  { method = "POST", path = "/{pid}/requests/simple", why = "the server never answers it" },
  { method = "PUT", path = "/{pid}/requests/{}/assignee", why = "the server never answers it" },
  { method = "GET", path = "/{pid}/requests/{}/history", why = "enterprise build only" },
  { method = "POST", path = "/{pid}/faq_kb/aitrain", why = "AI training, enterprise/LLM setups" },
  { method = "GET", path = "/{pid}/faqpub", why = "deprecated by the server" },
  { method = "PUT", path = "/{pid}/webhooks/update/{}", why = "same as webhooks:update() by chatbot id" },
  { method = "DELETE", path = "/{pid}/webhooks/delete/{}", why = "same as webhooks:delete() by chatbot id" },
  { method = "ANY", path = "/{pid}/logs", why = "the server only writes the body to its own log and answers { success = true }" },
  { method = "ANY", path = "/{pid}/logs/whatsapp/*", why = "WhatsApp broadcast delivery logs, written and read by the WhatsApp connector" },
  { method = "POST", path = "/{pid}/logs/flows/{}", why = "no such route on the server (GET only: logs:flow(), logs:each_flow(), logs:tail())" },
  { method = "ANY", path = "/flows/auth/{}",
    why = "a RabbitMQ token for the dashboard's live log stream (AMQP, not REST); logs:tail() follows a flow log over REST" },
  { method = "DELETE", path = "/{pid}/kb/deleteall",
    why = "empties a namespace like namespaces:delete(id, { contents_only = true }), which takes the id in the path" },
  { method = "DELETE", path = "/{pid}/kb/delete", why = "the server's handler reads an undefined variable and always fails" },
  { method = "ANY", path = "/{pid}/mcp", why = "AI/integration config: dashboard" },
  { method = "ANY", path = "/{pid}/llm", why = "AI/integration config: dashboard" },
  { method = "ANY", path = "/{pid}/kbsettings", why = "legacy KB settings" },
  { method = "ANY", path = "/{pid}/integration", why = "AI/integration config: dashboard" },
  { method = "POST", path = "/{pid}/jwt/decode", why = "debug helper" },
  { method = "POST", path = "/{pid}/jwt/generatetestjwt", why = "debug helper, unsafe to expose" },
  { method = "POST", path = "/{pid}/files/users/photo", why = "profile photos and bot avatars are set in the dashboard" },
  { method = "DELETE", path = "/{pid}/files/download",
    why = "no such route on the server (the reference's row pairs GET and DELETE); files:delete() uses DELETE /files" },
  { method = "GET", path = "/files, /images, /images/thumbnails",
    why = "public file serving for the widget: files:url(filename) gives an attachment's address" },
  { method = "ANY", path = "/jwt/history/*", why = "enterprise build only" },
  { method = "WS", path = "wss://…/ws/?token=", why = "the realtime WebSocket API is not REST (§2.19): a later issue" },
}

return _M
