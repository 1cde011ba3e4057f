-- /:pid/canned: canned responses.
local crud = require("sbx.crud")
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")
local owned = require("sbx.crud").owned

local api = {}

-- pubmodules/canned/cannedResponseRoute.js
local canned = store.coll("canned")

-- A project member of the agent kind (roleType 1) whose role is not one the route names.
local function agent_kind(ctx)
  local pu = ctx.principal.pu
  return pu and (pu.roleType or 1) == 1
end

-- The list: the project's live responses that are shared (or older ones without the flag) or
-- the caller's, 1000 a page. full_text: the server asks MongoDB for a $text search, but the
-- canned collection has no text index (commented out in cannedResponse.js): MongoDB refuses
-- the query and the server never answers. The sandbox answers that refusal as a 500.
function api.list(ctx)
  if ctx.query.full_text and ctx.query.full_text ~= "" then
    return 500, { success = false, msg = "Error getting object." }
  end
  local me = ctx.principal.id
  local list = canned:find(function(c)
    return c.id_project == ctx.pid and (c.status or 100) < 1000 and (c.shared ~= false or c.createdBy == me)
  end)
  util.sort_query(list, ctx.query)
  return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 1000)
end

-- By id alone (any project); only its creator may read it.
function api.get(ctx)
  local c = canned:get(ctx.params.id)
  if not c then return E.not_found() end
  if c.createdBy ~= ctx.principal.id then
    return 403, { success = false, msg = "You are not allowed to get a canned response that is not yours." }
  end
  return 200, c
end

-- No validation: text is required by the model (a save error without it). Owners and admins
-- share what they write; other agent-kind members share when they ask.
function api.create(ctx)
  local b = ctx.body or {}
  if type(b.text) ~= "string" or b.text == "" then return 500, { success = false, msg = "Error saving object." } end
  local role = ctx.principal.role
  local shared = role == "owner" or role == "admin" or (agent_kind(ctx) and b.shared == true)
  return 200, canned:insert{ title = b.title, text = b.text, shared = shared, status = 100, id_project = ctx.pid,
    createdBy = ctx.principal.id }
end

-- The checks before a change ("modify" or "delete"): nil when allowed, else status, body.
local function refused(ctx, c, verb)
  local role, me = ctx.principal.role, ctx.principal.id
  if role == "agent" then
    if c.createdBy ~= me then
      return 403, { success = false, error = "You are not allowed to " .. verb .. " a canned response that is not yours." }
    end
  elseif role == "owner" or role == "admin" then
    if c.shared == false then
      return 403, { success = false, error = "Not allowed to " .. verb .. " a non administration canned response" }
    end
  elseif agent_kind(ctx) then
    if c.shared == false and c.createdBy ~= me then
      return 403, { success = false, error = "Not allowed to " .. verb .. " a non administration canned response" }
    end
  else
    return 401, { success = false, error = "Unauthorized" }
  end
  return nil
end

-- A change handler: the project's response of :id (404 with the server's text), the checks
-- of `refused`, then fn(ctx, response).
local function change(verb, fn)
  return function(ctx)
    local c = owned("canned", ctx)
    if not c then
      return 404, { success = false,
        error = "Canned response not found with id " .. ctx.params.id .. " for project " .. ctx.pid }
    end
    local status, body = refused(ctx, c, verb)
    if status then return status, body end
    return fn(ctx, c)
  end
end

api.update = change("modify", function(ctx, c)
  local b = ctx.body or {}
  for _, k in ipairs({ "title", "text", "attributes" }) do if b[k] ~= nil then c[k] = b[k] end end
  canned:touch(c)
  return 200, c
end)

api.delete = change("delete", function(_, c)
  return 200, canned:update(c._id, { status = 1000 })
end)

api.delete_physical = change("delete", function(_, c)
  canned:remove(c._id)
  return 200, crud.removed(1)
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
