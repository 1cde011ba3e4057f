-- The visitor's side of ./dev bot-demo: a visitor writes to the department routed to the bot that
-- tools/bot.lua serves and registered, and the conversation is printed once the bot has answered.
--   lua5.4 examples/bot_demo.lua --state .sandbox/state.json --registration .bot/registration.json
local tiledesk = require("tiledesk")
local cjson = require("cjson")
local message = require("tiledesk.message")

local function read_json(path)
  local f = assert(io.open(path, "rb"), "cannot read " .. path)
  local t = cjson.decode(f:read("*a"))
  f:close()
  return t
end

local opts = {}
for i = 1, #arg, 2 do opts[(arg[i] or ""):gsub("^%-%-", "")] = arg[i + 1] end
if not opts.state or not opts.registration then
  io.stderr:write("usage: lua5.4 examples/bot_demo.lua --state STATE.json --registration REGISTRATION.json\n")
  os.exit(2)
end
local st, reg = read_json(opts.state), read_json(opts.registration)
local sleep = require("tiledesk.core").sleep_ms

local visitor = assert(tiledesk.signin_anonymously{ base_url = st.http_url .. "/v3", project_id = st.project_id,
  firstname = "Vera", email = "vera@example.com" })

-- Waits (at most 10 s) until the conversation holds n messages sent by the bot.
local function wait_bot(rid, n)
  local list
  for _ = 1, 100 do
    list = assert(visitor.messages:list(rid))
    local count = 0
    for _, m in ipairs(list) do
      if m.sender == "bot_" .. reg.bot_id or m.sender == reg.bot_id then count = count + 1 end
    end
    if count >= n then return list end
    sleep(100)
  end
  error("the bot did not answer within 10 s (see the bot's error.log)")
end

local conv = assert(visitor.requests:start{ text = "Hello, how much does it cost?", departmentid = reg.department_id })
local rid = conv.request_id
wait_bot(rid, 1)
assert(visitor.messages:send(rid, { text = "Talk to a human", attributes = { action = "human" } }))
local list = wait_bot(rid, 2)

print("conversation " .. rid)
for _, m in ipairs(list) do
  local text, buttons = message.to_plain(m)
  local who = m.senderFullname or m.sender
  print(string.format("  %-12s %s", who .. ":", (text:gsub("\n", "\n" .. string.rep(" ", 15)))))
  for _, b in ipairs(buttons) do print(string.rep(" ", 15) .. "[" .. b.label .. "] (" .. b.kind .. ": " .. b.value .. ")") end
end
local after = assert(visitor.requests:me())
for _, r in ipairs(after.requests) do
  if r.request_id == rid then
    print("participants now: " .. table.concat(r.participants or {}, ", "))
  end
end
