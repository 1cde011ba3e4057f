-- The log line: one line per HTTP exchange (operation, method, URL, outcome, time, attempt);
-- a failure adds the server's own words or the transport's reason, so that "my bot never
-- answers" shows up in the log.
local _M = {}

-- The sink of `log = true`.
function _M.stderr(line)
  io.stderr:write(line, "\n")
end

-- The `log` option as a function, or nil (no log).
function _M.sink(opt)
  if opt == true then return _M.stderr end
  if opt == false then return nil end
  return opt
end

-- shown_url is already redacted; note (optional) is already safe to show.
function _M.line(op, method, shown_url, outcome, elapsed, attempt, note)
  return string.format("tiledesk: %s %s %s -> %s in %d ms (attempt %d)%s", op, method, shown_url,
    tostring(outcome), math.floor(elapsed + 0.5), attempt, note and (": " .. note) or "")
end

return _M
