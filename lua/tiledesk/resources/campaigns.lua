-- Proactive messages and broadcasts.
local M = {}
M.routes = {
  { "send", "POST", "/campaigns", body = "required", doc = "Proactive conversation with a lead (text, leadid, departmentid)",
    example = 'client.campaigns:send{ leadid = lead._id, text = "Your order has shipped!", departmentid = dep_id }' },
  { "broadcast", "POST", "/campaigns/direct", body = "required", doc = "Broadcast to a segment (segment_id, text)",
    example = 'client.campaigns:broadcast{ segment_id = segment_id, text = "We are open this Sunday" }' },
}
return M
