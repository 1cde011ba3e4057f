-- /:pid/tags: the project's tag library.
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")

local agent = { role = "agent", types = { "bot", "subscription" } }

local api = {}

-- routes/tag.js and models/tagLibrary.js: 40 a page; the name is required by the model (a
-- save error without it) and unique in a project (the existing tag answers a duplicate); reads,
-- changes and deletes go by id alone, changes as an upsert writing both fields (null when
-- missing), deletes answering MongoDB's raw result.
local tags = store.coll("tags")
function api.list(ctx)
  local list = tags:find(function(t) return t.id_project == ctx.pid end)
  util.sort_query(list, ctx.query)
  return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40)
end

-- by id alone
api.get = crud.by_id("tags")

function api.create(ctx)
  local b = ctx.body or {}
  if type(b.tag) ~= "string" or b.tag == "" then return 500, { success = false, msg = "Error saving object." } end
  local t = tags:find_one(function(x) return x.id_project == ctx.pid and x.tag == b.tag end)
  if t then return 200, t end
  return 200, tags:insert{ tag = b.tag, color = b.color, id_project = ctx.pid, createdBy = ctx.principal.id }
end

function api.update(ctx)
  local b = ctx.body or {}
  local t = tags:get(ctx.params.id) or tags:insert{ _id = ctx.params.id }
  local function written(v) if v == nil then return util.null end return v end
  return 200, tags:update(t._id, { tag = written(b.tag), color = written(b.color) })
end

function api.delete(ctx) return crud.remove_by_id("tags", ctx.params.id) end

api.routes = {
  { "GET", "/:pid/tags", "list", agent },
  { "GET", "/:pid/tags/:id", "get", agent },
  { "POST", "/:pid/tags", "create", agent },
  { "PUT", "/:pid/tags/:id", "update", agent },
  { "DELETE", "/:pid/tags/:id", "delete", agent },
}

return api
