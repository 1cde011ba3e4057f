-- client:batch inside nginx: the calls run in light threads (ngx.thread.spawn), at most
-- `concurrency` at a time, each through the client's own code path over cosockets. No driver is
-- needed: a cosocket or ngx.sleep yields the thread to nginx, which runs the others meanwhile.
-- tiledesk.batch hands a batch over here when the client's transport says it can (t:spawns()).
local call_one = require("tiledesk.batch").call_one

local _M = {}

local Job = {}
Job.__index = Job

-- Starts the calls' threads; job:join() -> results (results[i] = { res, msg, err }), failed.
-- A call that raises stops the job: the other threads are killed and join raises the error.
local function start(client, calls, concurrency)
  local job = setmetatable({ n = #calls, results = {}, failed = 0, next_i = 1, threads = {} }, Job)

  local function worker()
    while job.next_i <= job.n and not job.raised do
      local i = job.next_i
      job.next_i = i + 1
      local ok, res, msg, err = pcall(call_one, client, calls[i])
      if not ok then
        job.raised = job.raised or ("client:batch(): call #" .. i .. ": " .. tostring(res):gsub("^[^\n]-%.lua:%d+: ", ""))
        return
      end
      job.results[i] = { res = res, msg = msg, err = err }
      if res == nil then job.failed = job.failed + 1 end
    end
  end

  -- signed in once up front, as tiledesk.batch does (a failure is left to the calls)
  local t = client._transport
  if client.auth == "jwt" and t:auth_kind() == "none" and t:can_signin() then client:signin() end
  for k = 1, math.min(concurrency, job.n) do
    local th, err = ngx.thread.spawn(worker)
    if not th then
      job.raised = job.raised or ("client:batch(): no light thread: " .. tostring(err))
      break
    end
    job.threads[k] = th
  end
  return job
end

function Job:join()
  if not self.joined then
    self.joined = true
    for _, th in ipairs(self.threads) do
      local ok, err = ngx.thread.wait(th)
      if not ok then self.raised = self.raised or ("client:batch(): " .. tostring(err)) end
    end
    self.threads = {}
  end
  if self.raised then error(self.raised, 0) end
  return self.results, self.failed
end

-- Stops the threads still running (their calls end where they are: a GET asked for, unread).
function Job:cancel()
  for _, th in ipairs(self.threads) do ngx.thread.kill(th) end
  self.threads, self.joined = {}, true
end

-- run(client, calls, concurrency) -> results, failed: the whole batch, the client marked as
-- running one meanwhile.
function _M.run(client, calls, concurrency)
  client._batch = true
  local ok, job = pcall(start, client, calls, concurrency)
  if not ok then
    client._batch = nil
    error(job, 0)
  end
  local ok2, results, failed = pcall(job.join, job)
  client._batch = nil
  if not ok2 then error(results, 0) end
  return results, failed
end

-- spawn(client, calls, concurrency) -> job, its calls under way in light threads while the
-- caller goes on (the pager's prefetch); job:join() -> results, failed.
function _M.spawn(client, calls, concurrency)
  return start(client, calls, concurrency)
end

return _M
