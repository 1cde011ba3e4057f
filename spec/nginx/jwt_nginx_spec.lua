-- tiledesk.crypto, tiledesk.jwt and tiledesk.webhook inside nginx (LuaJIT, resty.sha256 when
-- installed): the RFC 4231 and RFC 7515 vectors, tokens signed in nginx verified by the script
-- and the other way round, and a resthook delivery parsed in a content handler.
local nginx = require("spec.support.nginx")
local jwt = require("tiledesk.jwt")
local json = require("tiledesk.json")

local LOCATION = [[
    location = /jwt {
      content_by_lua_block {
        local crypto, jwt, webhook = require("tiledesk.crypto"), require("tiledesk.jwt"), require("tiledesk.webhook")
        local json = require("tiledesk.json")
        ngx.req.read_body()
        local b = json.decode(ngx.req.get_body_data())
        local out = { backend = crypto.backend_name, hmac = {} }
        for i, v in ipairs(b.hmac) do out.hmac[i] = crypto.hex(crypto.hmac_sha256(v[1], v[2])) end
        out.signed = jwt.sign(b.claims, b.secret)
        local claims, msg = jwt.verify(b.verify, b.secret, { now = b.now })
        out.claims, out.verify_error = claims, msg
        local ev, pmsg = webhook.parse(b.delivery, { ["x-hook-secret"] = b.secret }, { secret = b.secret, now = b.now_ms })
        out.event, out.parse_error = ev and ev.event, pmsg
        ngx.header["Content-Type"] = "application/json"
        ngx.say(json.encode(out))
      }
    }
]]

describe("jwt and webhooks inside nginx", function()
  local inst
  setup(function() inst = nginx.start{ name = "jwt", offset = 30, server = LOCATION } end)
  teardown(function() if inst then inst.stop() end end)

  it("computes the RFC vectors, signs and verifies like the script", function()
    local key = string.rep("\11", 20)
    local rfc7515_key = require("tiledesk.crypto").b64url_decode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
    local secret = "shared-secret-" .. string.rep("x", 10)
    local from_script = jwt.sign({ _id = "u1", sub = "userexternal", n = 7 }, secret)
    local sub = "6560f0a1000000000000abcd"
    local now_ms = 1764500000000
    local delivery = json.encode({ timestamp = now_ms, payload = { text = "hi" },
      hook = { _id = sub, event = "message.create" },
      token = jwt.sign({ _id = sub, sub = "subscription", aud = "https://tiledesk.com/subscriptions/" .. sub }, secret) })
    local status, out = nginx.call(inst, "POST", "/jwt", {
      hmac = { { key, "Hi There" }, { "Jefe", "what do ya want for nothing?" },
        { rfc7515_key, "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0d"
          .. "HA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" } },
      claims = { _id = "u2", sub = "userexternal" }, secret = secret, verify = from_script, now = os.time(),
      delivery = delivery, now_ms = now_ms })
    assert.equal(200, status)
    assert.is_string(out.backend)
    assert.same({ "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      -- RFC 7515 A.1's signature dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk, in hex
      "7418dfb49799e0254ffa607dd8adbbba16d4254d69d6bff05b58055853848d79" }, out.hmac)
    assert.equal(7, out.claims.n)
    assert.is_nil(out.verify_error)
    assert.equal("u2", assert(jwt.verify(out.signed, secret))._id)
    assert.equal("message.create", out.event)
    assert.is_nil(out.parse_error)
  end)
end)
