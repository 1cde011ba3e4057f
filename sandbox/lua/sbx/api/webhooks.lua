-- /:pid/webhooks (chatbot webhooks) and the public /webhook/:wid trigger.
local store = require("sbx.store")
local util = require("sbx.util")
local owned = require("sbx.crud").owned

local api = {}

-- chatbot webhooks (automation triggers)
local hooks = store.coll("webhooks")
-- /:pid/webhooks/:id names the chatbot by its id, a plain string field there: no ObjectId cast
local hook_admin = { role = "admin", oid = false }
local function hook_of(ctx)
  return hooks:find_one(function(h) return h.id_project == ctx.pid and h.chatbot_id == ctx.params.id end)
end
function api.list(ctx)
  return 200, hooks:find(function(h) return h.id_project == ctx.pid end)
end

function api.get_by_webhook_id(ctx)
  local h = hooks:find_one(function(x) return x.id_project == ctx.pid and x.webhook_id == ctx.params.wid end)
  if not h then return 404, { success = false, error = "Webhook not found with id " .. ctx.params.wid } end
  return 200, h
end

-- routes/webhooks.js: the chatbot's webhook, else 404 "Webhook not found for chatbot <id>"
local function by_chatbot(fn)
  return function(ctx)
    local h = hook_of(ctx)
    if not h then return 404, { success = false, error = "Webhook not found for chatbot " .. ctx.params.id } end
    return fn(ctx, h)
  end
end

api.get = by_chatbot(function(_, h)
  return 200, h
end)

-- models/webhook.js: chatbot_id and block_id are required (a save error: the route answers 500 with
-- the error, which Mongoose's ValidationError shows as below); the chatbot is not looked up (only
-- its name, when it exists); (id_project, chatbot_id) is unique: 403 "Webhook already exists".
function api.create(ctx)
  local b = ctx.body or {}
  local bot_id = b.chatbot_id or b.id_faq_kb
  local missing, errs = {}, {}
  for _, k in ipairs({ "chatbot_id", "block_id" }) do
    local v = k == "chatbot_id" and bot_id or b[k]
    if v == nil or v == util.null or v == "" then
      missing[#missing + 1] = k .. ": Path `" .. k .. "` is required."
      errs[k] = { name = "ValidatorError", message = "Path `" .. k .. "` is required.", kind = "required", path = k,
        properties = { message = "Path `" .. k .. "` is required.", type = "required", path = k } }
    end
  end
  if #missing > 0 then
    return 500, { success = false, error = { errors = errs, _message = "Webhook validation failed", name = "ValidationError",
      message = "Webhook validation failed: " .. table.concat(missing, ", ") } }
  end
  bot_id = tostring(bot_id)
  if hooks:find_one(function(h) return h.id_project == ctx.pid and h.chatbot_id == bot_id end) then
    return 403, { success = false, message = "Webhook already exists for chatbot " .. bot_id }
  end
  local bot = owned("faq_kb", ctx, bot_id)
  return 200, hooks:insert{ id_project = ctx.pid, chatbot_id = bot_id, block_id = b.block_id, async = b.async ~= false,
    copilot = b.copilot == true, enabled = true, webhook_id = store.uuid(true), createdBy = ctx.principal.id,
    name = bot and (bot.name .. "-webhook") or nil }
end

api.update = by_chatbot(function(ctx, h)
  local b = ctx.body or {}
  for _, k in ipairs({ "async", "copilot", "enabled" }) do if b[k] ~= nil then h[k] = b[k] end end
  hooks:touch(h)
  return 200, h
end)

api.regenerate = by_chatbot(function(_, h)
  h.webhook_id = store.uuid(true)
  hooks:touch(h)
  return 200, h
end)

-- deleteOne: the same answer whether or not there was one
function api.delete(ctx)
  local h = hook_of(ctx)
  if h then hooks:remove(h._id) end
  return 200, { success = true, message = "Webhook for chatbot " .. ctx.params.id .. " deleted successfully" }
end

-- the per-project token buckets live in the store, so /__sandbox/reset refills them
local buckets = store.coll("webhook_buckets")
-- Simplified: the server runs the chatbot flow from block_id and answers with the block's
-- output; the sandbox runs no flow and echoes what it got (payload and query), after the same
-- 404 / 422 / 429 checks.
function api.trigger(ctx)
  local h = hooks:find_one(function(x) return x.webhook_id == ctx.params.wid end)
  if not h then return 404, { success = false, error = "Webhook not found with id " .. ctx.params.wid } end
  if not h.enabled then return 422, { success = false, error = "Webhook " .. ctx.params.wid .. " is currently turned off" } end
  -- token bucket per project: 10 burst, 10/min
  local now = ngx.now()
  local bkt = buckets:find_one(function(b) return b.id_project == h.id_project end)
    or buckets:insert{ id_project = h.id_project, tokens = 10, at = now }
  bkt.tokens = math.min(10, bkt.tokens + (now - bkt.at) * 10 / 60)
  bkt.at = now
  if bkt.tokens < 1 then return 429, { message = "Rate limit exceeded" } end
  bkt.tokens = bkt.tokens - 1
  return 200, { success = true, chatbot_id = h.chatbot_id, block_id = h.block_id, payload = ctx.body or {},
    webhook_query_params = ctx.query }
end

api.routes = {
  { "GET", "/:pid/webhooks", "list", hook_admin },
  { "GET", "/:pid/webhooks/id/:wid", "get_by_webhook_id", hook_admin },
  { "GET", "/:pid/webhooks/:id", "get", hook_admin },
  { "POST", "/:pid/webhooks", "create", hook_admin },
  { "PUT", "/:pid/webhooks/:id", "update", hook_admin },
  { "PUT", "/:pid/webhooks/:id/regenerate", "regenerate", hook_admin },
  { "DELETE", "/:pid/webhooks/:id", "delete", hook_admin },
  { "ANY", "/webhook/:wid", "trigger", { auth = false } },
}

return api
