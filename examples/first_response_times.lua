-- Recipe: first-response time per agent for one day: for each conversation created that day,
-- the time from the requester's first message to the first message of a teammate, credited to
-- that teammate.
--   lua5.4 examples/first_response_times.lua --state .sandbox/state.json --day 2026-11-30 [--timezone Europe/Rome] [--json]
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local tiledesk = require("tiledesk")
local time = require("tiledesk.time")

local opts = common.args(arg, { flags = { json = true }, options = { day = true, timezone = true }, usage = [[
usage: first_response_times.lua [connection] --day YYYY-MM-DD [--timezone ZONE] [--json]
Prints, per teammate, how many conversations of that day (in ZONE, default UTC) they answered
first, and the median and mean first-response time in seconds.]] })
local y, m, d = tostring(opts.day):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
if not y then common.die("--day YYYY-MM-DD is required") end
local zone = opts.timezone or "UTC"
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

local day = { tonumber(y), tonumber(m), tonumber(d) }
local ran, failure = pcall(function()
  local team = {}
  for member in client.team:each() do
    local u = type(member.id_user) == "table" and member.id_user or nil
    if u then team[u._id] = u.email end
  end
  local per = {}
  local query = { status = "all", start_date = day, end_date = day, timezone = zone }
  for conv in client.requests:each(query) do
    local asked, who, answered
    for msg in client.messages:each(conv.request_id) do
      local from_requester = not team[msg.sender] and not tostring(msg.sender):match("^bot_") and msg.sender ~= "system"
      if not asked and from_requester then
        asked = msg.createdAt
      elseif asked and team[msg.sender] then
        who, answered = msg.sender, msg.createdAt
        break
      end
    end
    if who then
      per[who] = per[who] or {}
      table.insert(per[who], assert(time.duration(asked, answered)))
    end
  end
  local rows = {}
  for id, list in pairs(per) do
    table.sort(list)
    local sum = 0
    for _, s in ipairs(list) do sum = sum + s end
    local mid = #list % 2 == 1 and list[(#list + 1) / 2] or (list[#list / 2] + list[#list / 2 + 1]) / 2
    rows[#rows + 1] = { agent = team[id], agent_id = id, conversations = #list, median_s = mid, mean_s = sum / #list }
  end
  table.sort(rows, function(a, b) return a.agent < b.agent end)
  for _, r in ipairs(rows) do
    if opts.json then
      print(assert(tiledesk.json_encode(r)))
    else
      print(string.format("%-28s %3d conversations  median %7.1f s  mean %7.1f s", r.agent, r.conversations,
        r.median_s, r.mean_s))
    end
  end
  if not opts.json and #rows == 0 then print("no conversation of " .. opts.day .. " was answered by a teammate") end
end)
if not ran then common.die(failure) end
