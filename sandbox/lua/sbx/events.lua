-- Resthook and bot-webhook delivery (docs/server-api.md §6), from timers so the caller's
-- answer never waits for a target.
--
-- Deliveries go through a bounded queue served by at most WORKERS timers (nginx drops a timer
-- outright when lua_max_running_timers are busy, so one timer per delivery loses webhooks in a
-- burst). A retry waits in its own pending timer, not in a worker, so slow or dead targets do
-- not hold up the others.
local json = require("sbx.json")
local store = require("sbx.store")
local util = require("sbx.util")
local jwt = require("sbx.jwt")
local deliver = require("sbx.deliver")

local _M = { RETRIES = 2, RETRY_DELAY = 0.1, delivered = 0, SUBSCRIPTION_LOGS_MAX = 1000,
  WORKERS = 64, QUEUE_MAX = 10000 }

local queue = { first = 1, last = 0 }
local workers = 0

local function finish(job, res, err)
  _M.delivered = _M.delivered + 1
  local e = job.log_entry
  if e then
    e.attempts = job.attempt
    e.response = res and { status = res.status, body = res.body } or nil
    e.err = err
    e.updatedAt = store.now()
  end
  if not res or deliver.retryable(res) then
    ngx.log(ngx.WARN, "sandbox: webhook to ", job.target, " failed after ", job.attempt, " attempts: ",
      res and ("HTTP " .. res.status) or tostring(err))
  end
end

local push

-- One attempt; the server's retry rule (deliver.retryable) decides about another.
local function attempt(job)
  job.attempt = job.attempt + 1
  local res, err = deliver.post(job.target, job.body, job.headers)
  if deliver.retryable(res) and job.attempt <= _M.RETRIES then
    local ok = store.timer_at(_M.RETRY_DELAY * 2 ^ (job.attempt - 1), function(premature)
      if not premature then push(job) end
    end)
    if ok then return end
  end
  finish(job, res, err)
end

local function worker(premature)
  if not premature then
    for _ = 1, _M.QUEUE_MAX * (_M.RETRIES + 1) do
      if queue.first > queue.last then break end
      local job = queue[queue.first]
      queue[queue.first] = nil
      queue.first = queue.first + 1
      local ok, err = pcall(attempt, job)
      if not ok then ngx.log(ngx.ERR, "sandbox: webhook delivery error: ", err) end
    end
  end
  workers = workers - 1
end

function push(job)
  if queue.last - queue.first + 1 >= _M.QUEUE_MAX then
    ngx.log(ngx.ERR, "sandbox: webhook queue full, dropping a delivery to ", job.target)
    finish(job, nil, "sandbox webhook queue full")
    return false
  end
  queue.last = queue.last + 1
  queue[queue.last] = job
  if workers < _M.WORKERS then
    workers = workers + 1
    local ok, err = store.timer_at(0, worker)
    if not ok then
      workers = workers - 1
      ngx.log(ngx.ERR, "sandbox: cannot start a webhook worker: ", err)
    end
  end
  return true
end

local function schedule(target, body, headers, log_entry)
  return push{ target = target, body = body, headers = headers, log_entry = log_entry, attempt = 0 }
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

---------------------------------------------------------------------------------------------
-- The conversation-started trigger (§6.2): a conversation routed to a bot department without
-- a message (POST /requests, PUT /requests/{rid}/departments) gets a hidden "\start" message
-- from "system", which reaches the bot's webhook like any message. The trigger runs from a
-- timer, so a message added by the same call (POST /requests/{rid}/messages creates the
-- conversation, then adds its first message) cancels it: the bot gets that message instead.

local function bot_of_route(rv)
  local d = type(rv) == "table" and rv.department
  local id = type(d) == "table" and d.id_bot
  if not id or not util.contains(rv.participants, "bot_" .. id) then return nil end
  return id
end

local function start_job(premature, pid, rid, bot_id, token)
  if premature or token.cancelled then return end
  local conv = require("sbx.conv")
  local r = conv.find(pid, rid)
  if not r or r.status == 1000 then return end
  if not util.contains(r.participants, "bot_" .. bot_id) then return end
  conv.add_message(pid, r, { sender = "system", senderFullname = "System", text = "\\start",
    attributes = { subtype = "info" } })
end

-- A conversation was routed (created, or sent to another department): if a bot with a webhook
-- now takes part, it gets the hidden "\start". conv.lua calls this when it creates a
-- conversation, the handlers that reroute one when they do.
function _M.conversation_routed(pid, rv)
  local bot_id = bot_of_route(rv)
  local bot = bot_id and store.coll("faq_kb"):get(bot_id)
  if not bot or bot.type == "internal" or type(bot.url) ~= "string" or bot.url == "" then return end
  local token = { cancelled = false }
  local ctx = ngx.get_phase() ~= "timer" and ngx.ctx or {}
  ctx.sbx_starts = ctx.sbx_starts or {}
  ctx.sbx_starts[rv.request_id] = token
  local ok, err = store.timer_at(0, start_job, pid, rv.request_id, bot_id, token)
  if not ok then ngx.log(ngx.ERR, "sandbox: cannot schedule the \\start trigger: ", err) end
end

-- A message to the conversation in the same call: no \start.
local function cancel_start(rid)
  if ngx.get_phase() == "timer" then return end
  local starts = ngx.ctx.sbx_starts
  local token = starts and starts[rid]
  if token then token.cancelled = true end
end

---------------------------------------------------------------------------------------------

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
    local logs = store.coll("subscription_logs")
    local entry = logs:insert{ event = event, target = s.target, id_project = s.id_project,
      body = logged, jsonRequest = logged }
    -- the history is bounded: the oldest entries go first
    for _ = 1, 100 do
      if logs:count() <= _M.SUBSCRIPTION_LOGS_MAX then break end
      logs:remove(logs:all()[1]._id)
    end
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
  if request_view then cancel_start(request_view.request_id) end
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
