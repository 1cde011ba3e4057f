-- Proactive messages and broadcasts.
local M = {}
M.routes = {
  { "send", "POST", "/campaigns", body = "required", doc = "Proactive conversation with a lead (text, leadid, departmentid)" },
  { "broadcast", "POST", "/campaigns/direct", body = "required", doc = "Broadcast to a segment (segment_id, text)" },
}
return M
