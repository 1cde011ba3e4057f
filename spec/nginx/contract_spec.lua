-- One contract, every transport: the curl transport (C core), the ngx transport (cosockets,
-- driven inside a real nginx through spec/support/nginx.lua) and the specs' fake. Each runs the
-- same steps (spec/support/transport_contract.lua) and must give the same answers: the exact
-- Authorization value and sign-in body on the wire (read back from the sandbox's echo, or from
-- the fake's record), auth_kind, can_signin, redaction and close.
local helper = require("spec.helper")
local cjson = require("cjson")
local contract = require("spec.support.transport_contract")
local Fake = require("spec.support.fake_transport")
local mime = require("mime")

local st = helper.sandbox()
local ECHO = st.http_url .. "/__sandbox/echo"

local EMAIL = "ops+contract@example.com"
-- a quote, a backslash, a tab, a non-ASCII letter: the sign-in body must escape them as the C core does
local PASSWORD = "pa\"ss\\w\195\182rd\tX-Pw-Secret"
local SIGNIN_BODY = [[{"email":"ops+contract@example.com","password":"pa\"ss\\wörd\tX-Pw-Secret"}]]
local TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb250cmFjdCJ9.Q29udHJhY3QtU2VjcmV0"
local BASIC = "Basic " .. mime.b64(EMAIL .. ":" .. PASSWORD)

-- The fake answers like the sandbox's echo: what it would have sent, read from its record.
local function fake_echo(rec)
  return 200, { ["x-sandbox-connection"] = "1" }, cjson.encode({ method = rec.method, headers = rec.wire_headers,
    body = rec.body or "" })
end

local adapters = {
  { name = "fake", network = false, run = function(steps)
    local f = Fake.new()
    f.handler = fake_echo
    return contract.run(f, steps, cjson.decode)
  end },
  { name = "curl", network = true, run = function(steps)
    local t = require("tiledesk.transport.curl").new{ timeout = 5000, connect_timeout = 2000 }
    return contract.run(t, steps, cjson.decode)
  end },
}
local nginx = require("spec.support.nginx")
adapters[#adapters + 1] = nginx.contract_adapter()
teardown(function() nginx.stop_contract() end)

local function send(req) req.url = req.url or ECHO req.method = req.method or "GET" return { op = "send", req = req } end

-- values of each step; raises at the first step that raised, unless it is expected to
local function values(results)
  local out = {}
  for i, r in ipairs(helper.nonempty(results)) do
    assert(r.ok, "step " .. i .. " raised: " .. tostring(r.error))
    out[i] = r.value
  end
  return out
end

local function no_secret_in(list)
  assert.is_true(#list > 0)
  for _, s in ipairs(list) do
    for _, secret in ipairs({ PASSWORD, "X-Pw-Secret", "Q29udHJhY3QtU2VjcmV0", mime.b64(EMAIL .. ":" .. PASSWORD) }) do
      assert.is_nil(s:find(secret, 1, true), "secret found in: " .. s)
    end
  end
end

for _, A in ipairs(helper.nonempty(adapters)) do
  describe("transport contract (" .. A.name .. ")", function()
    it("basic mode: Authorization is Basic base64(email:password) on every call", function()
      local v = values(A.run{
        { op = "set_credentials", c = { mode = "basic", email = EMAIL, password = PASSWORD } },
        { op = "auth_kind" }, { op = "can_signin" },
        send{ headers = { ["x-trace"] = "t1", authorization = "Basic forged" } },
        send{ method = "POST", body = "{}", headers = { ["content-type"] = "application/json" } },
      })
      assert.equal("basic", v[2])
      assert.is_true(v[3])
      assert.equal(BASIC, v[4].echo.headers.authorization) -- the caller's authorization never goes out
      assert.equal("t1", v[4].echo.headers["x-trace"])
      assert.equal(BASIC, v[5].echo.headers.authorization)
      assert.equal("{}", v[5].echo.body)
    end)

    it("jwt mode without a token sends nothing; the sign-in body is composed and escaped", function()
      local v = values(A.run{
        { op = "set_credentials", c = { mode = "jwt", email = EMAIL, password = PASSWORD } },
        { op = "auth_kind" }, { op = "can_signin" },
        send{},
        send{ method = "POST", auth = "signin" },
      })
      assert.equal("none", v[2])
      assert.is_true(v[3])
      assert.is_nil(v[4].echo.headers.authorization)
      assert.equal(SIGNIN_BODY, v[5].echo.body)
      assert.equal("application/json", v[5].echo.headers["content-type"])
      assert.is_nil(v[5].echo.headers.authorization)
    end)

    it("the token hand-over: JWT is prepended when missing, kept when present, dropped with nil", function()
      local v = values(A.run{
        { op = "set_credentials", c = { mode = "jwt", email = EMAIL, password = PASSWORD } },
        { op = "set_token", token = TOKEN }, { op = "auth_kind" }, send{},
        { op = "set_token", token = "JWT " .. TOKEN }, send{},
        send{ auth = "none" },
        send{ auth = "header", headers = { authorization = "JWT external.custom.token" } },
        { op = "drop_token" }, { op = "auth_kind" }, send{}, { op = "can_signin" },
      })
      assert.equal("jwt", v[3])
      assert.equal("JWT " .. TOKEN, v[4].echo.headers.authorization)
      assert.equal("JWT " .. TOKEN, v[6].echo.headers.authorization)
      assert.is_nil(v[7].echo.headers.authorization)
      assert.equal("JWT external.custom.token", v[8].echo.headers.authorization)
      assert.equal("none", v[10])
      assert.is_nil(v[11].echo.headers.authorization)
      assert.is_true(v[12])
    end)

    it("a token alone (no email and password): jwt, and no sign-in possible", function()
      local r = A.run{
        { op = "set_credentials", c = { mode = "jwt", token = TOKEN } },
        { op = "auth_kind" }, { op = "can_signin" }, send{ method = "POST", auth = "signin" },
      }
      assert.equal("jwt", r[2].value)
      assert.is_false(r[3].value)
      assert.is_false(r[4].ok)
      assert.matches("auth='signin' needs email and password", r[4].error, 1, true)
    end)

    it("refuses CR/LF in credentials, control bytes in tokens and headers, framing headers; keeps what it held", function()
      local r = A.run{
        { op = "set_credentials", c = { mode = "basic", email = EMAIL, password = PASSWORD } },
        { op = "set_credentials", c = { mode = "basic", email = EMAIL, password = "a\r\nX-Evil: 1" } },
        { op = "set_token", token = "abc\1def" },
        send{ headers = { ["x-a"] = "v\r\nX-Evil: 1" } },
        send{ headers = { ["content-length"] = "5" } },
        { op = "set_credentials", c = { mode = "basic" } },
        send{},
      }
      assert.matches("option 'password' contains CR, LF or NUL", r[2].error, 1, true)
      assert.matches("the token contains a control character", r[3].error, 1, true)
      assert.matches("header 'x-a' contains a control character (only tab is allowed)", r[4].error, 1, true)
      assert.matches("header 'content-length' is set by the transport", r[5].error, 1, true)
      assert.matches("mode 'basic' needs email and password", r[6].error, 1, true)
      assert.equal(BASIC, r[7].value.echo.headers.authorization)
    end)

    it("keeps every secret out of tostring, its fields and its error messages", function()
      local steps = {
        { op = "set_credentials", c = { mode = "basic", email = EMAIL, password = PASSWORD } },
        { op = "tostring" }, { op = "strings" },
        { op = "set_credentials", c = { mode = "jwt", email = EMAIL, password = PASSWORD, token = TOKEN } },
        { op = "tostring" }, { op = "strings" },
      }
      if A.network then
        -- nothing listens there: a connect failure whose URL query carries the token
        steps[#steps + 1] = send{ url = "http://127.0.0.1:1/x?token=" .. TOKEN }
      end
      local v = values(A.run(steps))
      assert.equal("string", type(v[2]))
      assert.matches("basic", v[2], 1, true)
      assert.matches("jwt", v[5], 1, true)
      no_secret_in({ v[2], v[5] })
      no_secret_in(v[3])
      no_secret_in(v[6])
      if A.network then
        assert.is_true(v[7].failed)
        assert.equal("connect", v[7].kind)
        assert.matches("^GET http://127%.0%.0%.1:1/x", v[7].msg)
        no_secret_in({ v[7].msg })
      end
    end)

    it("close is idempotent and the transport refuses use afterwards", function()
      local r = A.run{
        { op = "set_credentials", c = { mode = "jwt", token = TOKEN } },
        { op = "close" }, { op = "close" }, { op = "auth_kind" }, send{}, { op = "tostring" },
      }
      assert.is_true(r[2].ok)
      assert.is_true(r[3].ok)
      assert.matches("closed", r[4].error, 1, true)
      assert.matches("closed", r[5].error, 1, true)
      assert.matches("closed", r[6].value, 1, true)
      no_secret_in({ r[6].value })
    end)
  end)
end
