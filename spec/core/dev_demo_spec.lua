-- ./dev demo starts its sandbox on TD_DEMO_PORT when the three ports are free, and on the next
-- free ones (saying which) when one is taken. Ports come from the running test sandbox's port,
-- so parallel runs on other ports do not collide. Runs once (under Lua 5.4): the script is bash.
local helper = require("spec.helper")
local socket = require("socket")

local st = helper.sandbox()
local BASE = tonumber(st.http_url:match(":(%d+)$"))

local ROOT = helper.abs_root

local q = helper.shell_quote

local slurp = helper.take_file

local function demo(dir, port)
  local out, err, code = os.tmpname(), os.tmpname(), os.tmpname()
  os.execute(string.format("cd %s && env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS TD_DEMO_DIR=%s TD_DEMO_PORT=%d ./dev demo >%s 2>%s; echo $? >%s",
    q(ROOT), q(dir), port, q(out), q(err), q(code)))
  return tonumber((slurp(code):match("%d+"))), slurp(out), slurp(err)
end

local function stop(dir)
  os.execute("TD_SANDBOX_DIR=" .. q(dir) .. " " .. q(ROOT .. "sandbox/bin/sandbox") .. " stop >/dev/null 2>&1")
end

local function state_port(dir)
  local text = assert(helper.read_file(dir .. "/state.json"), "no state.json in " .. dir)
  return tonumber(text:match('"http_url"%s*:%s*"http://127%.0%.0%.1:(%d+)"'))
end

describe("./dev demo", function()
  if _VERSION ~= "Lua 5.4" or rawget(_G, "jit") then
    it("runs under Lua 5.4 only (it is one bash script)", function() assert.truthy(_VERSION) end)
    return
  end
  local dir

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
  end)

  after_each(function()
    stop(dir)
    os.execute("rm -rf " .. q(dir))
  end)

  it("moves to free ports when TD_DEMO_PORT is taken, and says which", function()
    local want = BASE + 30
    local blocker = assert(socket.bind("127.0.0.1", want + 1)) -- the HTTPS one of the three
    local code, out, err = demo(dir, want)
    blocker:close()
    assert.equal(0, code, out .. err)
    local got = state_port(dir)
    assert.is_true(got > want + 1)
    assert.truthy(err:find("demo: port " .. want .. " (or " .. (want + 1) .. ", " .. (want + 2)
      .. ") is taken; the sandbox uses " .. got .. ".." .. (got + 2) .. " instead (TD_DEMO_PORT sets the first)", 1, true), err)
    assert.truthy(err:find("the sandbox keeps running on http://127.0.0.1:" .. got .. " (state in ", 1, true), err)
    assert.truthy(#out > 0)
  end)

  it("uses TD_DEMO_PORT itself when it is free", function()
    local want = BASE + 60
    local code, out, err = demo(dir, want)
    assert.equal(0, code, out .. err)
    assert.equal(want, state_port(dir))
    assert.is_nil(err:find("is taken", 1, true))
  end)
end)
