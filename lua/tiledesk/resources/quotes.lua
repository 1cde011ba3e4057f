-- Plan quota usage.
local M = {}
M.routes = {
  { "usage", "POST", "/quotes", body = "object", doc = "Current quota usage ({date=} optional)" },
  { "check", "GET", "/quotes/{}", params = { "type" }, doc = "Whether a quota type is still available" },
  { "increment", "POST", "/quotes/incr/{}", params = { "type" }, body = "required",
    doc = "Count AI token usage ({tokens=, model=})" },
}
return M
