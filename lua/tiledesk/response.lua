-- One response as the caller may be shown it: decoded once, secrets taken out once, on demand.
-- The send loop, hooks, the log line, messages and err tables all read the same object.
local json = require("tiledesk.json")
local redact = require("tiledesk.redact")
local E = require("tiledesk.error")

local _M = {}

local find, lower = string.find, string.lower
-- content type -> whether it says JSON, for the few a client meets (bounded)
local JSON_TYPES, json_types = {}, 0
local function is_json_type(ct)
  local known = ct ~= nil and JSON_TYPES[ct]
  if known ~= nil then return known end
  if type(ct) ~= "string" then return false end
  -- (lower-case first: "application/json" needs no copy of the value)
  known = (find(ct, "json", 1, true) or find(lower(ct), "json", 1, true)) ~= nil
  if json_types >= 32 then JSON_TYPES, json_types = {}, 0 end
  JSON_TYPES[ct], json_types = known, json_types + 1
  return known
end
_M.is_json_type = is_json_type

-- The Content-Type of a headers table (the first, when it came more than once); nil for anything
-- else (a raw block comes with its content type: the transport gives it).
function _M.content_type(headers)
  if type(headers) ~= "table" then return nil end
  local ct = headers["content-type"]
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
  if type(body) == "string" and body ~= "" and is_json_type(rawget(self, "_ctype")) then
    local v, derr = json.decode(body)
    if v == nil and derr then rawset(self, "decode_error", derr) else rawset(self, "json", v) end
  end
  rawset(self, "_decoded", true)
end
-- The decoded body (nil when it is not JSON, or not decodable), decoded once: what res.json
-- gives, without the metamethod.
function _M.json_of(res)
  if not rawget(res, "_decoded") then decode(res) end
  return rawget(res, "json")
end

-- The response object: one per answer (per attempt), and the one of the final answer is what
-- client:request returns. Plain fields: status, body, attempts, url, retry_after (the last three
-- set by the send loop on the final one); made when first read: json, decode_error, headers;
-- internal: _head (what the transport returned as headers: a table, or the raw block), _ctype,
-- _hide, _scrub. Methods (safe_json ...) come through the metatable.
local Res = {}
local methods = {}
Res.__index = function(self, k)
  local m = methods[k]
  if m ~= nil then return m end
  if k == "json" or k == "decode_error" then
    if rawget(self, "_decoded") then return nil end
    decode(self)
    return rawget(self, k)
  end
  if k == "headers" then
    local h = _M.headers(rawget(self, "_head")) or {}
    rawset(self, "headers", h)
    return h
  end
  return nil
end

local function keep(s) return s end

-- status; head: the transport's headers (a table, or the raw block); ctype: the Content-Type
-- (the body is decoded only when it says JSON). hide: the body is a secret (sign-in answers):
-- never shown at all. scrub: hides the secret values the client holds (tiledesk.redact.scrubber).
-- attempts, url: of the final answer, when known now (else the send loop sets them).
function _M.new(status, head, body, ctype, hide, scrub, attempts, url)
  -- (attempts and url are named even when nil: the table is made with room for them; json and
  -- decode_error, when read, make it grow)
  local res = setmetatable({ status = status, body = body, _head = head, _ctype = ctype, _scrub = scrub or keep,
    attempts = attempts, url = url }, Res)
  if hide then res._hide = true end
  return res
end

-- the decoded body with its secret values replaced (nil when not JSON)
function methods.safe_json(self)
  if self.json == nil or self._hide then return nil end
  local r = rawget(self, "_redacted")
  if r == nil then
    r = redact.value(self.json, self._scrub)
    rawset(self, "_redacted", r)
  end
  return r
end

-- the body text for hooks
function methods.safe_text(self)
  if self._hide then return redact.MARK end
  local j = self:safe_json()
  if type(j) == "table" then return json.encode(j) or redact.MARK end
  return self._scrub(redact.body(self.body, json))
end

-- the body an err table may carry: decoded and redacted, or the redacted text
function methods.safe_body(self)
  if self._hide then return nil end
  local j = self:safe_json()
  if j ~= nil then return j end
  return self._scrub(redact.body(self.body, json))
end

-- the server's words, for a log line or a message (read from a bounded prefix of a text body)
function methods.server_text(self)
  if self._hide then return nil end
  local j = self:safe_json()
  if type(j) == "table" then return E.server_text(j) end
  local body = self.body
  if type(body) == "string" and #body > E.TEXT_PREFIX then body = body:sub(1, E.TEXT_PREFIX) end
  return E.server_text(nil, self._scrub(redact.body(body, json)))
end

return _M
