-- The README demo: a real automation run against a Tiledesk (by default the local sandbox).
-- Signs in, lists open conversations, shows one with its messages, adds a note, closes it.
--   lua5.4 examples/demo.lua --state .sandbox/state.json
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")

local opts = common.args(arg, { usage = [[
usage: demo.lua [connection]
Signs in, lists the open conversations, shows the most recent one with its messages, adds a
note to it, closes it, and prints what it did. ./dev demo runs it against the sandbox.]] })
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

local function say(fmt, ...) io.write(string.format(fmt, ...), "\n") end

local me, msg = client:signin()
if not me then common.die(msg) end
say("signed in as %s %s <%s>", me.firstname or "", me.lastname or "", me.email or "?")

local page, msg2 = client.requests:list{ status = "100,200,300", limit = 5, sort = "updatedAt" }
if not page then common.die(msg2) end
say("%d open conversations; the %d most recently updated:", page.count, #page.requests)
for _, r in ipairs(page.requests) do
  say("  %-60s status %-4s %s", r.request_id, tostring(r.status), (r.first_text or ""):sub(1, 40))
end
if #page.requests == 0 then
  say("nothing to do")
  os.exit(0)
end

local rid = page.requests[1].request_id
local conv = assert(client.requests:get(rid))
local lead = type(conv.lead) == "table" and conv.lead or {}
say("\nconversation %s from %s (%s), department %s", rid, lead.fullname or "?", lead.email or "no email",
  type(conv.department) == "table" and conv.department.name or "?")
local messages, msg3 = client.messages:list(rid)
if not messages then common.die(msg3) end
for _, m in ipairs(messages) do
  say("  [%s] %s: %s", (m.createdAt or ""):sub(12, 19), m.senderFullname or m.sender, m.text or "")
end

local noted, msg4 = client.requests:add_note(rid, "Reviewed by the tiledesk-lua demo; closing.")
if not noted then common.die(msg4) end
say("\nadded a note (%d notes now)", #(noted.notes or {}))

local closed, msg5 = client.requests:close(rid)
if not closed then common.die(msg5) end
say("closed it: status %s at %s", tostring(closed.status), tostring(closed.closed_at))

local after = assert(client.requests:list{ status = "100,200,300", limit = 1 })
say("open conversations now: %d (was %d)", after.count, page.count)
client:close()
