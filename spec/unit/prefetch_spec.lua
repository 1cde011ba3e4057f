-- Resource helpers over client:batch, fake transport: :each/:pages with prefetch (the pages
-- asked for ahead, in page order, never past the last page or max_items, the same items, end
-- and errors as without prefetch) and messages:list_many (transcripts in order, per-item errors).
local helper = require("spec.helper")
local decode_query, new = helper.query_of, helper.fake_client

-- A list of `total` conversations served `per` a page; fail(page, n) may answer an error instead
-- (n: how many times that page was asked for so far).
local function serve(fake, total, per, fail)
  local asked = {}
  fake.handler = function(rec)
    local q = decode_query(rec.url)
    local page, limit = tonumber(q.page) or 0, tonumber(q.limit) or per
    assert.is_nil(q.prefetch, "prefetch was sent")
    asked[page] = (asked[page] or 0) + 1
    if fail then
      local status = fail(page, asked[page])
      if status then return status, { ["content-type"] = "application/json" }, '{"msg":"page ' .. page .. ' refused"}' end
    end
    local items = {}
    for i = page * limit + 1, math.min(total, (page + 1) * limit) do items[#items + 1] = '{"_id":"r' .. i .. '"}' end
    return 200, { ["content-type"] = "application/json" },
      '{"perPage":' .. limit .. ',"count":' .. total .. ',"requests":[' .. table.concat(items, ",") .. "]}"
  end
end

local function pages_asked(fake)
  local out = {}
  for i, r in ipairs(fake.requests) do out[i] = tonumber(decode_query(r.url).page) end
  return out
end

-- Every item of each{query}, and the number of requests made when each item was handed out.
local function walk(c, fake, query)
  local ids, made = {}, {}
  for it in c.requests:each(query) do
    ids[#ids + 1] = it._id
    made[#made + 1] = #fake.requests
  end
  return ids, made
end

describe("pagination with prefetch", function()
  it("asks for the next pages as each page is handed out, in page order, once the first page told the count", function()
    local c, fake = new()
    serve(fake, 9, 2)
    local ids, made = walk(c, fake, { limit = 2, prefetch = 2 })
    local c2, plain = new()
    serve(plain, 9, 2)
    assert.same((walk(c2, plain, { limit = 2 })), ids)
    assert.equal(9, #ids)
    -- page 0 alone; handing it out sets pages 1 and 2 going (two ahead); handing out page 1
    -- sets page 3 going, page 2 sets page 4 going (the last one the count allows), and no more
    assert.same({ 0, 1, 2, 3, 4 }, pages_asked(fake))
    assert.equal(3, made[1]) -- the first item of page 0 came with pages 1 and 2 asked for
    assert.equal(3, made[2])
    assert.equal(4, made[3]) -- page 1 handed out: page 3 asked for
    assert.equal(5, made[5]) -- page 2 handed out: page 4 asked for
    assert.equal(5, made[7])
    assert.equal(5, made[9])
    assert.same({ 0, 1, 2, 3, 4 }, pages_asked(plain))
  end)

  it("never asks for a page past the last one, nor past max_items", function()
    local c, fake = new()
    serve(fake, 6, 2)
    local ids = walk(c, fake, { limit = 2, prefetch = 16 })
    assert.equal(6, #ids)
    assert.same({ 0, 1, 2 }, pages_asked(fake))

    c, fake = new()
    serve(fake, 100, 2)
    ids = walk(c, fake, { limit = 2, prefetch = true, max_items = 5 })
    assert.same({ "r1", "r2", "r3", "r4", "r5" }, ids)
    assert.same({ 0, 1, 2 }, pages_asked(fake))

    -- true is 4 pages ahead
    c, fake = new()
    serve(fake, 100, 2)
    local p = c.requests:pages{ limit = 2, prefetch = true }
    assert(p:next())
    assert(p:next())
    assert.same({ 0, 1, 2, 3, 4, 5 }, pages_asked(fake))
  end)

  it("returns a failed page in its place, drops what came after it, and asks for it again", function()
    -- page 2 fails the first time it is asked for: 400 is never retried
    local function fail(page, n) if page == 2 and n == 1 then return 400 end end
    local c, fake = new()
    serve(fake, 10, 2, fail)
    local c2, plain = new()
    serve(plain, 10, 2, fail)
    local p, q = c.requests:pages{ limit = 2, prefetch = 3 }, c2.requests:pages{ limit = 2 }
    for _ = 1, 2 do
      local a, b = assert(p:next()), assert(q:next())
      assert.same(b.items, a.items)
    end
    local none, msg, err = p:next()
    local none2, msg2, err2 = q:next()
    assert.is_nil(none)
    assert.is_nil(none2)
    assert.equal(msg2, msg)
    assert.equal(err2.status, err.status)
    assert.equal(400, err.status)
    -- pages 1-3 went out with page 0, page 4 with page 1; page 2 failed: 3 and 4 are not
    -- handed out from before
    assert.same({ 0, 1, 2, 3, 4 }, pages_asked(fake))
    local numbers = {}
    while true do
      local a = p:next()
      local b = q:next()
      if not a then assert.is_nil(b) break end
      assert.same(b.items, a.items)
      numbers[#numbers + 1] = a.number
    end
    assert.same({ 2, 3, 4 }, numbers)
    -- asked again from page 2 (with 3 and 4 ahead), then nothing more
    assert.same({ 0, 1, 2, 3, 4, 2, 3, 4 }, pages_asked(fake))

    -- each() raises the same error as without prefetch, after the same items
    c, fake = new()
    serve(fake, 10, 2, fail)
    c2, plain = new()
    serve(plain, 10, 2, fail)
    local function items_then_error(cl)
      local got = {}
      local ok, e = pcall(function() for it in cl.requests:each{ limit = 2, prefetch = 4 } do got[#got + 1] = it._id end end)
      assert.is_false(ok)
      return got, tostring(e)
    end
    local got, e = items_then_error(c)
    local got2 = {}
    local ok2, e2 = pcall(function() for it in c2.requests:each{ limit = 2 } do got2[#got2 + 1] = it._id end end)
    assert.is_false(ok2)
    assert.same(got2, got)
    assert.same({ "r1", "r2", "r3", "r4" }, got)
    assert.equal(tostring(e2), e)
  end)

  it("fetches one page at a time inside a batch's call, with the same result", function()
    local c, fake = new()
    serve(fake, 7, 2)
    -- :pages() and a while loop: Lua 5.1 cannot yield from inside a for-in iterator
    local results = c:batch({ function()
      local ids = {}
      local p = c.requests:pages{ limit = 2, prefetch = 3 }
      while true do
        local page, msg = p:next()
        if not page then
          assert(msg == nil, msg)
          return ids
        end
        for _, it in ipairs(page.items) do ids[#ids + 1] = it._id end
      end
    end })
    assert.same({ "r1", "r2", "r3", "r4", "r5", "r6", "r7" }, results[1].res)
    assert.same({ 0, 1, 2, 3 }, pages_asked(fake))
  end)

  it("refuses a bad prefetch, and never sends it", function()
    local c, fake = new()
    for _, bad in ipairs({ 0, 17, 1.5, "2", {} }) do
      assert.has_error(function() c.requests:each{ prefetch = bad } end,
        "requests:list(): prefetch must be true, false or a number of pages from 1 to 16")
    end
    assert.equal(0, #fake.requests)
    serve(fake, 3, 40)
    assert(c.requests:list{ prefetch = true })
    assert.is_nil(decode_query(fake.requests[1].url).prefetch)
    local ids = walk(c, fake, { prefetch = false })
    assert.equal(3, #ids)
  end)
end)

describe("messages:list_many", function()
  local function transcripts(fake, missing)
    fake.handler = function(rec)
      local rid = rec.url:match("/requests/([^/]+)/messages")
      if rid == missing then
        return 403, { ["content-type"] = "application/json" }, '{"msg":"you dont belong to the project"}'
      end
      return 200, { ["content-type"] = "application/json" }, '[{"text":"hello ' .. rid .. '"},{"text":"bye"}]'
    end
  end

  it("returns each conversation's messages in the order asked, with per-item errors", function()
    local c, fake = new()
    transcripts(fake, "b")
    local results, failed = c.messages:list_many({ "a", "b", "c" }, { concurrency = 2 })
    assert.equal(3, #results)
    assert.equal(1, failed)
    assert.equal("a", results[1].request_id)
    assert.equal("hello a", results[1].res[1].text)
    assert.equal(2, #results[3].res)
    assert.equal("hello c", results[3].res[1].text)
    assert.equal("b", results[2].request_id)
    assert.is_nil(results[2].res)
    local _, msg, err = c.messages:list("b") -- the same call on its own
    assert.equal(msg, results[2].msg)
    assert.equal(403, results[2].err.status)
    assert.equal(err.kind, results[2].err.kind)
    assert.same({ 0 }, { select(2, c.messages:list_many({})) })
  end)

  it("raises on misuse before any call", function()
    local c, fake = new()
    transcripts(fake)
    assert.has_error(function() c.messages:list_many() end,
      "messages:list_many(): bad argument #1 'request_ids' (array of request ids expected, got nil)")
    assert.has_error(function() c.messages:list_many({ "a", {} }) end,
      "messages:list_many(): request id #2 must be a string or an integer (got table)")
    assert.has_error(function() c.messages:list_many({ "a" }, { concurency = 2 }) end,
      "messages:list_many(): unknown option 'concurency' (concurrency)")
    assert.has_error(function() c.messages:list_many({ "a" }, { concurrency = 0 }) end,
      "messages:list_many(): 'concurrency' must be an integer from 1 to 1024")
    assert.has_error(function() c.messages:list_many({ "a", x = "b" }) end,
      "messages:list_many(): bad argument #1 'request_ids' (an array expected: keys 1..1 only)")
    assert.equal(0, #fake.requests)
  end)
end)
