-- The sandbox's activities CSV export as the server writes it:
-- pubmodules/activities/routes/activity.js GET /csv builds one object per activity (buildCsv:
-- message, activity_id, ..., target_user_available, in that order) and sends it with csv-express
-- (separator ';': null and undefined empty, a plain decimal number bare, anything else String()
-- in quotes, CRLF). The message is the route's own text for PROJECT_USER_* verbs (lang 'it' in
-- Italian, English otherwise) and activityMessageUtil's default else (none for REQUEST_CREATE).
local helper = require("spec.helper")
local csv = require("tiledesk.csv")

local st = helper.sandbox()
local PID = st.project_id

local auth, api = helper.auth, helper.api

local HEADER = "message;activity_id;createdAt;updatedAt;project_id;actor_name;actor_id;actor_type;verb;"
  .. "target_user_fullname;target_email;target_type;target_user_id;actionObj_email;actionObj_id_project;"
  .. "actionObj_project_name;actionObj_role;actionObj_user_available;target_id;target_createdAt;target_createdBy;"
  .. "target_role;target_user_available"

-- Date.prototype.toString() of an ISO 8601 instant in UTC (String() of a stored date)
local function js_date(iso)
  local y, mo, d, hh, mm, ss = iso:match("^(%d+)%-(%d+)%-(%d+)T(%d+):(%d+):(%d+)")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local a = mo <= 2 and 1 or 0
  local yy, mm2 = y - a, mo + 12 * a - 3
  local days = 365 * yy + yy // 4 - yy // 100 + yy // 400 + (153 * mm2 + 2) // 5 + d - 1 - 719468
  local t = days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
  return os.date("!%a %b %d %Y %H:%M:%S", t) .. " GMT+0000 (Coordinated Universal Time)"
end

-- csv-express's field for a string: quoted, inner quotes doubled
local function q(s) return '"' .. s:gsub('"', '""') .. '"' end

local function export(query)
  local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/activities/csv" .. (query or ""), nil,
    auth("admin"))
  assert.equal(200, status)
  assert.equal("text/csv; charset=utf-8", h["content-type"])
  return text
end

