-- client:batch inside nginx: the calls run in light threads (ngx.thread.spawn), at most
-- `concurrency` at a time, each through the client's own code path over cosockets. No driver is
-- needed: a cosocket or ngx.sleep yields the thread to nginx, which runs the others meanwhile.
-- tiledesk.batch hands a batch over here when the client's transport says it can (t:spawns()).
local _M = {}

-- run(client, calls, concurrency) -> results (results[i] = { res, msg, err }), failed count.
-- A call that raises stops the batch: the other threads are killed and the error is raised.
function _M.run(client, calls, concurrency)
  local n = #calls
  local results, failed, next_i = {}, 0, 1
  local raised

  local function worker()
    while next_i <= n and not raised do
      local i = next_i
      next_i = i + 1
      local call = calls[i]
      local ok, res, msg, err = pcall(function()
        if type(call) == "function" then return call() end
        return client:request(call)
      end)
      if not ok then
        raised = raised or ("client:batch(): call #" .. i .. ": " .. tostring(res):gsub("^[^\n]-%.lua:%d+: ", ""))
        return
      end
      results[i] = { res = res, msg = msg, err = err }
      if res == nil then failed = failed + 1 end
    end
  end

  -- signed in once up front, as tiledesk.batch does (a failure is left to the calls)
  local t = client._transport
  if client.auth == "jwt" and t:auth_kind() == "none" and t:can_signin() then client:signin() end
  client._batch = true
  local threads = {}
  for k = 1, math.min(concurrency, n) do
    local th, err = ngx.thread.spawn(worker)
    if not th then
      raised = raised or ("client:batch(): no light thread: " .. tostring(err))
      break
    end
    threads[k] = th
  end
  for _, th in ipairs(threads) do
    local ok, err = ngx.thread.wait(th)
    if not ok then raised = raised or ("client:batch(): " .. tostring(err)) end
  end
  client._batch = nil
  if raised then error(raised, 0) end
  return results, failed
end

return _M
