-- External bots: the bot-webhook envelope as a context that answers with the bot's own token.
--   local bot = require "tiledesk.bot"
--   local ctx, msg, err = bot.context(body, { base_url = "https://api.tiledesk.com/v3",
--     path_secret = SECRET, path_segment = last_segment_of_the_url })
--   if ctx and not ctx.skip then ctx:reply("You said: " .. ctx.text) end
--
-- The server POSTs { timestamp, payload = <the message, with its populated request>, hook = <the
-- bot>, token = <JWT sub=bot, aud=https://tiledesk.com/bots/<id>, signed with the bot's secret> }
-- to the bot's url for each message of a conversation the bot takes part in, and sends no secret
-- header. Two ways to know a delivery is real (README "Bots" says which to use when):
--   path_secret   the bot's url ends in a random segment only you and Tiledesk know; compared in
--                 constant time with opts.path_segment. No network, but anyone who sees the URL
--                 can post.
--   verify_token  the body's token is shown to the server (GET /{pid}/faq_kb/{bot_id}); only a
--                 token the server signed passes. One API call per new token (cached, opts.cache).
local webhook = require("tiledesk.webhook")
local jwt = require("tiledesk.jwt")
local crypto = require("tiledesk.crypto")
local message = require("tiledesk.message")

local _M = {}

local Context = {}
Context.__index = Context
Context.__name = "tiledesk.bot.Context"

local OP = "tiledesk.bot.context()"
local fail = webhook._fail

local CONTEXT_OPTS = { base_url = true, client = true, transport = true, path_secret = true, path_segment = true,
  verify_token = true, cache = true, project_id = true, bot_id = true, max_bytes = true, max_age = true,
  seen = true, now = true }

local token_cache = webhook.memory_store{ max_keys = 10000 }
_M.TOKEN_CACHE_TTL = 600

-- Why this message must not be answered, as the server's own rules (nil: answer it).
function _M.skip_reason(payload, bot_id)
  local text = type(payload.text) == "string" and payload.text or ""
  local sender = payload.sender
  if sender == "bot_" .. bot_id or sender == bot_id then return "own message" end
  if text == "\\start" or text == "/start" then return nil end
  if sender == "system" then return "system message" end
  if text:find("\\agent", 1, true) or text:find("\\close", 1, true) then return "hand-off or close command" end
  return nil
end

local function new_client(opts, token, project_id)
  local o = {}
  for k, v in pairs(opts.client or {}) do o[k] = v end
  o.base_url = opts.base_url or o.base_url
  o.project_id = project_id
  o.token = "JWT " .. token
  if opts.transport then o.transport = opts.transport() end
  return require("tiledesk").new(o)
end

-- Asks the server whether token is this bot's (cached per token for TOKEN_CACHE_TTL seconds).
local function server_vouches(opts, token, project_id, bot_id)
  local cache = opts.cache or token_cache
  local key = "tiledesk:bottoken:" .. crypto.hex(crypto.sha256(token))
  if cache:get(key) == bot_id then return true end
  local c = new_client(opts, token, project_id)
  local got, msg = c.bots:get(bot_id)
  c:close()
  if type(got) ~= "table" or got._id ~= bot_id then return nil, msg end
  cache:add(key, bot_id, _M.TOKEN_CACHE_TTL)
  return true
end

-- The context of a bot-webhook delivery, or nil, msg, err (err.kind "invalid", err.reason
-- "too_large" | "malformed" | "secret" | "token" | "stale" | "replay", err.status the answer).
-- A context whose message must not be answered (the bot's own, a system message) has ctx.skip.
function _M.context(body, opts)
  opts = opts or {}
  local max_bytes, max_age, now = webhook._options(OP, opts, CONTEXT_OPTS)
  if opts.path_secret ~= nil and (type(opts.path_secret) ~= "string" or #opts.path_secret < 16) then
    error(OP .. ": opts.path_secret must be a string of 16 characters or more", 2)
  end
  if opts.transport ~= nil and type(opts.transport) ~= "function" then
    error(OP .. ": opts.transport must be a function returning a new transport", 2)
  end
  if body ~= nil and type(body) ~= "string" then error(OP .. ": body must be a string, got " .. type(body), 2) end
  if body and #body > max_bytes then return fail(OP, "too_large", "body longer than " .. max_bytes .. " bytes") end
  if opts.path_secret and not crypto.equal(opts.path_segment, opts.path_secret) then
    return fail(OP, "secret", "the URL's secret segment does not match")
  end
  local env, msg, err = webhook._envelope(OP, body, max_bytes)
  if not env then return nil, msg, err end
  local bot_id, p = env.hook._id, env.payload
  local _, claims = jwt.decode_unverified(env.token)
  if not claims or claims.sub ~= "bot" or claims._id ~= bot_id or claims.aud ~= "https://tiledesk.com/bots/" .. bot_id then
    return fail(OP, "token", "token is not this bot's")
  end
  local req = type(p.request) == "table" and p.request or nil
  local rid = req and req.request_id or p.recipient
  local pid = p.id_project or (req and req.id_project)
  if type(rid) ~= "string" or rid == "" or type(pid) ~= "string" or pid == "" then
    return fail(OP, "malformed", "payload has no conversation")
  end
  if opts.project_id and pid ~= opts.project_id then return fail(OP, "token", "delivery for another project") end
  if opts.bot_id and bot_id ~= opts.bot_id then return fail(OP, "token", "delivery for another bot") end
  local ok
  ok, msg, err = webhook._fresh(OP, env.timestamp, max_age, now)
  if not ok then return nil, msg, err end
  if opts.verify_token then
    ok, msg = server_vouches(opts, env.token, pid, bot_id)
    if not ok then return fail(OP, "token", "the server does not accept the token" .. (msg and (" (" .. msg .. ")") or "")) end
  end
  local key = "tiledesk:bot:" .. crypto.hex(crypto.sha256(body))
  ok, msg, err = webhook._remember(OP, opts.seen, key, 2 * max_age * 1000, now)
  if not ok then return nil, msg, err end

  local token = env.token
  local attrs = type(p.attributes) == "table" and p.attributes or {}
  local text = type(p.text) == "string" and p.text or ""
  local self = setmetatable({
    message = p, text = text, action = type(attrs.action) == "string" and attrs.action or nil,
    request = req or {}, request_id = rid, project_id = pid, lead = req and req.lead or nil,
    bot = env.hook, bot_id = bot_id, bot_name = env.hook.name, timestamp = env.timestamp, key = key,
    is_start = text == "\\start" or text == "/start",
    skip = _M.skip_reason(p, bot_id),
  }, Context)
  -- the token lives in these closures and in the client's transport, never in a field
  local client
  function self.client()
    if not client then client = new_client(opts, token, pid) end
    return client
  end
  function self.token() return token end
  function self.finish()
    if client then client:close() end
  end
  return self
end

function Context:__tostring()
  return "tiledesk.bot.Context (" .. tostring(self.bot_name or self.bot_id) .. ", " .. self.request_id .. ")"
end

local function check_ctx(self, what)
  if getmetatable(self) ~= Context then error("ctx:" .. what .. "(): call it as ctx:" .. what .. "(...)", 3) end
end

-- Posts a reply in the conversation as the bot. A string is read in the intent-answer format
-- (message.parse: "* " button lines, tdImage:...; plain text stays as it is), a table is a message.
function Context:reply(m)
  check_ctx(self, "reply")
  if type(m) == "string" then
    m = message.parse(m)
  elseif type(m) == "table" then
    m = message.from(m)
  else
    error("ctx:reply(): a string or a message table expected, got " .. type(m), 2)
  end
  if m.senderFullname == nil and type(self.bot_name) == "string" then m.senderFullname = self.bot_name end
  return self.client().messages:send(self.request_id, m)
end

-- Hands the conversation to a human agent (PUT /requests/{rid}/agent).
function Context:handoff()
  check_ctx(self, "handoff")
  return self.client().requests:handoff(self.request_id)
end

-- Moves the conversation to another department (PUT /requests/{rid}/departments).
function Context:route(department_id)
  check_ctx(self, "route")
  if type(department_id) ~= "string" or department_id == "" then
    error("ctx:route(): department_id must be a non-empty string", 2)
  end
  return self.client().requests:route(self.request_id, department_id)
end

-- Merges attributes into the conversation's (PATCH /requests/{rid}/attributes).
function Context:set_attributes(t)
  check_ctx(self, "set_attributes")
  if type(t) ~= "table" then error("ctx:set_attributes(): attributes must be a table", 2) end
  return self.client().requests:merge_attributes(self.request_id, t)
end

-- Closes the conversation (PUT /requests/{rid}/close).
function Context:close()
  check_ctx(self, "close")
  return self.client().requests:close(self.request_id)
end

------------------------------------------------------------------------------------------------
-- A bot in one file: a table of intents, or a function(ctx) -> reply.
--
--   return {
--     start = "Hi! Ask me about prices.\n* Prices\n* Talk to a human",   -- answers \start
--     intents = {
--       { name = "prices", match = { "price", "cost" }, reply = "From 9 EUR a month." },
--       { name = "human", match = { "human", "agent" }, action = "handoff",
--         reply = "A colleague will be with you shortly.", handoff = true },
--     },
--     fallback = "Sorry?\n* Talk to a human tdIntent:human",
--   }
--
-- An intent matches when its action is the pressed button's action (action buttons,
-- tdIntent:<name> also matches by name), or one of its match words occurs in the lower-cased
-- text. Its reply (a string in the intent-answer format, a message table, or a function(ctx)
-- returning one) is sent, then attributes set, route / handoff / close done, in that order.

local INTENT_KEYS = { name = true, match = true, action = true, reply = true, handoff = true, route = true,
  close = true, attributes = true }
local SPEC_KEYS = { name = true, start = true, intents = true, fallback = true }

local function check_intent(i, it)
  if type(it) ~= "table" then error("tiledesk.bot: intent " .. i .. " must be a table", 4) end
  for k in pairs(it) do
    if not INTENT_KEYS[k] then error("tiledesk.bot: intent " .. i .. ": unknown key " .. tostring(k), 4) end
  end
  if it.match ~= nil and type(it.match) ~= "string" and type(it.match) ~= "table" then
    error("tiledesk.bot: intent " .. i .. ": match must be a string or a list of strings", 4)
  end
  if it.match == nil and it.action == nil and it.name == nil then
    error("tiledesk.bot: intent " .. i .. " needs match, action or name", 4)
  end
end

-- Checks a bot definition (table or function) and returns it; raises with what is wrong.
function _M.check(spec)
  if type(spec) == "function" then return spec end
  if type(spec) ~= "table" then error("tiledesk.bot: a bot is a table of intents or a function(ctx)", 3) end
  for k in pairs(spec) do
    if not SPEC_KEYS[k] then error("tiledesk.bot: unknown key " .. tostring(k), 3) end
  end
  if spec.intents ~= nil and type(spec.intents) ~= "table" then error("tiledesk.bot: intents must be a list", 3) end
  for i, it in ipairs(spec.intents or {}) do check_intent(i, it) end
  return spec
end

local function words(match)
  if type(match) == "string" then return { match } end
  return match or {}
end

-- The intent of spec that answers ctx, or nil.
function _M.match(spec, ctx)
  local intents = spec.intents or {}
  if ctx.action then
    for _, it in ipairs(intents) do
      if it.action == ctx.action or it.name == ctx.action then return it end
    end
  end
  local text = ctx.text:lower()
  for _, it in ipairs(intents) do
    for _, w in ipairs(words(it.match)) do
      if text:find(w:lower(), 1, true) then return it end
    end
  end
  return nil
end

local function resolve(reply, ctx)
  if type(reply) == "function" then return reply(ctx) end
  return reply
end

-- Runs spec for ctx: nothing for a skipped context, else the reply and actions. Returns a report
-- { skipped = reason } or { intent = name|"start"|"fallback"|nil, replied = message|nil,
-- done = { "reply", "attributes", "route", "handoff", "close" } }, or nil, msg, err at the first
-- failing call.
function _M.handle(spec, ctx)
  spec = _M.check(spec)
  if getmetatable(ctx) ~= Context then error("tiledesk.bot.handle(): ctx must be a bot context", 2) end
  if ctx.skip then return { skipped = ctx.skip } end
  local report = { done = {} }
  local intent, reply
  if type(spec) == "function" then
    reply = spec(ctx)
  elseif ctx.is_start then
    if spec.start == nil then return report end
    report.intent, reply = "start", resolve(spec.start, ctx)
  else
    intent = _M.match(spec, ctx)
    if intent then
      report.intent, reply = intent.name or true, resolve(intent.reply, ctx)
    else
      report.intent, reply = "fallback", resolve(spec.fallback, ctx)
    end
  end
  local steps = {}
  if reply ~= nil then steps[#steps + 1] = { "reply", function() return ctx:reply(reply) end } end
  if intent then
    if intent.attributes then steps[#steps + 1] = { "attributes", function() return ctx:set_attributes(intent.attributes) end } end
    if intent.route then steps[#steps + 1] = { "route", function() return ctx:route(intent.route) end } end
    if intent.handoff then steps[#steps + 1] = { "handoff", function() return ctx:handoff() end } end
    if intent.close then steps[#steps + 1] = { "close", function() return ctx:close() end } end
  end
  for _, s in ipairs(steps) do
    local res, msg, err = s[2]()
    if res == nil then return nil, msg, err end
    if s[1] == "reply" then report.replied = res end
    report.done[#report.done + 1] = s[1]
  end
  return report
end

-- Loads a bot file (a Lua chunk returning the table or the function) and checks it.
function _M.load(path)
  if type(path) ~= "string" then error("tiledesk.bot.load(): path must be a string", 2) end
  local chunk, err = loadfile(path)
  if not chunk then return nil, "tiledesk.bot.load(): " .. tostring(err) end
  local ok, spec = pcall(chunk)
  if not ok then return nil, "tiledesk.bot.load(): " .. path .. ": " .. tostring(spec) end
  local good, why = pcall(_M.check, spec)
  if not good then return nil, "tiledesk.bot.load(): " .. path .. ": " .. tostring(why) end
  return spec
end

return _M
