-- tiledesk.error: the err value, and the server's words read out of every body shape the
-- server answers with (docs/server-api.md §4: app.js's error handler, passport's plain text,
-- the routes' {success, msg}, express-validator's 422, Express's HTML page).
local E = require("tiledesk.error")

describe("tiledesk.error values", function()
  it("are tables marked as errors whose tostring is the message", function()
    local err = E.new{ kind = "http", status = 404, msg = "requests:get(): HTTP 404 Not Found" }
    assert.is_true(E.is(err))
    assert.is_false(E.is({ kind = "http" }))
    assert.is_false(E.is("x"))
    assert.equal("requests:get(): HTTP 404 Not Found", tostring(err))
    assert.equal("tiledesk error (timeout)", tostring(E.new{ kind = "timeout" }))
  end)
end)

describe("the server's words", function()
  it("come from each JSON shape the server uses, in the order msg, message, error, err, errors", function()
    -- routes' common refusal
    assert.equal("Object not found.", E.server_text({ success = false, msg = "Object not found." }))
    -- quota and validation texts
    assert.equal("Requests quota exceeded", E.server_text({ success = false, message = "Requests quota exceeded" }))
    -- project prefix check in app.js
    assert.equal("Invalid project id: x", E.server_text({ error = "Invalid project id: x" }))
    -- the global error handler and the IP filter
    assert.equal("error project ip filter", E.server_text({ err = "error project ip filter" }))
    -- express-validator: the first entry, with the parameter it names
    assert.equal("Invalid value (email)", E.server_text({ errors = { { value = "", msg = "Invalid value", param = "email",
      location = "body" } } }))
    -- the first message without text
    assert.equal("text field is required", E.server_text({ errors = { "text field is required" } }))
    -- msg wins over the others when several are present
    assert.equal("first", E.server_text({ message = "second", msg = "first", error = "third" }))
    -- no words at all
    assert.is_nil(E.server_text({ success = false }))
  end)

  it("come from passport's plain text and Express's HTML page", function()
    assert.equal("Unauthorized", E.server_text(nil, "Unauthorized"))
    local page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n"
      .. "<body>\n<pre>Cannot GET /x</pre>\n</body>\n</html>\n"
    assert.equal("Cannot GET /x", E.server_text(nil, page))
    assert.is_nil(E.server_text(nil, ""))
  end)

  it("are one line with control bytes escaped, so a server cannot drive a terminal", function()
    local t = E.server_text({ msg = "line one\nline two\27[2J" })
    assert.is_nil(t:find("[%c]"))
    assert.matches("line one line two\\x1B[2J", t, 1, true)
    assert.equal("a\\x1Bb", E.escape("a\27b"))
    assert.equal("plain", E.escape("plain"))
  end)

  it("are bounded: a long text is cut with '...' and a huge body is read only in part", function()
    local t = E.server_text({ msg = string.rep("x", 1000) })
    assert.equal(200, #t)
    assert.equal("...", t:sub(-3))
    local body = "<pre>" .. string.rep("<", 4 * 1024 * 1024)
    local s = E.server_text(nil, body)
    assert.is_string(s)
    assert.is_true(#s <= 200)
  end)
end)

describe("HTTP failure messages", function()
  it("name the operation, the status and its reason, then the server's words when they add something", function()
    assert.equal("requests:get(): HTTP 404 Not Found: Object not found.",
      E.http_message("requests:get()", 404, { success = false, msg = "Object not found." }))
    -- the words repeat the reason: said once
    assert.equal("GET /x: HTTP 401 Unauthorized", E.http_message("GET /x", 401, nil, "Unauthorized"))
    assert.equal("GET /x: HTTP 599", E.http_message("GET /x", 599, nil, nil))
  end)

  it("preview a body that did not decode, on one line", function()
    assert.equal("<html> <body>...", E.preview("<html>\n<body>\n" .. string.rep("x", 100), 13))
    assert.equal("", E.preview(nil))
  end)
end)
