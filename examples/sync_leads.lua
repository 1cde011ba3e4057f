-- Bulk-update lead attributes from a CSV file; each failing row is reported, the rest go on.
--   lua5.4 examples/sync_leads.lua --state .sandbox/state.json --csv leads.csv
-- The CSV has a header; the column "email" (or "lead_id" = the lead's _id) finds the lead,
-- every other column becomes an attribute. Exit status 1 when any row failed.
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")

local opts = common.args(arg, { options = { csv = true }, usage = [[
usage: sync_leads.lua [connection] --csv FILE
Merges attributes into leads from a CSV file with a header row. The column "email" (or
"lead_id", the lead's _id) finds the lead; every other column becomes an attribute.
Each failing row is reported on stderr and the rest go on; the exit status is 1 when
any row failed.]] })
if not opts.csv then common.die("--csv FILE is required (--help tells more)") end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

-- CSV records (RFC 4180): fields separated by commas, double-quoted fields may hold commas,
-- "" and line breaks. Returns an iterator of (fields, line number), or raises on a quote
-- left open at the end of the file.
local function records(text)
  local pos, line, n = 1, 1, #text
  return function()
    while pos <= n and text:sub(pos, pos):match("[\r\n]") do -- blank lines
      if text:sub(pos, pos) == "\n" then line = line + 1 end
      pos = pos + 1
    end
    if pos > n then return nil end
    local start_line, out, field = line, {}, {}
    while true do
      local c = text:sub(pos, pos)
      if c == '"' then
        pos = pos + 1
        while true do
          local q = text:find('"', pos, true)
          if not q then error("line " .. start_line .. ": a quoted field is never closed", 0) end
          local chunk = text:sub(pos, q - 1)
          for _ in chunk:gmatch("\n") do line = line + 1 end
          field[#field + 1] = chunk
          if text:sub(q + 1, q + 1) == '"' then
            field[#field + 1] = '"'
            pos = q + 2
          else
            pos = q + 1
            break
          end
        end
      else
        local e = text:find('[,\r\n"]', pos) or (n + 1)
        field[#field + 1] = text:sub(pos, e - 1)
        pos = e
      end
      c = text:sub(pos, pos)
      if c == "," then
        out[#out + 1] = table.concat(field)
        field = {}
        pos = pos + 1
      elseif c == "\r" or c == "\n" or c == "" then
        out[#out + 1] = table.concat(field)
        if c == "\r" and text:sub(pos + 1, pos + 1) == "\n" then pos = pos + 1 end
        if c ~= "" then line = line + 1 end
        pos = pos + 1
        return out, start_line
      else
        error("line " .. line .. ": unexpected character after a quoted field", 0)
      end
    end
  end
end

local f, err = io.open(opts.csv, "rb")
if not f then common.die(err) end
local text = f:read("*a")
f:close()

-- read every record first: rows before a syntax error still go through
local rows, parse_err = {}, nil
do
  local next_record = records(text)
  while true do
    local read, values, at = pcall(next_record)
    if not read then parse_err = values break end
    if not values then break end
    rows[#rows + 1] = { values = values, line = at }
  end
end
local header = table.remove(rows, 1)
if not header then common.die(opts.csv .. ": no header row" .. (parse_err and (" (" .. parse_err .. ")") or "")) end
header = header.values

-- one row: returns the lead id updated, or nil and why not
local function sync(values)
  if #values ~= #header then
    return nil, string.format("%d fields where the header has %d", #values, #header)
  end
  local rec = {}
  for i, v in ipairs(values) do rec[header[i]] = v end
  local id
  if rec.lead_id and rec.lead_id ~= "" then
    id = rec.lead_id
  elseif rec.email and rec.email ~= "" then
    local lead, msg = client.leads:find_by_email(rec.email)
    if lead == nil then return nil, msg end
    if lead == false then return nil, "no lead with email " .. rec.email end
    id = lead._id
  else
    return nil, "no email or lead_id"
  end
  local attrs = {}
  for k, v in pairs(rec) do if k ~= "email" and k ~= "lead_id" then attrs[k] = v end end
  local res, msg = client.leads:merge_attributes(id, attrs)
  if not res then return nil, msg end
  return id
end

local done, failed = 0, 0
for n, r in ipairs(rows) do
  local id, why = sync(r.values)
  if id then
    done = done + 1
    print(string.format("row %d: updated %s", n, id))
  else
    failed = failed + 1
    io.stderr:write(string.format("row %d (line %d): %s\n", n, r.line, why))
  end
end
if parse_err then
  failed = failed + 1
  io.stderr:write(opts.csv, ": ", tostring(parse_err), " (nothing after it was read)\n")
end
print(string.format("%d leads updated, %d rows failed", done, failed))
client:close()
os.exit(failed == 0 and 0 or 1)
