-- /:pid/events: custom events.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local events = require("sbx.events")
local or_404 = require("sbx.crud").or_404


local api = {}

-- events
local evs = store.coll("events")
function api.create(ctx)
  local b = ctx.body or {}
  if type(b.name) ~= "string" or b.name == "" then return 422, { errors = util.arr{ util.invalid("name", b.name) } } end
  local pu = ctx.principal.pu
  local e = evs:insert{ name = b.name, attributes = b.attributes or {}, project_user = pu and pu._id, status = 100,
    id_project = ctx.pid, createdBy = ctx.principal.id }
  local payload = util.shallow(e)
  payload.project_user = pu and view.pu(pu) or nil
  payload.id = e._id
  events.emit(ctx.pid, "event.emit", payload)
  events.emit(ctx.pid, "event.emit." .. b.name, payload)
  return 200, e
end

function api.list(ctx)
  local pu = util.str(ctx.query.project_user)
  local list = evs:find(function(e) return e.id_project == ctx.pid and (not pu or e.project_user == pu) end)
  util.sort_query(list, ctx.query)
  return 200, { perPage = 40, count = #list, events = util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40) }
end

api.get = or_404("events", function(_, e)
  return 200, e
end)

api.routes = {
  { "POST", "/:pid/events", "create", { role = "guest", types = { "bot", "subscription" } } },
  { "GET", "/:pid/events", "list", { role = "agent" } },
  { "GET", "/:pid/events/:id", "get", { role = "agent" } },
}

return api
