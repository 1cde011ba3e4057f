-- Flow logs: the lines a bot's flow (tilebot) writes while it runs a conversation or a
-- webhook, kept by the server for a while (routes/logs.js; agent role).
local check = require("tiledesk.check")
local url = require("tiledesk.url")
local E = require("tiledesk.error")

local M = {}

M.routes = {
  { "flow", "GET", "/logs/flows/{}", params = { "id" }, role = "agent",
    filters = { timestamp = "an ISO time to page from (with direction)", direction = "prev (10 older) or next (10 newer)",
      logLevel = "error, warn, info (default), debug or native", type = "webhook: the id is a webhook's" },
    doc = "Flow log lines of a conversation (request_id) or, with type = \"webhook\", of a webhook: the last 20, "
      .. "or 10 before (direction = \"prev\") or after (\"next\") a timestamp; logLevel error|warn|info (default)|debug",
    example = 'local lines = assert(client.logs:flow(rid, { logLevel = "debug" }))' },
  { "each_flow", "GET", "/logs/flows/{}", params = { "id" }, skip = true, role = "agent",
    call = "client.logs:each_flow(id, { direction = , timestamp = , level = , webhook = , max_items = })",
    doc = "Iterator over the whole flow log, back from the newest line (or forward from a timestamp)" },
  { "tail", "GET", "/logs/flows/{}", params = { "id" }, skip = true, role = "agent",
    call = "client.logs:tail(id, { level = , webhook = , interval = , idle = , max_items = })",
    doc = "Iterator that follows new flow log lines, like tail -f, until the log stays quiet" },
}

local LEVELS = { error = true, warn = true, info = true, debug = true, native = true, default = true }
local is_level = function(v) return LEVELS[v] == true or "error, warn, info, debug, native or default" end

local function ts_of(entry)
  local row = type(entry) == "table" and entry.rows
  return type(row) == "table" and row.timestamp or nil
end

-- one page of lines, oldest first; nil, msg, err on failure
local function fetch(self, op, id, opts, direction, timestamp)
  local q = { logLevel = opts.level, type = opts.webhook and "webhook" or nil }
  if timestamp then q.timestamp, q.direction = timestamp, direction end
  local list, msg, err = self.client:call(op, { method = "GET", path = "/logs/flows/" .. url.segment(id), query = q })
  if list == nil then return nil, msg, err end
  if type(list) ~= "table" then
    local m = op .. ": unexpected response shape (no array of lines)"
    return nil, m, E.new{ kind = "decode", msg = m }
  end
  return list
end

local function raise(msg, err)
  if type(err) == "table" then
    err.msg = err.msg or msg
    error(E.is(err) and err or E.new(err), 3)
  end
  error(msg, 3)
end

local FLOW_OPTS = { direction = function(v) return v == "prev" or v == "next" or '"prev" or "next"' end,
  timestamp = check.is_str, level = is_level, webhook = check.is_bool, max_items = check.is_count }

-- An iterator over lines, asking `more()` for the next list of them (nil: the end), and
-- stopping after max_items lines.
local function lines(max_items, more)
  local buf, i, seen = {}, 0, 0
  return function()
    while true do
      if max_items and seen >= max_items then return nil end
      if i < #buf then
        i = i + 1
        seen = seen + 1
        return buf[i]
      end
      local list = more()
      if not list then return nil end
      buf, i = list, 0
    end
  end
end

M.methods = {}

-- each_flow(id, opts): every line of the log, in pages of 10. direction "prev" (default) goes
-- back in time from opts.timestamp (or from the newest line), newest first; "next" goes
-- forward from opts.timestamp (default: the beginning), oldest first. The server pages by
-- timestamp (strictly before/after), so lines written in the same millisecond as a page's
-- edge may be passed over.
function M.methods:each_flow(id, opts)
  local op = "logs:each_flow()"
  check.str(op, 1, "id", id, 2)
  opts = check.options(op, 2, opts, FLOW_OPTS, 2)
  local back = opts.direction ~= "next"
  local cursor = opts.timestamp or (not back and "1970-01-01T00:00:00.000Z") or nil
  local done, pages = false, 0
  return lines(opts.max_items, function()
    if done or pages >= 100000 then return nil end
    pages = pages + 1
    local list, msg, err = fetch(self, op, id, opts, back and "prev" or "next", cursor)
    if not list then raise(msg, err) end
    if #list == 0 then return nil end
    local page = list
    if back then
      page = {}
      for k = #list, 1, -1 do page[#page + 1] = list[k] end
    end
    local edge = ts_of(page[#page])
    -- no timestamp to go on from: this page was the last one
    if not edge or edge == cursor then done = true end
    cursor = edge
    return page
  end)
end

local TAIL_OPTS = { level = is_level, webhook = check.is_bool, interval = check.is_ms, idle = check.is_ms,
  max_items = check.is_count }

-- tail(id, opts): the last lines (up to 20), then the new ones as they come, asking every
-- opts.interval ms (default 2000); ends when no line came for opts.idle ms (default 60000) or
-- after opts.max_items lines. Waits with the transport's clock (it yields inside OpenResty).
function M.methods:tail(id, opts)
  local op = "logs:tail()"
  check.str(op, 1, "id", id, 2)
  opts = check.options(op, 2, opts, TAIL_OPTS, 2)
  local t = self.client._transport
  local interval = opts.interval or 2000
  local idle = opts.idle or 60000
  local cursor, quiet_since
  return lines(opts.max_items, function()
    if quiet_since then
      if t:now_ms() - quiet_since >= idle then return nil end
      t:sleep_ms(interval)
    end
    local list, msg, err = fetch(self, op, id, opts, "next", cursor)
    if not list then raise(msg, err) end
    if #list > 0 then
      cursor = ts_of(list[#list]) or cursor
      quiet_since = t:now_ms()
    elseif not quiet_since then
      quiet_since = t:now_ms()
    end
    return list
  end)
end

M.docs = {
  each_flow = {
    syntax = "for line in client.logs:each_flow(id, { direction?, timestamp?, level?, webhook?, max_items? }) do ... end",
    doc = "Every line of a flow log, asked 10 at a time: back in time from `timestamp` (or the newest line) with "
      .. "`direction = \"prev\"` (the default), or forward from `timestamp` (or the beginning) with `\"next\"`. "
      .. "A line is the server's log entry with the line in `rows` (`text`, `level`, `timestamp`); `webhook = true` "
      .. "reads a webhook's log. The server pages by timestamp, so lines of the same millisecond as a page's edge "
      .. "may be passed over. Raises on failure",
    example = 'for e in client.logs:each_flow(rid, { level = "debug", max_items = 100 }) do print(e.rows.timestamp, e.rows.text) end' },
  tail = {
    syntax = "for line in client.logs:tail(id, { level?, webhook?, interval?, idle?, max_items? }) do ... end",
    doc = "Follows a flow log like `tail -f`: the last lines (up to 20), then new ones, asking every `interval` ms "
      .. "(2000); ends after `idle` ms (60000) without a new line or after `max_items` lines. Raises on failure",
    example = 'for e in client.logs:tail(rid, { idle = 10000 }) do print(e.rows.level, e.rows.text) end' },
}

return M
