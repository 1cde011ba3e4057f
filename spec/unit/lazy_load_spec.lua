-- What `require "tiledesk"` and tiledesk.new read, and what they leave for first use: each
-- area's module (with its routes and methods) when the area is first used, tiledesk.time,
-- tiledesk.filters and tiledesk.pager when first needed. Every spec here works on fresh copies
-- of the SDK's modules and puts the usual ones back afterwards.
require("spec.helper")
local Fake = require("spec.support.fake_transport")

local PID = "65a1b2c3d4e5f60718293a4b"

local saved

-- Forgets every tiledesk module, so the next require reads them again.
local function fresh()
  saved = {}
  for name, mod in pairs(package.loaded) do
    if name == "tiledesk" or name:match("^tiledesk%.") then
      saved[name] = mod
      package.loaded[name] = nil
    end
  end
end

local function restore()
  for name in pairs(package.loaded) do
    if name == "tiledesk" or name:match("^tiledesk%.") then package.loaded[name] = nil end
  end
  for name, mod in pairs(saved) do package.loaded[name] = mod end
end

-- The areas whose module has been read (modules under resources/ shared by areas, such as
-- kb_questions, are no area).
local function loaded_areas()
  local is_area = {}
  for _, name in ipairs(require("tiledesk.routes").resources) do is_area[name] = true end
  local out = {}
  for name in pairs(package.loaded) do
    local area = name:match("^tiledesk%.resources%.(.+)$")
    if area and is_area[area] then out[#out + 1] = area end
  end
  table.sort(out)
  return out
end

local function new_client(tiledesk)
  local fake = Fake.new()
  return tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, token = "JWT t" }, fake
end

describe("loading", function()
  before_each(fresh)
  after_each(restore)

  it("reads no area, no time zones, no filters and no pager for require and new", function()
    local tiledesk = require("tiledesk")
    local c = new_client(tiledesk)
    assert.same({}, loaded_areas())
    for _, name in ipairs({ "tiledesk.time", "tiledesk.filters", "tiledesk.pager", "tiledesk.csv", "tiledesk.cli",
      "tiledesk.crypto", "tiledesk.jwt" }) do
      assert.is_nil(package.loaded[name], name .. " was read")
    end
    -- every area is there all the same, and says what it is before its first use
    local routes = require("tiledesk.routes")
    assert.is_true(#routes.resources > 30)
    for _, area in ipairs(routes.resources) do
      assert.is_table(rawget(c, area), area)
      assert.equal("tiledesk resource " .. area, tostring(c[area]))
    end
    assert.same({}, loaded_areas())
    c:close()
  end)

  it("reads an area's module on its first use, and only that one", function()
    local tiledesk = require("tiledesk")
    local c, fake = new_client(tiledesk)
    local mt = getmetatable(c.requests)
    fake:queue(200, { perPage = 40, count = 1, requests = { { request_id = "r1" } } })
    local page = assert(c.requests:list{ status = "all" })
    assert.equal("r1", page.requests[1].request_id)
    assert.same({ "requests" }, loaded_areas())
    assert.equal(mt, getmetatable(c.requests)) -- the same methods table, filled in place
    assert.is_function(mt.list)
    assert.is_not_nil(package.loaded["tiledesk.filters"]) -- requests:list checks its filters
    -- a second client shares the filled table
    local c2 = new_client(tiledesk)
    assert.equal(mt, getmetatable(c2.requests))
    assert.is_function(rawget(mt, "each"))
    c:close()
    c2:close()
  end)

  it("keeps the errors of misuse and of unknown areas", function()
    local tiledesk = require("tiledesk")
    local c = new_client(tiledesk)
    assert.is_nil(c.nosuch)
    assert.has_error(function() c.requests.list() end, "requests:list(): call it with a colon (client.requests:list(...))")
    assert.has_error(function() require("tiledesk.resources").methods("nosuch") end, "tiledesk: no resource 'nosuch'")
    assert.is_nil(c.requests.nosuch_method)
    c:close()
  end)

  it("gives the whole route table on first read of list, index, by_resource or modules", function()
    local routes = require("tiledesk.routes")
    local list, mod = routes.area("tags")
    assert.is_table(mod)
    assert.is_true(#list > 0)
    assert.same({ "tags" }, loaded_areas())
    local n = 0
    for _, area in ipairs(routes.resources) do n = n + #routes.by_resource[area] end
    assert.equal(n, #routes.list)
    assert.equal(#routes.resources, #loaded_areas())
    assert.equal(list, routes.by_resource.tags) -- the areas read before are the same tables
    assert.equal(routes.index["requests.list"], routes.by_resource.requests[1])
    assert.is_nil(routes.area("nosuch"))
  end)

  it("reads tiledesk.time on first use of tiledesk.time", function()
    local tiledesk = require("tiledesk")
    assert.is_nil(package.loaded["tiledesk.time"])
    local time = tiledesk.time
    assert.equal(package.loaded["tiledesk.time"], time)
    assert.is_function(time.zone)
    assert.equal(time, tiledesk.time)
    assert.is_nil(tiledesk.nosuch)
  end)
end)
