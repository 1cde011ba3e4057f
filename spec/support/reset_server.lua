-- A one-threaded HTTP/1.1 server for the "a write is sent at most once" specs (lua-socket).
-- usage: lua reset_server.lua PORT [SECONDS]   (binds 127.0.0.1 only; exits after SECONDS,
-- 20 by default, or on GET /quit). Prints "ready" once listening.
--
-- Every request is answered with keep-alive and {"posts": N} (N = POST requests received so far),
-- except a POST that arrives on a connection which already carried a request: that one is read
-- in full, counted, and the connection is reset (RST) without an answer. This is the race in
-- which a client cannot know whether the server processed its request.
local socket = require("socket")


local posts = 0

local function answer(conn, status, body)
  conn:send("HTTP/1.1 " .. status .. "\r\nContent-Type: application/json\r\nContent-Length: " .. #body
    .. "\r\nConnection: keep-alive\r\n\r\n" .. body)
end

-- Serves one connection until it closes; returns false on GET /quit.
local function serve(conn, deadline)
  conn:settimeout(2)
  local served = 0
  while socket.gettime() < deadline do
    local line = conn:receive("*l")
    if not line then return true end
    local method, path = line:match("^(%u+) (%S+) HTTP/1%.1$")
    local length = 0
    repeat
      local h = conn:receive("*l")
      if not h then return true end
      local n = h:lower():match("^content%-length:%s*(%d+)")
      if n then length = tonumber(n) end
    until h == ""
    if length > 0 and not conn:receive(length) then return true end
    served = served + 1
    if path == "/quit" then
      answer(conn, "200 OK", "{}")
      return false
    end
    if method == "POST" then
      posts = posts + 1
      if served > 1 then
        conn:setoption("linger", { on = true, timeout = 0 })
        conn:close() -- RST: the request was processed, no answer will come
        return true
      end
    end
    answer(conn, "200 OK", '{"posts":' .. posts .. '}')
  end
  return true
end

dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/server_loop.lua")("usage: reset_server.lua PORT [SECONDS]", serve)
