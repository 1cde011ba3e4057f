-- Export every conversation created in a date range to JSON Lines or CSV, with a progress
-- line on stderr.
--   lua5.4 examples/export_conversations.lua --state .sandbox/state.json \
--     --from 01/11/2026 --to 30/11/2026 [--format jsonl|csv] [--out file] [--messages]
-- Dates are DD/MM/YYYY, as the server reads them. Closed conversations are included.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local tiledesk = require("tiledesk")

local opts = common.args(arg, { flags = { messages = true }, options = { from = true, to = true, format = true,
  out = true, timezone = true }, usage = [[
usage: export_conversations.lua [connection] [--from DD/MM/YYYY] [--to DD/MM/YYYY]
                                [--timezone ZONE] [--format jsonl|csv] [--out FILE] [--messages]
Exports the conversations created in the date range (both days included, closed ones too),
oldest first, one per line (JSON Lines) or one per row (CSV), with a progress line on stderr.
  --timezone ZONE   how the server reads the dates: an IANA name (default UTC; the server's
                    own default is Europe/Rome)
  --messages        add each conversation's transcript (one more call per conversation)]] })
local format = opts.format or "jsonl"
if format ~= "jsonl" and format ~= "csv" then common.die("--format must be jsonl or csv") end
-- a date the server would not read would silently widen the export: refuse it here
local function check_date(name)
  local v = opts[name]
  if v == nil then return end
  local d, m = v:match("^(%d%d?)/(%d%d?)/%d%d%d%d$")
  d, m = tonumber(d), tonumber(m)
  if not d or m < 1 or m > 12 or d < 1 or d > 31 then
    common.die("--" .. name .. " must be a date as DD/MM/YYYY (got " .. v .. ")")
  end
end
check_date("from")
check_date("to")
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

local out = io.stdout
if opts.out then
  local f, err = io.open(opts.out, "w")
  if not f then common.die(err) end
  out = f
end

local function csv(v)
  v = v == nil and "" or tostring(v)
  if v:find('[,"\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
  return v
end

local query = { status = "all", start_date = opts.from, end_date = opts.to, timezone = opts.timezone or "UTC",
  sort = "createdAt", direction = 1 }
if format == "csv" then
  out:write("request_id,created_at,status,department,lead,email,first_text,messages\n")
end
local n, total = 0, nil
local pager = client.requests:pages(query)
while true do
  local page, msg = pager:next()
  if not page then
    if msg then common.die(msg) end
    break
  end
  total = page.count or total
  for _, r in ipairs(page.items) do
    n = n + 1
    local lead = type(r.lead) == "table" and r.lead or {}
    local dept = type(r.department) == "table" and r.department or {}
    local messages
    if opts.messages then
      local m, merr = client.messages:list(r.request_id)
      if not m then common.die(merr) end
      messages = m
    end
    if format == "jsonl" then
      local row = { request_id = r.request_id, created_at = r.createdAt, status = r.status, department = dept.name,
        lead = { fullname = lead.fullname, email = lead.email }, first_text = r.first_text, tags = r.tags,
        closed_at = r.closed_at, messages = messages }
      out:write(assert(tiledesk.json_encode(row)), "\n")
    else
      out:write(table.concat({ csv(r.request_id), csv(r.createdAt), csv(r.status), csv(dept.name),
        csv(lead.fullname), csv(lead.email), csv(r.first_text), csv(messages and #messages or "") }, ","), "\n")
    end
  end
  io.stderr:write(string.format("\rexported %d of %s conversations", n, tostring(total or "?")))
end
io.stderr:write("\n")
if out ~= io.stdout then out:close() end
client:close()
