-- GET /:pid/logs/flows/:id: the flow log of a conversation, or with type=webhook of a webhook
-- (routes/logs.js, services/logsService.js; agent role). The server reads the lines the flow
-- engine (tilebot) writes; the sandbox runs no flow engine and stands in with lines made from
-- the conversation's messages (an info line per message, "<sender>: <text>", and a debug line
-- naming its type and sender) for conversations that have or had a bot, plus the lines its
-- webhook dev runs write (sbx.api.webhook_dev). Paging and level filtering are the server's.
local store = require("sbx.store")
local util = require("sbx.util")
local conv = require("sbx.conv")

local logs = store.coll("flow_logs")
local messages = store.coll("messages")

local LEVELS = { error = 0, warn = 1, info = 2, debug = 3, native = 4 }

local api = {}

-- Appends a line to the log of a request id (and webhook id, for webhook runs).
function api.append(pid, where, level, text)
  local doc = logs:find_one(function(d) return d.request_id == where.request_id end)
  if not doc then
    doc = logs:insert{ id_project = pid, request_id = where.request_id, webhook_id = where.webhook_id, level = "info",
      rows = {}, longExp = where.webhook_id and store.iso(store.now_ms() + 1800 * 1000) or nil }
  end
  local last = doc.rows[#doc.rows]
  local ms = store.now_ms()
  -- strictly increasing timestamps, as a single writer's lines are
  if last and ms <= last.ms then ms = last.ms + 1 end
  doc.rows[#doc.rows + 1] = { _id = store.id(), text = text, level = level, nlevel = LEVELS[level], ms = ms }
  logs:touch(doc)
end

local function has_bot(r)
  for _, p in ipairs(r.participants or {}) do
    if type(p) == "string" and p:sub(1, 4) == "bot_" then return true end
  end
  return r.hasBot == true or (type(r.participantsBots) == "table" and #r.participantsBots > 0)
end

-- every line of the log, as { doc, row } pairs
local function lines_of(pid, id, webhook)
  local out = {}
  for _, d in ipairs(logs:find(function(d)
    if d.id_project ~= pid then return false end
    if webhook then return d.webhook_id == id and d.longExp ~= nil end
    return d.request_id == id
  end)) do
    for _, row in ipairs(d.rows) do out[#out + 1] = { doc = d, row = row } end
  end
  if not webhook then
    local r = conv.find(pid, id)
    if r and has_bot(r) then
      local doc = { _id = r._id, id_project = pid, request_id = id, level = "info", createdAt = r.createdAt,
        updatedAt = r.updatedAt, __v = 0 }
      -- in the order the messages came, each line a millisecond after the one before at least
      local prev = -1
      local function at(m)
        prev = math.max(store.ms_of(m.createdAt) or 0, prev + 1)
        return prev
      end
      for _, m in ipairs(messages:find(function(m) return m.recipient == id and m.id_project == pid end)) do
        out[#out + 1] = { doc = doc, row = { _id = m._id, level = "info", nlevel = 2, ms = at(m),
          text = (m.senderFullname or m.sender or "?") .. ": " .. tostring(m.text or "") } }
        out[#out + 1] = { doc = doc, row = { _id = m._id .. "d", level = "debug", nlevel = 3, ms = at(m),
          text = "message " .. tostring(m.type or "text") .. " from " .. tostring(m.sender) } }
      end
    end
  end
  table.sort(out, function(a, b)
    if a.row.ms ~= b.row.ms then return a.row.ms < b.row.ms end
    return a.row._id < b.row._id
  end)
  return out
end

-- one line as the server's aggregation ($unwind of rows) gives it
local function shape(l)
  local d = l.doc
  return { _id = d._id, id_project = d.id_project, request_id = d.request_id, webhook_id = d.webhook_id,
    level = d.level, longExp = d.longExp, createdAt = d.createdAt, updatedAt = d.updatedAt, __v = d.__v or 0,
    rows = { _id = l.row._id, text = l.row.text, level = l.row.level, nlevel = l.row.nlevel,
      timestamp = store.iso(l.row.ms) } }
end

function api.flow(ctx)
  local q = ctx.query
  local timestamp, direction = util.str(q.timestamp), util.str(q.direction)
  local level = util.str(q.logLevel)
  if level == nil or level == "" or level == "default" then level = "info" end
  local nlevel = LEVELS[level]
  local ts
  if timestamp and timestamp ~= "" then
    if direction ~= "prev" and direction ~= "next" then
      return 400, { success = false, error = "Missing or invalid 'direction' parameter. Use 'prev' or 'next'." }
    end
    ts = store.ms_of(timestamp)
  end
  local all = {}
  -- an unknown level matches no line ($lte against undefined), an unreadable date no line either
  if nlevel and (ts or not timestamp or timestamp == "") then
    for _, l in ipairs(lines_of(ctx.pid, ctx.params.lid, util.str(q.type) == "webhook")) do
      if l.row.nlevel <= nlevel then all[#all + 1] = l end
    end
  end
  local out = util.arr()
  if not ts then
    for i = math.max(1, #all - 19), #all do out[#out + 1] = shape(all[i]) end
  elseif direction == "prev" then
    local older = {}
    for _, l in ipairs(all) do if l.row.ms < ts then older[#older + 1] = l end end
    for i = math.max(1, #older - 9), #older do out[#out + 1] = shape(older[i]) end
  else
    for _, l in ipairs(all) do
      if l.row.ms > ts then
        out[#out + 1] = shape(l)
        if #out == 10 then break end
      end
    end
  end
  return 200, out
end

api.routes = {
  { "GET", "/:pid/logs/flows/:lid", "flow", { role = "agent" } },
}

return api
