-- The server's error bodies (docs/server-api.md §4), ready to return from a handler.
local arr = require("sbx.json").arr

local _M = {}

function _M.not_found(msg) return 404, { success = false, msg = msg or "Object not found." } end
function _M.validation(list) return 422, { errors = arr(list) } end
function _M.bad_request(text) return 400, { success = false, error = text } end
function _M.forbidden(msg) return 403, { success = false, msg = msg or "Unauthorized." } end
function _M.server(msg) return 500, { success = false, msg = msg or "Error getting object." } end
function _M.role() return 403, { success = false, msg = "you dont have the required role." } end
function _M.not_member() return 403, { success = false, msg = "you dont belong to the project." } end
function _M.permission() return 403, { success = false, msg = "you dont have the required permission." } end

return _M
