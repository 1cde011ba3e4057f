-- /:pid/activities: the project's activity log.
local store = require("sbx.store")
local util = require("sbx.util")

local function parse_dmy(s, eod)
  s = util.str(s)
  local d, m, y = tostring(s or ""):match("^(%d%d?)/(%d%d?)/(%d%d%d%d)$")
  if not d then return nil end
  return store.civil_ms(tonumber(y), tonumber(m), tonumber(d), eod and 23 or 0, eod and 59 or 0, eod and 59 or 0)
end

local api = {}

-- activities
local acts = store.coll("activities")
local function act_filter(ctx)
  local q = ctx.query
  local verbs
  if q.activities then
    verbs = {}
    for _, v in ipairs(util.split(util.str(q.activities))) do verbs[v] = true end
  end
  local actor = util.str(q.agent_id)
  local from, to = parse_dmy(q.start_date, false), parse_dmy(q.end_date, true)
  local list = acts:find(function(a)
    if a.id_project ~= ctx.pid then return false end
    if verbs and not verbs[a.verb] then return false end
    if actor and (a.actor or {}).id ~= actor then return false end
    if from or to then
      local t = store.ms_of(a.createdAt) or 0
      if (from and t < from) or (to and t > to) then return false end
    end
    return true
  end)
  util.sort(list, util.str(q.sort) or "createdAt", util.str(q.direction))
  return list
end
-- Activities are seeded and recorded by sbx.conv (conversations opened and closed,
-- invitations, membership updates and deletes). Simplified: the server also adds a readable
-- text to each item and answers chart=true with a chart; the sandbox does neither.
function api.list(ctx)
  local limit = util.int(ctx.query.limit, 40)
  if limit <= 0 then limit = 40 end
  if limit > 100 then limit = 100 end
  local list = act_filter(ctx)
  return 200, { perPage = limit, count = #list,
    activities = util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), limit) }
end

function api.csv(ctx)
  local lines = { "createdAt;verb;actor;target" }
  for _, a in ipairs(act_filter(ctx)) do
    lines[#lines + 1] = table.concat({ a.createdAt, a.verb, (a.actor or {}).name or "", (a.target or {}).type or "" }, ";")
  end
  return 200, table.concat(lines, "\n") .. "\n", "text/csv; charset=utf-8"
end

api.routes = {
  { "GET", "/:pid/activities", "list", { role = "admin" } },
  { "GET", "/:pid/activities/csv", "csv", { role = "admin" } },
}

return api
