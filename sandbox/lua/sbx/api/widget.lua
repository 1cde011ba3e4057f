-- What the chat widget reads when it starts, without authentication: GET /:pid/widgets
-- (routes/widget.js) and GET /:pid/publicanalytics/waiting/current (routes/public-analytics.js).
local store = require("sbx.store")
local util = require("sbx.util")
local view = require("sbx.view")

local api = {}

local AGENT_ROLES = { owner = true, admin = true, supervisor = true, agent = true }
-- the project settings the widget may see (widget.js keeps only these)
local SETTINGS = { "allowed_urls", "allowed_urls_list", "allow_send_emoji", "allowed_upload_extentions" }

function api.widgets(ctx)
  local proj = store.coll("projects"):get(ctx.pid)
  -- getProject finds nothing: `req.project.profile` throws and widget.js answers its 500
  if not proj or proj.status ~= 100 then return 500, { success = false, msg = "Error getting widget." } end
  local p = view.project(proj)
  p.ipFilter, p.ipFilterEnabled = nil, nil
  if type(proj.settings) == "table" then
    local s = {}
    for _, k in ipairs(SETTINGS) do s[k] = proj.settings[k] end
    p.settings = s
  end
  local _, open = require("sbx.api.projects").is_open({ params = { pid = ctx.pid } })
  local available = util.arr()
  if open and open.isopen then
    for _, pu in ipairs(store.coll("project_users"):all()) do
      if pu.id_project == ctx.pid and pu.user_available == true and AGENT_ROLES[pu.role] and pu.status == "active" then
        local u = pu.id_user and store.coll("users"):get(pu.id_user)
        if u then available[#available + 1] = { id = u._id, firstname = u.firstname } end
      end
    end
  end
  local departments = util.arr()
  for _, d in ipairs(store.coll("departments"):all()) do
    if d.id_project == ctx.pid and d.status == 1 then departments[#departments + 1] = view.department(d) end
  end
  local rules = util.arr()
  for _, b in ipairs(store.coll("faq_kb"):all()) do
    if b.id_project == ctx.pid and not b.trashed and type(b.attributes) == "table" and type(b.attributes.rules) == "table" then
      for _, r in ipairs(b.attributes.rules) do rules[#rules + 1] = r end
    end
  end
  local ip = util.header_value(ctx.headers, "x-forwarded-for")
  if ip == "" then ip = ngx.var.remote_addr end
  return 200, { project = p, user_available = available, departments = departments, ip = ip, botsRules = rules }
end

-- the average waiting_time of the conversations created in the last 4 hours; [] when there is none
function api.waiting_current(ctx)
  local since = store.now_ms() - 4 * 3600 * 1000
  local matched, sum, n = false, 0, 0
  for _, r in ipairs(store.coll("requests"):all()) do
    if r.id_project == ctx.pid and (store.ms_of(r.createdAt) or 0) >= since then
      matched = true
      local w = tonumber(r.waiting_time)
      if w then sum, n = sum + w, n + 1 end
    end
  end
  if not matched then return 200, util.arr() end
  return 200, util.arr{ { _id = ctx.pid, waiting_time_avg = n > 0 and sum / n or util.null } }
end

api.routes = {
  { "GET", "/:pid/widgets", "widgets", { auth = false } },
  { "GET", "/:pid/publicanalytics/waiting/current", "waiting_current", { auth = false } },
}

return api
