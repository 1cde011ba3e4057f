-- Date filters against the sandbox, with expectations from the server's source:
-- utils/datesUtil.js (requests: start $gte; an end with a time $lte that second; a day-only
-- end $lt the next midnight, so the whole day is in) and the activities route (whole days).
-- The SDK's rule, both ends inclusive and a day meaning all of it, must hold on the wire.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local time = tiledesk.time

local st = helper.sandbox()

local function client()
  local u = st.users.owner
  return tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = u.email, password = u.password,
    retries = 0 }
end

-- Whether a page of conversations holds request_id rid.
local function holds(page, rid)
  assert.is_table(page.requests)
  for _, r in ipairs(page.requests) do
    if r.request_id == rid then return true end
  end
  return false
end

describe("date filters against the sandbox", function()
  local c, conv, created
  setup(function()
    helper.reset()
    c = client()
    conv = assert(c.requests:start{ text = "dates spec: when was I created?" })
    created = assert(time.parse(conv.createdAt))
  end)

  local function find(q)
    q.status = "all"
    q.full_text = nil
    q.limit = 100
    q.sort = "createdAt"
    return holds(assert(c.requests:list(q)), conv.request_id)
  end

  it("an instant range holds what was created within it, both ends included", function()
    assert.is_true(find{ start_date = created, end_date = created })
    assert.is_true(find{ start_date = conv.createdAt, end_date = conv.createdAt })
    assert.is_true(find{ start_date = created - 60, end_date = created + 60 })
  end)

  it("leaves out what was created after the end or before the start", function()
    assert.is_false(find{ end_date = math.floor(created) - 1 })
    assert.is_false(find{ start_date = math.floor(created) + 1 })
  end)

  it("a day holds all of it, as start and as end (UTC by default)", function()
    local c0 = time.civil(created)
    local day = { c0.year, c0.month, c0.day }
    assert.is_true(find{ start_date = day, end_date = day })
    assert.is_true(find{ end_date = string.format("%04d-%02d-%02d", c0.year, c0.month, c0.day) })
    local before = time.civil(created - 86400)
    assert.is_false(find{ end_date = { before.year, before.month, before.day } })
    local after = time.civil(created + 86400)
    assert.is_false(find{ start_date = { after.year, after.month, after.day } })
  end)

  it("reads days and wall-clock times in the call's zone, far from UTC either way", function()
    local zones = { "Pacific/Kiritimati", "America/St_Johns" }
    assert.is_true(#zones > 0)
    for _, tz in ipairs(zones) do
      local z = time.civil(created, tz)
      local day = { z.year, z.month, z.day }
      assert.is_true(find{ start_date = day, end_date = day, timezone = tz }, tz)
      local before = time.civil(created - 86400, tz)
      assert.is_false(find{ end_date = { before.year, before.month, before.day }, timezone = tz }, tz)
      -- the wall-clock minute of its creation, a minute before and after
      local at = math.floor(created / 60) * 60
      local m0 = time.civil(at - 60, tz)
      assert.is_false(find{ end_date = { m0.year, m0.month, m0.day, m0.hour, m0.min, 0 }, timezone = tz }, tz)
      local m1 = time.civil(at + 60, tz)
      assert.is_true(find{ end_date = { m1.year, m1.month, m1.day, m1.hour, m1.min, 0 }, timezone = tz }, tz)
      -- the client's option gives the same answers
      local zc = tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = st.users.owner.email,
        password = st.users.owner.password, retries = 0, timezone = tz }
      assert.is_false(holds(assert(zc.requests:list{ status = "all", limit = 100, sort = "createdAt",
        end_date = { m0.year, m0.month, m0.day, m0.hour, m0.min, 0 } }), conv.request_id), tz)
    end
  end)

  it("the csv export filters the same way", function()
    local c0 = time.civil(created)
    local day = { c0.year, c0.month, c0.day }
    local csv = assert(c.requests:csv{ status = "all", start_date = day, end_date = day })
    assert.is_truthy(csv:find(conv.request_id, 1, true))
    local before = time.civil(created - 86400)
    csv = assert(c.requests:csv{ status = "all", end_date = { before.year, before.month, before.day } })
    assert.is_falsy(csv:find(conv.request_id, 1, true))
  end)

  it("activities: whole UTC days, an end alone honoured", function()
    local c0 = time.civil(created)
    local page = assert(c.activities:list{ start_date = { c0.year, c0.month, c0.day }, limit = 5 })
    assert.is_table(page.activities)
    local before = time.civil(created - 86400)
    local old = assert(c.activities:list{ end_date = { before.year, before.month, before.day }, limit = 100 })
    assert.is_table(old.activities)
    for _, a in ipairs(helper.nonempty(old.activities)) do
      assert.is_true(time.parse(a.createdAt) < created - (created % 86400), a.createdAt)
    end
  end)
end)
