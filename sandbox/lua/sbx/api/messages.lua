-- /:pid/requests/:rid/messages and /:pid/messages (the server's routes/message.js).
local store = require("sbx.store")
local util = require("sbx.util")
local E = require("sbx.errors")
local conv = require("sbx.conv")
local events = require("sbx.events")

local FIRST_ONLY = { "departmentid", "sourcePage", "userAgent", "request_status", "subject", "preflight", "location",
  "participants", "priority", "followers" }

local csvx = require("sbx.csvx")
local fastcsv = require("sbx.fastcsv")

local api = {}

local member = { types = { "bot", "subscription" } }
local msgs = store.coll("messages")
function api.list_of_request(ctx)
  return 200, conv.messages(ctx.pid, ctx.params.rid)
end

-- routes/message.js GET /csv: res.csv(messages, true) through csv-express (sbx.csvx), over
-- Message.find(...).sort({createdAt: 'asc'}) without lean(): mongoose 5 documents, whose own
-- enumerable properties csv-express reads, not the message's fields (those are on _doc): the
-- same header and the same line for every message, whatever it says.
local DOC_KEYS = { "$__", "isNew", "errors", "$locals", "$op", "_doc", "$init" }
local OBJECT = {} -- String() of an object: "[object Object]"
local DOC_VALUES = { ["$__"] = OBJECT, isNew = false, ["$locals"] = OBJECT, ["$op"] = util.null, _doc = OBJECT,
  ["$init"] = true }
function api.csv_of_request(ctx)
  local rows = {}
  for i in ipairs(conv.messages(ctx.pid, ctx.params.rid)) do rows[i] = { keys = DOC_KEYS, values = DOC_VALUES } end
  return 200, csvx.body(rows), "text/csv; charset=utf-8"
end

function api.get(ctx)
  local m = msgs:get(ctx.params.mid)
  if not m or m.recipient ~= ctx.params.rid or m.id_project ~= ctx.pid then return E.not_found() end
  return 200, m
end


local function send_one(ctx, b, req)
  local p = ctx.principal
  local mtype = b.type or "text"
  if (mtype == "text") and (type(b.text) ~= "string" or b.text == "") then
    return 422, { errors = util.arr{ "text field is required" } }
  end
  local f = util.shallow(b)
  if p.kind == "bot" then
    f.sender = f.sender or ("bot_" .. p.id)
    f.senderFullname = f.senderFullname or (p.bot and p.bot.name)
  elseif not f.sender then
    f.sender = p.id
    if not f.senderFullname then
      local u = p.user or {}
      local name = ((u.firstname or "") .. " " .. (u.lastname or "")):gsub("^%s+", ""):gsub("%s+$", "")
      if name ~= "" then f.senderFullname = name end
    end
  end
  if not req then
    -- the first message creates the conversation (and its lead); an explicit sender other
    -- than the caller must be an active member of the project and becomes the requester
    local requester_pu
    if b.sender ~= nil and b.sender ~= p.id then
      requester_pu = store.coll("project_users"):find_one(function(x)
        return x.id_project == ctx.pid and (x.id_user == b.sender or x.uuid_user == b.sender)
          and x.status == "active"
      end)
      if not requester_pu then
        -- routes/message.js POST /: the same words, two spaces before the colon
        return 403, { success = false, msg = "Unauthorized. Project_user not found with user id  : " .. tostring(b.sender) }
      end
    end
    local cf = {}
    for _, k in ipairs(FIRST_ONLY) do cf[k] = b[k] end
    cf.request_id = ctx.params.rid
    cf.first_text = b.text
    cf.sender = f.sender
    cf.senderFullname = f.senderFullname
    cf.email = b.email
    cf.language = b.language
    cf.channel = b.channel
    cf.attributes = b.attributes
    cf.requester_pu = requester_pu
    req = conv.create(ctx.pid, cf, p)
  end
  local m = conv.add_message(ctx.pid, req, f, p)
  local out = util.shallow(m)
  out.request = conv.view(req)
  return 200, out
end

function api.send(ctx)
  local b = ctx.body
  if type(b) ~= "table" then b = {} end
  local req = conv.find(ctx.pid, ctx.params.rid)
  if not req and ctx.params.rid:find("[^%w%-_]") then
    return 422, { errors = util.arr{ util.invalid("request_id", ctx.params.rid, "params") } }
  end
  return send_one(ctx, b, req)
end

function api.send_multi(ctx)
  local req = conv.find(ctx.pid, ctx.params.rid)
  -- routes/message.js POST /multi: its own words (err is the lookup's error: null)
  if not req then return 404, { success = false, msg = "Request doesn't exist.", err = util.null } end
  if type(ctx.body) ~= "table" or #ctx.body == 0 then
    return 422, { errors = util.arr{ util.invalid("messages", ctx.body) } }
  end
  local out = util.arr()
  for _, b in ipairs(ctx.body) do
    local status, m = send_one(ctx, type(b) == "table" and b or {}, req)
    if status ~= 200 then return status, m end
    m.request = nil
    out[#out + 1] = m
  end
  return 200, out
end

function api.send_direct(ctx)
  local b = ctx.body or {}
  local errs = {}
  if type(b.recipient) ~= "string" or b.recipient == "" then errs[#errs + 1] = util.invalid("recipient", b.recipient) end
  if type(b.recipientFullname) ~= "string" then errs[#errs + 1] = util.invalid("recipientFullname", b.recipientFullname) end
  if #errs > 0 then return 422, { errors = util.arr(errs) } end
  local p = ctx.principal
  local m = msgs:insert{ sender = b.sender or p.id, senderFullname = b.senderFullname or "Guest", recipient = b.recipient,
    recipientFullname = b.recipientFullname, text = b.text, type = b.type or "text", metadata = b.metadata,
    attributes = b.attributes, language = b.language or "en", channel_type = b.channel_type or "direct",
    channel = b.channel or { name = "chat21" }, status = 0, id_project = ctx.pid, createdBy = p.id }
  -- outside a conversation: resthooks, and a bot addressed directly as recipient bot_<id>
  events.emit(ctx.pid, "message.create", util.shallow(m))
  events.message_created(ctx.pid, m, nil)
  return 200, m
end

function api.list(ctx)
  local limit = util.int(ctx.query.limit, 10)
  if limit > 50 or limit < 1 then limit = 10 end
  local page = math.max(0, util.int(ctx.query.page, 0))
  local list = msgs:find(function(m) return m.id_project == ctx.pid end)
  util.sort(list, "createdAt", -1)
  return 200, util.paginate(list, page, limit)
end

-- routes/messagesRoot.js GET /csv: the raw documents of a MongoDB cursor (mquery's stream(),
-- no sort: the order they were stored in) without channel, attributes and metadata, piped
-- through fast-csv's format({ headers: true }) (sbx.fastcsv), after writeHead(200, text/csv).
-- A stored message's fields come in the order messageService.save gives them: _id first (MongoDB
-- puts it there), the schema's defaults, the fields it sets, the timestamps, the version.
local MESSAGE_FIELDS = { "_id", "senderFullname", "type", "channel_type", "status", "sender", "recipient",
  "recipientFullname", "text", "id_project", "createdBy", "language", "createdAt", "updatedAt", "__v" }
local MESSAGE_DATES = { createdAt = true, updatedAt = true }
function api.csv(ctx)
  local rows = {}
  for i, m in ipairs(msgs:find(function(m) return m.id_project == ctx.pid end)) do
    local keys = {}
    for _, k in ipairs(MESSAGE_FIELDS) do
      if m[k] ~= nil then keys[#keys + 1] = k end
    end
    rows[i] = { keys = keys, values = m, dates = MESSAGE_DATES }
  end
  return 200, fastcsv.body(rows), "text/csv", { ["Content-Disposition"] = "attachment; filename=export.csv" }
end

api.routes = {
  { "GET", "/:pid/requests/:rid/messages", "list_of_request", member },
  { "GET", "/:pid/requests/:rid/messages/csv", "csv_of_request", member },
  { "GET", "/:pid/requests/:rid/messages/:mid", "get", member },
  { "POST", "/:pid/requests/:rid/messages", "send", member },
  { "POST", "/:pid/requests/:rid/messages/multi", "send_multi", member },
  { "POST", "/:pid/messages", "send_direct", { role = "agent", types = { "bot", "subscription" } } },
  { "GET", "/:pid/messages", "list", { role = "owner" } },
  { "GET", "/:pid/messages/csv", "csv", { role = "owner" } },
}

return api
