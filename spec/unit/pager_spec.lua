-- tiledesk.pager through the resources' :each and :pages: page numbering, limits, the ends of
-- a list, servers that ignore paging. Fake transport, no sockets.
local helper = require("spec.helper")
local Fake = require("spec.support.fake_transport")
local tiledesk = require("tiledesk")

local PID = helper.PID

local new = helper.fake_client

local decode_query = require("spec.helper").query_of

describe("pagination", function()
  local function env(n, from, count, per)
    local items = {}
    for i = 1, n do items[i] = { _id = "r" .. (from + i) } end
    return { perPage = per, count = count, requests = items }
  end

  it("walks envelope pages from 0 with limit capped at 100, until count", function()
    local c, fake = new()
    fake:queue(200, env(100, 0, 250, 100))
    fake:queue(200, env(100, 100, 250, 100))
    fake:queue(200, env(50, 200, 250, 100))
    local n = 0
    for item in c.requests:each{ status = "all", limit = 500 } do
      n = n + 1
      assert.equal("r" .. n, item._id)
    end
    assert.equal(250, n)
    assert.equal(3, #fake.requests)
    for i, r in ipairs(fake.requests) do
      local q = decode_query(r.url)
      assert.equal(tostring(i - 1), q.page)
      assert.equal("100", q.limit)
      assert.equal("all", q.status)
    end
  end)

  it("stops on an exact multiple without asking for an empty page", function()
    local c, fake = new()
    fake:queue(200, env(2, 0, 4, 2))
    fake:queue(200, env(2, 2, 4, 2))
    local n = 0
    for _ in c.requests:each{ limit = 2 } do n = n + 1 end
    assert.equal(4, n)
    assert.equal(2, #fake.requests)
  end)

  it("handles an empty first page, max_items, and bare arrays", function()
    local c, fake = new()
    fake:queue(200, env(0, 0, 0, 40))
    for _ in c.requests:each() do error("no items expected") end
    fake:queue(200, env(3, 0, 10, 3))
    fake:queue(200, env(3, 3, 10, 3))
    local got = {}
    for it in c.requests:each{ limit = 3, max_items = 4 } do got[#got + 1] = it._id end
    assert.same({ "r1", "r2", "r3", "r4" }, got)
    assert.is_nil(decode_query(fake:last().url).max_items)
    -- tags: fixed 40 per page, no limit sent
    local tags = {}
    for i = 1, 40 do tags[i] = { _id = "t" .. i } end
    fake:queue(200, tags)
    fake:queue(200, { { _id = "t41" } })
    local n = 0
    for _ in c.tags:each() do n = n + 1 end
    assert.equal(41, n)
    assert.is_nil(decode_query(fake:last().url).limit)
    -- messages: one unpaginated array
    fake:queue(200, { { _id = "m1" }, { _id = "m2" } })
    n = 0
    for _ in c.messages:each("r1") do n = n + 1 end
    assert.equal(2, n)
    assert.is_nil(decode_query(fake:last().url).page)
  end)

  it("keeps going when the server sends no count (no_count=true answers count 0)", function()
    local c, fake = new()
    fake:queue(200, env(2, 0, 0, 2))
    fake:queue(200, env(2, 2, 0, 2))
    fake:queue(200, env(1, 4, 0, 2))
    local n = 0
    for _ in c.requests:each{ limit = 2, no_count = true } do n = n + 1 end
    assert.equal(5, n)
    assert.equal(3, #fake.requests)
  end)

  it("never sends limit 0 (the server's 'everything') nor above 100, whatever the route", function()
    local c, fake = new()
    fake:queue(200, env(0, 0, 0, 100))
    for _ in c.requests:each{ limit = 0 } do end
    assert.equal("100", decode_query(fake:last().url).limit)
    for _, res in ipairs({ "leads", "segments" }) do
      fake:queue(200, { perPage = 100, count = 0, [res] = {} })
      for _ in c[res]:each{ limit = 1000 } do end
      assert.equal("100", decode_query(fake:last().url).limit, res)
    end
    for _, res in ipairs({ "properties", "roles" }) do
      fake:queue(200, {})
      for _ in c[res]:each{ limit = 5000 } do end
      assert.equal("100", decode_query(fake:last().url).limit, res)
    end
    fake:queue(200, {})
    for _ in c.faqs:each("bot1", { limit = -3 }) do end
    assert.equal("100", decode_query(fake:last().url).limit)
  end)

  it("list() sends one page as asked, without max_items", function()
    local c, fake = new()
    fake:queue(200, env(3, 0, 3, 40))
    assert(c.requests:list{ status = "all", max_items = 2 })
    local q = decode_query(fake:last().url)
    assert.is_nil(q.max_items)
    assert.equal("all", q.status)
  end)

  it("raises out of the for loop with the err table when a page fails", function()
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, token = "JWT t", retries = 0 }
    fake:queue(200, env(2, 0, 10, 2))
    fake:queue(503, { msg = "down for maintenance" })
    local seen = 0
    local ok, err = pcall(function()
      for _ in c.requests:each{ limit = 2 } do seen = seen + 1 end
    end)
    assert.is_false(ok)
    assert.equal(2, seen)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.matches("^requests:list%(%): HTTP 503", tostring(err))
  end)

  it("pages() returns pages and nil, msg, err without raising", function()
    local fake = Fake.new()
    local c = tiledesk.new{ base_url = "https://api.test/v3", project_id = PID, transport = fake, token = "JWT t", retries = 0 }
    fake:queue(200, env(2, 0, 3, 2))
    fake:queue(500, { err = "error" })
    fake:queue(200, env(1, 2, 3, 2))
    local pager = c.requests:pages{ limit = 2 }
    local p1 = assert(pager:next())
    assert.equal(0, p1.number)
    assert.equal(3, p1.count)
    local p2, msg, err = pager:next()
    assert.is_nil(p2)
    assert.matches("HTTP 500", msg)
    assert.equal(500, err.status)
    local p3 = assert(pager:next()) -- the same page, asked again
    assert.equal(1, p3.number)
    assert.is_nil(pager:next())
  end)

  it("detects a server that sends the same page again", function()
    local c, fake = new()
    fake:queue(200, env(2, 0, 10, 2))
    fake:queue(200, env(2, 0, 10, 2))
    local ok, err = pcall(function() for _ in c.requests:each{ limit = 2 } do end end)
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.matches("twice", tostring(err))
  end)
end)

describe("pager", function()
  it("stops a server that ignores 'page' even when its items carry no id", function()
    local c, fake = new()
    local page = {}
    for i = 1, 40 do page[i] = { event = "request.create", target = "http://t/" .. i } end
    fake:queue(200, page)
    fake:queue(200, page)
    local ok, err = pcall(function() for _ in c.subscriptions:each_history() do end end)
    assert.is_false(ok)
    assert.equal("decode", err.kind)
    assert.equal(2, #fake.requests)
  end)
end)
