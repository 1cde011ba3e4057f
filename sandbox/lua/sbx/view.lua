-- How documents look on the wire: no passwords or secrets, populated references.
local store = require("sbx.store")
local util = require("sbx.util")

local _M = {}

-- firstname and lastname with the blanks at the end trimmed (the gsub only where there are some)
local function full_name(u)
  local s = (u.firstname or "") .. " " .. (u.lastname or "")
  local b = s:byte(-1)
  if b == 32 or (b >= 9 and b <= 13) then s = s:gsub("%s+$", "") end
  return s
end

function _M.user(u)
  if not u then return nil end
  return { _id = u._id, email = u.email, firstname = u.firstname, lastname = u.lastname,
    emailverified = u.emailverified, attributes = u.attributes, description = u.description,
    public_email = u.public_email, public_website = u.public_website, phone = u.phone, status = u.status,
    fullName = full_name(u), createdAt = u.createdAt, updatedAt = u.updatedAt, __v = u.__v, id = u._id }
end

-- The virtuals of a project_user's toJSON (models/project_user.js: toJSON { virtuals: true },
-- which a populated project_user inside another document's toJSON applies too): `id`, and
-- `isAuthenticated`, false for the guest role only.
local function pu_virtuals(out, pu)
  out.id = pu._id
  out.isAuthenticated = pu.role ~= "guest"
end

-- A project_user with its user populated and its virtuals, and the `extra` fields. `overlay`: an
-- answer only written out, made with json.overlay instead of a copy.
function _M.pu(pu, extra, overlay)
  if not pu then return nil end
  local out = overlay and util.json.overlay(pu) or util.shallow(pu, 2) -- id, isAuthenticated
  if pu.id_user then out.id_user = _M.user(store.coll("users"):get(pu.id_user)) or pu.id_user end
  pu_virtuals(out, pu)
  if extra then
    for k, v in pairs(extra) do out[k] = v end
  end
  return out
end

-- A project_user as the routes that write one answer it (the document the update or save gave
-- back, sent before any populate ends): its virtuals, id_user the user's id, not populated.
function _M.pu_doc(pu)
  if not pu then return nil end
  local out = util.shallow(pu, 2) -- id, isAuthenticated
  pu_virtuals(out, pu)
  return out
end

-- A copy for the wire: `id` beside `_id`, the secret field left out.
local function wire(doc, secret_field)
  local out = util.shallow(doc)
  out[secret_field] = nil
  out.id = doc._id
  return out
end

-- models/project.js toJSON { virtuals: true }: id, and the plan's virtuals (sbx.plan)
function _M.project(p)
  if not p then return nil end
  local out = wire(p, "jwtSecret")
  for k, v in pairs(require("sbx.plan").virtuals(p, store.now_ms())) do out[k] = v end
  return out
end

-- models/faq_kb.js sets no toJSON virtuals: a bot goes out without `id`
function _M.bot(b)
  if not b then return nil end
  local out = util.shallow(b)
  out.secret = nil
  return out
end

-- models/department.js as a document comes out of mongoose: the schema's defaults filled in
-- where the stored document has no such field (a hydrated document gets them: an upserted one
-- too), and toJSON { virtuals: true }: `id`, `hasBot` (id_bot neither null nor absent); the
-- `bot` populate virtual, never populated by the routes, stays out.
local DEPT_DEFAULTS = { routing = "pooled", default = false, status = 1 }
function _M.department(d)
  if d == nil or d == util.null then return d end
  local out = util.shallow(d, 4)
  for k, v in pairs(DEPT_DEFAULTS) do
    if out[k] == nil then out[k] = v end
  end
  if out.groups == nil then out.groups = util.arr() end
  if out.tags == nil then out.tags = util.arr() end
  out.id = d._id
  out.hasBot = d.id_bot ~= nil and d.id_bot ~= util.null
  return out
end

-- models/group.js: the defaults (members [], enabled true) where the document has none; no
-- toJSON options, so no `id`.
function _M.group(g)
  if g == nil or g == util.null then return g end
  local out = util.shallow(g)
  if out.members == nil then out.members = util.arr() end
  if out.enabled == nil then out.enabled = true end
  return out
end

function _M.sub(s, with_secret)
  local out = util.shallow(s)
  if not with_secret then out.secret = nil end
  out.id = s._id
  return out
end

return _M
