-- Recipe: create or update leads from a CSV file, idempotently (a rerun changes nothing), with
-- progress on stderr. Columns: email (required), fullname, phone, company; the others become
-- attributes.
--   lua5.4 examples/import_leads.lua --state .sandbox/state.json --csv leads.csv
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local csv = require("tiledesk.csv")

local opts = common.args(arg, { options = { csv = true }, usage = [[
usage: import_leads.lua [connection] --csv FILE
Creates the leads of FILE that do not exist (by email), updates those that differ, leaves the
rest alone; prints "N created, N updated, N unchanged".]] })
if not opts.csv then common.die("--csv FILE is required") end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

local FIELDS = { email = true, fullname = true, phone = true, company = true }

-- the whole file is read and checked first: a bad line stops the run before any change
local records = {}
local read, rerr = pcall(function()
  local f = assert(io.open(opts.csv, "rb"))
  for rec, line in csv.records(f, { name = opts.csv }) do
    if rec.email == "" then error(opts.csv .. ": line " .. line .. ": no email", 0) end
    records[#records + 1] = rec
  end
  f:close()
end)
if not read then common.die(rerr) end

local counts = { created = 0, updated = 0, unchanged = 0 }
for i, rec in ipairs(records) do
  local body, attrs = {}, {}
  for k, v in pairs(rec) do
    if v ~= "" then
      if FIELDS[k] then body[k] = v else attrs[k] = v end
    end
  end
  local lead, msg = client.leads:find_by_email(rec.email)
  if lead == nil then common.die(msg) end
  if not lead then
    if next(attrs) then body.attributes = attrs end
    local created, cerr = client.leads:create(body)
    if not created then common.die(cerr) end
    -- the server's POST /leads reads lead_id, fullname, email and attributes only: the rest by PUT
    local rest = {}
    for k, v in pairs(body) do
      if k ~= "lead_id" and k ~= "fullname" and k ~= "email" and k ~= "attributes" then rest[k] = v end
    end
    if next(rest) then
      local done, uerr = client.leads:update(created._id, rest)
      if not done then common.die(uerr) end
    end
    counts.created = counts.created + 1
  else
    local changed = false
    for k, v in pairs(body) do if lead[k] ~= v then changed = true end end
    local merged = {}
    for k, v in pairs(type(lead.attributes) == "table" and lead.attributes or {}) do merged[k] = v end
    for k, v in pairs(attrs) do
      if merged[k] ~= v then changed = true end
      merged[k] = v
    end
    if changed then
      body.attributes = merged
      local updated, uerr = client.leads:update(lead._id, body)
      if not updated then common.die(uerr) end
      counts.updated = counts.updated + 1
    else
      counts.unchanged = counts.unchanged + 1
    end
  end
  io.stderr:write(string.format("\r%d/%d leads", i, #records), i == #records and "\n" or "")
end
print(string.format("%d created, %d updated, %d unchanged", counts.created, counts.updated, counts.unchanged))
