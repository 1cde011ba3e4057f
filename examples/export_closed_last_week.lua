-- Recipe: the conversations closed in the last 7 days, each with its messages, to a CSV file.
--   lua5.4 examples/export_closed_last_week.lua --state .sandbox/state.json --out closed.csv [--days 7]
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local csv = require("tiledesk.csv")

local opts = common.args(arg, { options = { out = true, days = true }, usage = [[
usage: export_closed_last_week.lua [connection] --out FILE [--days N]
Writes the conversations closed in the last N days (default 7) to FILE as CSV, one row each:
request_id, created, closed, department, lead, email, agents, messages and the transcript
("[time] sender: text" lines).]] })
if not opts.out then common.die("--out FILE is required") end
local days = tonumber(opts.days or "7")
if not days or days <= 0 then common.die("--days must be a positive number") end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

local f, err = io.open(opts.out, "wb")
if not f then common.die(err) end
local w = csv.writer(f, { columns = { "request_id", "created", "closed", "department", "lead", "email", "agents",
  "messages", "transcript" } })
local n = 0
local query = { status = 1000, start_date = os.time() - days * 86400, filterRangeField = "closed_at" }
local done, failure = pcall(function()
  for conv in client.requests:each(query) do
    local lines, count = {}, 0
    for m in client.messages:each(conv.request_id) do
      count = count + 1
      lines[#lines + 1] = string.format("[%s] %s: %s", m.createdAt, m.senderFullname or m.sender, m.text or "")
    end
    local lead = type(conv.lead) == "table" and conv.lead or {}
    local agents = {}
    for _, a in ipairs(conv.participatingAgents or {}) do agents[#agents + 1] = a.fullName or a.id end
    assert(w:write{ request_id = conv.request_id, created = conv.createdAt, closed = conv.closed_at,
      department = type(conv.department) == "table" and conv.department.name or nil, lead = lead.fullname,
      email = lead.email, agents = table.concat(agents, "; "), messages = count, transcript = table.concat(lines, "\n") })
    n = n + 1
  end
end)
f:close()
if not done then common.die(failure) end
print(string.format("%d conversations closed in the last %g days written to %s", n, days, opts.out))
