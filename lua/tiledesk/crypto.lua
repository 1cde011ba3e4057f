-- SHA-256, HMAC-SHA256 (RFC 2104, FIPS 180-4), base64url (RFC 4648 §5) and a constant-time
-- string comparison, in pure Lua. Runs on Lua 5.4/5.3 (native bit operators), LuaJIT and
-- Lua 5.1 with the `bit` module (LuaJIT's own, or lua-bitop), and plain Lua 5.1 (arithmetic).
-- Inside OpenResty, resty.sha256 (lua-resty-string) does the hashing when it is installed.
local _M = {}

local floor, char, byte, concat = math.floor, string.char, string.byte, table.concat
local TWO32 = 4294967296
local ngx = rawget(_G, "ngx")

-- Bit operations on 32-bit words held as numbers in [0, 2^32) (any value for `bit`).
local function native_ops()
  if not rawget(math, "type") then return nil end -- Lua 5.3 and later only
  local chunk = load([[
    local M = 0xffffffff
    return {
      band = function(a, b) return a & b end,
      bor = function(a, b) return a | b end,
      bxor = function(a, b) return a ~ b end,
      bnot = function(a) return ~a & M end,
      rshift = function(a, n) return a >> n end,
      rrotate = function(a, n) return ((a >> n) | (a << (32 - n))) & M end,
    }
  ]])
  return chunk and chunk() or nil
end

local function bit_ops(bit)
  local band, bor, bxor, bnot, rshift, ror = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rshift, bit.ror
  return { band = band, bor = bor, bxor = bxor, bnot = bnot, rshift = rshift, rrotate = ror }
end

-- Plain arithmetic, four bits at a time: slow, for a Lua 5.1 without any bit library.
local function arithmetic_ops()
  local AND, XOR = {}, {}
  for a = 0, 15 do
    for b = 0, 15 do
      local r_and, r_xor, p = 0, 0, 1
      local x, y = a, b
      for _ = 1, 4 do
        local u, v = x % 2, y % 2
        if u == 1 and v == 1 then r_and = r_and + p end
        if u ~= v then r_xor = r_xor + p end
        x, y, p = (x - u) / 2, (y - v) / 2, p * 2
      end
      AND[a * 16 + b], XOR[a * 16 + b] = r_and, r_xor
    end
  end
  local function op(t)
    return function(a, b)
      local r, p = 0, 1
      for _ = 1, 8 do
        local u, v = a % 16, b % 16
        r = r + t[u * 16 + v] * p
        a, b, p = (a - u) / 16, (b - v) / 16, p * 16
      end
      return r
    end
  end
  local band, bxor = op(AND), op(XOR)
  local function rshift(a, n) return floor(a / 2 ^ n) end
  return {
    band = band, bxor = bxor,
    bor = function(a, b) return a + b - band(a, b) end,
    bnot = function(a) return TWO32 - 1 - a end,
    rshift = rshift,
    rrotate = function(a, n)
      local lo = a % 2 ^ n
      return (a - lo) / 2 ^ n + lo * 2 ^ (32 - n)
    end,
  }
end

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local H0 = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }

-- Big-endian bytes of a 32-bit word (normalised first: `bit` gives signed results).
local function word_bytes(w)
  w = w % TWO32
  local b1 = floor(w / 16777216)
  local b2 = floor(w / 65536) % 256
  local b3 = floor(w / 256) % 256
  return char(b1, b2, b3, w % 256)
end

