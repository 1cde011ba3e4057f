-- The sandbox at the HTTP level, as Express and passport shape it before any handler: body
-- parsing first, CORS, the valid-token rules, the HTML 404 page, and JSON arrays in bodies
-- (docs/server-api.md §1, §2, §4).
local helper = require("spec.helper")

local st = helper.sandbox()
local PID = st.project_id
local B = st.http_url

local api = helper.api

local reset = helper.reset

local function b64(s) return (require("mime").b64(s)) end

-- A "JWT <jwt>" token of a seeded user, from /auth/signin.
local function token_of(who)
  local u = st.users[who]
  local status, j = helper.http_json("POST", B .. "/auth/signin", { email = u.email, password = u.password })
  assert.equal(200, status)
  return j.token
end

describe("sandbox body parsing (body-parser runs first)", function()
  before_each(reset)

  it("answers malformed JSON with 500 {err} before auth, the project check and routing", function()
    local json_ct = { ["content-type"] = "application/json" }
    for _, path in ipairs({ "/" .. PID .. "/leads", "/not-a-project/leads", "/auth/no-such-route", "/" }) do
      local status, j = helper.http_json("POST", B .. path, '{"fullname":', json_ct)
      assert.equal(500, status, path)
      assert.same({ err = "error" }, j, path)
    end
    -- with good credentials too
    local status, j = api("agent", "POST", "/leads", "{oops}")
    assert.equal(500, status)
    assert.same({ err = "error" }, j)
  end)

  it("refuses JSON whose top level is not an object or an array (strict parser)", function()
    for _, text in ipairs({ '"str"', "5", "true", "null", "  " }) do
      local status, j = api("agent", "POST", "/leads", text)
      assert.equal(500, status, text)
      assert.same({ err = "error" }, j, text)
    end
    local _, list = api("owner", "GET", "/requests?limit=1")
    local status, r = api("owner", "PUT", "/requests/" .. list.requests[1].request_id .. "/followers", " [] ")
    assert.equal(200, status)
    assert.same({}, r.followers)
  end)

  it("parses urlencoded bodies the way qs does (nested keys, arrays, repeated keys)", function()
    local form = { ["content-type"] = "application/x-www-form-urlencoded" }
    local u = st.users.owner
    local status, j = helper.http_json("POST", B .. "/auth/signin",
      "email=" .. u.email:gsub("@", "%%40") .. "&password=" .. u.password, form)
    assert.equal(200, status)
    assert.is_true(j.success)
    local _, list = api("owner", "GET", "/requests?limit=1")
    local rid = list.requests[1].request_id
    local r
    status, r = api("owner", "PATCH", "/requests/" .. rid .. "/attributes",
      "page%5Burl%5D=https%3A%2F%2Fx.test%2Fa+b&page[title]=Home&tags[]=a&tags[]=b&dup=1&dup=2", form)
    assert.equal(200, status)
    assert.same({ url = "https://x.test/a b", title = "Home" }, r.attributes.page)
    assert.same({ "a", "b" }, r.attributes.tags)
    assert.same({ "1", "2" }, r.attributes.dup)
  end)
end)

describe("sandbox JSON arrays in bodies", function()
  before_each(reset)

  it("keeps empty arrays as [] on the way back", function()
    local _, leads = api("agent", "GET", "/leads?limit=1")
    local id = leads.leads[1]._id
    local status, _, _, text = api("agent", "PUT", "/leads/" .. id, '{"tags":[],"attributes":{"list":[]}}')
    assert.equal(200, status)
    assert.matches('"tags":%[%]', text)
    assert.matches('"list":%[%]', text)
    local _, list = api("owner", "GET", "/requests?limit=1")
    local rid = list.requests[1].request_id
    status, _, _, text = api("owner", "PATCH", "/requests/" .. rid .. "/attributes", '{"items":[],"nested":[[]]}')
    assert.equal(200, status)
    assert.matches('"items":%[%]', text)
    assert.matches('"nested":%[%[%]%]', text)
    status, _, _, text = api("admin", "POST", "/faq",
      '{"id_faq_kb":"' .. st.bot._id .. '","question":"q?","answer":"a","actions":[],"intent_display_name":"empty"}')
    assert.equal(200, status)
    assert.matches('"actions":%[%]', text)
  end)
end)

