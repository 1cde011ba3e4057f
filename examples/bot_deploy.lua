-- Keep a bot in git: export it to a JSON file, and deploy the file to a project, as a new bot
-- or over an existing one (its intents added, replaced, or updated by name).
--   lua5.4 examples/bot_deploy.lua --state .sandbox/state.json export BOT_ID bot.json
--   lua5.4 examples/bot_deploy.lua --state .sandbox/state.json import bot.json [--into BOT_ID [--replace|--overwrite]]
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local tiledesk = require("tiledesk")

local opts, pos = common.args(arg, { flags = { replace = true, overwrite = true }, options = { into = true },
  usage = [==[
usage: bot_deploy.lua [connection] export BOT_ID FILE
       bot_deploy.lua [connection] import FILE [--into BOT_ID [--replace | --overwrite]]
export writes the bot and its intents to FILE as the server exports them (its own key order,
so the file diffs well in git). import makes a new bot from FILE, or with --into updates that
bot: its name, description, language and webhook from the file, the file's intents added
(--replace deletes the bot's intents first, --overwrite updates those of the same name).
Needs an admin of the project.]==] })

local verb = pos[1]
if verb == "export" then
  if #pos ~= 3 then common.die("export takes BOT_ID and FILE") end
  if opts.into or opts.replace or opts.overwrite then common.die("--into, --replace and --overwrite are for import") end
elseif verb == "import" then
  if #pos ~= 2 then common.die("import takes FILE") end
  if (opts.replace or opts.overwrite) and not opts.into then common.die("--replace and --overwrite need --into BOT_ID") end
  if opts.replace and opts.overwrite then common.die("give --replace or --overwrite, not both") end
else
  common.die("say export or import (--help for the usage)")
end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

if verb == "export" then
  local bot_id, path = pos[2], pos[3]
  -- the exported text as the server wrote it (bots:export() would give it decoded)
  local text, msg = client:call("bots:export()", { method = "GET", path = tiledesk.path("/faq_kb/exportjson/{}", bot_id),
    raw = true })
  if not text then common.die(msg) end
  local f, err = io.open(path, "wb")
  if not f then common.die("cannot write " .. path .. ": " .. tostring(err)) end
  f:write(text)
  f:close()
  local bot = tiledesk.json_decode(text)
  print(string.format("exported %s (%s, %d intents) to %s", bot_id, tostring(bot and bot.name),
    bot and type(bot.intents) == "table" and #bot.intents or 0, path))
else
  local path = pos[2]
  local f, err = io.open(path, "rb")
  if not f then common.die("cannot read " .. path .. ": " .. tostring(err)) end
  local text = f:read("*a")
  f:close()
  local parsed = tiledesk.json_decode(text)
  if type(parsed) ~= "table" or (parsed.name == nil and parsed.intents == nil) then
    common.die(path .. " is not an exported bot (a JSON object with a name or intents)")
  end
  local how = opts.into and { bot_id = opts.into, replace = opts.replace, overwrite = opts.overwrite } or { create = true }
  local bot, msg = client.bots:import(text, how)
  if not bot then common.die(msg) end
  print(string.format("%s bot %s (%s)", opts.into and "updated" or "created", bot._id, tostring(bot.name)))
end
client:close()
