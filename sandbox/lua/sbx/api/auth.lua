-- /auth/*: sign-in, sign-up, anonymous and custom-token sign-in; /testauth.
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")
local jwt = require("sbx.jwt")

local function valid_email(e)
  return type(e) == "string" and e:match("^[^@%s]+@[^@%s]+%.[^@%s]+$") ~= nil
end

local api = {}

local app = require("sbx.app")
local open = { auth = false }

function api.signin(ctx)
  local b = ctx.body or {}
  local errs = {}
  if not valid_email(b.email) then errs[#errs + 1] = util.invalid("email", b.email) end
  if type(b.password) ~= "string" or b.password == "" then errs[#errs + 1] = util.invalid("password", b.password) end
  if #errs > 0 then return 422, { errors = util.arr(errs) } end
  local u = app.find_user_by_email(b.email)
  if not u then return 401, { success = false, msg = "Authentication failed. User not found." } end
  if not require("sbx.crypto").equal(u.password, b.password) then
    return 401, { success = false, msg = "Authentication failed. Wrong password." }
  end
  return 200, { success = true, token = app.user_token(u), user = { _id = u._id, email = u.email,
    firstname = u.firstname, lastname = u.lastname, emailverified = u.emailverified } }
end


function api.signup(ctx)
  local b = ctx.body or {}
  local errs = {}
  if not valid_email(b.email) then errs[#errs + 1] = util.invalid("email", b.email) end
  if type(b.firstname) ~= "string" or b.firstname == "" then errs[#errs + 1] = util.invalid("firstname", b.firstname) end
  if type(b.lastname) ~= "string" or b.lastname == "" then errs[#errs + 1] = util.invalid("lastname", b.lastname) end
  if #errs > 0 then return 422, { errors = util.arr(errs) } end
  if type(b.password) ~= "string" or b.password == "" then
    return 200, { success = false, msg = "Please pass email and password." }
  end
  if app.find_user_by_email(b.email) then
    return 403, { success = false, message = "Email already registered" }
  end
  local u = store.coll("users"):insert{ email = b.email:lower(), firstname = b.firstname, lastname = b.lastname,
    password = b.password, phone = b.phone, emailverified = false, status = 100 }
  require("sbx.events").emit(nil, "user.signup", view.user(u))
  return 200, { success = true, msg = "Successfully created new user.", user = view.user(u) }
end


function api.signin_anonymously(ctx)
  local b = ctx.body or {}
  if type(b.id_project) ~= "string" or b.id_project == "" then
    return 422, { errors = util.arr{ util.invalid("id_project", b.id_project) } }
  end
  local project = store.coll("projects"):get(b.id_project)
  if not project or project.status ~= 100 then
    return 400, { success = false, msg = "Project not found with id: " .. b.id_project }
  end
  local uuid = store.uuid()
  local first = b.firstname or ("guest#" .. uuid:sub(1, 4))
  local user = { _id = uuid, firstname = first, lastname = b.lastname, email = b.email,
    attributes = b.attributes, id = uuid, fullName = first .. (b.lastname and (" " .. b.lastname) or "") }
  store.coll("project_users"):insert{ id_project = project._id, uuid_user = uuid, role = "guest", roleType = 2,
    user_available = false, status = "active", trashed = false, attributes = {}, tags = {} }
  local token = app.sign_with_global{ _id = uuid, firstname = first, lastname = b.lastname, email = b.email,
    attributes = b.attributes, id_project = project._id, iat = ngx.time(), aud = "https://tiledesk.com",
    iss = "https://tiledesk.com", sub = "guest", jti = store.uuid() }
  return 200, { success = true, token = "JWT " .. token, user = user }
end


function api.signin_with_custom_token(ctx)
  local h = ctx.headers.authorization
  local value = type(h) == "string" and h:match("^[Jj][Ww][Tt]%s+(.+)$")
  if not value then return 401, "Unauthorized", "text/plain; charset=utf-8" end
  local _, payload = jwt.peek(value)
  if not payload then return 401, "Unauthorized", "text/plain; charset=utf-8" end
  if payload.aud == nil then return 400, { success = false, msg = "JWT Aud field is required" } end
  local pid = type(payload.aud) == "string" and payload.aud:match("^https://tiledesk%.com/projects/(%x+)$")
  if not pid and payload.aud == "https://tiledesk.com" then pid = (ctx.body or {}).id_project end
  local project = pid and store.coll("projects"):get(pid)
  if not project or not project.jwtSecret or payload.sub ~= "userexternal" then
    return 401, "Unauthorized", "text/plain; charset=utf-8"
  end
  local verified = jwt.verify(value, project.jwtSecret)
  if not verified or verified._id == nil then return 401, "Unauthorized", "text/plain; charset=utf-8" end
  local pus = store.coll("project_users")
  local role = verified.role
  if role == "owner" or role == "admin" or role == "agent" then
    local email = type(verified.email) == "string" and verified.email:lower() or (tostring(verified._id) .. "@custom.sandbox.test")
    local u = app.find_user_by_email(email)
    if not u then
      u = store.coll("users"):insert{ email = email, firstname = verified.firstname, lastname = verified.lastname,
        password = store.uuid(), emailverified = true, status = 100 }
    end
    local pu = pus:find_one(function(x) return x.id_project == pid and x.id_user == u._id end)
    if not pu then
      pus:insert{ id_project = pid, id_user = u._id, role = role, roleType = 1, user_available = true,
        status = "active", trashed = false, attributes = {}, tags = {} }
    elseif pu.status ~= "active" then
      return 401, { success = false, msg = "Authentication failed. Project_user not active." }
    end
    return 200, { success = true, token = app.user_token(u), user = view.user(u) }
  end
  local uid = tostring(verified._id)
  if not pus:find_one(function(x) return x.id_project == pid and x.uuid_user == uid end) then
    pus:insert{ id_project = pid, uuid_user = uid, role = "user", roleType = 2, user_available = false,
      status = "active", trashed = false, attributes = verified.attributes or {}, tags = {} }
  end
  return 200, { success = true, token = "JWT " .. value, user = verified }
end


function api.testauth()
  return 200, '{"success":true}', "text/html; charset=utf-8"
end

function api.test_role()
  return 200, '{"success":true}', "text/html; charset=utf-8"
end

function api.test_bot_role()
  return 200, '{"success":true}', "text/html; charset=utf-8"
end

api.routes = {
  { "POST", "/auth/signin", "signin", open },
  { "POST", "/auth/signup", "signup", open },
  { "POST", "/auth/signinAnonymously", "signin_anonymously", open },
  { "POST", "/auth/signinWithCustomToken", "signin_with_custom_token", open },
  { "GET", "/testauth", "testauth" },
  { "GET", "/:pid/authtestWithRoleCheck", "test_role", { role = "guest" } },
  { "GET", "/:pid/authtestWithRoleCheck/bot", "test_bot_role", { types = { "bot" }, role = "owner" } },
}

return api
