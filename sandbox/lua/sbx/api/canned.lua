-- /:pid/canned: canned responses.
local store = require("sbx.store")
local util = require("sbx.util")
local or_404 = require("sbx.crud").or_404


local api = {}

-- canned responses: shared ones plus the caller's own; reading one needs to be its creator
local canned = store.coll("canned")
function api.list(ctx)
  local me = ctx.principal.id
  local text = util.str(ctx.query.full_text)
  text = text and text:lower()
  local list = canned:find(function(c)
    return c.id_project == ctx.pid and (c.status or 100) < 1000 and (c.shared or c.createdBy == me)
      and (not text or ((c.title or "") .. " " .. (c.text or "")):lower():find(text, 1, true) ~= nil)
  end)
  util.sort(list, util.str(ctx.query.sort) or "createdAt", util.str(ctx.query.direction))
  return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 1000)
end

api.get = or_404("canned", function(ctx, c)
  if c.createdBy ~= ctx.principal.id then return 403, { success = false, error = "You are not the creator" } end
  return 200, c
end)

function api.create(ctx)
  local b = ctx.body or {}
  if type(b.title) ~= "string" or type(b.text) ~= "string" then
    return 422, { errors = util.arr{ util.invalid(type(b.title) ~= "string" and "title" or "text", nil) } }
  end
  local role = ctx.principal.role
  local shared = (role == "owner" or role == "admin") or b.shared == true
  local c = canned:insert{ title = b.title, text = b.text, shared = shared, status = 100, id_project = ctx.pid,
    createdBy = ctx.principal.id }
  return 200, c
end

api.update = or_404("canned", function(ctx, c)
  local role = ctx.principal.role
  if c.createdBy ~= ctx.principal.id and role ~= "owner" and role ~= "admin" then
    return 403, { success = false, error = "You are not allowed to edit this canned response" }
  end
  local b = ctx.body or {}
  for _, k in ipairs({ "title", "text", "attributes" }) do if b[k] ~= nil then c[k] = b[k] end end
  canned:touch(c)
  return 200, c
end)

api.delete = or_404("canned", function(_, c)
  canned:update(c._id, { status = 1000 })
  return 200, c
end)

api.delete_physical = or_404("canned", function(_, c)
  canned:remove(c._id)
  return 200, { n = 1, ok = 1, deletedCount = 1 }
end)

api.routes = {
  { "GET", "/:pid/canned", "list", { role = "agent" } },
  { "GET", "/:pid/canned/:id", "get", { role = "agent" } },
  { "POST", "/:pid/canned", "create", { role = "agent" } },
  { "PUT", "/:pid/canned/:id", "update", { role = "agent" } },
  { "DELETE", "/:pid/canned/:id", "delete", { role = "agent" } },
  { "DELETE", "/:pid/canned/:id/physical", "delete_physical", { role = "agent" } },
}

return api
