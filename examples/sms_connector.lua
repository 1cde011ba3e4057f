-- A custom channel (here "sms") on Tiledesk with tiledesk.connector, run end to end against the
-- sandbox: an SMS comes in, an agent answers with buttons, the answer comes back through a
-- message.create resthook and is turned into the text of an SMS.
--   lua5.4 examples/sms_connector.lua --state .sandbox/state.json
-- In a real deployment the two halves live in your gateway: forward() where your SMS provider
-- calls you, and webhook.parse + to_channel() at the URL you subscribed to message.create.
local tiledesk = require("tiledesk")
local connector = require("tiledesk.connector")
local webhook = require("tiledesk.webhook")
local message = require("tiledesk.message")
local cjson = require("cjson")

local state_file = arg[1] == "--state" and arg[2] or nil
if not state_file then
  io.stderr:write("usage: lua5.4 examples/sms_connector.lua --state .sandbox/state.json\n")
  os.exit(2)
end
local f = assert(io.open(state_file, "rb"))
local st = cjson.decode(f:read("*a"))
f:close()
local base = st.http_url .. "/v3"
local admin = tiledesk.new{ base_url = base, project_id = st.project_id, email = st.users.admin.email,
  password = st.users.admin.password }

-- set-up done once: the project's custom-auth secret, and the resthook for agents' replies
-- (the sandbox's sink stands for your gateway's URL)
local secret = assert(admin.keys:generate()).jwtSecret
local sink = st.control_url .. "/sink/sms-connector"
local hook_secret = assert(admin.subscriptions:create("message.create", sink)).secret

local conn = connector.new{ base_url = base, project_id = st.project_id, secret = secret, channel = "sms" }

-- 1. an SMS arrives from +393331234567
local phone = "+393331234567"
local sent = assert(conn:forward({ id = phone, firstname = "Ada" }, "Hi, has my parcel shipped?"))
local rid = sent.request.request_id
print("SMS from " .. phone .. " is now in conversation " .. rid)

-- 2. an agent answers in the dashboard (here: the admin, through the API)
assert(admin.messages:send(rid, message.buttons("Yes, it left today. Anything else?",
  { "No, thanks", message.url_button("Track it", "https://example.com/track/42") })))

-- 3. the resthook delivers the answer: check it, and make an SMS of it
local sleep = require("tiledesk.core").sleep_ms
for _ = 1, 50 do
  local list = cjson.decode(require("socket.http").request(sink) or "{}")
  for _, d in ipairs(list.deliveries or {}) do
    local event = webhook.parse(d.body, d.headers, { secret = hook_secret })
    local out = event and conn:to_channel(event)
    if out and out.request_id == rid then
      local lines = { out.text }
      for i, b in ipairs(out.buttons) do
        lines[#lines + 1] = i .. ") " .. b.label .. (b.kind == "url" and (": " .. b.value) or "")
      end
      print("SMS to " .. out.user_id .. ":\n  " .. table.concat(lines, "\n  "))
      os.exit(0)
    end
  end
  sleep(100)
end
io.stderr:write("no reply delivered within 5 s\n")
os.exit(1)
