-- Shared CRUD: the project-owned document lookup every area uses, and the whole handler set
-- of a plain project collection (properties, segments, roles), made from a description.
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")

local _M = {}

-- The document `id` (default the :id path parameter) of collection `coll` when it belongs to
-- the calling project, else nil.
function _M.owned(coll, ctx, id)
  local d = store.coll(coll):get(id or ctx.params.id)
  if not d or d.id_project ~= ctx.pid then return nil end
  return d
end

-- A finder for or_404: the document of `coll` the body names in `field` (id_faq_kb...), when
-- the project owns it.
function _M.named_in_body(coll, field)
  return function(ctx) return _M.owned(coll, ctx, (ctx.body or {})[field] or "") end
end

-- the bot named by id_faq_kb in the body (intents, training, ask)
_M.BOT_IN_BODY = _M.named_in_body("faq_kb", "id_faq_kb")

-- MongoDB's raw answer to a remove of n documents, as the server passes it on.
function _M.removed(n)
  return { n = n, ok = 1, deletedCount = n }
end

-- The handler that answers the server's 404 when `find` finds nothing for the request, else
-- fn(ctx, doc). `find` is a function of ctx, or a collection name (its project-owned :id).
function _M.or_404(find, fn)
  if type(find) == "string" then
    local coll = find
    find = function(ctx) return _M.owned(coll, ctx) end
  end
  return function(ctx)
    local d = find(ctx)
    if not d then return E.not_found() end
    return fn(ctx, d)
  end
end

-- The handler of a GET by id alone (findById: any project's document), 404 "Object not found."
-- when there is none.
function _M.by_id(coll)
  local c = store.coll(coll)
  return function(ctx)
    local d = c:get(ctx.params.id)
    if not d then return E.not_found() end
    return 200, d
  end
end

-- A remove by id alone (any project's document), answered with MongoDB's raw result.
function _M.remove_by_id(coll, id)
  local c = store.coll(coll)
  local d = c:get(id)
  if d then c:remove(d._id) end
  return 200, _M.removed(d and 1 or 0)
end

-- The handlers and routes of a plain collection, as an API module (sbx.router's contract):
--   path      "/:pid/<name>"
--   coll      collection name
--   access    route options of every route
--   required  fields a create needs (422 otherwise)
--   envelope  list answered as { perPage, count, [envelope] = items } (else a bare array)
--   soft      DELETE marks status 1000 (hidden from lists); DELETE .../physical removes
function _M.resource(spec)
  local c = store.coll(spec.coll)
  local api = {}

  function api.list(ctx)
    local limit, page = util.limit_page(ctx.query, 40)
    local list = c:find(function(d) return d.id_project == ctx.pid and (d.status or 100) < 1000 end)
    util.sort_query(list, ctx.query)
    local items = util.paginate(list, page, limit)
    if spec.envelope then return 200, { perPage = limit, count = #list, [spec.envelope] = items } end
    return 200, items
  end

  api.get = _M.or_404(spec.coll, function(_, d)
    return 200, d
  end)

  function api.create(ctx)
    local b = ctx.body or {}
    for _, k in ipairs(spec.required or {}) do
      if b[k] == nil or b[k] == "" then return E.validation{ util.invalid(k, b[k]) } end
    end
    local d = util.shallow(b)
    d._id, d.createdAt, d.updatedAt = nil, nil, nil
    d.id_project, d.createdBy = ctx.pid, ctx.principal.id
    c:insert(d)
    return 200, d
  end

  api.update = _M.or_404(spec.coll, function(ctx, d)
    for k, v in pairs(ctx.body or {}) do
      if k ~= "_id" and k ~= "id_project" then d[k] = v end
    end
    c:touch(d)
    return 200, d
  end)

  api.delete = _M.or_404(spec.coll, function(_, d)
    if spec.soft then
      c:update(d._id, { status = 1000 })
    else
      c:remove(d._id)
    end
    return 200, d
  end)

  api.delete_physical = _M.or_404(spec.coll, function(_, d)
    c:remove(d._id)
    return 200, _M.removed(1)
  end)

  local p, o = spec.path, spec.access
  api.routes = {
    { "GET", p, "list", o },
    { "GET", p .. "/:id", "get", o },
    { "POST", p, "create", o },
    { "PUT", p .. "/:id", "update", o },
    { "DELETE", p .. "/:id", "delete", o },
  }
  if spec.soft then api.routes[#api.routes + 1] = { "DELETE", p .. "/:id/physical", "delete_physical", o } end
  return api
end

return _M
