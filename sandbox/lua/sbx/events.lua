-- Resthook and bot-webhook delivery (shared/tiledesk-api.md §6), from timers so the caller's
-- answer never waits for a target.
local json = require("sbx.json")
local store = require("sbx.store")
local jwt = require("sbx.jwt")

local _M = {}

local function parse_url(u)
  local scheme, host, port, path = tostring(u):match("^(https?)://([^:/]+):?(%d*)(.*)$")
  if not scheme then return nil end
  if path == "" then path = "/" end
  return scheme, host, tonumber(port) or (scheme == "https" and 443 or 80), path
end

-- One POST with bounded timeouts; returns status or nil, err.
local function post(target, body, headers)
  local scheme, host, port, path = parse_url(target)
  if not scheme then return nil, "bad url" end
  local sock = ngx.socket.tcp()
  sock:settimeouts(2000, 5000, 5000)
  local ok, err = sock:connect(host, port)
  if not ok then return nil, err end
  if scheme == "https" then
    ok, err = sock:sslhandshake(nil, host, false)
    if not ok then sock:close() return nil, err end
  end
  local lines = { "POST " .. path .. " HTTP/1.1", "Host: " .. host .. ":" .. port, "Connection: close",
    "Content-Length: " .. #body }
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v end
  ok, err = sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body)
  if not ok then sock:close() return nil, err end
  local status_line
  status_line, err = sock:receive("*l")
  sock:close()
  if not status_line then return nil, err end
  return tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
end

local function deliver(premature, target, body, headers, log_entry)
  if premature then return end
  for attempt = 1, 3 do
    local status, err = post(target, body, headers)
    if log_entry then
      log_entry.response = status and tostring(status) or nil
      log_entry.err = err
      log_entry.attempts = attempt
    end
    if status and (status < 500 and status ~= 429) then return end
    ngx.sleep(0.05 * 2 ^ attempt)
  end
end

local function schedule(target, body, headers, log_entry)
  local ok, err = ngx.timer.at(0, deliver, target, body, headers, log_entry)
  if not ok then ngx.log(ngx.ERR, "sandbox: cannot schedule a webhook: ", err) end
end

-- Resthooks: every subscription of the project to exactly this event.
function _M.emit(pid, event, payload)
  local subs = store.coll("subscriptions"):find(function(s)
    return s.event == event and (pid == nil or s.id_project == pid)
  end)
  for _, s in ipairs(subs) do
    local hook = { _id = s._id, event = s.event, target = s.target, id_project = s.id_project,
      createdBy = s.createdBy, createdAt = s.createdAt, updatedAt = s.updatedAt }
    local token = jwt.sign({ _id = s._id, event = s.event, target = s.target, id_project = s.id_project,
      sub = "subscription", aud = "https://tiledesk.com/subscriptions/" .. s._id, iss = "https://tiledesk.com",
      iat = ngx.time(), jti = store.uuid() }, s.secret)
    local body = json.encode({ timestamp = store.now_ms(), payload = payload, hook = hook, token = token })
    local entry = store.coll("subscription_logs"):insert{ event = event, target = s.target, id_project = s.id_project,
      body = body, jsonRequest = body }
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
      payload.request = req
      local hook = require("sbx.view").bot(bot)
      local body = json.encode({ timestamp = store.now_ms(), payload = payload, hook = hook, token = _M.bot_token(bot) })
      schedule(bot.url, body, { ["Content-Type"] = "application/json", ["User-Agent"] = "tiledesk-bot",
        Origin = "http://127.0.0.1" })
    end
  end
end

return _M
