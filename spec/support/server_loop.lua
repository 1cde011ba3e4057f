-- The accept loop of the specs' one-threaded HTTP servers (lua-socket), loaded by them with
-- dofile. run(usage, serve): binds 127.0.0.1 on the port in arg[1], prints "ready" once
-- listening, and hands each connection to serve(conn, deadline) until serve returns false
-- (GET /quit) or arg[2] seconds (20 by default) have passed.
local socket = require("socket")

return function(usage, serve)
  local port = assert(tonumber(arg[1]), usage)
  local deadline = socket.gettime() + (tonumber(arg[2]) or 20)
  local server = assert(socket.bind("127.0.0.1", port))
  server:settimeout(0.2)
  io.stdout:write("ready\n")
  io.stdout:flush()
  local running = true
  while running and socket.gettime() < deadline do
    local conn = server:accept()
    if conn then
      running = serve(conn, deadline)
      conn:close()
    end
  end
  server:close()
end
