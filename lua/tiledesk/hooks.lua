-- The on_request / on_response hooks: what they are shown of one exchange. Everything here is
-- built only when a hook is set, and holds no secret (tiledesk.redact: by name, and the values
-- the client holds by value).
local json = require("tiledesk.json")
local redact = require("tiledesk.redact")

local _M = {}

-- The request body as hooks see it; made once per call (x = the call state of tiledesk.send).
local function request_body(x)
  local body = x.req.body
  if x.shown_body == nil and body ~= nil then
    if x.hide_request then x.shown_body = redact.MARK
    elseif type(x.value) == "table" then x.shown_body = json.encode(redact.value(x.value, x.scrub)) or redact.MARK
    else x.shown_body = x.scrub(redact.body(body, json)) end
  end
  return x.shown_body
end

local function headers(x, h)
  return redact.headers(h, x.scrub)
end

-- on_request{ method, url, headers, body, attempt, op }
function _M.request(x, hook, attempt)
  hook{ method = x.req.method, url = x.shown_url, headers = headers(x, x.req.headers), body = request_body(x),
    attempt = attempt, op = x.op }
end

-- on_response{ method, url, status, headers, body, elapsed_ms, attempt, op, err }
-- (status, headers and body are nil when no response came; err says why)
function _M.response(x, hook, attempt, status, rheaders, shown, elapsed, err)
  hook{ method = x.req.method, url = x.shown_url, status = status, headers = status and headers(x, rheaders),
    body = shown and shown:safe_text() or nil, elapsed_ms = elapsed, attempt = attempt, op = x.op, err = err }
end

return _M
