-- Bulk-update lead attributes from a CSV file; each failing row is reported, the rest go on.
--   lua5.4 examples/sync_leads.lua --state .sandbox/state.json --csv leads.csv
-- The CSV has a header; the column "email" (or "lead_id" = the lead's _id) finds the lead,
-- every other column becomes an attribute. Exit status 1 when any row failed.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")

local opts = common.args(arg, { log = true })
if not opts.csv then common.die("--csv FILE is required") end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

-- one CSV line into fields (double quotes, "" escapes)
local function fields(line)
  local out, i, n = {}, 1, #line
  while i <= n + 1 do
    if line:sub(i, i) == '"' then
      local buf = {}
      i = i + 1
      while i <= n do
        local c = line:sub(i, i)
        if c == '"' and line:sub(i + 1, i + 1) == '"' then buf[#buf + 1] = '"' i = i + 2
        elseif c == '"' then i = i + 1 break
        else buf[#buf + 1] = c i = i + 1 end
      end
      out[#out + 1] = table.concat(buf)
      i = i + 1 -- the comma
    else
      local j = line:find(",", i, true) or (n + 1)
      out[#out + 1] = line:sub(i, j - 1)
      i = j + 1
    end
  end
  return out
end

local f, err = io.open(opts.csv, "r")
if not f then common.die(err) end
local header
local done, failed, row = 0, 0, 0
for line in f:lines() do
  line = line:gsub("\r$", "")
  if line ~= "" then
    if not header then
      header = fields(line)
    else
      row = row + 1
      local rec = {}
      for i, v in ipairs(fields(line)) do if header[i] then rec[header[i]] = v end end
      local lead, msg
      if rec.lead_id and rec.lead_id ~= "" then
        lead = { _id = rec.lead_id }
      elseif rec.email and rec.email ~= "" then
        lead, msg = client.leads:find_by_email(rec.email)
        if lead == false then msg = "no lead with email " .. rec.email end
      else
        msg = "no email or lead_id"
      end
      if lead then
        local attrs = {}
        for k, v in pairs(rec) do if k ~= "email" and k ~= "lead_id" then attrs[k] = v end end
        local res
        res, msg = client.leads:merge_attributes(lead._id, attrs)
        if res then done = done + 1 print(string.format("row %d: updated %s", row, lead._id)) end
        if not res then lead = nil end
      end
      if not lead then
        failed = failed + 1
        io.stderr:write(string.format("row %d: %s\n", row, msg))
      end
    end
  end
end
f:close()
print(string.format("%d leads updated, %d rows failed", done, failed))
client:close()
os.exit(failed == 0 and 0 or 1)
