-- Runs a list of steps against one transport and returns what happened as plain data (JSON-safe),
-- so the contract spec can drive every transport the same way: the curl and fake transports in
-- the busted process, the ngx transport inside nginx (spec/nginx/conf: location /contract posts
-- the steps here). A step is { op = ..., ... }; its result is { ok = true, value = ... } or
-- { ok = false, error = <message raised> }.
local _M = {}

-- Every string reachable from the transport's fields and from tostring(): the redaction check.
-- The fake's records (requests, pending) are its log of the wire and left out on purpose.
local function strings_of(t)
  local out, seen = {}, {}
  local function walk(v)
    local ty = type(v)
    if ty == "string" then out[#out + 1] = v
    elseif ty == "table" and not seen[v] then
      seen[v] = true
      for k, x in pairs(v) do
        if k ~= "requests" and k ~= "pending" then walk(k) walk(x) end
      end
      local mt = getmetatable(v)
      if mt and mt.__tostring then
        local ok, s = pcall(tostring, v)
        if ok then out[#out + 1] = s end
      end
    end
  end
  walk(t)
  return out
end

local function run_step(t, s, decode)
  local op = s.op
  if op == "set_credentials" then t:set_credentials(s.c) return true
  elseif op == "set_token" then t:set_token(s.token) return true
  elseif op == "drop_token" then t:set_token(nil) return true
  elseif op == "auth_kind" then return t:auth_kind()
  elseif op == "can_signin" then return t:can_signin()
  elseif op == "tostring" then return tostring(t)
  elseif op == "strings" then return strings_of(t)
  elseif op == "close" then t:close() return true
  elseif op == "send" then
    local status, headers, body = t:send(s.req)
    if not status then return { failed = true, msg = headers, kind = body and body.kind } end
    local echo = decode(body)
    return { status = status, echo = echo, connection = headers["x-sandbox-connection"] }
  end
  error("unknown step " .. tostring(op))
end

-- run(t, steps, decode) -> results (one per step). decode: JSON text -> table.
function _M.run(t, steps, decode)
  local results = {}
  for i, s in ipairs(steps) do
    local ok, v = pcall(run_step, t, s, decode)
    if ok then results[i] = { ok = true, value = v }
    else results[i] = { ok = false, error = tostring(v) } end
  end
  return results
end

return _M
