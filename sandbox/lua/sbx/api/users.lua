-- /users: the caller's own account; /users_util: public profiles.
local store = require("sbx.store")
local view = require("sbx.view")
local E = require("sbx.errors")

local UPDATABLE = { "firstname", "lastname", "attributes", "description", "public_email", "public_website", "phone" }

local api = {}

local function me(ctx)
  local p = ctx.principal
  if p.kind ~= "user" then return nil end
  return p.user
end
function api.me(ctx)
  local u = me(ctx)
  if not u then return 200, ctx.principal.payload end
  return 200, view.user(u)
end

function api.update_me(ctx)
  local u = me(ctx)
  if not u then return E.forbidden() end
  local b = ctx.body or {}
  local set = {}
  for _, k in ipairs(UPDATABLE) do if b[k] ~= nil then set[k] = b[k] end end
  store.coll("users"):update(u._id, set)
  return 200, { success = true, updatedUser = view.user(u) }
end

function api.change_password(ctx)
  local u = me(ctx)
  if not u then return E.forbidden() end
  local b = ctx.body or {}
  if type(b.oldpsw) ~= "string" or type(b.newpsw) ~= "string" or b.newpsw == "" then
    return 422, { errors = require("sbx.json").arr{ require("sbx.util").invalid("newpsw", b.newpsw) } }
  end
  if u.password ~= b.oldpsw then return 401, { success = false, msg = "Current password is invalid." } end
  if b.oldpsw == b.newpsw then return 403, { success = false, msg = "The new password must be different" } end
  store.coll("users"):update(u._id, { password = b.newpsw })
  return 200, { message = "Password change successful" }
end

function api.resend_verify_email(ctx)
  if not me(ctx) then return E.forbidden() end
  return 200, { success = true, message = "Verification email successfully sent" }
end

function api.delete_me(ctx)
  local u = me(ctx)
  if not u then return E.forbidden() end
  store.coll("users"):update(u._id, { status = 0, email = u._id .. "@deleted", firstname = "Deleted", lastname = "User" })
  return 200, { success = true, updatedUser = view.user(u) }
end

function api.get_by_id(ctx)
  local u = store.coll("users"):get(ctx.params.id)
  if not u then return E.not_found() end
  return 200, { _id = u._id, firstname = u.firstname, lastname = u.lastname, public_website = u.public_website,
    public_email = u.public_email, description = u.description }
end

api.routes = {
  { "GET", "/users", "me" },
  { "PUT", "/users", "update_me" },
  { "PUT", "/users/changepsw", "change_password" },
  { "GET", "/users/resendverifyemail", "resend_verify_email" },
  { "DELETE", "/users", "delete_me" },
  { "GET", "/users_util/:id", "get_by_id", { auth = false } },
}

return api
