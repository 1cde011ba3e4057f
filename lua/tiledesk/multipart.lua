-- multipart/form-data bodies (uploads): one file part, then text fields, as the server's
-- multer reads them (`upload.single(<field>)` for the file, req.body for the text fields).
local util = require("tiledesk.util")

local _M = {}

-- a value in a quoted header parameter: no quote, backslash or line break may break it
local function quoted(s) return (tostring(s):gsub('[%c"\\]', "_")) end

-- body(file, fields) -> body string, content-type header value
--   file   = { field = "file", name = "invoice.pdf", type = "application/pdf", content = "..." }
--   fields = { { "delimiter", ";" }, ... } text parts, in order (values made strings)
function _M.body(file, fields)
  local boundary = "tiledesk-lua-" .. util.uuid(true)
  local parts = {
    "--", boundary, "\r\n",
    'Content-Disposition: form-data; name="', quoted(file.field), '"; filename="', quoted(file.name), '"\r\n',
    "Content-Type: ", file.type, "\r\n\r\n",
    file.content, "\r\n",
  }
  for _, f in ipairs(fields or {}) do
    local n = #parts
    parts[n + 1], parts[n + 2], parts[n + 3] = "--", boundary, "\r\n"
    parts[n + 4] = 'Content-Disposition: form-data; name="' .. quoted(f[1]) .. '"\r\n\r\n'
    parts[n + 5] = tostring(f[2])
    parts[n + 6] = "\r\n"
  end
  parts[#parts + 1] = "--" .. boundary .. "--\r\n"
  return table.concat(parts), "multipart/form-data; boundary=" .. boundary
end

return _M
