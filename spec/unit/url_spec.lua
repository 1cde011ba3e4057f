-- tiledesk.url: path segments, query strings and redaction of URLs. No sockets.
local tiledesk = require("tiledesk")
local url = require("tiledesk.url")

describe("tiledesk.path", function()
  it("encodes each value as exactly one segment", function()
    assert.equal("/requests/a%2Fb%3Fc%23d/messages", tiledesk.path("/requests/{}/messages", "a/b?c#d"))
    assert.has_error(function() tiledesk.path("/x/{}/y", "..") end,
      "tiledesk.path(): value #1 must not be '..' (a dot segment would leave the path)")
    assert.has_error(function() tiledesk.path("/x/{}/y", ".") end,
      "tiledesk.path(): value #1 must not be '.' (a dot segment would leave the path)")
    assert.equal("/x/...", tiledesk.path("/x/{}", "..."))
    assert.equal("/x/42", tiledesk.path("/x/{}", 42))
    assert.equal("/x/%25%20%C3%A9", tiledesk.path("/x/{}", "% é"))
    assert.has_error(function() tiledesk.path("/x/{}", "") end, "tiledesk.path(): value #1 must not be empty")
    assert.has_error(function() tiledesk.path("/x/{}", nil) end, "tiledesk.path(): value #1 must be a string or an integer (got nil)")
    assert.has_error(function() tiledesk.path("/x/{}", 1.5) end,
      "tiledesk.path(): value #1 must be a string or an integer (got a non-integer or too large number)")
    assert.has_error(function() tiledesk.path("/x/{}", {}) end, "tiledesk.path(): value #1 must be a string or an integer (got table)")
    assert.has_error(function() tiledesk.path("/x/{}/{}", "a") end, "tiledesk.path(): 1 values for 2 placeholders in /x/{}/{}")
    assert.has_error(function() tiledesk.path("/x", "a") end, "tiledesk.path(): 1 values for 0 placeholders in /x")
  end)
end)

describe("url", function()
  it("refuses numbers that name no single integer and query maps", function()
    assert.is_nil((url.segment(1e300)))
    assert.is_nil((url.segment(2 ^ 53)))
    assert.equal("9007199254740991", url.segment(2 ^ 53 - 1))
    assert.has_error(function() url.query{ filter = { a = 1 } } end, "query value for 'filter' must be an array, not a map")
    assert.has_error(function() url.query{ n = 0 / 0 } end, "query value for 'n' is not a finite number")
    assert.equal("a=1&a=2&b=true", url.query{ a = { 1, 2 }, b = true })
  end)

  it("percent-encodes query keys and values alike, however many different keys it has seen", function()
    assert.equal("a%20b=c%26d&n=1.5&x=-3&%C3%A9=%2B%2F", url.query{ ["a b"] = "c&d", n = 1.5, x = -3, ["é"] = "+/" })
    assert.equal("big=1e%2B20&t=false&u=-_.~", url.query{ big = 1e20, t = false, u = "-_.~" })
    assert.equal("k=1&k=x%20y", url.query{ k = { 1, "x y" } })
    -- more different keys than the memo of encoded keys holds: each still encoded as itself
    for i = 1, 600 do
      assert.equal("k" .. i .. "%3F=v%3F&z=1", url.query{ ["k" .. i .. "?"] = "v?", z = 1 })
    end
    assert.equal("a%20b=1", url.query{ ["a b"] = 1 })
    assert.equal("%C3%A9=", url.query{ ["é"] = "" })
    -- values too: more different ones than their memo holds, each still encoded as itself, a
    -- number the same whether given as an integer or a float, long values as short ones
    for i = 1, 600 do
      assert.equal("v=x%20" .. i .. "&w=" .. i, url.query{ v = "x " .. i, w = i })
      assert.equal("w=" .. i, url.query{ w = i + 0.0 })
    end
    local long = string.rep("a b", 40)
    assert.equal("v=" .. string.rep("a%20b", 40), url.query{ v = long })
    assert.equal("v=" .. string.rep("a%20b", 40), url.query{ v = long })
    assert.equal("m=0&n=9007199254740992", url.query{ n = 2 ^ 53, m = -0.0 })
    assert.equal("m=0&n=9007199254740992", url.query{ n = 2 ^ 53, m = -0.0 })
    assert.has_error(function() url.query{ n = math.huge } end, "query value for 'n' is not a finite number")
    assert.has_error(function() url.query{ n = 0 / 0 } end, "query value for 'n' is not a finite number")
  end)

  it("redacts userinfo wherever a URL sits in a text", function()
    assert.equal("GET http://[redacted]@h/x: connect", url.redact("GET http://bob:pw@h/x: connect"))
  end)
end)
