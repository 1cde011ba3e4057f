-- client:batch(calls, { concurrency = 16 }): many calls at once on one client, in one thread.
--
-- Each call runs the client's own code path (client:request for a request table, or a function
-- that makes any client calls) inside a coroutine. While a batch runs, the client's transport
-- is seen through a proxy: a send made from one of the batch's coroutines yields the request
-- to the driver below, which starts it on the transport (t:start, curl multi in C) and resumes
-- the coroutine with the raw result when t:wait hands it back; a sleep (retry backoff, the rate
-- limiter) yields a wake-up time. So retries, the rate limiter, hooks, logs, redaction and the
-- error messages are exactly those of single calls: the client decides, the transport only
-- moves bytes. A transport without start/wait (the fake one of the unit specs) gets the same
-- interleaving, with each send made on the spot.
local _M = {}

local unpack = table.unpack or unpack -- luacheck: ignore (5.1)
local SEND, SLEEP = {}, {}
local OPTS = { concurrency = true }

local function pack(...)
  return { n = select("#", ...), ... }
end

-- The client's transport as seen during a batch: sends and sleeps made from the batch's own
-- coroutines go to the driver, anything else goes straight to the transport.
local function proxy_for(real, threads)
  local cache = {}
  local proxy = {}
  function proxy.send(_, req)
    if threads[coroutine.running() or false] then return coroutine.yield(SEND, req) end
    return real:send(req)
  end
  function proxy.sleep_ms(_, ms)
    if threads[coroutine.running() or false] then return coroutine.yield(SLEEP, ms) end
    return real:sleep_ms(ms)
  end
  return setmetatable(proxy, { __index = function(_, k)
    local v = real[k]
    if type(v) ~= "function" then return v end
    if not cache[k] then cache[k] = function(_, ...) return v(real, ...) end end
    return cache[k]
  end })
end

local function check(calls, opts)
  local what = "client:batch()"
  if type(calls) ~= "table" then error(what .. ": 'calls' must be an array of request tables or functions", 3) end
  for i = 1, #calls do
    local t = type(calls[i])
    if t ~= "table" and t ~= "function" then
      error(what .. ": call #" .. i .. " must be a request table or a function (got " .. t .. ")", 3)
    end
  end
  opts = opts or {}
  if type(opts) ~= "table" then error(what .. ": 'opts' must be a table", 3) end
  for k in pairs(opts) do
    if not OPTS[k] then error(what .. ": unknown option '" .. tostring(k) .. "' (concurrency)", 3) end
  end
  local n = opts.concurrency or 16
  if type(n) ~= "number" or n ~= math.floor(n) or n < 1 or n > 1024 then
    error(what .. ": 'concurrency' must be an integer from 1 to 1024", 3)
  end
  return n
end

-- Runs the batch; returns results (results[i] = { res = ..., msg = ..., err = ... } for call i)
-- and the number of calls that failed (res nil).
function _M.run(client, calls, opts)
  local concurrency = check(calls, opts)
  if client._batch then error("client:batch(): a batch is already running on this client", 2) end
  local real = client._transport
  -- inside nginx the calls run in light threads over cosockets (tiledesk.batch_ngx)
  if type(real.spawns) == "function" and real:spawns() then
    return require("tiledesk.batch_ngx").run(client, calls, concurrency)
  end
  local multi = type(real.start) == "function" and type(real.wait) == "function"
  local threads = {}      -- coroutine -> record { i, co }
  local by_id = {}        -- transfer id -> record
  local sleepers = {}     -- records with a wake time
  local results, failed = {}, 0
  local active, next_i, n = 0, 1, #calls

  local function finish(rec, r)
    threads[rec.co] = nil
    active = active - 1
    results[rec.i] = { res = r[2], msg = r[3], err = r[4] }
    if r[2] == nil then failed = failed + 1 end
  end

  -- Resumes a call's coroutine and files what it asks for next.
  local function resume(rec, ...)
    local r = pack(coroutine.resume(rec.co, ...))
    while true do
      if not r[1] then
        error("client:batch(): call #" .. rec.i .. ": " .. tostring(r[2]):gsub("^[^\n]-%.lua:%d+: ", ""), 0)
      end
      if coroutine.status(rec.co) == "dead" then return finish(rec, r) end
      if r[2] == SLEEP then
        rec.wake = real:now_ms() + r[3]
        sleepers[#sleepers + 1] = rec
        return
      elseif r[2] ~= SEND then
        error("client:batch(): call #" .. rec.i .. " yielded outside the client", 0)
      elseif multi then
        by_id[real:start(r[3])] = rec
        return
      end
      r = pack(coroutine.resume(rec.co, real:send(r[3])))
    end
  end

  local function launch(i)
    local call = calls[i]
    local co = coroutine.create(function()
      if type(call) == "function" then return call() end
      return client:request(call)
    end)
    local rec = { i = i, co = co }
    threads[co] = rec
    active = active + 1
    resume(rec)
  end

  local function loop()
    while true do
      while active < concurrency and next_i <= n do
        next_i = next_i + 1
        launch(next_i - 1)
      end
      if active == 0 then return end
      local now, soonest, woke = real:now_ms(), nil, nil
      for k = #sleepers, 1, -1 do
        local rec = sleepers[k]
        if rec.wake <= now then
          table.remove(sleepers, k)
          woke = woke or {}
          woke[#woke + 1] = rec
        elseif not soonest or rec.wake < soonest then
          soonest = rec.wake
        end
      end
      if woke then
        table.sort(woke, function(a, b) return a.i < b.i end)
        for _, rec in ipairs(woke) do resume(rec) end
      elseif next(by_id) then
        local r = pack(real:wait(soonest and math.max(0, math.ceil(soonest - now)) or nil))
        if r[1] then
          local rec = by_id[r[1]]
          by_id[r[1]] = nil
          resume(rec, unpack(r, 2, r.n))
        end
      elseif soonest then
        real:sleep_ms(math.max(0, soonest - now))
      end
    end
  end

  -- sign in once up front rather than once per call in flight (a failure is left to the calls,
  -- which report it as single calls do)
  if client.auth == "jwt" and real:auth_kind() == "none" and real:can_signin() then client:signin() end
  client._batch = true
  client._transport = proxy_for(real, threads)
  local ok, e = pcall(loop)
  client._transport = real
  client._batch = nil
  if not ok then
    for id in pairs(by_id) do real:cancel(id) end
    error(e, 2)
  end
  return results, failed
end

-- The calls through client:batch, or one after the other when a batch is already running on
-- this client (a helper called from inside a batch's call): the same results either way.
function _M.gather(client, calls, concurrency)
  if not client._batch then return client:batch(calls, { concurrency = concurrency }) end
  local results, failed = {}, 0
  for i, call in ipairs(calls) do
    local res, msg, err
    if type(call) == "function" then res, msg, err = call() else res, msg, err = client:request(call) end
    results[i] = { res = res, msg = msg, err = err }
    if res == nil then failed = failed + 1 end
  end
  return results, failed
end

return _M
