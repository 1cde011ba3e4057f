-- Resthook and bot-webhook delivery (shared/tiledesk-api.md §6), from timers so the caller's
-- answer never waits for a target.
local json = require("sbx.json")
local store = require("sbx.store")
local jwt = require("sbx.jwt")
local deliver = require("sbx.deliver")

local _M = { RETRIES = 2, RETRY_DELAY = 0.1, delivered = 0 }

-- In a timer: POST with the server's retry rule, then note the outcome in the log entry.
local function deliver_job(premature, target, body, headers, log_entry)
  if premature then return end
  local res, err, attempts = deliver.post_with_retries(target, body, headers, _M.RETRIES, _M.RETRY_DELAY)
  _M.delivered = _M.delivered + 1
  if log_entry then
    log_entry.attempts = attempts
    log_entry.response = res and { status = res.status, body = res.body } or nil
    log_entry.err = err
    log_entry.updatedAt = store.now()
  end
  if not res or deliver.retryable(res) then
    ngx.log(ngx.WARN, "sandbox: webhook to ", target, " failed after ", attempts, " attempts: ",
      res and ("HTTP " .. res.status) or tostring(err))
  end
end

local function schedule(target, body, headers, log_entry)
  local ok, err = ngx.timer.at(0, deliver_job, target, body, headers, log_entry)
  if not ok then ngx.log(ngx.ERR, "sandbox: cannot schedule a webhook: ", err) end
  return ok
end

-- The server populates request.department.bot in message payloads; the store's department
-- is shared, so the payload gets a copy.
local function with_department_bot(request)
  local d = type(request) == "table" and request.department
  if type(d) ~= "table" or not d.id_bot or d.bot then return request end
  local bot = store.coll("faq_kb"):get(d.id_bot)
  if not bot then return request end
  local req, dept = {}, {}
  for k, v in pairs(request) do req[k] = v end
  for k, v in pairs(d) do dept[k] = v end
  dept.bot = require("sbx.view").bot(bot)
  req.department = dept
  return req
end

-- Resthooks: every subscription of the project to exactly this event.
function _M.emit(pid, event, payload)
  if event:sub(1, 14) == "message.create" and type(payload) == "table" and payload.request then
    local copy = {}
    for k, v in pairs(payload) do copy[k] = v end
    copy.request = with_department_bot(payload.request)
    payload = copy
  end
  -- project events go to the project's subscriptions (and global ones); project-less events
  -- (user.signup) only to global subscriptions, never to every project's
  local subs = store.coll("subscriptions"):find(function(s)
    return s.event == event and (s.global == true or (pid ~= nil and s.id_project == pid))
  end)
  for _, s in ipairs(subs) do
    local hook = { _id = s._id, event = s.event, target = s.target, id_project = s.id_project,
      createdBy = s.createdBy, createdAt = s.createdAt, updatedAt = s.updatedAt }
    local token = jwt.sign({ _id = s._id, event = s.event, target = s.target, id_project = s.id_project,
      sub = "subscription", aud = "https://tiledesk.com/subscriptions/" .. s._id, iss = "https://tiledesk.com",
      iat = ngx.time(), jti = store.uuid() }, s.secret)
    local ts = store.now_ms()
    local body = json.encode({ timestamp = ts, payload = payload, hook = hook, token = token })
    -- the history keeps the request without its token: that token acts as the subscription
    local logged = json.encode({ timestamp = ts, payload = payload, hook = hook, token = "[redacted]" })
    local entry = store.coll("subscription_logs"):insert{ event = event, target = s.target, id_project = s.id_project,
      body = logged, jsonRequest = logged }
    schedule(s.target, body, { ["Content-Type"] = "application/json", ["x-hook-secret"] = s.secret,
      ["User-Agent"] = "tiledesk-webhooks", Origin = "http://127.0.0.1" }, entry)
  end
end

-- The bot's own token: sub=bot, signed with the bot secret, no exp.
function _M.bot_token(bot)
  return jwt.sign({ _id = bot._id, name = bot.name, id_project = bot.id_project, type = bot.type,
    sub = "bot", aud = "https://tiledesk.com/bots/" .. bot._id, iss = "https://tiledesk.com",
    iat = ngx.time(), jti = store.uuid() }, bot.secret)
end

-- Bot webhooks for a new message (rules of §6.2).
function _M.message_created(pid, msg, request_view)
  local text = type(msg.text) == "string" and msg.text or ""
  if text:find("\\agent", 1, true) or text:find("\\close", 1, true) then return end
  if msg.sender == "system" and text ~= "\\start" and text ~= "/start" then return end
  local ids = {}
  if type(msg.recipient) == "string" and msg.recipient:match("^bot_") then ids[#ids + 1] = msg.recipient:sub(5) end
  for _, p in ipairs(request_view and request_view.participants or {}) do
    if type(p) == "string" and p:match("^bot_") then ids[#ids + 1] = p:sub(5) end
  end
  local seen = {}
  for _, id in ipairs(ids) do
    local bot = store.coll("faq_kb"):get(id)
    if bot and not seen[id] and bot.id_project == pid and bot.type ~= "internal" and type(bot.url) == "string"
      and bot.url ~= "" and msg.sender ~= "bot_" .. id and msg.sender ~= id then
      seen[id] = true
      local payload = {}
      for k, v in pairs(msg) do payload[k] = v end
      local req = {}
      for k, v in pairs(request_view or {}) do req[k] = v end
      req.snapshot = nil
      payload.request = with_department_bot(req)
      local hook = require("sbx.view").bot(bot)
      local body = json.encode({ timestamp = store.now_ms(), payload = payload, hook = hook, token = _M.bot_token(bot) })
      schedule(bot.url, body, { ["Content-Type"] = "application/json", ["User-Agent"] = "tiledesk-bot",
        Origin = "http://127.0.0.1" })
    end
  end
end

return _M
