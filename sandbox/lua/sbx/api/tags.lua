-- /:pid/tags: the project's tag library.
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local or_404 = require("sbx.crud").or_404

local agent = { role = "agent", types = { "bot", "subscription" } }

local api = {}

-- tag library: 40 per page, duplicates return the existing tag
local tags = store.coll("tags")
function api.list(ctx)
  local list = tags:find(function(t) return t.id_project == ctx.pid end)
  util.sort_query(list, ctx.query)
  return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40)
end

api.get = or_404("tags", function(_, t)
  return 200, t
end)

function api.create(ctx)
  local b = ctx.body or {}
  if type(b.tag) ~= "string" or b.tag == "" then return 422, { errors = util.arr{ util.invalid("tag", b.tag) } } end
  local t = tags:find_one(function(x) return x.id_project == ctx.pid and x.tag == b.tag end)
  if t then return 200, t end
  return 200, tags:insert{ tag = b.tag, color = b.color or "#43B1F2", id_project = ctx.pid, createdBy = ctx.principal.id }
end

api.update = or_404("tags", function(ctx, t)
  local b = ctx.body or {}
  t.tag, t.color = b.tag, b.color
  tags:touch(t)
  return 200, t
end)

api.delete = or_404("tags", function(_, t)
  tags:remove(t._id)
  return 200, crud.removed(1)
end)

api.routes = {
  { "GET", "/:pid/tags", "list", agent },
  { "GET", "/:pid/tags/:id", "get", agent },
  { "POST", "/:pid/tags", "create", agent },
  { "PUT", "/:pid/tags/:id", "update", agent },
  { "DELETE", "/:pid/tags/:id", "delete", agent },
}

return api
