-- Error values: the err table of `nil, msg, err`, and the text a server hides in its bodies.
local _M = {}

local Error = {}
Error.__name = "tiledesk.Error"
Error.__index = Error
function Error:__tostring()
  return self.msg or ("tiledesk error (" .. tostring(self.kind) .. ")")
end
_M.Error = Error

local REASONS = {
  [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [410] = "Gone", [413] = "Payload Too Large", [415] = "Unsupported Media Type",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}
_M.REASONS = REASONS

-- err = { kind, status, body, method, url, retry_after, attempts, code, msg }
function _M.new(fields)
  return setmetatable(fields, Error)
end

function _M.is(v)
  return getmetatable(v) == Error
end

-- Control bytes as \xNN, so that a server's text stays one line and cannot drive a terminal
-- (ESC sequences) when a message or a log line is shown.
local function escape_controls(c) return string.format("\\x%02X", c:byte()) end
function _M.escape(s)
  s = tostring(s)
  if not s:find("%c") then return s end
  return (s:gsub("%c", escape_controls))
end

-- How much of a server's text is read to find its words: enough for any real message, and a
-- bound on the work a hostile body can cause.
_M.TEXT_PREFIX = 16384

-- Tags out, in one pass: from each "<" to the next ">" (an unclosed "<" ends the scan).
local function strip_tags(s)
  if not s:find("<", 1, true) then return s end
  local out, from = {}, 1
  while true do
    local a = s:find("<", from, true)
    if not a then break end
    local b = s:find(">", a + 1, true)
    if not b then break end
    out[#out + 1] = s:sub(from, a - 1)
    out[#out + 1] = " "
    from = b + 1
  end
  out[#out + 1] = s:sub(from)
  return table.concat(out)
end

-- One line of at most `max` characters: markup and entities out, white space folded, control
-- bytes escaped. Reads at most TEXT_PREFIX bytes; every step is linear.
local function one_line(s, max)
  s = strip_tags(tostring(s):sub(1, _M.TEXT_PREFIX))
  s = s:gsub("&nbsp;", " "):gsub("&lt;", "<"):gsub("&gt;", ">"):gsub("&amp;", "&"):gsub("%s+", " ")
  s = _M.escape((s:gsub("^ ", ""):gsub(" $", "")))
  max = max or 200
  if #s > max then s = s:sub(1, max - 3) .. "..." end
  return s
end
_M.one_line = one_line

local function text_of(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

-- The server's own words, wherever this response keeps them (docs/server-api.md §4):
-- msg, message, error, err, errors[1].msg / errors[1], else the plain-text or HTML body.
function _M.server_text(decoded, body)
  if type(decoded) == "table" then
    local t = text_of(decoded.msg) or text_of(decoded.message) or text_of(decoded.error)
      or text_of(decoded.err)
    if not t and type(decoded.error) == "table" then
      t = text_of(decoded.error.message) or text_of(decoded.error.msg)
    end
    if not t and type(decoded.errors) == "table" then
      local first = decoded.errors[1]
      if type(first) == "table" then
        t = text_of(first.msg) or text_of(first.message)
        if t and type(first.param) == "string" then t = t .. " (" .. first.param .. ")" end
      else
        t = text_of(first)
      end
    end
    if t then return one_line(t) end
    return nil
  elseif type(decoded) == "string" then
    return one_line(decoded)
  end
  if type(body) == "string" and body ~= "" then
    -- express's HTML error page keeps the words in <pre>...</pre>
    body = body:sub(1, _M.TEXT_PREFIX)
    local a, b = body:find("<pre>", 1, true)
    local c = a and body:find("</pre>", b + 1, true)
    return one_line(c and body:sub(b + 1, c - 1) or body)
  end
  return nil
end

-- Whether an answer says the object does not exist: any 404 ("Object not found.", "Request not
-- found", express's "Cannot GET"), the project prefix check's 400 "Project not found with id",
-- and a 2xx {success:false} whose words say "not found" (e.g. "User not found." of a reset).
function _M.not_found(status, text)
  if status == 404 then return true end
  if type(text) ~= "string" then return false end
  if status == 400 then return text:find("^Project not found with id") ~= nil end
  if status >= 200 and status < 300 then return text:lower():find("not found", 1, true) ~= nil end
  return false
end

-- "<op>: HTTP 404 Not Found: Object not found."
function _M.http_message(op, status, decoded, body)
  local msg = op .. ": HTTP " .. status
  if REASONS[status] then msg = msg .. " " .. REASONS[status] end
  local text = _M.server_text(decoded, body)
  if text and text ~= REASONS[status] then msg = msg .. ": " .. text end
  return msg
end

-- First bytes of a body, printable, for decode errors.
function _M.preview(body, n)
  if type(body) ~= "string" then return "" end
  n = n or 60
  local s = body:sub(1, n):gsub("[%c]", " ")
  if #body > n then s = s .. "..." end
  return s
end

return _M
