-- leads:upsert and leads:from_row against the fake transport. The fake answers as the server's
-- source does: GET /leads?email= lists the status-100 leads with that exact email; POST /leads
-- keeps lead_id, fullname, email and attributes only (routes/lead.js, leadService.createWitId);
-- PUT /leads/:id sets each field sent and not null, replaces attributes whole, sets tags only
-- when truthy, never lead_id (routes/lead.js).
local helper = require("spec.helper")
local cjson = require("cjson")

local PID = helper.PID
local PUT_FIELDS = { "fullname", "email", "attributes", "status", "phone", "company", "note", "streetAddress",
  "city", "region", "zipcode", "country" }

-- A fake server holding leads, written from routes/lead.js; fail(method) makes the next such call 500.
local function server()
  local srv = { leads = {}, order = {}, n = 0, failing = {} }
  function srv.handle(rec)
    local path = rec.url:match("^https://api%.test/v3/" .. PID .. "(/[^?]*)")
    local q = helper.query_of(rec.url)
    local body = rec.body and cjson.decode(rec.body)
    if srv.failing[rec.method] then
      srv.failing[rec.method] = nil
      return 500, { ["content-type"] = "application/json" }, '{"success":false,"msg":"Error updating object."}'
    end
    local function answer(t) return 200, { ["content-type"] = "application/json" }, cjson.encode(t) end
    if rec.method == "GET" and path == "/leads" then
      local found = {}
      for _, id in ipairs(srv.order) do
        local l = srv.leads[id]
        if l.email == q.email and l.status == 100 then found[#found + 1] = l end
      end
      return answer{ perPage = tonumber(q.limit), count = #found, leads = { found[1] } }
    elseif rec.method == "POST" and path == "/leads" then
      srv.n = srv.n + 1
      local id = string.format("l%03d", srv.n)
      srv.leads[id] = { _id = id, lead_id = body.lead_id or ("uuid-" .. srv.n), fullname = body.fullname,
        email = body.email, attributes = body.attributes, status = 100, id_project = PID }
      srv.order[#srv.order + 1] = id
      return answer(srv.leads[id])
    elseif rec.method == "PUT" then
      local id = path:match("^/leads/([^/]+)$")
      local l = assert(srv.leads[id], "upsert PUT an unknown id")
      for _, k in ipairs(PUT_FIELDS) do
        if body[k] ~= nil and body[k] ~= cjson.null then l[k] = body[k] end
      end
      if body.tags then l.tags = body.tags end
      return answer(l)
    end
    error("unexpected " .. rec.method .. " " .. rec.url)
  end
  return srv
end

local function new()
  local c, fake = helper.fake_client{ retries = 0 }
  local srv = server()
  fake.handler = srv.handle
  return c, fake, srv
end

local function writes(fake)
  local w = {}
  for _, r in ipairs(fake.requests) do
    if r.method ~= "GET" then w[#w + 1] = { r.method, r.url:match("/leads.*$"), r.body and cjson.decode(r.body) } end
  end
  return w
end

local function copy(t)
  if type(t) ~= "table" then return t end
  local c = {}
  for k, v in pairs(t) do c[k] = copy(v) end
  return c
end

describe("leads:upsert", function()
  it("creates a lead: POST with the four fields the server reads, then a PUT of the others", function()
    local c, fake, srv = new()
    local input = { email = "ann@example.com", fullname = "Ann Lee", phone = "555 0101", company = "Acme",
      lead_id = "crm-7", tags = { "vip" }, attributes = { plan = "pro" } }
    local kept = copy(input)
    local lead, what = c.leads:upsert(input)
    assert.equal("created", what)
    assert.same(kept, input)
    local w = writes(fake)
    assert.equal(2, #w)
    assert.same({ "POST", "/leads", { email = "ann@example.com", fullname = "Ann Lee", lead_id = "crm-7",
      attributes = { plan = "pro" } } }, w[1])
    assert.same({ "PUT", "/leads/l001", { phone = "555 0101", company = "Acme", tags = { "vip" } } }, w[2])
    assert.equal("l001", lead._id)
    assert.equal("555 0101", lead.phone)
    assert.same({ "vip" }, srv.leads.l001.tags)
    assert.equal("crm-7", srv.leads.l001.lead_id)
  end)

  it("creates with one POST when every field is one the POST reads", function()
    local c, fake = new()
    local lead, what = c.leads:upsert{ email = "bo@example.com", fullname = "Bo" }
    assert.equal("created", what)
    assert.equal("Bo", lead.fullname)
    local w = writes(fake)
    assert.equal(1, #w)
    assert.equal("POST", w[1][1])
  end)

  it("a rerun changes nothing: the lead is found by email and no write is sent", function()
    local c, fake, srv = new()
    local input = { email = "ann@example.com", fullname = "Ann Lee", phone = "555 0101", tags = { "vip" },
      attributes = { plan = "pro" } }
    assert(c.leads:upsert(input))
    local before = #fake.requests
    local lead, what = c.leads:upsert(input)
    assert.equal("unchanged", what)
    assert.equal("l001", lead._id)
    assert.equal(before + 1, #fake.requests) -- the GET only
    assert.equal("GET", fake.requests[#fake.requests].method)
    assert.equal(1, srv.n)
  end)

  it("updates only the fields that differ", function()
    local c, fake = new()
    assert(c.leads:upsert{ email = "ann@example.com", fullname = "Ann Lee", phone = "555 0101", city = "Rome" })
    local lead, what = c.leads:upsert{ email = "ann@example.com", fullname = "Ann Lee", phone = "555 0202", city = "Rome" }
    assert.equal("updated", what)
    assert.equal("555 0202", lead.phone)
    local w = writes(fake)
    assert.equal(3, #w)
    assert.same({ "PUT", "/leads/l001", { phone = "555 0202" } }, w[3])
  end)

  it("merges attributes into the lead's (the server's PUT replaces them whole)", function()
    local c, fake, srv = new()
    assert(c.leads:upsert{ email = "ann@example.com", attributes = { plan = "pro", seats = 3, crm = { id = 7 } } })
    local lead, what = c.leads:upsert{ email = "ann@example.com", attributes = { seats = 5, source = "csv" } }
    assert.equal("updated", what)
    local w = writes(fake)
    assert.equal(2, #w)
    assert.same({ plan = "pro", seats = 5, crm = { id = 7 }, source = "csv" }, w[2][3].attributes)
    assert.same(w[2][3].attributes, lead.attributes)
    -- a subset that holds the same values, and a nested table of the same data: nothing to write
    local _, again = c.leads:upsert{ email = "ann@example.com", attributes = { seats = 5, crm = { id = 7 } } }
    assert.equal("unchanged", again)
    assert.equal(2, #writes(fake))
    -- replace: the attributes become the ones given
    local _, replaced = c.leads:upsert({ email = "ann@example.com", attributes = { plan = "basic" } }, { attributes = "replace" })
    assert.equal("updated", replaced)
    assert.same({ plan = "basic" }, srv.leads.l001.attributes)
    local _, same = c.leads:upsert({ email = "ann@example.com", attributes = { plan = "basic" } }, { attributes = "replace" })
    assert.equal("unchanged", same)
  end)

  it("a PUT that fails after the POST returns nil, msg, err with the lead, and a rerun finishes it", function()
    local c, fake, srv = new()
    local input = { email = "ann@example.com", fullname = "Ann Lee", phone = "555 0101", company = "Acme" }
    local kept = copy(input)
    srv.failing.PUT = true
    local lead, msg, err = c.leads:upsert(input)
    assert.is_nil(lead)
    assert.equal("leads:upsert(): lead l001 created, but not its company, phone (a rerun sets them): "
      .. "leads:update(): HTTP 500 Internal Server Error: Error updating object.", msg)
    assert.equal(500, err.status)
    assert.equal("PUT", err.method)
    assert.equal("l001", err.lead._id)
    assert.same(kept, input)
    local done, what = c.leads:upsert(input)
    assert.equal("updated", what)
    assert.equal("Acme", done.company)
    assert.equal(1, srv.n) -- one lead, never a second
    assert.same({ _id = "l001", lead_id = "uuid-1", email = "ann@example.com", fullname = "Ann Lee", phone = "555 0101",
      company = "Acme", status = 100, id_project = PID }, srv.leads.l001)
    assert.equal(5, #fake.requests) -- GET, POST, PUT (500), then GET, PUT
  end)

  it("a failed look-up or POST returns nil, msg, err and writes nothing more", function()
    local c, fake, srv = new()
    srv.failing.GET = true
    local lead, msg, err = c.leads:upsert{ email = "ann@example.com", phone = "1" }
    assert.is_nil(lead)
    assert.equal("leads:upsert(): leads:list(): HTTP 500 Internal Server Error: Error updating object.", msg)
    assert.equal(500, err.status)
    assert.equal(1, #fake.requests)
    srv.failing.POST = true
    lead, msg, err = c.leads:upsert{ email = "ann@example.com", phone = "1" }
    assert.is_nil(lead)
    assert.equal("leads:upsert(): leads:create(): HTTP 500 Internal Server Error: Error updating object.", msg)
    assert.equal("POST", err.method)
    assert.equal(0, srv.n)
    assert.equal(3, #fake.requests)
  end)

  it("raises on misuse, naming the field", function()
    local c = new()
    local cases = {
      { "leads:upsert(): bad argument #1 'lead' (table expected, got string)", "ann@example.com" },
      { "leads:upsert(): field 'email' is required (leads are found by it)", { fullname = "Ann" } },
      { "leads:upsert(): field 'email' is required (leads are found by it)", { email = "" } },
      { "leads:upsert(): unknown field '_id' (known: attributes, city, company, country, email, fullname, lead_id, "
        .. "note, phone, region, streetAddress, tags, zipcode)", { email = "a@x", _id = "l1" } },
      { "leads:upsert(): field 'phone' must be a string (got number)", { email = "a@x", phone = 5550101 } },
      { "leads:upsert(): field 'tags' must be an array of strings", { email = "a@x", tags = { vip = true } } },
      { "leads:upsert(): field 'tags' must be an array of strings", { email = "a@x", tags = { 1 } } },
      { "leads:upsert(): field 'attributes' must be a table (got string)", { email = "a@x", attributes = "x" } },
      { "leads:upsert(): bad argument #2 'opts' (table expected, got string)", { email = "a@x" }, "merge" },
      { "leads:upsert(): unknown option 'merge' (known: attributes)", { email = "a@x" }, { merge = true } },
      { 'leads:upsert(): option \'attributes\' must be "merge" or "replace" (got add)', { email = "a@x" },
        { attributes = "add" } },
    }
    assert.is_true(#cases > 0)
    for _, case in ipairs(cases) do
      assert.has_error(function() c.leads:upsert(case[2], case[3]) end, case[1])
    end
  end)
end)

describe("leads:from_row", function()
  it("puts the lead's fields by name and every other non-empty column into attributes", function()
    local c = new()
    assert.same({ email = "ann@example.com", fullname = "Ann Lee", city = "Rome", attributes = { plan = "pro" } },
      c.leads:from_row{ email = "ann@example.com", fullname = "Ann Lee", phone = "", city = "Rome", plan = "pro", seats = "" })
    assert.same({ email = "bo@example.com" }, c.leads:from_row{ email = "bo@example.com", plan = "" })
    assert.has_error(function() c.leads:from_row("x") end, "leads:from_row(): bad argument #1 'row' (table expected, got string)")
  end)
end)
