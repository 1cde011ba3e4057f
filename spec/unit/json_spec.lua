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
  if math.type then
    it("gives integral numbers back as integers at any depth, in C and in Lua alike", function()
      local text = '{"a":300,"b":1.5,"c":-0.0,"d":[1,2.25,{"e":[[7]]}],"f":1e300,"g":9007199254740993,'
        .. '"h":-42,"i":"12","j":true,"k":null,"l":1e3}'
      local function kinds(v)
        if type(v) ~= "table" then return math.type(v) or type(v) end
        local out = {}
        for k, x in pairs(v) do out[k] = kinds(x) end
        return out
      end
      local expected = { a = "integer", b = "float", c = "integer", d = { "integer", "float", { e = { { "integer" } } } },
        f = "float", g = "integer", h = "integer", i = "string", j = "boolean", k = "userdata", l = "integer" }
      local by_core = json.decode(text)
      assert.same(expected, kinds(by_core))
      assert.same(expected, kinds(json._integers_lua(cjson.decode(text), 0)))
      assert.equal(300, by_core.a)
      assert.equal(1000, by_core.l)
      assert.equal(7, by_core.d[3].e[1][1])
      assert.equal(2.25, by_core.d[2])
      -- the core's walk is the one in use where the core is built
      local ok, core = pcall(require, "tiledesk.core")
      if ok then
        local t, is_table = core.integers(cjson.decode('{"n":[4.0]}'))
        assert.equal("integer", math.type(t.n[1]))
        assert.is_true(is_table)
        -- deep nesting: 150 levels of objects and arrays, a number at each (the walk's stack grows as it goes)
        local deep = string.rep('{"n":1,"a":[2,', 75) .. "3" .. string.rep("]}", 75)
        local d = core.integers(cjson.decode(deep))
        for level = 1, 75 do
          assert.equal("integer", math.type(d.n), level)
          assert.equal("integer", math.type(d.a[1]), level)
          d = d.a[2]
        end
        assert.equal("integer", math.type(d))
        -- a number alone, and what is neither: as math.tointeger, and not a table
        local cases = { { 4.0, 4, "integer" }, { 2.5, 2.5, "float" }, { 1e300, 1e300, "float" }, { 7, 7, "integer" } }
        for _, case in ipairs(cases) do
          local v, t2 = core.integers(case[1])
          assert.equal(case[2], v)
          assert.equal(case[3], math.type(v))
          assert.is_false(t2)
        end
        for _, other in ipairs({ "12", true, cjson.null }) do
          local v, t2 = core.integers(other)
          assert.equal(other, v)
          assert.is_false(t2)
        end
      end
      -- decode_text: the value and whether it is a table
      local v, is_table = json.decode_text('{"n":2.0}')
      assert.same({ n = 2 }, v)
      assert.is_true(is_table)
      assert.same({ 5, false }, { json.decode_text("5.0") })
      assert.equal("integer", math.type((json.decode_text("5.0"))))
      assert.same({ "x", false }, { json.decode_text('"x"') })
      local none, err = json.decode_text("{nope")
      assert.is_nil(none)
      assert.is_string(err)
      assert.equal(300, json.decode("300.0"))
      assert.equal("integer", math.type(json.decode("300.0")))
    end)
  end
end)
