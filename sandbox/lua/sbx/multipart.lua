-- multipart/form-data request bodies, as multer reads them: the parts by field name
-- ({ filename?, type?, data }), or nil when the body is not multipart.
local util = require("sbx.util")

local _M = {}

function _M.parts(ctx)
  local ctype = util.header_value(ctx.headers, "content-type") or ""
  local boundary = ctype:match("^multipart/form%-data;.*boundary=\"?([^\";]+)\"?")
  local body = ctx.raw_body
  if not boundary or not body then return nil end
  local delim = "--" .. boundary
  local out = {}
  local pos = body:find(delim, 1, true)
  local guard = 0
  while pos and guard < 1000 do
    guard = guard + 1
    local head_start = pos + #delim
    if body:sub(head_start, head_start + 1) == "--" then break end -- the closing delimiter
    local head_end = body:find("\r\n\r\n", head_start, true)
    if not head_end then break end
    local head = body:sub(head_start, head_end)
    local data_start = head_end + 4
    local next_pos = body:find("\r\n" .. delim, data_start, true)
    if not next_pos then break end
    local disp = head:match("[Cc]ontent%-[Dd]isposition:%s*([^\r\n]*)") or ""
    local name = disp:match('[^%w]name="([^"]*)"')
    if name and out[name] == nil then
      out[name] = { filename = disp:match('filename="([^"]*)"'), type = head:match("[Cc]ontent%-[Tt]ype:%s*([^\r\n;]+)"),
        data = body:sub(data_start, next_pos - 1) }
    end
    pos = next_pos + 2
  end
  return out
end

-- The text fields of a multipart body as a table (multer's req.body).
function _M.fields(parts)
  local out = {}
  for name, p in pairs(parts or {}) do
    if not p.filename then out[name] = p.data end
  end
  return out
end

-- Rows of a CSV text (fast-csv, no headers): fields split on `delim`, "quoted" fields kept whole.
function _M.csv_rows(text, delim)
  local rows = {}
  for line in (text or ""):gmatch("[^\r\n]+") do
    local row, i, n = {}, 1, #line
    while i <= n + 1 do
      if line:sub(i, i) == '"' then
        local j, buf = i + 1, {}
        while j <= n do
          local c = line:sub(j, j)
          if c == '"' and line:sub(j + 1, j + 1) == '"' then buf[#buf + 1] = '"' j = j + 2
          elseif c == '"' then j = j + 1 break
          else buf[#buf + 1] = c j = j + 1 end
        end
        row[#row + 1] = table.concat(buf)
        i = j + #delim
      else
        local j = line:find(delim, i, true) or (n + 1)
        row[#row + 1] = line:sub(i, j - 1)
        i = j + #delim
      end
    end
    rows[#rows + 1] = row
  end
  return rows
end

return _M
