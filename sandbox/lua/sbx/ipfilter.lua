-- The project IP filter as the server applies it (middleware/ipFilter.js): express-ipfilter
-- 1.2.0 in 'allow' mode over `ipFilter`, in 'deny' mode over `ipFilterDeny`, with the versions
-- tiledesk-server's package-lock.json pins: range_check 1.4.0 and its ipaddr.js 1.2.0.
--
-- An entry is a CIDR block when range_check's validRange() says so (ipaddr.parseCIDR: an IPv6
-- block, else an IPv4 one), and the client's address is then in it when both parse as the same
-- kind (an IPv4-mapped IPv6 address is NOT in an IPv4 block) and their first bits agree. Any
-- other entry is compared as text with the address, exactly ("::1" is not "0::1").
-- ipaddr.js 1.2.0 reads IPv4 in four parts or one, each decimal, octal (a leading 0) or hex
-- (0x), and IPv6 with one "::", or ending in a dotted IPv4 ("::ffff:10.0.0.1").
-- Pure Lua (no ngx, no bit operators): LuaJIT and Lua 5.1-5.4.
local _M = {}

local function is_digits(s) return s ~= "" and not s:find("%D") end

-- JavaScript's parseInt(s, radix) over the leading digits valid in the radix (NaN: nil)
local function parse_int(s, radix)
  local n, any = 0, false
  for i = 1, #s do
    local d = tonumber(s:sub(i, i), 36)
    if not d or d >= radix then break end
    n, any = n * radix + d, true
  end
  return any and n or nil
end

-- parseInt(s) without a radix: "0x"/"0X" is hex, anything else decimal
local function parse_int_auto(s)
  local hex = s:match("^0[xX](.*)$")
  if hex then return parse_int(hex, 16) end
  return parse_int(s, 10)
end

-- ipaddr.js's ipv4Part: (0?\d+|0x[a-f0-9]+), case-insensitive
local function ipv4_part(s)
  return is_digits(s) or (s:match("^0[xX]%x+$") ~= nil)
end

-- ipaddr.IPv4.parser's parseIntAuto: a leading "0" not followed by a lower-case "x" is octal
local function ipv4_int(s)
  if s:sub(1, 1) == "0" and s:sub(2, 2) ~= "x" then return parse_int(s, 8) end
  return parse_int_auto(s)
end

-- ipaddr.IPv4.parser then new IPv4(): four octets 0..255, or nil
local function parse_v4(s)
  local a, b, c, d = s:match("^([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)$")
  if a then
    local out = {}
    for i, p in ipairs({ a, b, c, d }) do
      if not ipv4_part(p) then return nil end
      local v = ipv4_int(p)
      if not v or v > 255 then return nil end
      out[i] = v
    end
    return out
  end
  if not ipv4_part(s) then return nil end
  local v = ipv4_int(s) -- one number for the whole address
  if not v or v > 0xffffffff then return nil end
  return { math.floor(v / 16777216) % 256, math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256 }
end

local function count_colons(s)
  local _, n = s:gsub(":", "")
  return n
end

