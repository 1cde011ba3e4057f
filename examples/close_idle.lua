-- Close conversations with no activity for N days. Dry run by default: --apply to act.
--   lua5.4 examples/close_idle.lua --state .sandbox/state.json --days 7 [--apply]
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")

local opts = common.args(arg, { flags = { apply = true }, options = { days = true }, usage = [[
usage: close_idle.lua [connection] [--days N] [--apply]
Lists the open conversations (status 100, 200, 300) whose last update is more than N days
old (default 7) and, with --apply, closes them one by one, reporting each failure.
Without --apply nothing is changed (a dry run).]] })
local days = tonumber(opts.days or "7")
if not days or days < 0 then common.die("--days must be a number of days") end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

-- ISO 8601 UTC -> epoch seconds, without the local time zone getting in the way
local function epoch(iso)
  local y, m, d, h, mi, s = tostring(iso):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)")
  if not y then return nil end
  y, m = tonumber(y), tonumber(m)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + tonumber(d) - 1
  local days_ = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
  return days_ * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

local cutoff = os.time() - days * 86400
local idle, closed, failed = {}, 0, 0
for r in client.requests:each{ status = "100,200,300", sort = "updatedAt", direction = 1 } do
  local t = epoch(r.updatedAt)
  if t and t < cutoff then idle[#idle + 1] = r end
end
print(string.format("%d open conversations idle for more than %g days%s", #idle, days,
  opts.apply and "" or " (dry run: --apply to close them)"))
for _, r in ipairs(idle) do
  if opts.apply then
    local res, msg = client.requests:close(r.request_id)
    if res then
      closed = closed + 1
      print("closed " .. r.request_id)
    else
      failed = failed + 1
      io.stderr:write("failed " .. r.request_id .. ": " .. msg .. "\n")
    end
  else
    print(string.format("would close %s (last update %s)", r.request_id, r.updatedAt))
  end
end
if opts.apply then print(string.format("closed %d, failed %d", closed, failed)) end
client:close()
os.exit(failed == 0 and 0 or 1)
