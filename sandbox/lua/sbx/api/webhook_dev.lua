-- Webhook dev mode: POST/DELETE /:pid/webhooks/preload/:wid (routes/webhooks.js, admin) keep the
-- request id of a dev session for 15 minutes (the server keeps it in Redis), and ANY
-- /webhook/:wid/dev (routes/webhook.js, services/webhookService.js) runs the bot's draft flow
-- in that session. The server posts the run to the flow engine (tilebot) and answers with what
-- it answers; the sandbox runs no flow: it writes two lines to the session's flow log
-- (sbx.api.flow_logs, readable by request id or with type=webhook by webhook id) and answers
-- { success, request_id, draft, chatbot_id, block_id, payload }.
local store = require("sbx.store")
local util = require("sbx.util")
local json = require("sbx.json")
local flow_logs = require("sbx.api.flow_logs")

local sessions = store.coll("webhook_dev_sessions")
local hooks = store.coll("webhooks")

local TTL_MS = 900 * 1000

local api = {}

local function session(pid, wid)
  local now = store.now_ms()
  return sessions:find_one(function(s) return s.id_project == pid and s.webhook_id == wid and s.expires > now end)
end

function api.preload(ctx)
  local wid = ctx.params.wid
  for _, s in ipairs(sessions:find(function(s) return s.id_project == ctx.pid and s.webhook_id == wid end)) do
    sessions:remove(s._id)
  end
  local rid = "automation-request-" .. ctx.pid .. "-" .. store.id() .. "-" .. wid
  sessions:insert{ id_project = ctx.pid, webhook_id = wid, request_id = rid, expires = store.now_ms() + TTL_MS }
  return 200, { success = true, message = "Webhook preloaded successfully", request_id = rid }
end

function api.stop(ctx)
  for _, s in ipairs(sessions:find(function(s) return s.id_project == ctx.pid and s.webhook_id == ctx.params.wid end)) do
    sessions:remove(s._id)
  end
  return 200, { success = true, message = "Development webhook stopped" }
end

function api.run_dev(ctx)
  local wid = ctx.params.wid
  local h = hooks:find_one(function(x) return x.webhook_id == wid end)
  if not h then return 404, { success = false, error = "Webhook not found with id " .. wid } end
  local bot = store.coll("faq_kb"):get(h.chatbot_id)
  -- the service rejects with a string: the route sends err.data, undefined
  if not bot then return 500, "", "text/html" end
  local s = session(h.id_project, wid)
  if not s then
    return 422, { success = false, message = "Development webhook is currently turned off", code = 13001 }
  end
  local payload = util.shallow(type(ctx.body) == "table" and ctx.body or {})
  payload.webhook_http_method = ctx.method
  local params = util.shallow(ctx.query)
  params.dev = nil
  payload.webhook_query_params = params
  payload.preloaded_request_id, payload.draft = s.request_id, true
  local where = { request_id = s.request_id, webhook_id = wid }
  flow_logs.append(h.id_project, where, "info", "Webhook " .. wid .. ": draft flow of chatbot " .. h.chatbot_id
    .. " started from block " .. tostring(h.block_id))
  flow_logs.append(h.id_project, where, "debug", "payload: " .. json.encode(payload))
  return 200, { success = true, request_id = s.request_id, draft = true, chatbot_id = h.chatbot_id,
    block_id = h.block_id, payload = payload }
end

api.routes = {
  { "POST", "/:pid/webhooks/preload/:wid", "preload", { role = "admin" } },
  { "DELETE", "/:pid/webhooks/preload/:wid", "stop", { role = "admin" } },
  { "ANY", "/webhook/:wid/dev", "run_dev", { auth = false } },
}

return api