-- ipaddr.js's expandIPv6(string, parts): the numbers of the groups (NaN as false), or nil
local function expand_v6(s, parts)
  local first = s:find("::", 1, true)
  local last
  local from = 1
  while true do
    local i = s:find("::", from, true)
    if not i then break end
    last, from = i, i + 1
  end
  if first ~= last then return nil end
  local colons = count_colons(s)
  if s:sub(1, 2) == "::" then colons = colons - 1 end
  if #s >= 2 and s:sub(-2) == "::" then colons = colons - 1 end
  if colons > parts then return nil end
  if first then
    s = s:sub(1, first - 1) .. ":" .. string.rep("0:", parts - colons) .. s:sub(first + 2)
  end
  if s:sub(1, 1) == ":" then s = s:sub(2) end
  if s:sub(-1) == ":" then s = s:sub(1, -2) end
  local out = {}
  for g in (s .. ":"):gmatch("([^:]*):") do
    out[#out + 1] = g:match("^%x+") and parse_int(g, 16) or false
  end
  return out
end

-- the colon runs of a text made of hex digits and colons, as ipaddr.js's IPv6 regular
-- expressions allow them: a leading run only as "::"
local function v6_shape(s)
  if s == "" or s:find("[^%x:]") then return false end
  return not (s:sub(1, 1) == ":" and s:sub(2, 2) ~= ":")
end

-- ipaddr.IPv6.parser then new IPv6(): eight 16-bit groups, or nil
local function parse_v6(s)
  local groups
  if v6_shape(s) then
    groups = expand_v6(s, 8)
  else
    -- transitional: an IPv6 head ending in ":" and a dotted IPv4 tail of parseInt() parts
    local head, tail = s:match("^(.*:)([^:]*)$")
    if not head or not v6_shape(head) then return nil end
    local a, b, c, d = tail:match("^([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)$")
    if not a then return nil end
    groups = expand_v6(head:sub(1, -2), 6)
    if not groups then return nil end
    local o = {}
    for i, p in ipairs({ a, b, c, d }) do
      if not ipv4_part(p) then return nil end
      o[i] = parse_int_auto(p)
      if not o[i] or o[i] > 255 then return nil end
    end
    groups[#groups + 1] = o[1] * 256 + o[2]
    groups[#groups + 1] = o[3] * 256 + o[4]
  end
  if not groups or #groups ~= 8 then return nil end
  for _, g in ipairs(groups) do
    if not g or g > 0xffff then return nil end
  end
  return groups
end

-- ipaddr.parse(): { kind = "ipv6" | "ipv4", parts } (IPv6 tried first, only with a colon)
function _M.parse(s)
  if type(s) ~= "string" then return nil end
  if s:find(":", 1, true) then
    local g = parse_v6(s)
    if g then return { kind = "ipv6", parts = g, size = 16 } end
  end
  local o = parse_v4(s)
  if o then return { kind = "ipv4", parts = o, size = 8 } end
  return nil
end

-- ipaddr.parseCIDR() (range_check.validRange): the address and the prefix length, or nil
function _M.parse_cidr(s)
  if type(s) ~= "string" then return nil end
  local addr, bits = s:match("^(.+)/(%d+)$")
  if not addr then return nil end
  bits = tonumber(bits)
  if bits <= 128 then
    local g = parse_v6(addr)
    if g then return { kind = "ipv6", parts = g, size = 16 }, bits end
  end
  if bits <= 32 then
    local o = parse_v4(addr)
    if o then return { kind = "ipv4", parts = o, size = 8 }, bits end
  end
  return nil
end

-- matchCIDR(): the first `bits` bits of two addresses of one kind agree
local function match_cidr(a, b, bits)
  local part = 1
  while bits > 0 do
    local shift = a.size - bits
    if shift < 0 then shift = 0 end
    local div = 2 ^ shift
    if math.floor(a.parts[part] / div) ~= math.floor(b.parts[part] / div) then return false end
    bits = bits - a.size
    part = part + 1
  end
  return true
end

-- range_check.inRange(ip, block) for a block validRange() accepted
local function in_block(ip, block)
  local base_text, bits = block:match("^([^/]*)/([^/]*)")
  local a, b = _M.parse(ip), _M.parse(base_text)
  if not a or not b or a.kind ~= b.kind then return false end -- match() throws: false
  return match_cidr(a, b, tonumber(bits))
end

-- Whether express-ipfilter's testIp finds `ip` in one of the entries.
function _M.listed(ip, list)
  for _, entry in ipairs(list) do
    if type(entry) == "number" or type(entry) == "boolean" then entry = tostring(entry) end -- mongoose's String cast
    if type(entry) == "string" then
      if _M.parse_cidr(entry) then
        if type(ip) == "string" and in_block(ip, entry) then return true end
      elseif entry == ip then
        return true
      end
    end
  end
  return false
end

return _M
