-- tiledesk.json: null, empty and marked arrays, integers, failures returned instead of raised.
local tiledesk = require("tiledesk")
local cjson = require("cjson")

describe("json", function()
  local json = require("tiledesk.json")
  it("encodes null, empty arrays and nested marked arrays", function()
    assert.equal('{"a":null}', json.encode({ a = tiledesk.null }))
    assert.equal('{"a":[]}', json.encode({ a = tiledesk.empty_array }))
    assert.same({ a = {}, b = { {} } }, cjson.decode((json.encode({ a = tiledesk.array(), b = { tiledesk.array() } }))))
    assert.equal('[]', json.encode(tiledesk.array()))
    assert.is_nil((json.encode({ f = print })))
    local t = {}
    t.self = t
    assert.is_nil((json.encode(t)))
    assert.has_error(function() tiledesk.empty_array[1] = 1 end, "tiledesk.empty_array is read-only")
  end)
  it("decodes, reporting failures instead of raising", function()
    assert.same({ a = { 1, 2 } }, json.decode('{"a":[1,2]}'))
    local v, err = json.decode("{nope")
    assert.is_nil(v)
    assert.is_string(err)
    if math.type then assert.equal("integer", math.type(json.decode('{"n":300}').n)) end
    assert.equal(tiledesk.null, json.decode('{"x":null}').x)
  end)
end)
