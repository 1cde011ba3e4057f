-- Small helpers shared by the resources: ids, uuids.
local _M = {}

local function random_bytes(n)
  local f = io.open("/dev/urandom", "rb")
  if f then
    local s = f:read(n)
    f:close()
    if s and #s == n then return s end
  end
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

-- RFC 4122 version 4 uuid, without dashes when compact is true. Not for secrets.
function _M.uuid(compact)
  local b = { random_bytes(16):byte(1, 16) }
  b[7] = b[7] % 16 + 64
  b[9] = b[9] % 64 + 128
  local hex = {}
  for i = 1, 16 do hex[i] = string.format("%02x", b[i]) end
  local s = table.concat(hex)
  if compact then return s end
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21)
end

-- The id format the server itself generates: support-group-<project_id>-<uuid without dashes>.
function _M.request_id(project_id)
  return "support-group-" .. tostring(project_id) .. "-" .. _M.uuid(true)
end

return _M
