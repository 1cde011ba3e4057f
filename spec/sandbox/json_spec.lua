-- The sandbox's JSON writer (sandbox/lua/sbx/json.lua) over HTTP: what a body held comes back
-- as it was sent, as the server stores a Mixed field and JSON.stringify writes it: [] and {}
-- kept apart, control characters escaped, numbers, nulls, nesting; and a page of conversations
-- with its arrays as arrays.
local helper = require("spec.helper")

local api = helper.api

-- The raw text of GET path as the owner, and its decoded value.
local function get_text(path)
  local status, decoded, _, text = api("owner", "GET", path)
  assert.equal(200, status)
  return text, decoded
end

describe("sandbox JSON", function()
  before_each(helper.reset)

  it("writes back a stored body as it came: [] and {}, escapes, separators, numbers and null", function()
    local body = '{"fullname":"Ann \\"Q\\" Lee\\\\","email":"ann.json@example.org","attributes":{'
      .. '"empty_list":[],"empty_obj":{},"nested":{"list":[1,2.5,-3,1e+300],"flag":false,"none":null},'
      .. '"ctrl":"tab\\there\\nnl\\u0001","seps":"a\\u2028b\\u2029c","bom":"\\ufeffx","emoji":"\\ud83d\\ude00",'
      .. '"int_keys":{"1":"one","2":"two"},"slash":"a/b"}}'
    local status, lead = api("owner", "POST", "/leads", body)
    assert.equal(200, status)
    local text, back = get_text("/leads/" .. lead._id)
    assert.truthy(text:find('"empty_list":[]', 1, true), text)
    assert.truthy(text:find('"empty_obj":{}', 1, true), text)
    assert.truthy(text:find('"ctrl":"tab\\there\\nnl\\u0001"', 1, true), text)
    assert.truthy(text:find('"none":null', 1, true), text)
    assert.truthy(text:find('"slash":"a/b"', 1, true), text)
    local a = back.attributes
    assert.equal('Ann "Q" Lee\\', back.fullname)
    assert.same({ 1, 2.5, -3, 1e300 }, a.nested.list)
    assert.is_false(a.nested.flag)
    assert.equal("\240\159\152\128", a.emoji)
    assert.equal("a\226\128\168b\226\128\169c", a.seps) -- U+2028, U+2029 (escaped or not: the same string)
    assert.equal("\239\187\191x", a.bom)
    assert.same({ ["1"] = "one", ["2"] = "two" }, a.int_keys) -- an object with integer-like keys stays one
    assert.truthy(text:find('"int_keys":{', 1, true), text)
  end)

  it("writes a page of conversations the same each time, with every item's arrays as arrays", function()
    local text = get_text("/requests?status=all&limit=100")
    assert.equal(text, (get_text("/requests?status=all&limit=100")))
    local _, page = get_text("/requests?status=all&limit=100")
    assert.equal(100, #page.requests)
    for _, r in ipairs(page.requests) do
      assert.equal("table", type(r.participants))
      assert.equal("table", type(r.tags))
    end
    -- arrays that are empty on some conversation are written [] there, never {}
    assert.is_nil(text:find('"tags":{}', 1, true))
    assert.is_nil(text:find('"notes":{}', 1, true))
    assert.truthy(text:find('"participatingBots":[]', 1, true))
  end)
end)
