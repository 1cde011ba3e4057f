-- Recipe: create or update leads from a CSV file, idempotently (a rerun changes nothing), with
-- progress on stderr. Columns: email (required), the lead's fields by name (fullname, phone,
-- company, city, ...); the others become attributes.
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
  -- leads:upsert finds the lead by email, creates it or writes only what differs
  -- (attributes merged), and says which it did
  local lead, what = client.leads:upsert(client.leads:from_row(rec))
  if not lead then common.die(what) end
  counts[what] = counts[what] + 1
  io.stderr:write(string.format("\r%d/%d leads", i, #records), i == #records and "\n" or "")
end
print(string.format("%d created, %d updated, %d unchanged", counts.created, counts.updated, counts.unchanged))
