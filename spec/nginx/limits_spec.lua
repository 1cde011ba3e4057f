-- Rate-limit stores inside nginx: a lua_shared_dict shared by the workers of one host, and Redis
-- (a real redis-server on 127.0.0.1, started and stopped here by its pid) shared by two nginx
-- instances. Budgets are shown by what the stores answer (0 = a token was taken, > 0 = the ms to
-- wait), never by a stopwatch.
local helper = require("spec.helper")
local nginx = require("spec.support.nginx")
local socket = require("socket")

local redis_port = nginx.base_port() + 20
local down_port = nginx.base_port() + 21 -- nothing listens there
local redis_dir, redis_pid
local a, b, multi

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

local function start_redis()
  redis_dir = sh("mktemp -d"):gsub("%s+$", "")
  sh("redis-server --port " .. redis_port .. " --bind 127.0.0.1 --save '' --appendonly no --daemonize yes"
    .. " --dir " .. redis_dir .. " --pidfile " .. redis_dir .. "/redis.pid --logfile " .. redis_dir .. "/redis.log")
  for _ = 1, 200 do
    redis_pid = tonumber((helper.read_file(redis_dir .. "/redis.pid") or ""):match("%d+"))
    local s = socket.tcp()
    s:settimeout(0.2)
    local ok = s:connect("127.0.0.1", redis_port)
    s:close()
    if redis_pid and ok then return end
    socket.sleep(0.05)
  end
  error("redis-server did not start: " .. (helper.read_file(redis_dir .. "/redis.log") or ""))
end

local function stop_redis()
  if redis_pid then
    sh("kill " .. redis_pid)
    for _ = 1, 100 do
      if sh("kill -0 " .. redis_pid .. " 2>/dev/null && echo alive"):find("alive") == nil then break end
      socket.sleep(0.05)
    end
    redis_pid = nil
  end
  if redis_dir then sh("rm -rf " .. redis_dir) redis_dir = nil end
end

local PREFIX = "tiledesk-spec-" .. os.time() .. ":"
local function config(name)
  return { name = name, redis_port = redis_port, redis_down_port = down_port, redis_prefix = PREFIX }
end

setup(function()
  start_redis()
  local dict = "  lua_shared_dict tiledesk_limits 1m;\n  lua_shared_dict spec_results 1m;"
  a = nginx.start{ name = "a", offset = 10, http = dict, config = config("a") }
  b = nginx.start{ name = "b", offset = 11, http = dict, config = config("b") }
end)

teardown(function()
  for _, inst in ipairs({ a, b, multi }) do if inst then inst.stop() end end
  stop_redis()
end)

local function take(inst, store, key, per_minute, capacity)
  local status, json = nginx.call(inst, "GET", "/take?store=" .. store .. "&key=" .. key .. "&per_minute="
    .. per_minute .. "&capacity=" .. capacity)
  assert.equal(200, status)
  return json
end

