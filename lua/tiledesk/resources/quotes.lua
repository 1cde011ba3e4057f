-- Plan quota usage.
local M = {}
M.routes = {
  { "usage", "POST", "/quotes", body = "object", doc = "Current quota usage ({date=} optional)" },
  { "check", "GET", "/quotes/{}", params = { "type" }, doc = "Whether a quota type is still available" },
}
return M
