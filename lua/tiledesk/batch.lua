-- client:batch(calls, { concurrency = 16 }): many calls at once on one client, in one thread.
--
-- Each call runs the client's own code path (client:request for a request table, or a function
-- that makes any client calls) inside one of at most `concurrency` worker coroutines, each
-- taking the next call when it is free. While a batch runs, the client's transport
-- is seen through a proxy: a send made from one of the batch's coroutines yields the request
-- to the driver below, which starts it on the transport (t:start, curl multi in C) and resumes
-- the coroutine with the raw result when t:wait hands it back; a sleep (retry backoff, the rate
-- limiter) yields a wake-up time. So retries, the rate limiter, hooks, logs, redaction and the
-- error messages are exactly those of single calls: the client decides, the transport only
-- moves bytes. A transport without start/wait (the fake one of the unit specs) gets the same
-- interleaving, with each send made on the spot.
--
-- The lane: when every call is a request table of one method that client:request would make on
-- its quick path (method, path and query, on a client with no hook, log or rate limit) and the
-- transport has run_many (curl multi in C), the C core makes them all with no Lua between the
-- transfers, until one gets no response or a status outside 2xx; that one goes on from the
-- outcome of its first attempt, and those in flight or not started then, as above
-- (docs/design.md).
local send = require("tiledesk.send")

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
  local proxy = {}
  function proxy.send(_, req)
    if threads[coroutine.running() or false] then return coroutine.yield(SEND, req) end
    return real:send(req)
  end
  function proxy.sleep_ms(_, ms)
    if threads[coroutine.running() or false] then return coroutine.yield(SLEEP, ms) end
    return real:sleep_ms(ms)
  end
  -- a method of the transport is bound to it once and kept in the proxy (the transport's methods
  -- take at most four arguments; no vararg: LuaJIT compiles no trace through one)
  return setmetatable(proxy, { __index = function(_, k)
    local v = real[k]
    if type(v) ~= "function" then return v end
    local bound = function(_, a, b, c, d) return v(real, a, b, c, d) end
    rawset(proxy, k, bound)
    return bound
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

-- One call of a batch, as a single call makes it: a request table through client:request, or a
-- function that makes any client calls. -> res, msg, err
local function call_one(client, call)
  if type(call) == "function" then return call() end
  return client:request(call)
end
_M.call_one = call_one -- (tiledesk.batch_ngx's threads make theirs the same way)

-- Whether the transport runs transfers side by side (curl multi: start and wait).
local function has_multi(real)
  return type(real.start) == "function" and type(real.wait) == "function"
end

-- A job: the calls of one batch, made by worker coroutines over the transport's curl multi.
-- spawn() starts as many as the concurrency allows (their requests go out at once) and returns;
-- join() drives them all to the end. Between the two the client is free: its own calls go
-- straight to the transport, and another job may run. A transfer that one job's wait hands back
-- but another job started is filed with that job (owners below) and taken up by its join.
local Job = {}
Job.__index = Job

local function new_job(client, calls, concurrency)
  local real = client._transport
  return setmetatable({ client = client, real = real, calls = calls, concurrency = concurrency,
    threads = {},   -- coroutine -> record { i, co, job, id (of its transfer in flight) }
    sleepers = {},  -- records with a wake time
    ready = {},     -- results another job's wait took for this one: packed { record, ... }
    inflight = 0,   -- transfers started and not yet handed back
    results = {}, failed = 0, active = 0, next_i = 1, n = #calls, multi = has_multi(real) }, Job)
end

-- Resumes a worker's coroutine and files what it asks for next (a send or a sleep); a worker
-- that has no call left to take ends.
function Job:resume(rec, ...)
  local real = self.real
  local ok, what, arg = coroutine.resume(rec.co, ...)
  while true do
    if not ok then
      error("client:batch(): call #" .. rec.i .. ": " .. tostring(what):gsub("^[^\n]-%.lua:%d+: ", ""), 0)
    end
    if what == nil and coroutine.status(rec.co) == "dead" then -- (a worker ends returning nothing)
      self.threads[rec.co] = nil
      self.active = self.active - 1
      return
    end
    if what == SLEEP then
      rec.wake = real:now_ms() + arg
      self.sleepers[#self.sleepers + 1] = rec
      return
    elseif what ~= SEND then
      error("client:batch(): call #" .. rec.i .. " yielded outside the client", 0)
    elseif self.multi then
      -- the record goes with the transfer: the wait that hands it back hands back the record
      rec.id = real:start(arg, rec)
      self.inflight = self.inflight + 1
      return
    end
    ok, what, arg = coroutine.resume(rec.co, real:send(arg))
  end
end

-- A worker: one coroutine that makes the job's calls one after the other, taking the next call
-- not yet taken each time it is free (at most `concurrency` of them: no coroutine per call).
local function work(self, rec)
  local calls, client, results = self.calls, self.client, self.results
  while self.next_i <= self.n do
    local i = self.next_i
    self.next_i = i + 1
    rec.i = i
    local res, msg, err = call_one(client, calls[i])
    results[i] = { res = res, msg = msg, err = err }
    if res == nil then self.failed = self.failed + 1 end
  end
end

function Job:launch()
  local rec = { i = self.next_i, job = self, id = false }
  local co = coroutine.create(work)
  rec.co = co
  self.threads[co] = rec
  self.active = self.active + 1
  self:resume(rec, self, rec)
end

-- A worker of its own for call i, running fn(self, rec, ...) (a lane call going on: its slot
-- is counted in active already).
function Job:launch_for(i, fn, ...)
  local rec = { i = i, job = self, id = false }
  local co = coroutine.create(fn)
  rec.co = co
  self.threads[co] = rec
  self:resume(rec, self, rec, ...)
end

function Job:fill()
  while self.active < self.concurrency and self.next_i <= self.n do self:launch() end
end

-- Resumes the worker whose transfer ended with what the transport said of it.
function Job:deliver(rec, ...)
  rec.id = false
  self.inflight = self.inflight - 1
  self:resume(rec, ...)
end

-- Files what a wait handed back (the record of the call whose transfer it was, ...): with this
-- job's call, or with the job that started it.
function Job:take(rec, ...)
  if not rec then return end
  local lane = self.lane
  if lane and lane.ids[rec] then -- (a lane call that was still in flight when run_many returned)
    lane.ids[rec] = nil
    self.inflight = self.inflight - 1
    return self:land(rec, ...)
  end
  if type(rec) ~= "table" then
    error("client:batch(): the transport's wait handed back a " .. type(rec) .. ", not the tag start was given", 0)
  end
  local job = rec.job
  if job == self then
    self:deliver(rec, ...)
  elseif getmetatable(job) ~= Job then
    error("client:batch(): the transport's wait handed back a table that is not the tag start was given", 0)
  elseif not job.cancelled then
    job.ready[#job.ready + 1] = pack(rec, ...)
  end
end

-- Starts what concurrency allows, then moves the transfers on without waiting, a few times: a
-- request on a new connection goes out once the connect is done, often a moment after start.
function Job:fill_and_nudge()
  self:fill()
  for _ = 1, 4 do
    if self.inflight == 0 then return end
    self:take(self.real:wait(0))
  end
end

-- Runs until every call has ended.
function Job:drive()
  local real = self.real
  while true do
    self:fill()
    if self.active == 0 then return end
    local now, soonest, woke
    local sleepers = self.sleepers
    if sleepers[1] then -- (the clock is read only when some call sleeps: a retry's back-off)
      now = real:now_ms()
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
    end
    if woke then
      table.sort(woke, function(a, b) return a.i < b.i end)
      for _, rec in ipairs(woke) do self:resume(rec) end
    elseif self.ready[1] then
      local r = table.remove(self.ready, 1)
      self:deliver(unpack(r, 1, r.n))
    elseif self.inflight > 0 then
      self:take(real:wait(soonest and math.max(0, math.ceil(soonest - now)) or nil))
    elseif soonest then
      real:sleep_ms(math.max(0, soonest - now))
    end
  end
end

-- Stops the transfers still in flight; the job's results stay as they are.
function Job:cancel()
  for _, rec in pairs(self.threads) do
    if rec.id then self.real:cancel(rec.id) end
    rec.id = false
  end
  if self.lane then
    for _, id in pairs(self.lane.ids) do self.real:cancel(id) end
    self.lane.ids = {}
  end
  self.ready, self.threads, self.sleepers = {}, {}, {}
  self.active, self.next_i, self.inflight, self.cancelled = 0, self.n + 1, 0, true
end

-- Runs f(self) with the client seen through the proxy and marked as running a batch; returns
-- true, or false and the error (what was in flight then is cancelled).
function Job:with_client(f)
  local client, real = self.client, self.real
  if client._batch then return false, "client:batch(): a batch is already running on this client" end
  client._batch = true
  client._transport = proxy_for(real, self.threads)
  local ok, e = pcall(f, self)
  client._transport = real
  client._batch = nil
  if not ok then self:cancel() end
  return ok, e
end

-- results, failed once every call has ended (waits for those still running).
function Job:join()
  if not self.joined then
    if self.active > 0 or self.next_i <= self.n then
      local ok, e = self:with_client(self.drive)
      if not ok then error(e, 2) end
    end
    self.joined = true
  end
  return self.results, self.failed
end

-- A job whose calls were made on the spot, one after the other (a transport without curl multi,
-- such as the specs' fake one, or a call of a batch already running): join gives their results.
local Done = {}
Done.__index = Done
function Done:join() return self.results, self.failed end
function Done.cancel() end

local function is_ngx(real)
  return type(real.spawns) == "function" and real:spawns()
end

local function sign_in_first(client, real)
  -- sign in once up front rather than once per call in flight (a failure is left to the calls,
  -- which report it as single calls do)
  if client.auth == "jwt" and real:auth_kind() == "none" and real:can_signin() then client:signin() end
end

-- spawn(client, calls, concurrency) -> job: the calls started now (as far as concurrency allows),
-- job:join() -> results, failed as run() gives them; job:cancel() stops what is still in flight.
-- For the pager's prefetch: the next pages go out while the caller works on this one.
function _M.spawn(client, calls, concurrency)
  local real = client._transport
  if not client._batch and is_ngx(real) then return require("tiledesk.batch_ngx").spawn(client, calls, concurrency) end
  if client._batch or not has_multi(real) then
    local results, failed = _M.gather(client, calls, concurrency)
    return setmetatable({ results = results, failed = failed }, Done)
  end
  sign_in_first(client, real)
  local job = new_job(client, calls, concurrency)
  local ok, e = job:with_client(job.fill_and_nudge)
  if not ok then error(e, 2) end
  return job
end

-- What client:request returns for a lane call whose first attempt got anything but a 2xx: the
-- send loop goes on from that outcome (client:_settle), in a worker whose retries and waits
-- yield to the driver as any worker's.
local function lane_on(self, rec, ...)
  local res, msg, err = self.client:_settle(...)
  self.results[rec.i] = { res = res, msg = msg, err = err }
  if res == nil then self.failed = self.failed + 1 end
end

-- Lane call i's result from a 2xx of its first attempt (status, head, body, ctype), as
-- client:request makes it.
function Job:lane_result(i, status, a, b, c)
  local lane = self.lane
  return { res = send.final(self.client, status, a, b, c, lane.memos[i], self.calls[i].query, lane.urls[i]) }
end

-- Goes on with lane call i from the outcome of its first attempt: a 2xx is its result, anything
-- else goes on in a worker (its deadline counts from when it went out).
function Job:land(i, status, a, b, c)
  if status and status >= 200 and status < 300 then
    self.results[i] = self:lane_result(i, status, a, b, c)
    self.active = self.active - 1
    return
  end
  local lane, call = self.lane, self.calls[i]
  local deadline = lane.ms ~= 0 and lane.started[i] + lane.ms or nil
  self:launch_for(i, lane_on, call.method, call.path, call.query, status, a, b, c, deadline, lane.memos[i], lane.urls[i])
end

-- The lane (above): results, failed; or nil when the calls are not all fit for it (nothing sent),
-- or nil, nil and the error to raise (a bad request table, found before anything is sent).
local function lane(client, calls, concurrency)
  local real, n = client._transport, #calls
  if n == 0 or not client._plain or type(real.run_many) ~= "function" or not has_multi(real) then return nil end
  local first = calls[1]
  local method = type(first) == "table" and first.method
  local urls, memos = {}, {}
  for i = 1, n do
    local call = calls[i]
    if type(call) ~= "table" then return nil end
    local ok, quick = pcall(client._quick, client, call)
    if not ok then return nil, nil, "client:batch(): call #" .. i .. ": " .. tostring(quick) end
    if not quick or call.method ~= method then return nil end
    local fine, memo, u = pcall(send.plain_url, client, call.path, call.query)
    if not (fine and memo) then return nil end -- (the usual way says why, naming the call)
    urls[i], memos[i] = u, memo
  end
  if not send.can_send(client, real) then return nil end
  local per, ms = send.plain_timeouts(client)
  local req = send.plain_req(client, method, urls[1], per)
  client._batch = true
  local ok, k, st, hd, bd, ct, started = pcall(real.run_many, real, req, urls, concurrency)
  client._batch = nil
  client._qreq = req
  if not ok then return nil, nil, k end
  if not k then return nil end -- (transfers of a spawned job are in flight)
  -- what run_many did not finish goes on in a job over the same calls: its calls in flight (each
  -- comes back from wait tagged with its index), those whose first attempt got anything but a 2xx,
  -- and those it did not start (fill() takes them from k + 1)
  local built, job, again = pcall(function()
    local j, later = new_job(client, calls, concurrency), {}
    j.lane = { memos = memos, urls = urls, started = started, ms = ms, ids = {} }
    j.next_i = k + 1
    for i = 1, k do
      local status = st[i]
      if status == nil then -- in flight: hd[i] is its transfer's id
        j.lane.ids[i] = hd[i]
        j.inflight, j.active = j.inflight + 1, j.active + 1
      elseif status and status >= 200 and status < 300 then
        j.results[i] = j:lane_result(i, status, hd[i], bd[i], ct[i] or nil)
      else
        later[#later + 1] = i
      end
    end
    return j, later
  end)
  if not built then -- (no memory, say: nothing may be left in flight, tagged with an index)
    for i = 1, k do
      if st[i] == nil then real:cancel(hd[i]) end
    end
    return nil, nil, job
  end
  if k == n and not again[1] and job.inflight == 0 then return job.results, 0 end
  local done, e = job:with_client(function(self)
    for _, i in ipairs(again) do
      self.active = self.active + 1
      self:land(i, st[i] or nil, hd[i], bd[i], ct[i] or nil)
    end
    self:drive()
  end)
  if not done then return nil, nil, e end
  return job.results, job.failed
end

-- Runs the batch; returns results (results[i] = { res = ..., msg = ..., err = ... } for call i)
-- and the number of calls that failed (res nil).
function _M.run(client, calls, opts)
  local concurrency = check(calls, opts)
  if client._batch then error("client:batch(): a batch is already running on this client", 2) end
  local real = client._transport
  -- inside nginx the calls run in light threads over cosockets (tiledesk.batch_ngx)
  if is_ngx(real) then return require("tiledesk.batch_ngx").run(client, calls, concurrency) end
  sign_in_first(client, real)
  local results, failed, bad = lane(client, calls, concurrency)
  if results then return results, failed end
  if bad then error(bad, 2) end
  local job = new_job(client, calls, concurrency)
  local ok, e = job:with_client(job.drive)
  if not ok then error(e, 2) end
  job.joined = true
  return job.results, job.failed
end

-- The calls through client:batch, or one after the other when a batch is already running on
-- this client (a helper called from inside a batch's call): the same results either way.
function _M.gather(client, calls, concurrency)
  if not client._batch then return client:batch(calls, { concurrency = concurrency }) end
  local results, failed = {}, 0
  for i, call in ipairs(calls) do
    local res, msg, err = call_one(client, call)
    results[i] = { res = res, msg = msg, err = err }
    if res == nil then failed = failed + 1 end
  end
  return results, failed
end


-- pending(client, call, n) -> p: call(1) .. call(n) under way now, as spawn() starts them;
-- p:join() -> { { res, msg, err }, ... } in order; p:cancel() stops them. For calls that may be
-- made again (the pager's GETs): transfers nobody drove for over half the time a call allows
-- (the caller worked that long on its page) could be timed out by libcurl the moment they are
-- driven again, so they are cancelled and the calls made anew instead.
function _M.pending(client, call, n)
  local calls = {}
  for i = 1, n do calls[i] = function() return call(i) end end
  local real = client._transport
  local job = _M.spawn(client, calls, n)
  local t0 = real:now_ms()
  local out
  local p = {}
  function p.join()
    if out then return out end
    local results
    if getmetatable(job) == Job and not job.joined then
      local limit = client._timeout or 0
      local per = client._attempt_timeout
      if per and per > 0 and (limit == 0 or per < limit) then limit = per end
      if limit > 0 and real:now_ms() - t0 > limit / 2 then
        job:cancel()
        results = _M.gather(client, calls, n)
      end
    end
    results = results or job:join()
    out = {}
    for i = 1, n do
      local r = results[i]
      out[i] = { r.res, r.msg, r.err }
    end
    return out
  end
  function p.cancel() job:cancel() end
  return p
end

return _M