-- A SHA-256 function over the given bit operations.
local function make_sha256(ops)
  local band, bxor, bnot, rshift, ror = ops.band, ops.bxor, ops.bnot, ops.rshift, ops.rrotate
  local W = {}
  local function block(H, s, at)
    for j = 0, 15 do
      local a, b, c, d = byte(s, at + j * 4, at + j * 4 + 3)
      W[j] = ((a * 256 + b) * 256 + c) * 256 + d
    end
    for j = 16, 63 do
      local w15, w2 = W[j - 15], W[j - 2]
      local s0 = bxor(bxor(ror(w15, 7), ror(w15, 18)), rshift(w15, 3))
      local s1 = bxor(bxor(ror(w2, 17), ror(w2, 19)), rshift(w2, 10))
      W[j] = (W[j - 16] + s0 + W[j - 7] + s1) % TWO32
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for j = 0, 63 do
      local S1 = bxor(bxor(ror(e, 6), ror(e, 11)), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = (h + S1 + ch + K[j + 1] + W[j]) % TWO32
      local S0 = bxor(bxor(ror(a, 2), ror(a, 13)), ror(a, 22))
      local maj = bxor(bxor(band(a, b), band(a, c)), band(b, c))
      local t2 = (S0 + maj) % TWO32
      h, g, f, e, d, c, b, a = g, f, e, (d + t1) % TWO32, c, b, a, (t1 + t2) % TWO32
    end
    H[1], H[2], H[3], H[4] = (H[1] + a) % TWO32, (H[2] + b) % TWO32, (H[3] + c) % TWO32, (H[4] + d) % TWO32
    H[5], H[6], H[7], H[8] = (H[5] + e) % TWO32, (H[6] + f) % TWO32, (H[7] + g) % TWO32, (H[8] + h) % TWO32
  end
  return function(msg)
    local n = #msg
    local bits = n * 8
    local tail = msg:sub(n - n % 64 + 1) .. "\128" .. string.rep("\0", (55 - n) % 64)
      .. word_bytes(floor(bits / TWO32)) .. word_bytes(bits % TWO32)
    local H = { H0[1], H0[2], H0[3], H0[4], H0[5], H0[6], H0[7], H0[8] }
    for at = 1, n - n % 64, 64 do block(H, msg, at) end
    for at = 1, #tail, 64 do block(H, tail, at) end
    local out = {}
    for i = 1, 8 do out[i] = word_bytes(H[i]) end
    return concat(out)
  end, bxor
end

-- The HMAC-SHA256 function over a SHA-256 and a bxor.
local function make_hmac(sha256, bxor)
  local IPAD, OPAD = {}, {}
  return function(key, msg)
    if #key > 64 then key = sha256(key) end
    key = key .. string.rep("\0", 64 - #key)
    for i = 1, 64 do
      local k = byte(key, i)
      IPAD[i] = char(bxor(k, 0x36) % 256)
      OPAD[i] = char(bxor(k, 0x5c) % 256)
    end
    return sha256(concat(OPAD) .. sha256(concat(IPAD) .. msg))
  end
end

local function resty_sha256()
  if not ngx then return nil end
  local ok, resty = pcall(require, "resty.sha256")
  if not ok or type(resty) ~= "table" or not resty.new then return nil end
  return function(msg)
    local h = resty:new()
    h:update(msg)
    return h:final()
  end
end

-- A SHA-256/HMAC pair over one backend: "native" (5.3+ operators), "bit" (the bit module),
-- "arithmetic", or "resty" (resty.sha256 for hashing). Nil when that backend is unavailable here.
function _M.backend(name)
  local ops, sha
  local function with_bit()
    local ok, bit = pcall(require, "bit")
    return ok and type(bit) == "table" and bit.ror and bit_ops(bit) or nil
  end
  if name == "native" then
    ops = native_ops()
  elseif name == "bit" then
    ops = with_bit()
  elseif name == "arithmetic" then
    ops = arithmetic_ops()
  elseif name == "resty" then
    sha = resty_sha256()
    if not sha then return nil end
    ops = native_ops() or with_bit() or arithmetic_ops()
  else
    error("tiledesk.crypto.backend(): unknown backend " .. tostring(name), 2)
  end
  if not ops then return nil end
  local own, bxor = make_sha256(ops)
  sha = sha or own
  return { name = name, sha256 = sha, hmac_sha256 = make_hmac(sha, bxor) }
end

local chosen = _M.backend("resty") or _M.backend("native") or _M.backend("bit") or _M.backend("arithmetic")
_M.backend_name = chosen.name

local function check_str(fn, what, v)
  if type(v) ~= "string" then
    error("tiledesk.crypto." .. fn .. "(): " .. what .. " must be a string, got " .. type(v), 3)
  end
end

-- The 32-byte SHA-256 digest of s.
function _M.sha256(s)
  check_str("sha256", "data", s)
  return chosen.sha256(s)
end

-- The 32-byte HMAC-SHA256 of msg under key.
function _M.hmac_sha256(key, msg)
  check_str("hmac_sha256", "key", key)
  check_str("hmac_sha256", "message", msg)
  return chosen.hmac_sha256(key, msg)
end

-- Lower-case hex of a byte string.
function _M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", byte(c)) end))
end

-- Whether a and b are the same string, looking at every byte of the expected value b whatever
-- a holds (no early exit on the first difference). Non-strings are never equal.
function _M.equal(a, b)
  if type(a) ~= "string" or type(b) ~= "string" then return false end
  local na, nb = #a, #b
  local diff = na == nb and 0 or 1
  for i = 1, nb do
    local x = byte(a, (i - 1) % (na > 0 and na or 1) + 1) or 0
    if x ~= byte(b, i) then diff = 1 end
  end
  return diff == 0
end

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local ENC, DEC = {}, {}
for i = 1, 64 do
  ENC[i - 1] = ALPHABET:sub(i, i)
  DEC[byte(ALPHABET, i)] = i - 1
end

-- base64url without padding (RFC 7515 §2).
function _M.b64url_encode(s)
  check_str("b64url_encode", "data", s)
  local out, n = {}, #s
  for i = 1, n - 2, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = (a * 256 + b) * 256 + c
    out[#out + 1] = ENC[floor(v / 262144)] .. ENC[floor(v / 4096) % 64] .. ENC[floor(v / 64) % 64] .. ENC[v % 64]
  end
  local rest = n % 3
  if rest == 1 then
    local a = byte(s, n)
    out[#out + 1] = ENC[floor(a / 4)] .. ENC[a % 4 * 16]
  elseif rest == 2 then
    local a, b = byte(s, n - 1, n)
    local v = a * 256 + b
    out[#out + 1] = ENC[floor(v / 1024)] .. ENC[floor(v / 16) % 64] .. ENC[v % 16 * 4]
  end
  return concat(out)
end

-- Decodes unpadded base64url; nil for any other character, a impossible length, or unused
-- bits that are not zero (so each byte string has exactly one encoding).
function _M.b64url_decode(s)
  if type(s) ~= "string" or #s % 4 == 1 then return nil end
  local out, n = {}, #s
  local full = n - n % 4
  for i = 1, full, 4 do
    local a, b, c, d = DEC[byte(s, i)], DEC[byte(s, i + 1)], DEC[byte(s, i + 2)], DEC[byte(s, i + 3)]
    if not (a and b and c and d) then return nil end
    local v = ((a * 64 + b) * 64 + c) * 64 + d
    out[#out + 1] = char(floor(v / 65536), floor(v / 256) % 256, v % 256)
  end
  local rest = n - full
  if rest == 2 then
    local a, b = DEC[byte(s, n - 1)], DEC[byte(s, n)]
    if not (a and b) or b % 16 ~= 0 then return nil end
    out[#out + 1] = char(a * 4 + floor(b / 16))
  elseif rest == 3 then
    local a, b, c = DEC[byte(s, n - 2)], DEC[byte(s, n - 1)], DEC[byte(s, n)]
    if not (a and b and c) or c % 4 ~= 0 then return nil end
    local v = (a * 64 + b) * 64 + c
    out[#out + 1] = char(floor(v / 1024), floor(v / 4) % 256)
  end
  return concat(out)
end

return _M
