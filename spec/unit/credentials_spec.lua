-- tiledesk.credentials: the secrets of Lua transports in closures, the C core's wire format.
local helper = require("spec.helper")
local credentials = require("tiledesk.credentials")

describe("tiledesk.credentials", function()
  it("encodes base64 as RFC 4648 (test vectors)", function()
    local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=",
      foobar = "Zm9vYmFy", ["\255\254\253"] = "//79" }
    local n = 0
    for plain, enc in pairs(helper.nonempty(vectors)) do
      assert.equal(enc, credentials.base64(plain))
      n = n + 1
    end
    assert.equal(8, n)
  end)

  it("escapes JSON strings like the C core", function()
    assert.equal([["a\"b\\c\n\r\t\u0001\u007fé"]], credentials.json_string("a\"b\\c\n\r\t\1\127é"))
  end)

  it("keeps nothing in table fields", function()
    local c = credentials.new("x")
    c.set{ mode = "basic", email = "e@x.io", password = "pw-secret" }
    for k, v in pairs(helper.nonempty(c)) do
      assert.equal("string", type(k))
      assert.equal("function", type(v))
    end
    assert.equal("tiledesk.credentials (basic)", tostring(c))
    assert.equal("Basic ZUB4LmlvOnB3LXNlY3JldA==", c.authorization())
    c.clear()
    assert.equal("none", c.auth_kind())
    assert.is_nil(c.authorization())
    assert.is_false(c.can_signin())
  end)

  it("raises on misuse with the owner's name", function()
    local c = credentials.new("tiledesk.transport.ngx")
    assert.has_error(function() c.set{ mode = "jwt", tokn = "x" } end,
      "tiledesk.transport.ngx:set_credentials(): unknown option 'tokn'")
    assert.has_error(function() c.set{ mode = "bearer" } end,
      "tiledesk.transport.ngx:set_credentials(): mode must be \"none\", \"basic\" or \"jwt\"")
    assert.has_error(function() c.wire{ auth = "signin" } end,
      "tiledesk.transport.ngx:send(): auth='signin' needs email and password credentials")
    assert.has_error(function() c.wire{ auth = "bearer" } end,
      "tiledesk.transport.ngx:send(): auth must be \"credentials\", \"none\", \"signin\" or \"header\"")
  end)
end)

describe("tiledesk.ratelimit.memory:seen", function()
  it("is false the first time within the ttl, true after, false again once expired", function()
    local store = require("tiledesk.ratelimit.memory").new()
    assert.is_false(store:seen("d1", 1000, 0))
    assert.is_true(store:seen("d1", 1000, 500))
    assert.is_false(store:seen("d2", 1000, 500))
    assert.is_false(store:seen("d1", 1000, 1000))
    assert.is_true(store:seen("d1", 1000, 1999))
  end)
end)
