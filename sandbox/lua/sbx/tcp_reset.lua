-- A real TCP reset for the "reset" fault: SO_LINGER {on, 0} on the client's socket makes
-- nginx's close() send RST instead of FIN.
--
-- LINUX ONLY. ngx_lua does not expose the connection's descriptor, so it is found by scanning
-- descriptors 0..4095 for the socket whose local port is $server_port and whose peer port is
-- $remote_port. The constants (SOL_SOCKET 1, SO_LINGER 13) and the sockaddr layout (a 16-bit
-- little-endian family first) are Linux's; on other systems, on HTTP/2 (one stream of many on
-- the connection: the caller resets the stream instead) and when no socket matches, arm()
-- answers false and the caller falls back to a clean close (FIN).
local ffi = require("ffi")

local _M = {}

pcall(ffi.cdef, [[
int getsockname(int sockfd, void *addr, unsigned int *addrlen);
int getpeername(int sockfd, void *addr, unsigned int *addrlen);
int setsockopt(int sockfd, int level, int optname, const void *optval, unsigned int optlen);
]])
local SOL_SOCKET, SO_LINGER = 1, 13
local FD_SCAN_MAX = 4096
local AF_INET, AF_INET6 = 2, 10

local function port_of(buf)
  local family = buf[0] + buf[1] * 256
  if family ~= AF_INET and family ~= AF_INET6 then return nil end
  return buf[2] * 256 + buf[3]
end

local function client_fd()
  local lport, rport = tonumber(ngx.var.server_port), tonumber(ngx.var.remote_port)
  if not lport or not rport then return nil end
  local buf = ffi.new("uint8_t[128]")
  local len = ffi.new("unsigned int[1]")
  for fd = 0, FD_SCAN_MAX do
    len[0] = 128
    if ffi.C.getpeername(fd, buf, len) == 0 and port_of(buf) == rport then
      len[0] = 128
      if ffi.C.getsockname(fd, buf, len) == 0 and port_of(buf) == lport then return fd end
    end
  end
  return nil
end

-- Arms the reset of the current request's connection: true when its close will send RST.
function _M.arm()
  if ffi.os ~= "Linux" then return false end
  if ngx.var.server_protocol == "HTTP/2.0" then return false end
  local ok, fd = pcall(client_fd)
  if not ok or not fd then return false end
  local linger = ffi.new("int[2]", 1, 0)
  return ffi.C.setsockopt(fd, SOL_SOCKET, SO_LINGER, linger, 8) == 0
end

return _M