-- The raw lines (CRLF ends, every line ended) and the records keyed by the header.
local function parse(text)
  assert.equal("\r\n", text:sub(-2))
  local lines = {}
  for l in text:gmatch("(.-)\r\n") do lines[#lines + 1] = l end
  local recs = {}
  for rec in csv.records(text, { separator = ";" }) do recs[#recs + 1] = rec end
  return lines, recs
end

-- the activity of this verb whose target is id, as the list gives it
local function activity(verb, target_id)
  local _, page = api("admin", "GET", "/activities?activities=" .. verb .. "&limit=100")
  for _, a in ipairs(page.activities) do
    if a.target and a.target.id == target_id then return a end
  end
  error("no " .. verb .. " activity for " .. target_id)
end

local function membership(role)
  local _, list = api("owner", "GET", "/project_users")
  for _, pu in ipairs(list) do if pu.role == role then return pu end end
end

describe("sandbox activities CSV", function()
  before_each(helper.reset)

  it("writes a conversation's REQUEST_CREATE with the server's fields, in its order, and no message", function()
    local rid = string.format("support-group-%s-%032x", PID, 0xac7001)
    local _, m = api("agent", "POST", "/requests/" .. rid .. "/messages", { text = "hello" })
    local r = m.request
    local a = activity("REQUEST_CREATE", r._id)
    local lines = parse(export("?activities=REQUEST_CREATE"))
    assert.equal(HEADER, lines[1])
    local want = table.concat({
      q(""), -- message: REQUEST_CREATE has no text (buildMsg_REQUEST_CREATE returns undefined)
      q(a._id), q(js_date(a.createdAt)), q(js_date(a.updatedAt)), q(PID),
      "", -- actor_name: the sandbox's actor carries no name (undefined)
      q(a.actor.id), q("user"), q("REQUEST_CREATE"),
      q(""), q(""), q("request"), q(""), -- no id_user, no e-mail on the target: ''
      q(""), q(PID), q(""), q(""), q(""), -- actionObj is the request: only id_project is set
      q(r._id), q(js_date(a.target.object.createdAt)), q(a.target.object.createdBy),
      "", "", -- target_role, target_user_available: undefined
    }, ";")
    local found = false
    for i = 2, #lines do if lines[i] == want then found = true end end
    assert.is_true(found, "no line " .. want)
    -- in Italian the same: the verb has no text in any language
    found = false
    for _, l in ipairs((parse(export("?activities=REQUEST_CREATE&lang=it")))) do
      if l:find(q(a._id), 1, true) then
        assert.equal(want, l)
        found = true
      end
    end
    assert.is_true(found)
  end)

  it("writes a PROJECT_USER_UPDATE with the route's text, in English and in Italian", function()
    local pu = membership("agent")
    api("owner", "PUT", "/project_users/" .. pu._id, { role = "admin" })
    local a = activity("PROJECT_USER_UPDATE", pu._id)
    local uid = a.target.object.id_user._id
    local function rec_of(query)
      local lines, recs = parse(export(query))
      assert.equal(HEADER, lines[1])
      for i, rec in ipairs(recs) do
        if rec.activity_id == a._id then return rec, lines[i + 1] end
      end
      error("activity not exported")
    end
    local rec, line = rec_of("?activities=PROJECT_USER_UPDATE")
    assert.equal("Olivia Owner has changed the role of Alice Agent into Administrator", rec.message)
    assert.equal(table.concat({ q(rec.message), q(a._id), q(js_date(a.createdAt)), q(js_date(a.updatedAt)), q(PID),
      q("Olivia Owner"), q(st.users.owner._id), q("user"), q("PROJECT_USER_UPDATE"), q("Alice Agent"), q(""),
      q("project_user"), q(uid), q(""), q(""), q(""), q("admin"), q(""), q(pu._id),
      q(js_date(a.target.object.createdAt)), q(a.target.object.createdBy), q("admin"), q("true") }, ";"), line)
    rec = rec_of("?activities=PROJECT_USER_UPDATE&lang=it")
    assert.equal("Olivia Owner ha cambiato il ruolo di Alice Agent in Amministratore", rec.message)
    -- availability: false is no value for actionObj_user_available (''), the member's own field
    -- is written as String(false)
    api("owner", "PUT", "/project_users/" .. pu._id, { user_available = false })
    a = activity("PROJECT_USER_UPDATE", pu._id) -- the newest first
    rec = rec_of("?activities=PROJECT_USER_UPDATE")
    assert.equal("Olivia Owner has changed the availability status of Alice Agent into unavailable", rec.message)
    assert.equal("", rec.actionObj_user_available)
    assert.equal("false", rec.target_user_available)
    rec = rec_of("?activities=PROJECT_USER_UPDATE&lang=it")
    assert.equal("Olivia Owner ha cambiato lo stato di disponibilità di Alice Agent in non disponibile", rec.message)
  end)

  it("writes invitations and removals as the route words them", function()
    local invited = api("owner", "POST", "/project_users/invite", { email = "nobody-yet@example.com", role = "agent" })
    assert.equal(200, invited)
    local agent = membership("agent")
    api("owner", "DELETE", "/project_users/" .. agent._id .. "?hard=true")
    local _, recs = parse(export("?activities=PROJECT_USER_INVITE,PROJECT_USER_DELETE"))
    local by_verb = {}
    for _, rec in ipairs(recs) do by_verb[rec.verb] = by_verb[rec.verb] or rec end
    -- a pending invitation: no name (no member yet) and no e-mail after it
    assert.equal("Olivia Owner has invited  to take on the role of", by_verb.PROJECT_USER_INVITE.message)
    assert.equal("nobody-yet@example.com", by_verb.PROJECT_USER_INVITE.target_email)
    assert.equal("Olivia Owner has removed Alice Agent from the project", by_verb.PROJECT_USER_DELETE.message)
  end)

  it("writes a lone line end when nothing matches", function()
    assert.equal("\r\n", export("?activities=NO_SUCH_VERB"))
  end)
end)
