-- Plan quota usage.
local M = {}
M.routes = {
  { "usage", "POST", "/quotes", body = "object", doc = "Current quota usage ({date=} optional)",
    example = 'local usage = assert(client.quotes:usage()); print(usage.quotes.requests.quote)' },
  { "check", "GET", "/quotes/{}", params = { "type" }, doc = "Whether a quota type is still available",
    example = 'local ok = assert(client.quotes:check("requests")).isAvailable' },
  { "increment", "POST", "/quotes/incr/{}", params = { "type" }, body = "required",
    doc = "Count AI token usage ({tokens=, model=})",
    example = 'client.quotes:increment("tokens", { tokens = 1200, model = "gpt-4o-mini" })' },
}
return M
