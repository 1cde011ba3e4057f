-- HMAC-SHA256 and random bytes through OpenSSL's libcrypto (LuaJIT FFI).
local ffi = require("ffi")

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
int RAND_bytes(unsigned char *buf, int num);
]]

local lib
for _, name in ipairs({ "libcrypto.so.3", "crypto", "libcrypto.so.1.1" }) do
  local ok, l = pcall(ffi.load, name)
  if ok then lib = l break end
end
assert(lib, "sandbox: libcrypto not found")

local _M = {}

function _M.hmac_sha256(key, data)
  local out = ffi.new("unsigned char[32]")
  local len = ffi.new("unsigned int[1]")
  local p = lib.HMAC(lib.EVP_sha256(), key, #key, data, #data, out, len)
  assert(p ~= nil, "HMAC failed")
  return ffi.string(out, len[0])
end

function _M.random(n)
  local buf = ffi.new("unsigned char[?]", n)
  assert(lib.RAND_bytes(buf, n) == 1, "RAND_bytes failed")
  return ffi.string(buf, n)
end

function _M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- constant-time comparison
function _M.equal(a, b)
  if #a ~= #b then return false end
  local bit = require("bit")
  local diff = 0
  for i = 1, #a do diff = bit.bor(diff, bit.bxor(a:byte(i), b:byte(i))) end
  return diff == 0
end

return _M
