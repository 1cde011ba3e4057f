-- Custom channels (SMS, WhatsApp, Telegram, ...) on Tiledesk: each end user of the channel signs
-- in with a custom-authentication token, talks in one open conversation of the channel, and
-- agents' replies come back through a message.create resthook.
--   local connector = require "tiledesk.connector"
--   local conn = connector.new{ base_url = URL, project_id = PID, secret = PROJECT_JWT_SECRET,
--     channel = "sms" }
--   local sent, msg, err = conn:forward({ id = "+393331234567", firstname = "Ada" }, "Hello!")
--   -- in the resthook receiver, after webhook.parse:
--   local out = conn:to_channel(event)   -- nil for what the channel must not get
--   if out then sms.send(out.user_id, out.text, out.buttons) end
local jwt = require("tiledesk.jwt")
local util = require("tiledesk.util")
local message = require("tiledesk.message")

local _M = {}

local Connector = {}
Connector.__index = Connector
Connector.__name = "tiledesk.Connector"

local NEW_OPTS = { base_url = true, project_id = true, secret = true, channel = true, department_id = true,
  client = true, transport = true, token_ttl = true }

-- opts: base_url, project_id, secret (the project's custom-auth secret, POST /{pid}/keys/generate),
-- channel (a name such as "sms"; it prefixes the user ids and names the conversations' channel),
-- department_id (where new conversations go), client (more tiledesk.new options), transport (a
-- function returning a new transport, for nginx), token_ttl (seconds, default 3600: exp of the
-- custom tokens).
function _M.new(opts)
  local what = "tiledesk.connector.new()"
  if type(opts) ~= "table" then error(what .. ": options must be a table", 2) end
  for k in pairs(opts) do
    if not NEW_OPTS[k] then error(what .. ": unknown option " .. tostring(k), 2) end
  end
  for _, k in ipairs({ "project_id", "secret", "channel" }) do
    if type(opts[k]) ~= "string" or opts[k] == "" then error(what .. ": option " .. k .. " must be a non-empty string", 2) end
  end
  if not opts.channel:match("^[%w_%-]+$") then error(what .. ": option channel must be letters, digits, - or _", 2) end
  if opts.transport ~= nil and type(opts.transport) ~= "function" then
    error(what .. ": option transport must be a function returning a new transport", 2)
  end
  local secret = opts.secret
  local self = setmetatable({ base_url = opts.base_url, project_id = opts.project_id, channel = opts.channel,
    department_id = opts.department_id, _client = opts.client or {}, _transport = opts.transport,
    _ttl = opts.token_ttl or 3600 }, Connector)
  -- the secret stays in this closure
  function self._token(user) return jwt.custom_token(self.project_id, secret, user) end
  return self
end

function Connector:__tostring() return "tiledesk.Connector (" .. self.channel .. ")" end

local function check_user(what, user)
  if type(user) ~= "table" or (type(user.id) ~= "string" and type(user.id) ~= "number") or user.id == "" then
    error(what .. ": user must be a table with an id (the channel's id of the person)", 3)
  end
end

-- The Tiledesk id of a channel user: "<channel>-<id>".
function Connector:user_id(id) return self.channel .. "-" .. tostring(id) end

-- Signs the user in (POST /auth/signinWithCustomToken): a client acting as that user, and the
-- user the server returned; or nil, msg, err.
function Connector:signin(user)
  check_user("connector:signin()", user)
  local o = {}
  for k, v in pairs(self._client) do o[k] = v end
  o.base_url, o.project_id = self.base_url or o.base_url, self.project_id
  if self._transport then o.transport = self._transport() end
  local c = require("tiledesk").new(o)
  local token = self._token{ _id = self:user_id(user.id), firstname = user.firstname, lastname = user.lastname,
    email = user.email, attributes = user.attributes, expires_in = self._ttl }
  local u, msg, err = c:signin_with_custom_token(token)
  if not u then
    c:close()
    return nil, msg, err
  end
  return c, u
end

-- The request id of the user's open conversation on this channel (GET /requests/me?channel=),
-- or a new id when there is none; second value: true when it is new.
function Connector:conversation(user_client)
  local page, msg, err = user_client.requests:me{ channel = self.channel, limit = 1 }
  if not page then return nil, msg, err end
  local first = type(page.requests) == "table" and page.requests[1]
  if first and first.request_id and first.status ~= 1000 then return first.request_id, false end
  return util.request_id(self.project_id), true
end

-- Sends a message from the channel user into their conversation (started when there is none):
-- text, or a message table (tiledesk.message). Returns the created message (its .request is the
-- conversation), or nil, msg, err.
function Connector:forward(user, m)
  check_user("connector:forward()", user)
  if type(m) == "string" then
    m = { text = m, type = "text" }
  elseif type(m) == "table" then
    m = message.from(m)
  else
    error("connector:forward(): message must be a string or a message table", 2)
  end
  local c, u, err = self:signin(user)
  if not c then return nil, u, err end
  local rid, is_new, cerr = self:conversation(c)
  if not rid then
    c:close()
    return nil, is_new, cerr
  end
  m.channel = { name = self.channel }
  if m.senderFullname == nil then
    local full = table.concat({ user.firstname or "", user.lastname or "" }, " "):gsub("^%s+", ""):gsub("%s+$", "")
    if full ~= "" then m.senderFullname = full end
  end
  if is_new and self.department_id and m.departmentid == nil then m.departmentid = self.department_id end
  local sent, msg, serr = c.messages:send(rid, m)
  c:close()
  return sent, msg, serr
end

-- What an agent's or bot's message (a message.create resthook event, or its payload) becomes on the
-- channel: { user_id = <the channel's id>, request_id, text, buttons = { {label, kind, value} },
-- message }. nil for messages the channel must not get: other channels' conversations, the user's
-- own messages (they came from the channel), hidden info messages.
function Connector:to_channel(event)
  if type(event) ~= "table" then error("connector:to_channel(): event must be a table", 2) end
  local m = type(event.payload) == "table" and event.payload or event
  local req = type(m.request) == "table" and m.request or {}
  local name = type(req.channel) == "table" and req.channel.name or nil
  if name ~= self.channel then return nil end
  local lead = type(req.lead) == "table" and req.lead or {}
  local requester = type(req.requester) == "table" and req.requester or {}
  local tid = lead.lead_id or requester.uuid_user
  local prefix = self.channel .. "-"
  if type(tid) ~= "string" or tid:sub(1, #prefix) ~= prefix then return nil end
  if m.sender == tid then return nil end
  local attrs = type(m.attributes) == "table" and m.attributes or {}
  if attrs.subtype == "info" or attrs.subtype == "info/support" then return nil end
  local text, buttons = message.to_plain(m)
  return { user_id = tid:sub(#prefix + 1), request_id = req.request_id or m.recipient, text = text, buttons = buttons,
    message = m }
end

return _M
