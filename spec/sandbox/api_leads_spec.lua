-- The sandbox's leads / contacts (the server's routes/lead.js): list envelope and filters,
-- CRUD, merges, tags, soft and physical deletes, CSV.
local helper = require("spec.helper")

local st = helper.sandbox()
local PID = st.project_id

local auth, api = helper.auth, helper.api
local cjson = require("cjson")

describe("sandbox leads", function()
  before_each(function()
    helper.reset()
  end)

  it("lists an envelope of 40 by default, pages from 0, and counts all matches", function()
    local status, b = api("agent", "GET", "/leads")
    assert.equal(200, status)
    assert.equal(40, b.perPage)
    assert.equal(40, #b.leads)
    assert.is_true(b.count >= 320)
    local _, p1 = api("agent", "GET", "/leads?page=1")
    assert.are_not.equal(b.leads[1]._id, p1.leads[1]._id)
    local _, big = api("agent", "GET", "/leads?limit=500")
    assert.equal(500, big.perPage)
    assert.equal(b.count, #big.leads)
  end)

  it("filters by e-mail, with_email, tags and full text; sorts by field", function()
    local _, b = api("agent", "GET", "/leads?tags=prospect&limit=100")
    assert.equal(20, b.count)
    for _, l in ipairs(helper.nonempty(b.leads)) do assert.equal("prospect", l.tags[1]) end
    _, b = api("agent", "GET", "/leads?email=prospect3@example.org")
    assert.equal(1, b.count)
    assert.equal("prospect3@example.org", b.leads[1].email)
    local _, all = api("agent", "GET", "/leads?limit=1")
    _, b = api("agent", "GET", "/leads?with_email=true&limit=1")
    assert.is_true(b.count > 0 and b.count < all.count)
    _, b = api("agent", "GET", "/leads?full_text=prospect&limit=100")
    assert.equal(20, b.count)
    _, b = api("agent", "GET", "/leads?sort=fullname&direction=1&limit=100")
    assert.is_true(#b.leads > 1)
    for i = 2, #b.leads do assert.is_true((b.leads[i - 1].fullname or "") <= (b.leads[i].fullname or "")) end
  end)

  -- routes/lead.js (GET /:leadid by id alone: 404 Object not found.)
  it("creates (200, lead_id generated), reads, updates and merges", function()
    local status, l = api("agent", "POST", "/leads", { fullname = "Mario Rossi", email = "mario@example.com",
      attributes = { plan = "pro" } })
    assert.equal(200, status)
    assert.is_string(l.lead_id)
    assert.equal(100, l.status)
    local got
    status, got = api("agent", "GET", "/leads/" .. l._id)
    assert.equal(200, status)
    assert.equal("Mario Rossi", got.fullname)
    local _, u = api("agent", "PUT", "/leads/" .. l._id, { phone = "+39 000", attributes = { vip = true } })
    assert.equal("+39 000", u.phone)
    assert.is_nil(u.attributes.plan) -- PUT replaces attributes
    assert.is_true(u.attributes.vip)
    _, u = api("agent", "PATCH", "/leads/" .. l._id .. "/attributes", { plan = "business" })
    assert.is_true(u.attributes.vip)
    assert.equal("business", u.attributes.plan)
    _, u = api("agent", "PATCH", "/leads/" .. l._id .. "/properties", { score = 7 })
    assert.equal(7, u.properties.score)
    _, u = api("agent", "POST", "/leads/" .. l._id .. "/properties", { tier = "gold" })
    assert.equal(7, u.properties.score)
    assert.equal("gold", u.properties.tier)
    local _, m = api("agent", "POST", "/leads", { fullname = "With Id", lead_id = "crm-42" })
    assert.equal("crm-42", m.lead_id)
    assert.same({ success = false, msg = "Object not found." },
      select(2, api("agent", "GET", "/leads/ffffffffffffffffffffffff")))
  end)

  it("adds and removes tags; an empty tag array is a 400", function()
    local _, l = api("agent", "POST", "/leads", { fullname = "Tagged" })
    local status = api("agent", "PUT", "/leads/" .. l._id .. "/tag", "[]", { ["content-type"] = "application/json" })
    assert.equal(400, status)
    local _, t = api("agent", "PUT", "/leads/" .. l._id .. "/tag", { "a", "b", "a" })
    assert.same({ "a", "b" }, t.tags)
    _, t = api("agent", "DELETE", "/leads/" .. l._id .. "/tag/a")
    assert.same({ "b" }, t.tags)
  end)

  it("soft-deletes (status 1000, hidden from the list) and physically deletes for the owner only", function()
    local _, l = api("agent", "POST", "/leads", { fullname = "Soon Gone", email = "gone@example.com" })
    local status, d = api("agent", "DELETE", "/leads/" .. l._id)
    assert.equal(200, status)
    assert.equal(1000, d.status)
    local _, b = api("agent", "GET", "/leads?email=gone@example.com")
    assert.equal(0, b.count)
    _, b = api("agent", "GET", "/leads?email=gone@example.com&status=1000")
    assert.equal(1, b.count)
    local body
    status, body = api("admin", "DELETE", "/leads/" .. l._id .. "/physical")
    assert.equal(403, status)
    assert.same({ success = false, msg = "Unauthorized." }, body)
    status, body = api("owner", "DELETE", "/leads/" .. l._id .. "/physical")
    assert.equal(200, status)
    assert.same({ n = 1, ok = 1, deletedCount = 1 }, body)
    helper.answers(404, helper.NOT_FOUND, api("agent", "GET", "/leads/" .. l._id))
    _, body = api("owner", "DELETE", "/leads/" .. l._id .. "/physical")
    assert.same({ n = 0, ok = 1, deletedCount = 0 }, body)
  end)

  -- routes/lead.js: POST checks nothing and reads lead_id, fullname, email and attributes only;
  -- DELETE /:leadid is findByIdAndUpdate with upsert: an unknown id is made, deleted
  it("creates without checks from the fields the server reads, and soft-deletes an unknown id into being", function()
    local status, l = api("agent", "POST", "/leads", { email = "not an e-mail", company = "ignored", phone = "1" })
    assert.equal(200, status)
    assert.equal("not an e-mail", l.email)
    assert.is_nil(l.company)
    assert.equal(cjson.null, l.phone) -- leadService.createWitId: phoneUtil.normalizePhone(undefined) is null
    local made
    status, made = api("agent", "DELETE", "/leads/ffffffffffffffffffffffff")
    assert.equal(200, status)
    assert.same({ "ffffffffffffffffffffffff", 1000 }, { made._id, made.status })
  end)

  -- utils/segment2mongoConverter.js convert: each filter sets its field's condition (match is
  -- not read: all of them hold); routes/lead.js GET /: an unknown segment is 404
  it("filters by a segment's conditions (all of them, whatever match says) and 404s an unknown segment", function()
    local _, seg = api("agent", "POST", "/segments", { name = "Imported with mail", match = "any", filters = {
      { field = "attributes.source", operator = "=", value = "import" },
      { field = "email", operator = "is not null", value = true } } })
    local _, b = api("agent", "GET", "/leads?limit=500&segment=" .. seg._id)
    for _, l in ipairs(helper.nonempty(b.leads)) do
      assert.equal("import", l.attributes.source)
      assert.truthy(l.email)
    end
    local _, both = api("agent", "POST", "/segments", { name = "Prospects", match = "all", filters = {
      { field = "tags", operator = "=", value = "prospect" },
      { field = "email", operator = "contains", value = "^prospect1" } } })
    _, b = api("agent", "GET", "/leads?limit=500&segment=" .. both._id)
    assert.equal(11, b.count) -- prospect1, prospect10 .. prospect19
    helper.answers(404, { success = false, msg = "Error segment not found" }, api("agent", "GET", "/leads?segment=ffffffffffffffffffffffff"))
  end)

  it("exports CSV as routes/lead.js GET /csv writes it: '-attributes -__v', csv-express, CRLF", function()
    local _, l = api("agent", "POST", "/leads", { lead_id = "csv-lead-2", fullname = "Grace; Hopper",
      email = "grace.csv@example.org", attributes = { plan = "gold" } })
    local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/leads/csv?email=grace.csv@example.org",
      nil, auth("agent"))
    assert.equal(200, status)
    assert.equal("text/csv; charset=utf-8", h["content-type"])
    local lines = {}
    assert.equal("\r\n", text:sub(-2))
    for line in text:gmatch("(.-)\r\n") do lines[#lines + 1] = line end
    assert.equal(2, #lines)
    local header = {}
    for k in lines[1]:gmatch("[^;]+") do header[k] = true end
    for _, k in ipairs{ "_id", "lead_id", "fullname", "email", "tags", "id_project", "createdBy", "status", "createdAt",
      "updatedAt" } do
      assert.is_true(header[k], "column " .. k)
    end
    assert.is_nil(header.attributes)
    assert.is_nil(header.__v)
    assert.matches("^_id;", lines[1])
    local start = '"' .. l._id .. '";"csv-lead-2";"Grace; Hopper";"grace.csv@example.org";'
    assert.equal(start, lines[2]:sub(1, #start))
    assert.truthy(lines[2]:find(";100;", 1, true)) -- status, a number: bare
    assert.is_nil(lines[2]:find("gold", 1, true))
  end)

  it("exports every lead below status 1000 and reads only full_text and email (routes/lead.js GET /csv)", function()
    local function rows(query)
      local status, _, text = helper.http("GET", st.http_url .. "/" .. PID .. "/leads/csv?" .. query, nil, auth("agent"))
      assert.equal(200, status)
      local n = -1 -- the header line
      for _ in text:gmatch("\r\n") do n = n + 1 end
      return math.max(n, 0), text
    end
    local _, l = api("agent", "POST", "/leads", { lead_id = "csv-temp", fullname = "Zebulon Tempcsv",
      email = "temp.csv@example.org" })
    assert.equal(200, (api("agent", "PUT", "/leads/" .. l._id, { status = 50 })))
    local _, listed = api("agent", "GET", "/leads?email=temp.csv@example.org")
    assert.equal(0, listed.count) -- the list reads status (100 by default)
    assert.equal(1, (rows("email=temp.csv@example.org")))
    assert.equal(1, (rows("email=temp.csv@example.org&status=100&tags=none&with_fullname=true")))
    assert.equal(1, (rows("full_text=Tempcsv")))
    assert.equal(200, (api("agent", "DELETE", "/leads/" .. l._id)))
    local n, text = rows("email=temp.csv@example.org&status=1000")
    assert.equal(0, n)
    assert.equal("\r\n", text)
  end)

  it("exports CSV with the ; separator and refuses guests", function()
    local status, h, text = helper.http("GET", st.http_url .. "/" .. PID .. "/leads/csv?email=prospect1@example.org", nil,
      auth("agent"))
    assert.equal(200, status)
    assert.matches("^text/csv", h["content-type"])
    assert.matches("^_id;lead_id;fullname;email;", text)
    assert.truthy(text:find(';"prospect1@example.org";', 1, true))
    local _, g = helper.http_json("POST", st.http_url .. "/auth/signinAnonymously", { id_project = PID })
    helper.answers(403, helper.ROLE, api(g.token, "GET", "/leads"))
  end)
end)
