-- tiledesk.crypto and tiledesk.jwt: RFC 4231 HMAC-SHA256 vectors, FIPS 180-2 SHA-256 vectors,
-- RFC 4648 base64url, RFC 7515 Appendix A.1 (HS256) and A.5 (unsecured), and the refusals.
local helper = require("spec.helper")
local crypto = require("tiledesk.crypto")
local jwt = require("tiledesk.jwt")

local function rep(byte, n) return string.rep(string.char(byte), n) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

-- RFC 4231 §4.2-4.8 (test case 5 is truncated to 128 bits by the RFC)
local RFC4231 = {
  { rep(0x0b, 20), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
  { "Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
  { rep(0xaa, 20), rep(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
  { unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), rep(0xcd, 50),
    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
  { rep(0x0c, 20), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b", truncated = true },
  { rep(0xaa, 131), "Test Using Larger Than Block-Size Key - Hash Key First",
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
  { rep(0xaa, 131), "This is a test using a larger than block-size key and a larger than block-size data. The key needs"
    .. " to be hashed before being used by the HMAC algorithm.",
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
}

-- FIPS 180-2 Appendix B, plus the padding edges (55, 56, 64 bytes)
local SHA256 = {
  { "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
  { "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
  { string.rep("a", 1000000), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
}

local BACKENDS = {}
for _, name in ipairs({ "native", "bit", "arithmetic", "resty" }) do
  local b = crypto.backend(name)
  if b then BACKENDS[#BACKENDS + 1] = b end
end

describe("tiledesk.crypto", function()
  it("has at least the arithmetic backend and a chosen default", function()
    assert.is_true(#BACKENDS >= 1)
    assert.is_string(crypto.backend_name)
    assert.is_table(crypto.backend("arithmetic"))
    assert.has_error(function() crypto.backend("md5") end, "tiledesk.crypto.backend(): unknown backend md5")
  end)

  for _, b in ipairs(BACKENDS) do
    it("RFC 4231 HMAC-SHA256 test cases 1-7 (" .. b.name .. ")", function()
      assert.are.equal(7, #RFC4231)
      for i, v in ipairs(RFC4231) do
        local got = crypto.hex(b.hmac_sha256(v[1], v[2]))
        if v.truncated then got = got:sub(1, 32) end
        assert.are.equal(v[3], got, "test case " .. i)
      end
    end)

    it("FIPS 180-2 SHA-256 vectors and the padding edges (" .. b.name .. ")", function()
      local list = SHA256
      -- the million-byte vector once, on the backend in use
      if b.name ~= crypto.backend_name then list = { SHA256[1], SHA256[2], SHA256[3] } end
      for _, v in ipairs(helper.nonempty(list)) do
        assert.are.equal(v[2], crypto.hex(b.sha256(v[1])))
      end
      -- messages of 55, 56, 63, 64, 65 bytes agree with the default backend
      for _, n in ipairs({ 55, 56, 63, 64, 65, 119, 120 }) do
        assert.are.equal(crypto.sha256(string.rep("x", n)), b.sha256(string.rep("x", n)), n .. " bytes")
      end
    end)
  end

  it("RFC 4648 §10 vectors, unpadded (base64url)", function()
    local cases = { [""] = "", f = "Zg", fo = "Zm8", foo = "Zm9v", foob = "Zm9vYg", fooba = "Zm9vYmE",
      foobar = "Zm9vYmFy", ["\251\255"] = "-_8" }
    for plain, enc in pairs(helper.nonempty(cases)) do
      assert.are.equal(enc, crypto.b64url_encode(plain))
      assert.are.equal(plain, crypto.b64url_decode(enc))
    end
  end)

  it("base64url decoding refuses padding, other alphabets, impossible lengths and unused bits", function()
    assert.is_nil(crypto.b64url_decode("Zg=="))
    assert.is_nil(crypto.b64url_decode("+/8"))
    assert.is_nil(crypto.b64url_decode("Zm9vY"))
    assert.is_nil(crypto.b64url_decode("Zh"))   -- "Zg" with a stray low bit
    assert.is_nil(crypto.b64url_decode("Zm9"))  -- "Zm8" likewise
    assert.is_nil(crypto.b64url_decode(42))
  end)

  it("equal compares whole strings only", function()
    assert.is_true(crypto.equal("secret", "secret"))
    assert.is_false(crypto.equal("secreT", "secret"))
    assert.is_false(crypto.equal("secret", "secret2"))
    assert.is_false(crypto.equal("secret2", "secret"))
    assert.is_false(crypto.equal("", "secret"))
    assert.is_true(crypto.equal("", ""))
    assert.is_false(crypto.equal(nil, "secret"))
    assert.is_false(crypto.equal("secret", nil))
  end)

  it("raises on misuse", function()
    assert.has_error(function() crypto.hmac_sha256(nil, "x") end,
      "tiledesk.crypto.hmac_sha256(): key must be a string, got nil")
    assert.has_error(function() crypto.sha256({}) end, "tiledesk.crypto.sha256(): data must be a string, got table")
  end)
end)

-- RFC 7515 Appendix A.1: the HS256 example, its JWK key, and A.5's unsecured twin
local A1_KEY = crypto.b64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
local A1_HEADER = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
local A1_PAYLOAD = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
local A1_SIG = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
local A1 = A1_HEADER .. "." .. A1_PAYLOAD .. "." .. A1_SIG
local A5 = "eyJhbGciOiJub25lIn0." .. A1_PAYLOAD .. "."

local function refused(reason, token, secret, opts)
  local claims, msg, err = jwt.verify(token, secret, opts)
  assert.is_nil(claims)
  assert.is_string(msg)
  assert.is_truthy(msg:find("^tiledesk%.jwt%.verify%(%): "), msg)
  assert.are.equal("invalid", err.kind)
  assert.are.equal(reason, err.reason, msg)
  return msg
end

describe("tiledesk.jwt", function()
  it("RFC 7515 A.1: the signature is the RFC's, and the token verifies before its exp", function()
    assert.are.equal(A1_SIG, crypto.b64url_encode(crypto.hmac_sha256(A1_KEY, A1_HEADER .. "." .. A1_PAYLOAD)))
    local claims = assert(jwt.verify(A1, A1_KEY, { now = 1300819379 }))
    assert.are.equal("joe", claims.iss)
    assert.are.equal(1300819380, claims.exp)
    assert.is_true(claims["http://example.com/is_root"])
  end)

  it("RFC 7515 A.1 after its exp is refused as expired, with leeway honoured", function()
    refused("expired", A1, A1_KEY, { now = 1300819380 })
    refused("expired", A1, A1_KEY)
    assert.is_table(jwt.verify(A1, A1_KEY, { now = 1300819389, leeway = 10 }))
  end)

  it("RFC 7515 A.5 (alg none) is refused whatever it claims", function()
    local msg = refused("algorithm", A5, A1_KEY, { now = 1300819379 })
    assert.are.equal("tiledesk.jwt.verify(): algorithm none refused (only HS256)", msg)
    -- none with a made-up signature, HS512, RS256, a missing alg: all refused before any check
    local sig = "." .. A1_SIG
    refused("algorithm", "eyJhbGciOiJub25lIn0." .. A1_PAYLOAD .. sig, A1_KEY, { now = 1300819379 })
    for _, h in ipairs({ '{"alg":"HS512"}', '{"alg":"RS256"}', '{"typ":"JWT"}', '{"alg":"hs256"}' }) do
      refused("algorithm", crypto.b64url_encode(h) .. "." .. A1_PAYLOAD .. sig, A1_KEY, { now = 1300819379 })
    end
  end)

  it("sign then verify round-trips, and another secret is refused", function()
    local token = jwt.sign({ _id = "ext-1", sub = "userexternal", n = 3, nested = { a = { "x" } } }, "s3cret")
    assert.is_truthy(token:match("^eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9%.[%w_%-]+%.[%w_%-]+$"))
    local claims = assert(jwt.verify(token, "s3cret"))
    assert.are.equal("ext-1", claims._id)
    assert.are.equal(3, claims.n)
    assert.are.equal("x", claims.nested.a[1])
    refused("signature", token, "s3cret ")
    refused("signature", token, "S3cret")
  end)

  it("a changed payload, header or signature is refused", function()
    local token = jwt.sign({ _id = "ext-1", role = "user" }, "k")
    local h, p, s = token:match("^(.-)%.(.-)%.(.-)$")
    local forged = crypto.b64url_encode('{"_id":"ext-1","role":"owner"}')
    refused("signature", h .. "." .. forged .. "." .. s, "k")
    refused("signature", crypto.b64url_encode('{"alg":"HS256"}') .. "." .. p .. "." .. s, "k")
    local flipped = s:sub(1, -2) .. (s:sub(-1) == "A" and "B" or "A")
    local r = select(3, jwt.verify(h .. "." .. p .. "." .. flipped, "k")).reason
    assert.is_truthy(r == "signature" or r == "malformed")
    refused("signature", h .. "." .. p .. ".", "k")
  end)

  it("malformed input is refused, never raised", function()
    local cases = { "", "abc", "a.b", "a.b.c.d", "a..c", "@@@.x.y", "eyJhbGciOiJIUzI1NiJ9.%%%.x",
      crypto.b64url_encode("[1]") .. "." .. A1_PAYLOAD .. ".x", crypto.b64url_encode("not json") .. ".e30.x",
      string.rep("A", jwt.MAX_LENGTH + 1) }
    for _, t in ipairs(cases) do refused("malformed", t, "k") end
    -- a correctly signed payload that is not a JSON object
    local h = crypto.b64url_encode('{"alg":"HS256","typ":"JWT"}')
    local p = crypto.b64url_encode("[1,2]")
    refused("malformed", h .. "." .. p .. "." .. crypto.b64url_encode(crypto.hmac_sha256("k", h .. "." .. p)), "k")
    -- crit headers are not understood, so refused
    local hc = crypto.b64url_encode('{"alg":"HS256","crit":["exp"]}')
    refused("malformed", hc .. ".e30." .. crypto.b64url_encode(crypto.hmac_sha256("k", hc .. ".e30")), "k")
  end)

  it("checks exp, nbf, iat types, max_age, audience, issuer and subject", function()
    local now = 1700000000
    refused("expired", jwt.sign({ exp = now - 1 }, "k"), "k", { now = now })
    assert.is_table(jwt.verify(jwt.sign({ exp = now + 1 }, "k"), "k", { now = now }))
    refused("not_yet_valid", jwt.sign({ nbf = now + 60 }, "k"), "k", { now = now })
    refused("claims", jwt.sign({ exp = "tomorrow" }, "k"), "k", { now = now })
    refused("expired", jwt.sign({ iat = now - 301 }, "k"), "k", { now = now, max_age = 300 })
    refused("not_yet_valid", jwt.sign({ iat = now + 301 }, "k"), "k", { now = now, max_age = 300 })
    refused("claims", jwt.sign({}, "k"), "k", { now = now, max_age = 300 })
    local t = jwt.sign({ aud = { "a", "https://tiledesk.com/bots/1" }, iss = "https://tiledesk.com", sub = "bot" }, "k")
    assert.is_table(jwt.verify(t, "k", { audience = "https://tiledesk.com/bots/1", issuer = "https://tiledesk.com",
      subject = "bot" }))
    refused("claims", t, "k", { audience = "https://tiledesk.com/bots/2" })
    refused("claims", t, "k", { issuer = "https://evil.example" })
    refused("claims", t, "k", { subject = "subscription" })
  end)

  it("custom_token carries the claims signinWithCustomToken needs", function()
    local t = jwt.custom_token("65a1b2c3d4e5f60718293a4b", "project-secret",
      { _id = "wa-393331234567", firstname = "Ada", email = "ada@example.com", attributes = { plan = "gold" },
        iat = 1700000000, expires_in = 600 })
    local c = assert(jwt.verify(t, "project-secret", { now = 1700000001 }))
    assert.are.equal("wa-393331234567", c._id)
    assert.are.equal("userexternal", c.sub)
    assert.are.equal("https://tiledesk.com/projects/65a1b2c3d4e5f60718293a4b", c.aud)
    assert.are.equal(1700000000, c.iat)
    assert.are.equal(1700000600, c.exp)
    assert.are.equal("gold", c.attributes.plan)
    refused("expired", t, "project-secret", { now = 1700000600 })
    local plain = assert(jwt.verify(jwt.custom_token("p1", "s", { _id = 7 }), "s"))
    assert.are.equal("7", plain._id)
    assert.is_nil(plain.exp)
    assert.is_number(plain.iat)
  end)

  it("raises on misuse with clear messages", function()
    assert.has_error(function() jwt.sign("x", "k") end, "tiledesk.jwt.sign(): claims must be a table, got string")
    assert.has_error(function() jwt.sign({}, "") end, "tiledesk.jwt.sign(): secret must be a non-empty string")
    assert.has_error(function() jwt.sign({ f = print }, "k") end,
      "tiledesk.jwt.sign(): claims cannot be encoded as a JSON object: Cannot serialise function: type not supported")
    assert.has_error(function() jwt.verify(nil, "k") end, "tiledesk.jwt.verify(): token must be a string, got nil")
    assert.has_error(function() jwt.verify("a.b.c", nil) end, "tiledesk.jwt.verify(): secret must be a non-empty string")
    assert.has_error(function() jwt.verify("a.b.c", "k", { audiance = "x" }) end,
      "tiledesk.jwt.verify(): unknown option audiance")
    assert.has_error(function() jwt.custom_token("p", "s", {}) end,
      "tiledesk.jwt.custom_token(): user._id must be a non-empty string")
    assert.has_error(function() jwt.custom_token("p", "s", { _id = "u", password = "x" }) end,
      "tiledesk.jwt.custom_token(): unknown user field password")
    assert.has_error(function() jwt.custom_token("../x", "s", { _id = "u" }) end,
      "tiledesk.jwt.custom_token(): project_id must be a non-empty alphanumeric string")
  end)

  it("no secret in any message", function()
    local secret = "very-secret-value"
    local token = jwt.sign({ _id = "u" }, secret)
    for _, t in ipairs({ token, token .. "x", "a.b.c" }) do
      local _, msg, err = jwt.verify(t, secret .. "!")
      assert.is_nil(msg:find(secret, 1, true))
      assert.is_nil(tostring(err):find(secret, 1, true))
      assert.is_nil(msg:find(token, 1, true))
    end
  end)

  it("creates no globals", function()
    local before = {}
    for k in pairs(_G) do before[k] = true end
    package.loaded["tiledesk.jwt"], package.loaded["tiledesk.crypto"] = nil, nil
    require("tiledesk.jwt")
    for k in pairs(helper.nonempty(_G)) do assert.is_true(before[k] or false, "new global " .. tostring(k)) end
  end)
end)
