-- A one-threaded HTTP/1.1 server for the content-coding spec (lua-socket).
-- usage: lua gzip_server.lua PORT [SECONDS]   (binds 127.0.0.1 only; exits after SECONDS,
-- 20 by default, or on GET /quit). Prints "ready" once listening.
--
-- Every request is answered with keep-alive, the request's Accept-Encoding echoed in
-- X-Accept-Encoding, and the JSON {"gzip":true,"n":3}: gzip-coded (Content-Encoding: gzip) when
-- the request accepts gzip, as is otherwise.
local socket = require("socket")


local PLAIN = '{"gzip":true,"n":3}'
-- gzip of PLAIN (RFC 1952, mtime 0)
local GZIP = "\31\139\8\0\0\0\0\0\2\3\171\86\74\175\202\44\80\178\42\41\42\77\213\81\202\83\178\50\174\5\0\142\206\5\216\19\0\0\0"

local function answer(conn, accepted, body, coding)
  conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body
    .. "\r\nX-Accept-Encoding: " .. (accepted or "") .. (coding and ("\r\nContent-Encoding: " .. coding) or "")
    .. "\r\nConnection: keep-alive\r\n\r\n" .. body)
end

-- Serves one connection until it closes; returns false on GET /quit.
local function serve(conn, deadline)
  conn:settimeout(2)
  while socket.gettime() < deadline do
    local line = conn:receive("*l")
    if not line then return true end
    local path = line:match("^%u+ (%S+) HTTP/1%.1$")
    local accepted
    repeat
      local h = conn:receive("*l")
      if not h then return true end
      local v = h:match("^[Aa][Cc][Cc][Ee][Pp][Tt]%-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg]:%s*(.-)%s*$")
      if v then accepted = v end
    until h == ""
    if path == "/quit" then
      answer(conn, accepted, "{}")
      return false
    end
    if accepted and accepted:find("gzip", 1, true) then answer(conn, accepted, GZIP, "gzip")
    else answer(conn, accepted, PLAIN) end
  end
  return true
end

dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/server_loop.lua")("usage: gzip_server.lua PORT [SECONDS]", serve)
