-- Plan quota usage.
local M = {}
M.routes = {
  { "usage", "POST", "/quotes", body = "object",
    doc = "Quota usage of the plan's slot holding `date` (default now; the server reads it with new Date(), the SDK "
      .. "sends ISO 8601 UTC: give any date form of the filters)",
    example = 'local usage = assert(client.quotes:usage()); print(usage.quotes.requests.quote)' },
  { "check", "GET", "/quotes/{}", params = { "type" }, doc = "Whether a quota type is still available",
    example = 'local ok = assert(client.quotes:check("requests")).isAvailable' },
  { "increment", "POST", "/quotes/incr/{}", params = { "type" }, body = "required",
    doc = "Count AI token usage ({tokens=, model=})",
    example = 'client.quotes:increment("tokens", { tokens = 1200, model = "gpt-4o-mini" })' },
}
M.methods = {}
-- usage(body?): body.date in any form the date filters take goes as ISO 8601 UTC (the server's
-- new Date() would read a Lua epoch number as milliseconds, and DD/MM/YYYY as MM/DD).
function M.methods:usage(body)
  local op = "quotes:usage()"
  if body ~= nil and type(body) ~= "table" then
    error(op .. ": bad argument #1 'body' (table expected, got " .. type(body) .. ")", 2)
  end
  local out = {}
  for k, v in pairs(body or {}) do out[k] = v end
  if out.date ~= nil then
    local t = require("tiledesk.filters").instant(op, "date", out.date, self.client.timezone, 2)
    out.date = require("tiledesk.time").format(t)
  end
  return self:_call("usage", out)
end
M.docs = {
  usage = {
    syntax = "usage, msg, err = client.quotes:usage{ date? }",
    doc = M.routes[1].doc,
    example = M.routes[1].example },
}
return M
