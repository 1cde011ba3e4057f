-- Recipe: give each unassigned open conversation of a department to the agent with the fewest
-- open (assigned) conversations, one at a time, so the load evens out.
--   lua5.4 examples/assign_fewest_open.lua --state .sandbox/state.json --dept Billing [--apply]
package.path = (arg[0]:match("^(.*)/[^/]*$") or ".") .. "/?.lua;" .. package.path
local common = require("common")

local opts = common.args(arg, { flags = { apply = true, include_away = true }, options = { dept = true }, usage = [[
usage: assign_fewest_open.lua [connection] --dept NAME_OR_ID [--apply] [--include-away]
Counts the open conversations (status 200) of each agent (teammates with role agent, available
ones unless --include-away), then gives each unassigned conversation (status 100) of the
department to the agent with the fewest, in order of arrival. Prints "request_id -> agent (n open)"
per conversation; without --apply nothing is changed (a dry run).]] })
if not opts.dept then common.die("--dept NAME_OR_ID is required") end
local ok, client = pcall(common.client, opts)
if not ok then common.die(client) end

local ran, failure = pcall(function()
  local dept
  for d in client.departments:each() do
    if d._id == opts.dept or d.name == opts.dept then dept = d end
  end
  if not dept then error("no department " .. opts.dept, 0) end
  local agents, load = {}, {}
  for m in client.team:each() do
    local u = type(m.id_user) == "table" and m.id_user or nil
    if u and m.role == "agent" and (m.user_available or opts.include_away) then
      agents[#agents + 1] = { id = u._id, name = u.email }
      load[u._id] = 0
    end
  end
  if #agents == 0 then error("no available agent", 0) end
  local waiting = {}
  for conv in client.requests:each{ status = { 100, 200 }, sort = "createdAt", direction = 1 } do
    if conv.status == 200 then
      for _, p in ipairs(conv.participants or {}) do
        if load[p] then load[p] = load[p] + 1 end
      end
    elseif type(conv.department) == "table" and conv.department._id == dept._id then
      waiting[#waiting + 1] = conv
    end
  end
  print(string.format("%d unassigned in %s, %d agents%s", #waiting, dept.name, #agents,
    opts.apply and "" or " (dry run: --apply to assign)"))
  for _, conv in ipairs(waiting) do
    local best
    for _, a in ipairs(agents) do
      if not best or load[a.id] < load[best.id] then best = a end
    end
    print(string.format("%s -> %s (%d open)", conv.request_id, best.name, load[best.id]))
    if opts.apply then assert(client.requests:add_participant(conv.request_id, best.id)) end
    load[best.id] = load[best.id] + 1
  end
end)
if not ran then common.die(failure) end
