-- A bot file served inside nginx + ngx_lua, with the non-blocking transport.
--   init_by_lua_block    { require("tiledesk.bot_nginx").setup{ bot_file = "/path/faq_bot.lua",
--                            base_url = "https://api.tiledesk.com/v3", path_secret = "<random>" } }
--   location /bot/       { content_by_lua_block { require("tiledesk.bot_nginx").handle() } }
-- The delivery is checked (bot.context), answered 200 at once (the server ignores the answer and
-- should not wait), then the bot runs and its replies go out through cosockets.
-- setup options: bot_file (or bot: a table or function), base_url, path_secret, verify_token,
-- seen_dict (a lua_shared_dict name remembering deliveries, else per worker), max_bytes,
-- max_age, transport (options of tiledesk.transport.ngx.new), client (more tiledesk.new options).
local bot = require("tiledesk.bot")
local webhook = require("tiledesk.webhook")
local json = require("tiledesk.json")

local _M = {}
local ngx = rawget(_G, "ngx")

local config, spec, seen

local SETUP_OPTS = { bot_file = true, bot = true, base_url = true, path_secret = true, verify_token = true,
  seen_dict = true, max_bytes = true, max_age = true, transport = true, client = true }

function _M.setup(opts)
  local what = "tiledesk.bot_nginx.setup()"
  if type(opts) ~= "table" then error(what .. ": options must be a table", 2) end
  for k in pairs(opts) do
    if not SETUP_OPTS[k] then error(what .. ": unknown option " .. tostring(k), 2) end
  end
  if opts.bot_file then
    local s, err = bot.load(opts.bot_file)
    if not s then error(what .. ": " .. err, 2) end
    spec = s
  else
    spec = bot.check(opts.bot)
  end
  if not opts.path_secret and not opts.verify_token then
    error(what .. ": give path_secret, verify_token or both: a bot URL without either answers anyone", 2)
  end
  local ok, mod = pcall(require, "tiledesk.transport.ngx")
  if not ok then error(what .. ": tiledesk.transport.ngx is not available: " .. tostring(mod), 2) end
  config = opts
  return true
end

local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local file = ngx.req.get_body_file()
  if not file then return nil end
  local f = io.open(file, "rb")
  if not f then return nil end
  body = f:read("*a")
  f:close()
  return body
end

local function answer(status, t)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(t))
end

-- The content handler: one delivery.
function _M.handle()
  if not config then return answer(500, { error = "tiledesk.bot_nginx.setup() was not called" }) end
  if ngx.req.get_method() ~= "POST" then return answer(405, { error = "POST only" }) end
  if not seen then
    seen = config.seen_dict and require("tiledesk.ratelimit.shared_dict").new(config.seen_dict) or webhook.memory_store()
  end
  local transport_opts = config.transport
  local ctx, msg, err = bot.context(read_body(), {
    base_url = config.base_url, client = config.client, path_secret = config.path_secret,
    path_segment = ngx.var.uri:match("([^/]+)/*$"), verify_token = config.verify_token, seen = seen,
    max_bytes = config.max_bytes, max_age = config.max_age,
    transport = function() return require("tiledesk.transport.ngx").new(transport_opts) end,
  })
  if not ctx then
    ngx.log(ngx.WARN, msg)
    return answer(err.status or 400, { error = msg })
  end
  answer(200, { ok = true, skipped = ctx.skip })
  ngx.eof()
  local ok, report, hmsg = pcall(bot.handle, spec, ctx)
  ctx.finish()
  if not ok then
    ngx.log(ngx.ERR, "tiledesk bot: ", tostring(report))
  elseif not report then
    ngx.log(ngx.ERR, "tiledesk bot: ", hmsg)
  else
    ngx.log(ngx.INFO, "tiledesk bot: ", ctx.request_id, " intent ", tostring(report.intent or report.skipped),
      " done ", table.concat(report.done or {}, ","))
  end
end

return _M
