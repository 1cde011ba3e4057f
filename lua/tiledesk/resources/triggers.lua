-- Triggers: the project's automation rules, "when <event> and <conditions>, do <actions>"
-- (pubmodules/trigger/triggerRoute.js; admin). The server also keeps built-in ones (code
-- s_..._01), which reset() puts back as shipped.
local M = {}
M.routes = {
  { "list", "GET", "/modules/triggers", page = { all = true }, role = "admin", filters = {}, doc = "Triggers of the project" },
  { "get", "GET", "/modules/triggers/{}", params = { "trigger_id" }, role = "admin", filters = {}, doc = "One trigger" },
  { "create", "POST", "/modules/triggers", body = "required", role = "admin",
    doc = "Create, enabled: name, description, trigger = { key, name }, conditions = { all|any = {...} }, actions = {...}",
    example = 'local trig = assert(client.triggers:create{ name = "Tag VIP", trigger = { key = "request.create", '
      .. 'name = "Request create event" }, conditions = { all = { { key = "request.first_text", fact = "json", '
      .. 'path = "first_text", operator = "equal", value = "vip" } } }, actions = { { key = "message.send", '
      .. 'parameters = { text = "Welcome back!" } } } })' },
  { "update", "PUT", "/modules/triggers/{}", params = { "trigger_id" }, body = "required", role = "admin",
    doc = "Replace name, description, trigger, conditions, actions and enabled (one left out becomes null: "
      .. "send the whole trigger)",
    example = 'trig.enabled = false; client.triggers:update(trig._id, trig)' },
  { "delete", "DELETE", "/modules/triggers/{}", params = { "trigger_id" }, role = "admin",
    doc = "Delete; returns the deleted trigger (null when there was none)" },
  { "reset", "PUT", "/modules/triggers/{}/reset", params = { "code" }, role = "admin",
    doc = "Put a built-in trigger back as shipped, by its code (s_online_welcome_01, s_offline_welcome_01, ...)",
    example = 'local t = assert(client.triggers:reset("s_online_welcome_01"))' },
}
return M
