-- One response as the caller may be shown it: decoded once, secrets taken out once, on demand.
-- The send loop, hooks, the log line, messages and err tables all read the same object.
local json = require("tiledesk.json")
local redact = require("tiledesk.redact")
local E = require("tiledesk.error")

local _M = {}

local Shown = {}

local function is_json_type(ct)
  -- (lower-case first: "application/json" needs no copy of the value)
  return type(ct) == "string" and (ct:find("json", 1, true) or ct:lower():find("json", 1, true)) ~= nil
end

-- The Content-Type of a headers table (the first, when it came more than once).
function _M.content_type(headers)
  local ct = headers and headers["content-type"]
  if type(ct) == "table" then ct = ct[1] end
  return ct
end

-- The headers table of what a transport returned: its table, or (asked for with raw_headers)
-- the raw header block, parsed here by the C core, only when something reads the headers.
local core_headers
function _M.headers(h)
  if type(h) ~= "string" then return h end
  if not core_headers then core_headers = require("tiledesk.core").headers end
  return core_headers(h)
end

-- json and decode_error are decoded on first use: a raw call (client:request, CSV) that nobody
-- asks to decode costs no decode.
local function decode(self)
  local body = self.body
  if type(body) == "string" and body ~= "" and is_json_type(self.ctype) then
    local v, derr = json.decode(body)
    if v == nil and derr then rawset(self, "decode_error", derr) else rawset(self, "json", v) end
  end
  rawset(self, "decoded", true)
end
-- The decoded body (nil when it is not JSON, or not decodable), decoded once: what shown.json
-- gives, without the metamethod.
function _M.json_of(shown)
  if not rawget(shown, "decoded") then decode(shown) end
  return rawget(shown, "json")
end

Shown.__index = function(self, k)
  local m = Shown[k]
  if m ~= nil then return m end
  if (k == "json" or k == "decode_error") and not rawget(self, "decoded") then
    decode(self)
    return rawget(self, k)
  end
  return nil
end


local function keep(s) return s end

-- ctype: the Content-Type (the body is decoded only when it says JSON). hide: the body is a
-- secret (sign-in answers): never shown at all. scrub: hides the secret values the client holds
-- (tiledesk.redact.scrubber).
function _M.new(ctype, body, hide, scrub)
  return setmetatable({ body = body, ctype = ctype, hide = hide, scrub = scrub or keep }, Shown)
end

-- A response table for client:request: status, headers, body, attempts, url, retry_after, and
-- json / decode_error decoded when first read. headers is made when first read from _head (what
-- the transport returned: a table, or the raw block), then kept as a plain field.
local Res = {}
Res.__index = function(self, k)
  if k == "json" or k == "decode_error" then return rawget(self, "_shown")[k] end
  if k == "headers" then
    local h = _M.headers(rawget(self, "_head")) or {}
    rawset(self, "headers", h)
    return h
  end
  return nil
end
function _M.result(fields)
  return setmetatable(fields, Res)
end

-- the decoded body with its secret values replaced (nil when not JSON)
function Shown:safe_json()
  if self.json == nil or self.hide then return nil end
  if self.redacted == nil then self.redacted = redact.value(self.json, self.scrub) end
  return self.redacted
end

-- the body text for hooks
function Shown:safe_text()
  if self.hide then return redact.MARK end
  local j = self:safe_json()
  if type(j) == "table" then return json.encode(j) or redact.MARK end
  return self.scrub(redact.body(self.body, json))
end

-- the body an err table may carry: decoded and redacted, or the redacted text
function Shown:safe_body()
  if self.hide then return nil end
  local j = self:safe_json()
  if j ~= nil then return j end
  return self.scrub(redact.body(self.body, json))
end

-- the server's words, for a log line or a message (read from a bounded prefix of a text body)
function Shown:server_text()
  if self.hide then return nil end
  local j = self:safe_json()
  if type(j) == "table" then return E.server_text(j) end
  local body = self.body
  if type(body) == "string" and #body > E.TEXT_PREFIX then body = body:sub(1, E.TEXT_PREFIX) end
  return E.server_text(nil, self.scrub(redact.body(body, json)))
end

return _M