describe("rate-limit stores inside nginx", function()
  it("Redis: two nginx instances share one budget", function()
    local key = "shared-" .. math.random(1e9)
    -- 60 a minute, a bucket of 2: two calls go at once, wherever they come from; the third waits
    local r1 = take(a, "redis", key, 60, 2)
    local r2 = take(b, "redis", key, 60, 2)
    local r3 = take(a, "redis", key, 60, 2)
    local r4 = take(b, "redis", key, 60, 2)
    assert.equal(0, r1.wait, r1.msg)
    assert.equal(0, r2.wait, r2.msg)
    assert.is_true(r3.wait > 0 and r3.wait <= 1000, "third call waits for a token: " .. tostring(r3.wait))
    assert.is_true(r4.wait > 0, "so does the fourth, on the other instance")
    assert.equal("a", r1.instance)
    assert.equal("b", r2.instance)
    -- the same calls against each instance's own lua_shared_dict: each host has its own budget
    local d1 = take(a, "dict", key, 60, 2)
    local d2 = take(a, "dict", key, 60, 2)
    local d3 = take(b, "dict", key, 60, 2)
    assert.equal(0, d1.wait)
    assert.equal(0, d2.wait)
    assert.equal(0, d3.wait)
    assert.is_true(take(a, "dict", key, 60, 2).wait > 0)
  end)

  it("clients in two nginx instances with rate_limit_store = Redis wait for each other", function()
    local key = "clients-" .. math.random(1e9)
    local status, r1 = nginx.call(a, "GET", "/limited?store=redis&key=" .. key)
    assert.equal(200, status)
    local _, r2 = nginx.call(b, "GET", "/limited?store=redis&key=" .. key)
    assert.is_true(r1.ok, r1.msg)
    assert.is_true(r2.ok, r2.msg)
    assert.same({}, r1.sleeps)
    assert.equal(1, #r2.sleeps, "the second instance waited once for the shared token")
    assert.is_true(r2.sleeps[1] > 0 and r2.sleeps[1] <= 1000)
    -- with a store per host, b's own budget is still full
    local _, r3 = nginx.call(b, "GET", "/limited?store=dict&key=" .. key)
    assert.same({}, r3.sleeps)
  end)

  it("a client whose Redis does not answer fails with kind limiter and sends nothing", function()
    local st = helper.sandbox()
    helper.http("DELETE", st.control_url .. "/log")
    local _, r = nginx.call(a, "GET", "/limited?store=redis_down&key=down")
    assert.is_false(r.ok)
    assert.equal("limiter", r.kind)
    assert.matches("rate limiter: redis 127.0.0.1:" .. down_port .. " did not answer", r.msg, 1, true)
    local _, log = helper.http_json("GET", st.control_url .. "/log")
    -- the log may well be empty (nothing sent is the point): count what went to /tags
    assert.is_table(log.entries)
    local sent = 0
    for _, e in ipairs(log.entries) do
      if e.path:find("/tags", 1, true) then sent = sent + 1 end
    end
    assert.equal(0, sent)
  end)

  it("Redis keeps the bucket with a server-side script (loaded once, run by its SHA)", function()
    take(a, "redis", "sha-" .. math.random(1e9), 60, 2)
    local file = os.tmpname()
    helper.write_file(file, require("tiledesk.ratelimit.redis").TAKE_SCRIPT)
    local sha = sh("sha1sum " .. file):match("^%x+")
    os.remove(file)
    local out = sh("redis-cli -p " .. redis_port .. " --raw SCRIPT EXISTS " .. sha)
    assert.equal("1", out:match("%d"))
  end)

  it("a Redis that does not answer is an error of kind limiter, never no limit", function()
    local r = take(a, "redis_down", "down", 60, 2)
    assert.is_nil(r.wait)
    assert.equal("limiter", r.kind)
    assert.matches("^redis 127%.0%.0%.1:" .. down_port .. " did not answer", r.msg)
  end)

  it("seen(): the first time false, then true, in every store and across instances for Redis", function()
    local key = "delivery-" .. math.random(1e9)
    for _, store in ipairs({ "dict", "redis" }) do
      local _, j1 = nginx.call(a, "GET", "/seen?store=" .. store .. "&key=" .. key .. "&ttl=60000")
      local _, j2 = nginx.call(a, "GET", "/seen?store=" .. store .. "&key=" .. key .. "&ttl=60000")
      assert.is_false(j1.seen, store)
      assert.is_true(j2.seen, store)
    end
    local _, j3 = nginx.call(b, "GET", "/seen?store=redis&key=" .. key .. "&ttl=60000")
    assert.is_true(j3.seen)
    local _, j4 = nginx.call(b, "GET", "/seen?store=redis_down&key=" .. key .. "&ttl=60000")
    assert.equal("limiter", j4.kind)
  end)

  it("lua_shared_dict: the workers of one host share one budget", function()
    -- two workers behind reuseport: connections land on either; ask until both have answered
    multi = nginx.start{ name = "multi", offset = 12, workers = 2, reuseport = true,
      http = "  lua_shared_dict tiledesk_limits 1m;\n  lua_shared_dict spec_results 1m;", config = config("multi") }
    local key = "workers-" .. math.random(1e9)
    local first = take(multi, "dict", key, 6, 1)
    assert.equal(0, first.wait)
    local other
    for _ = 1, 60 do
      local r = take(multi, "dict", key, 6, 1)
      assert.is_true(r.wait > 0, "every later call waits (6 a minute, a bucket of 1)")
      if r.worker ~= first.worker then other = r break end
    end
    assert.is_table(other, "a second worker never answered")
    assert.is_true(other.wait > 0)
  end)
end)