describe("sandbox CORS (cors() with its defaults)", function()
  it("answers a preflight on any path with 204 and the allow headers", function()
    for _, path in ipairs({ "/" .. PID .. "/requests", "/auth/signin", "/no/such/thing" }) do
      local status, h = helper.http("OPTIONS", B .. path, nil, { origin = "https://app.example.com",
        ["access-control-request-method"] = "POST", ["access-control-request-headers"] = "authorization,content-type" })
      assert.equal(204, status, path)
      assert.equal("*", h["access-control-allow-origin"])
      assert.equal("GET,HEAD,PUT,PATCH,POST,DELETE", h["access-control-allow-methods"])
      assert.equal("authorization,content-type", h["access-control-allow-headers"])
    end
  end)

  it("lets any origin read every answer, errors included", function()
    local _, h = helper.http("GET", B .. "/")
    assert.equal("*", h["access-control-allow-origin"])
    _, h = helper.http("GET", B .. "/" .. PID .. "/requests")
    assert.equal("*", h["access-control-allow-origin"])
    local _, _, h2 = api("agent", "GET", "/departments")
    assert.equal("*", h2["access-control-allow-origin"])
  end)
end)

describe("sandbox passport and valid-token", function()
  it("refuses a JWT header with two spaces (passport reads it, valid-token does not)", function()
    local token = token_of("agent")
    local jwt = token:match("^JWT (.+)$")
    assert.equal(200, (api({ authorization = token }, "GET", "/departments/allstatus")))
    local status, j = api({ authorization = "JWT  " .. jwt }, "GET", "/departments/allstatus")
    assert.equal(403, status)
    assert.same({ success = false, msg = "Unauthorized." }, j)
    status, j = api({ authorization = token .. " extra" }, "GET", "/departments/allstatus")
    assert.equal(403, status)
    assert.same({ success = false, msg = "Unauthorized." }, j)
  end)

  it("reads ?secret_token= but still wants the Authorization header (403)", function()
    local jwt = token_of("agent"):match("^JWT (.+)$")
    local status, j = api(nil, "GET", "/departments/allstatus?secret_token=" .. jwt)
    assert.equal(403, status)
    assert.same({ success = false, msg = "Unauthorized." }, j)
    local s2, _, h, text = api(nil, "GET", "/departments/allstatus?secret_token=not.a.token")
    assert.equal(401, s2)
    assert.equal("Unauthorized", text)
    assert.equal('Basic realm="Users"', h["www-authenticate"])
  end)

  it("answers Basic headers as passport-http does", function()
    local u = st.users.agent
    -- fewer than two parts, or credentials without ':' -> the strategy's 400
    for _, value in ipairs({ "Basic", "Basic " .. b64("no-colon-here"), "Basic  " .. b64(u.email .. ":" .. u.password) }) do
      local status, _, h, text = api({ authorization = value }, "GET", "/departments/allstatus")
      assert.equal(400, status, value)
      assert.equal("Bad Request", text)
      assert.is_nil(h["www-authenticate"])
    end
    -- an empty user or password, or wrong ones -> 401 with the Basic challenge, plain text
    for _, pair in ipairs({ ":" .. u.password, u.email .. ":", u.email .. ":wrong" }) do
      local status, j, h, text = api({ authorization = "Basic " .. b64(pair) }, "GET", "/departments/allstatus")
      assert.equal(401, status, pair)
      assert.is_nil(j)
      assert.equal("Unauthorized", text)
      assert.equal('Basic realm="Users"', h["www-authenticate"])
    end
    -- passport takes the second part; valid-token then counts three parts
    local status, j = api({ authorization = "Basic " .. b64(u.email .. ":" .. u.password) .. " x" }, "GET",
      "/departments/allstatus")
    assert.equal(403, status)
    assert.same({ success = false, msg = "Unauthorized." }, j)
  end)
end)

describe("sandbox 404 page", function()
  it("is Express's page with the path percent-encoded and HTML-escaped", function()
    local status, h, text = helper.http("GET", B .. "/auth/<script>alert('x')</script>&\"")
    assert.equal(404, status)
    assert.matches("^text/html", h["content-type"])
    assert.is_nil(text:find("<script>", 1, true))
    assert.equal('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
      .. "</head>\n<body>\n<pre>Cannot GET /auth/%3Cscript%3Ealert(&#39;x&#39;)%3C/script%3E&amp;%22</pre>\n"
      .. "</body>\n</html>\n", text)
    local _
    status, _, text = helper.http("DELETE", B .. "/auth/%3Cb%3E")
    assert.equal(404, status)
    assert.matches("<pre>Cannot DELETE /auth/%%3Cb%%3E</pre>", text)
  end)
end)
