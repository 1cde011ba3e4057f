-- tiledesk.jwt against the sandbox: the custom tokens it signs are the ones
-- POST /auth/signinWithCustomToken accepts, and the tokens the server signs verify with it.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local jwt = require("tiledesk.jwt")

local st = helper.sandbox()
local PID = st.project_id

local control = helper.control

local function admin() return helper.signed_in("admin") end

local function fresh() return tiledesk.new{ base_url = st.http_url .. "/v3", project_id = PID } end

describe("tiledesk.jwt with the sandbox", function()
  local secret
  setup(function()
    helper.reset()
    secret = assert(admin().keys:generate()).jwtSecret
  end)

  it("signinWithCustomToken accepts custom_token's token and the user can start a conversation", function()
    local token = jwt.custom_token(PID, secret, { _id = "jwt-ext-1", firstname = "Ext", lastname = "User",
      email = "ext@example.com", attributes = { channel = "sms" }, expires_in = 600 })
    local c = fresh()
    local user = assert(c:signin_with_custom_token(token))
    assert.equal("jwt-ext-1", user._id)
    assert.equal("Ext", user.firstname)
    local conv = assert(c.requests:start{ text = "hello from a custom-auth user" })
    assert.equal("jwt-ext-1", conv.requester.uuid_user)
    assert.equal("jwt-ext-1", conv.lead.lead_id)
  end)

  it("refuses tokens signed with another secret, expired, or without the project audience", function()
    local wrong = jwt.custom_token(PID, secret .. "x", { _id = "jwt-ext-2" })
    local v, _, err = fresh():signin_with_custom_token(wrong)
    assert.is_nil(v)
    assert.equal(401, err.status)
    local expired = jwt.custom_token(PID, secret, { _id = "jwt-ext-3", iat = os.time() - 120, expires_in = 60 })
    v, _, err = fresh():signin_with_custom_token(expired)
    assert.is_nil(v)
    assert.equal(401, err.status)
    local no_aud = jwt.sign({ _id = "jwt-ext-4", sub = "userexternal", iat = os.time() }, secret)
    v, _, err = fresh():signin_with_custom_token(no_aud)
    assert.is_nil(v)
    assert.equal(400, err.status)
  end)

  it("verifies a token the sandbox signed, and refuses it under another secret", function()
    local signed = control("POST", "/sign", { payload = { _id = "x", sub = "userexternal", n = 1 },
      secret = "shared-secret-1" }).token
    local claims = assert(jwt.verify(signed, "shared-secret-1"))
    assert.equal("x", claims._id)
    assert.equal(1, claims.n)
    assert.is_nil(jwt.verify(signed, "shared-secret-2"))
  end)
end)
