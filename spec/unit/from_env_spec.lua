-- tiledesk.from_env(): a client from TILEDESK_URL, TILEDESK_PROJECT_ID, TILEDESK_TOKEN or
-- TILEDESK_EMAIL + TILEDESK_PASSWORD, TILEDESK_TIMEZONE; what is missing is named, no secret shown.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local Fake = require("spec.support.fake_transport")

local function env(t) return function(name) return t[name] end end

describe("tiledesk.from_env", function()
  it("names what is missing, and returns nil, msg, err with kind config", function()
    local c, msg, err = tiledesk.from_env{ getenv = env{} }
    assert.is_nil(c)
    assert.equal("tiledesk.from_env(): set TILEDESK_PROJECT_ID and TILEDESK_TOKEN (or TILEDESK_EMAIL and TILEDESK_PASSWORD)", msg)
    assert.equal("config", err.kind)
    assert.same({ "TILEDESK_PROJECT_ID", "TILEDESK_TOKEN" }, err.missing)
    assert.equal(msg, tostring(err))
    msg = select(2, tiledesk.from_env{ getenv = env{ TILEDESK_PROJECT_ID = "p", TILEDESK_EMAIL = "ann@example.com" } })
    assert.equal("tiledesk.from_env(): set TILEDESK_PASSWORD (TILEDESK_EMAIL is set)", msg)
    msg = select(2, tiledesk.from_env{ getenv = env{ TILEDESK_PROJECT_ID = "p", TILEDESK_PASSWORD = "s3cret-pass" } })
    assert.equal("tiledesk.from_env(): set TILEDESK_EMAIL (TILEDESK_PASSWORD is set)", msg)
    -- an empty variable counts as missing
    msg = select(2, tiledesk.from_env{ getenv = env{ TILEDESK_PROJECT_ID = "", TILEDESK_TOKEN = "JWT abc" } })
    assert.equal("tiledesk.from_env(): set TILEDESK_PROJECT_ID", msg)
  end)

  it("makes a client from a token, or from an email and a password, against TILEDESK_URL", function()
    local fake = Fake.new()
    local c = assert(tiledesk.from_env{ transport = fake, getenv = env{ TILEDESK_URL = "http://127.0.0.1:9/api",
      TILEDESK_PROJECT_ID = "65a1b2c3d4e5f60718293a4b", TILEDESK_TOKEN = "JWT abc.def" } })
    assert.equal("jwt", c:auth_kind())
    fake:queue(200, { requests = {}, count = 0, perPage = 100 })
    assert(c.requests:list())
    assert.equal("http://127.0.0.1:9/api/65a1b2c3d4e5f60718293a4b/requests", fake:last().url:match("^[^?]*"))
    assert.equal("JWT abc.def", fake.token)
    c:close()
    fake = Fake.new()
    c = assert(tiledesk.from_env{ transport = fake, getenv = env{ TILEDESK_PROJECT_ID = "p",
      TILEDESK_EMAIL = "ann@example.com", TILEDESK_PASSWORD = "s3cret-pass" } })
    assert.is_true(fake:can_signin())
    assert.equal("s3cret-pass", fake.password)
    assert.matches("^tiledesk.Client%(base_url=https://api.tiledesk.com/v3, project=p", tostring(c))
    c:close()
  end)

  it("passes more client options on, and raises on misuse of its own options", function()
    local c = assert(tiledesk.from_env{ transport = Fake.new(), timeout = 2500,
      getenv = env{ TILEDESK_PROJECT_ID = "p", TILEDESK_TOKEN = "JWT t" } })
    c:close()
    local ok, err = pcall(tiledesk.from_env, { timout = 5, getenv = env{} })
    assert.is_false(ok)
    assert.matches("tiledesk.from_env%(%): unknown option 'timout'", err)
    ok, err = pcall(tiledesk.from_env, "x")
    assert.is_false(ok)
    assert.matches("tiledesk.from_env%(%): opts must be a table", err)
  end)

  it("names the variable whose value the client refuses, and never shows a secret", function()
    local c, msg = tiledesk.from_env{ getenv = env{ TILEDESK_PROJECT_ID = "p", TILEDESK_TOKEN = "JWT t",
      TILEDESK_URL = "https://ann:s3cret-pass@api.example.com/v3" } }
    assert.is_nil(c)
    assert.matches("^tiledesk.from_env%(%): TILEDESK_URL: option 'base_url' must be", msg)
    assert.is_nil(msg:find("s3cret", 1, true))
  end)

  it("reads TILEDESK_TIMEZONE into the timezone option, and every variable into its option", function()
    local seen
    local new = tiledesk.new
    tiledesk.new = function(cfg) seen = cfg return { fake = true } end
    local ok, c = pcall(tiledesk.from_env, { getenv = env{ TILEDESK_URL = "http://127.0.0.1:9/api",
      TILEDESK_PROJECT_ID = "p", TILEDESK_EMAIL = "ann@example.com", TILEDESK_PASSWORD = "pw", TILEDESK_TOKEN = "JWT t",
      TILEDESK_TIMEZONE = "Europe/Rome" } })
    tiledesk.new = new
    assert(ok, c)
    assert.is_true(c.fake)
    assert.same({ base_url = "http://127.0.0.1:9/api", project_id = "p", email = "ann@example.com", password = "pw",
      token = "JWT t", timezone = "Europe/Rome" }, seen)
  end)

  it("reads the real environment by default", function()
    -- the interpreter running this spec, started with a clean environment
    local cmd = "cd '" .. helper.root .. "' && env -i TILEDESK_PROJECT_ID=p TILEDESK_EMAIL=ann@example.com "
      .. "\"$(readlink /proc/$PPID/exe)\" -e \"package.path='lua/?.lua;lua/?/init.lua;'..package.path "
      .. "package.cpath='" .. (os.getenv("TD_BUILD_DIR") or "build") .. "/?.so;'..package.cpath "
      .. "print((select(2, require('tiledesk').from_env())))\" 2>&1"
    local p = io.popen(cmd)
    local out = p:read("*a")
    p:close()
    assert.equal("tiledesk.from_env(): set TILEDESK_PASSWORD (TILEDESK_EMAIL is set)\n", out)
  end)
end)
