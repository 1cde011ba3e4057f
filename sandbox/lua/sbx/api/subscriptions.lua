-- /:pid/subscriptions: resthook subscriptions.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local crypto = require("sbx.crypto")
local or_404 = require("sbx.crud").or_404

local api = {}

-- subscriptions (resthooks)
local subs = store.coll("subscriptions")
local admin = { role = "admin" }
function api.create(ctx)
  local b = ctx.body or {}
  local errs = {}
  if type(b.event) ~= "string" or b.event == "" then errs[#errs + 1] = util.invalid("event", b.event) end
  if type(b.target) ~= "string" or not b.target:match("^https?://") then errs[#errs + 1] = util.invalid("target", b.target) end
  if #errs > 0 then return 422, { errors = util.arr(errs) } end
  local s = subs:find_one(function(x) return x.id_project == ctx.pid and x.event == b.event and x.target == b.target end)
  if not s then
    s = subs:insert{ event = b.event, target = b.target, id_project = ctx.pid, createdBy = ctx.principal.id,
      secret = crypto.hex(crypto.random(16)) }
  end
  return 200, view.sub(s, true), nil, { ["x-hook-secret"] = s.secret }
end

function api.list(ctx)
  local out = util.arr()
  for _, s in ipairs(subs:all()) do if s.id_project == ctx.pid then out[#out + 1] = view.sub(s) end end
  return 200, out
end

function api.history(ctx)
  local list = store.coll("subscription_logs"):find(function(l) return l.id_project == ctx.pid end)
  util.sort(list, "createdAt", -1)
  return 200, util.paginate(list, math.max(0, util.int(ctx.query.page, 0)), 40)
end

api.get = or_404("subscriptions", function(_, s)
  return 200, view.sub(s)
end)

api.update = or_404("subscriptions", function(ctx, s)
  local b = ctx.body or {}
  if b.event ~= nil then s.event = b.event end
  if b.target ~= nil then s.target = b.target end
  subs:touch(s)
  return 200, view.sub(s)
end)

api.delete = or_404("subscriptions", function(_, s)
  subs:remove(s._id)
  return 200, view.sub(s)
end)

api.routes = {
  { "POST", "/:pid/subscriptions", "create", admin },
  { "GET", "/:pid/subscriptions", "list", admin },
  { "GET", "/:pid/subscriptions/history", "history", admin },
  { "GET", "/:pid/subscriptions/:id", "get", admin },
  { "PUT", "/:pid/subscriptions/:id", "update", admin },
  { "DELETE", "/:pid/subscriptions/:id", "delete", admin },
}

return api
