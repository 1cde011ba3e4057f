-- /:pid/activities: the project's activity log.
local store = require("sbx.store")
local util = require("sbx.util")
local dates = require("sbx.dates")

local api = {}

local acts = store.coll("activities")

-- pubmodules/activities/routes/activity.js: verbs (comma-separated), agent_id (actor, target
-- member or involved user), dates (sbx.dates.activities_range: DD/MM/YYYY in UTC, no
-- timezone). nil when a date cannot be read.
local function act_filter(ctx, csv)
  local q = ctx.query
  local verbs
  if q.activities then
    verbs = {}
    for _, v in ipairs(util.split(util.str(q.activities))) do verbs[v] = true end
  end
  local actor = util.str(q.agent_id)
  local range = dates.activities_range(q.start_date, q.end_date, csv, store.now_ms())
  if not range then return nil end
  local list = acts:find(function(a)
    if a.id_project ~= ctx.pid then return false end
    if verbs and not verbs[a.verb] then return false end
    if actor then
      local member = type(a.target) == "table" and type(a.target.object) == "table" and a.target.object.id_user
      local member_id = type(member) == "table" and member._id or member
      if (a.actor or {}).id ~= actor and member_id ~= actor and not util.contains(a.involvedUserIds, actor) then
        return false
      end
    end
    if not dates.inside(range, store.ms_of(a.createdAt) or 0) then return false end
    return true
  end)
  return util.sort_query(list, q)
end
-- Activities are seeded and recorded by sbx.conv (conversations opened and closed,
-- invitations, membership updates and deletes). Simplified: the server also adds a readable
-- text to each item and answers chart=true with a chart; the sandbox does neither.
function api.list(ctx)
  local limit, page = util.limit_page(ctx.query, 40, 100)
  local list = act_filter(ctx, false)
  if not list then return 500, { success = false, msg = "Error getting activities." } end
  return 200, { perPage = limit, count = #list,
    activities = util.paginate(list, page, limit) }
end

function api.csv(ctx)
  local list = act_filter(ctx, true)
  -- the server's handler throws on an unreadable date (toISOString of an invalid Date)
  if not list then error("activities csv: unreadable date", 0) end
  local lines = { "createdAt;verb;actor;target" }
  for _, a in ipairs(util.csv_page(list, ctx.query)) do
    lines[#lines + 1] = table.concat({ a.createdAt, a.verb, (a.actor or {}).name or "", (a.target or {}).type or "" }, ";")
  end
  return 200, table.concat(lines, "\n") .. "\n", "text/csv; charset=utf-8"
end

api.routes = {
  { "GET", "/:pid/activities", "list", { role = "admin" } },
  { "GET", "/:pid/activities/csv", "csv", { role = "admin" } },
}

return api
