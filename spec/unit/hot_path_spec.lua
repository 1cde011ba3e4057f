-- What the per-call savings must not change (issue 14): memoised URLs and call names follow the
-- client's project and the secrets it learns, raw answers decode on demand, and bodies encode
-- the same with or without the copy for empty arrays. Behaviour only: speed is ./dev bench's.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local json = require("tiledesk.json")

local PID = helper.PID

local new = helper.fake_client

describe("the hot path", function()
  it("follows a changed project_id in memoised URLs", function()
    local c, fake = new()
    fake:queue(200, {})
    fake:queue(200, {})
    assert(c:get("/x"))
    c.project_id = "other-project"
    assert(c:get("/x"))
    assert.equal("https://api.test/v3/" .. PID .. "/x", fake.requests[1].url)
    assert.equal("https://api.test/v3/other-project/x", fake.requests[2].url)
  end)

  it("scrubs a secret learnt after a name was memoised", function()
    local lines = {}
    local c, fake = new{ log = function(l) lines[#lines + 1] = l end }
    local secret = "learnt-token-value-123"
    fake:queue(200, {})
    assert(c:get("/x/" .. secret))
    assert.truthy(lines[1]:find(secret, 1, true)) -- not a secret yet
    fake:queue(200, { token = "JWT " .. secret, user = { _id = "u" } })
    assert(c:signin_with_custom_token("some-custom-jwt"))
    fake:queue(500, { msg = "no" })
    local _, msg, err = c:get("/x/" .. secret)
    assert.is_nil(msg:find(secret, 1, true), msg)
    assert.is_nil(err.url:find(secret, 1, true), err.url)
    assert.is_nil(lines[#lines]:find(secret, 1, true), lines[#lines])
  end)

  it("scrubs a secret learnt after the URL of a call with a query was memoised", function()
    local c, fake = new()
    local secret = "learnt-token-value-456"
    local spec = { method = "GET", path = "/x", query = { q = secret } }
    fake:queue(200, {})
    local res = assert(c:request(spec))
    assert.truthy(res.url:find(secret, 1, true)) -- not a secret yet
    fake:queue(200, { token = "JWT " .. secret, user = { _id = "u" } })
    assert(c:signin_with_custom_token("some-custom-jwt"))
    fake:queue(200, {})
    res = assert(c:request(spec))
    assert.is_nil(res.url:find(secret, 1, true), res.url)
    assert.truthy(fake.requests[#fake.requests].url:find(secret, 1, true)) -- (what went out is unchanged)
  end)

  it("decodes a raw answer only when res.json is read, once", function()
    local c, fake = new()
    fake:queue(200, { a = 1 })
    local res = assert(c:request{ method = "GET", path = "/x" })
    assert.is_nil(rawget(res, "json"))
    assert.same({ a = 1 }, res.json)
    assert.equal(res.json, res.json)
    fake:queue(200, "not json", { ["content-type"] = "application/json" })
    local bad = assert(c:request{ method = "GET", path = "/x" })
    assert.is_nil(bad.json)
    assert.is_string(bad.decode_error)
  end)

  it("checks a path once good, and every time it is bad", function()
    local c, fake = new()
    for _ = 1, 3 do
      fake:queue(200, {})
      assert(c:get("/x"))
    end
    for _ = 1, 2 do
      assert.has_error(function() c:get("/x/../y") end,
        "client:get(): 'path' contains a '..' segment (a dot segment would leave the path; encode ids with tiledesk.path)")
    end
    assert.equal(3, #fake.requests)
  end)

  it("encodes the same with and without empty marked arrays", function()
    local plain = { a = { 1, 2 }, b = { c = "d" }, n = 3 }
    local plain_text = json.encode(plain)
    assert.same(plain, require("cjson").decode(plain_text))
    local marked = { list = json.array(), deep = { x = tiledesk.empty_array, y = json.array{ 1 } } }
    local text = assert(json.encode(marked))
    assert.truthy(text:find('"list":[]', 1, true), text)
    assert.truthy(text:find('"x":[]', 1, true), text)
    assert.truthy(text:find('"y":[1]', 1, true), text)
    local cyclic = {}
    cyclic.self = cyclic
    assert.same({ nil, "JSON value contains a cycle" }, { json.encode(cyclic) })
  end)
end)
