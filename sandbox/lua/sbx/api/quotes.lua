-- /:pid/quotes: plan quotas and usage.
local store = require("sbx.store")
local util = require("sbx.util")

local agent = { role = "agent", types = { "bot", "subscription" } }

local api = {}

-- quotas
local usage = store.coll("quote_usage")
local function tokens_used(pid)
  local u = usage:find_one(function(x) return x.id_project == pid end)
  return u and u.tokens or 0
end
-- Simplified: the server reads its plan quotas per monthly slot from Redis; the sandbox counts
-- the project's conversations and the tokens of /quotes/incr, and no other usage.
-- The slot is QuoteManager.getCurrentSlot's (sbx.plan): moments, which JSON writes as ISO text.
function api.usage(ctx)
  local n = #store.coll("requests"):find(function(x) return x.id_project == ctx.pid end)
  local start, stop = require("sbx.plan").current_slot(store.coll("projects"):get(ctx.pid) or {}, store.now_ms())
  if not start then return 500, { success = false, msg = "Error getting the current slot" } end
  return 200, { success = true, quotes = { requests = { quote = n }, messages = { quote = 0 }, email = { quote = 0 },
    tokens = { quote = tokens_used(ctx.pid) } },
    slot = { startDate = store.iso(start), endDate = store.iso(stop) } }
end

-- the server counts AI tokens here whatever the type in the path (QuoteManager.incrementTokenCount)
function api.increment(ctx)
  local b = ctx.body or {}
  local n = tonumber(b.tokens)
  if not n or n < 0 then return 422, { errors = util.arr{ util.invalid("tokens", b.tokens) } } end
  local u = usage:find_one(function(x) return x.id_project == ctx.pid end)
    or usage:insert{ id_project = ctx.pid, tokens = 0 }
  u.tokens = u.tokens + math.floor(n)
  local key = "quotes:tokens:" .. ctx.pid .. ":" .. store.iso():sub(1, 7)
  return 200, { message = "value incremented for key " .. key, key = key, currentQuote = u.tokens }
end

-- Simplified: the sandbox has no plan limits, so every known quota is always available.
function api.is_available(ctx)
  local known = { requests = true, messages = true, email = true, tokens = true, voice_duration = true }
  if not known[ctx.params.type] then return 400, { success = false, error = "Unknown quota type" } end
  return 200, { isAvailable = true }
end

api.routes = {
  { "POST", "/:pid/quotes", "usage", agent },
  { "POST", "/:pid/quotes/incr/:type", "increment", agent },
  { "GET", "/:pid/quotes/:type", "is_available", agent },
}

return api
