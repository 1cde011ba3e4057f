-- The project IP filter: tiledesk-server's middleware/ipFilter.js hands `ipFilter` (mode
-- 'allow') and `ipFilterDeny` (mode 'deny') to express-ipfilter 1.2.0 (lib/ipfilter.js:
-- testIp: an entry range_check.validRange() accepts is a CIDR block, tested with
-- range_check.inRange(); any other entry is compared with `ip === constraint`). The versions
-- are the ones tiledesk-server's package-lock.json pins: range_check 1.4.0 (inRange parses
-- both sides with ipaddr.parse() and calls addr.match(range, bits), false when it throws) and
-- ipaddr.js 1.2.0 (src/ipaddr.coffee: IPv4.parser, IPv6.parser, expandIPv6, parseCIDR,
-- matchCIDR). The client's address is the first X-Forwarded-For entry, else the socket's.
-- The module is plain Lua, loaded here from sandbox/lua; api_answers_spec.lua has the filter
-- through the sandbox.
local helper = require("spec.helper")

package.path = helper.abs_root .. "/sandbox/lua/?.lua;" .. package.path
local ipfilter = require("sbx.ipfilter")

describe("sandbox IP filter entries (express-ipfilter 1.2.0, range_check 1.4.0, ipaddr.js 1.2.0)", function()
  local function yes(ip, list) assert.is_true(ipfilter.listed(ip, list), ip .. " in " .. table.concat(list, " ")) end
  local function no(ip, list) assert.is_false(ipfilter.listed(ip, list), ip .. " not in " .. table.concat(list, " ")) end

  it("reads IPv4 CIDR blocks: the first bits agree", function()
    yes("10.1.2.3", { "10.0.0.0/8" })
    no("11.0.0.1", { "10.0.0.0/8" })
    yes("192.168.1.77", { "192.168.1.64/26" })
    no("192.168.1.128", { "192.168.1.64/26" })
    yes("192.168.1.64", { "192.168.1.64/32" })
    -- prefix 0: every IPv4 address, and no IPv6 one (match() throws across kinds)
    yes("8.8.8.8", { "0.0.0.0/0" })
    no("2001:db8::1", { "0.0.0.0/0" })
    -- the block's own address need not be its start: 10.9.9.9/8 is 10.0.0.0/8
    yes("10.200.0.1", { "10.9.9.9/8" })
  end)

  it("reads IPv6 CIDR blocks and addresses in any of their spellings", function()
    yes("2001:db8::1", { "2001:db8::/32" })
    yes("2001:0db8:0000:0000:0000:0000:0000:0001", { "2001:db8::/32" })
    yes("2001:DB8:ffff::1", { "2001:db8::/32" })
    no("2001:db9::1", { "2001:db8::/32" })
    yes("fe80::1234", { "fe80::/10" })
    yes("febf::1", { "fe80::/10" })
    no("fec0::1", { "fe80::/10" })
    yes("::1", { "::1/128" })
    yes("2001:db8::1", { "::/0" })
    no("127.0.0.1", { "::/0" })
  end)

  it("keeps IPv4 and IPv4-mapped IPv6 apart, as ipaddr.js's match() does", function()
    no("::ffff:10.1.2.3", { "10.0.0.0/8" })
    yes("::ffff:10.1.2.3", { "::ffff:10.0.0.0/104" })
    yes("::ffff:a01:203", { "::ffff:10.0.0.0/104" })
    no("10.1.2.3", { "::ffff:10.0.0.0/104" })
  end)

  it("compares any other entry with the address as text, exactly", function()
    yes("127.0.0.1", { "127.0.0.1" })
    yes("::1", { "::1" })
    no("0::1", { "::1" }) -- the same address, another text
    no("2001:DB8::1", { "2001:db8::1" })
    -- not a block: a prefix longer than the kind allows, a range, a name
    no("10.0.0.1", { "10.0.0.0/33" })
    yes("10.0.0.0/33", { "10.0.0.0/33" })
    no("10.0.0.5", { "10.0.0.1-10.0.0.9" })
    no("10.0.0.5", { "localhost" })
    no("10.0.0.5", {})
  end)

  it("reads IPv4 parts in decimal, octal (leading 0) and hex (0x), or as one number", function()
    yes("012.1.2.3", { "10.0.0.0/8" }) -- 012 is octal: 10
    no("010.1.2.3", { "10.0.0.0/8" }) -- 8
    yes("0x0a.1.2.3", { "10.0.0.0/8" })
    yes("167772161", { "10.0.0.0/8" }) -- 10.0.0.1
    yes("10.1.2.3", { "012.0.0.0/8" })
    yes("9.1.2.3", { "011.0.0.0/8" })
    -- parseInt(text, 8) stops at the first digit that is not octal: 09 is 0
    yes("0.1.2.3", { "09.0.0.0/8" })
    -- "0X" is not "0x" for IPv4.parser: parseInt("0X0a", 8) is 0
    yes("0.1.2.3", { "0X0a.0.0.0/8" })
    no("256.1.2.3", { "0.0.0.0/0" })
    no("4294967296", { "0.0.0.0/0" })
    yes("4294967295", { "255.255.255.255/32" })
  end)

  it("parses IPv6 as ipaddr.js 1.2.0 does, quirks included", function()
    assert.same({ 0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203 }, ipfilter.parse("::ffff:10.1.2.3").parts)
    assert.same({ 1, 2, 3, 4, 5, 6, 7, 8 }, ipfilter.parse("1:2:3:4:5:6:7:8:").parts) -- a trailing colon passes
    assert.same({ 1, 0, 0, 0, 0, 0, 0, 0 }, ipfilter.parse("1::").parts)
    assert.same({ 0, 0, 0, 0, 0, 0, 0, 0 }, ipfilter.parse("::").parts)
    assert.is_nil(ipfilter.parse("::1.2.3.4")) -- expandIPv6(":", 6) leaves one group
    assert.is_nil(ipfilter.parse("1::2::3"))
    assert.is_nil(ipfilter.parse(":1:2:3:4:5:6:7"))
    assert.is_nil(ipfilter.parse("1:2:3:4:5:6:7"))
    assert.is_nil(ipfilter.parse("1:2:3:4:5:6:7:8:9"))
    assert.is_nil(ipfilter.parse("12345::1"))
    assert.is_nil(ipfilter.parse("::ffff:256.1.2.3"))
    assert.equal("ipv4", ipfilter.parse("1.2.3.4").kind)
    assert.is_nil(ipfilter.parse("1.2.3"))
    assert.is_nil(ipfilter.parse(""))
  end)
end)
