-- /:pid/campaigns: proactive messages to a lead or a segment.
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")
local conv = require("sbx.conv")
local owned = require("sbx.crud").owned


local api = {}

-- campaigns and emails
function api.send(ctx)
  local b = ctx.body or {}
  if type(b.text) ~= "string" or b.text == "" then return 422, { errors = util.arr{ util.invalid("text", b.text) } } end
  local lead = b.leadid and owned("leads", ctx, b.leadid)
  if not lead then return E.not_found() end
  local req = b.request_id and conv.find(ctx.pid, b.request_id)
  if not req then
    local pu = conv.requester_pu(ctx.pid, { id = lead.lead_id })
    req = conv.create(ctx.pid, { request_id = b.request_id, first_text = b.text, departmentid = b.departmentid,
      lead_doc = lead, requester_pu = pu, sender = lead.lead_id, senderFullname = lead.fullname }, ctx.principal)
  end
  local m = conv.add_message(ctx.pid, req, { text = b.text, type = b.type, metadata = b.metadata,
    attributes = b.attributes, sender = b.sender or ctx.principal.id }, ctx.principal)
  return 200, m
end

-- Simplified: the server queues a job that writes to every lead of the segment; the sandbox
-- records the job (collection campaign_jobs) and sends nothing.
function api.send_direct(ctx)
  local b = ctx.body or {}
  if not b.segment_id or not owned("segments", ctx, b.segment_id) then return E.not_found() end
  store.coll("campaign_jobs"):insert{ id_project = ctx.pid, segment_id = b.segment_id, text = b.text }
  return 200, { queued = true }
end

api.routes = {
  { "POST", "/:pid/campaigns", "send", { role = "agent" } },
  { "POST", "/:pid/campaigns/direct", "send_direct", { role = "agent" } },
}

return api
