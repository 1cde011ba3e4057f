-- leads:upsert against the sandbox. Expectations from the server's source: POST /leads keeps
-- lead_id, fullname, email and attributes only (routes/lead.js, leadService.createWitId), PUT
-- /leads/:id sets the other fields and replaces attributes whole, GET /leads?email= lists the
-- status-100 leads with that email. A rerun must write nothing.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()

describe("leads:upsert against the sandbox", function()
  local admin, counting
  local writes = 0
  setup(function()
    helper.reset()
    local u = st.users.admin
    local function new(hook)
      return tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = u.email, password = u.password,
        retries = 0, on_request = hook }
    end
    admin = new()
    counting = new(function(req)
      if req.method ~= "GET" and req.url:find("/leads", 1, true) then writes = writes + 1 end
    end)
  end)

  it("creates with every field, then a rerun changes nothing, then merges attributes", function()
    local email = "upsert-" .. tostring(os.time()) .. "@example.com"
    local input = { email = email, fullname = "Ann Upsert", phone = "555 0101", company = "Acme", city = "Rome",
      tags = { "vip" }, attributes = { plan = "pro", seats = "3" } }
    local lead, what = counting.leads:upsert(input)
    assert.equal("created", what, lead)
    assert.equal(2, writes) -- the POST, and the PUT of what the POST does not read
    local got = assert(admin.leads:get(lead._id))
    assert.equal("Ann Upsert", got.fullname)
    assert.equal("555 0101", got.phone)
    assert.equal("Acme", got.company)
    assert.equal("Rome", got.city)
    assert.same({ "vip" }, got.tags)
    assert.same({ plan = "pro", seats = "3" }, got.attributes)

    local again, what2 = counting.leads:upsert(input)
    assert.equal("unchanged", what2)
    assert.equal(2, writes)
    assert.equal(lead._id, again._id)
    local after = assert(admin.leads:get(lead._id))
    assert.equal(got.updatedAt, after.updatedAt)
    local page = assert(admin.leads:list{ email = email })
    assert.equal(1, page.count)

    local merged, what3 = counting.leads:upsert{ email = email, attributes = { seats = "5", source = "csv" } }
    assert.equal("updated", what3)
    assert.equal(3, writes)
    assert.same({ plan = "pro", seats = "5", source = "csv" }, merged.attributes)
    assert.same(merged.attributes, assert(admin.leads:get(lead._id)).attributes)
    assert.equal("555 0101", merged.phone)
  end)
end)
