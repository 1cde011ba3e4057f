-- JSON for the sandbox, both ways written here: stock lua-cjson 2.1.0 turns [] into {} when
-- decoding and cannot write an empty array. Decoded arrays carry array_mt (the mark arr() puts
-- on arrays built in Lua), so a body's [] comes back as []. cjson only lends its null.
local cjson = require("cjson.safe")

local _M = {}
_M.null = cjson.null
local array_mt = { __name = "sbx.array" }
_M.array_mt = array_mt

function _M.arr(t)
  return setmetatable(t or {}, array_mt)
end

---------------------------------------------------------------------------------------------
-- decoding (RFC 8259; any value at the top; nil, message on malformed text)

local MAX_DEPTH = 1000
local ESC = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
local LITERALS = { ["true"] = true, ["false"] = false }

local function utf8_of(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local function fail(pos, what)
  error({ json = "json: " .. what .. " at character " .. pos }, 0)
end

local function skip(s, pos)
  return s:find("[^ \t\r\n]", pos) or #s + 1
end

local decode_value

local function decode_string(s, pos) -- pos at the opening quote
  local parts = {}
  local i = pos + 1
  while true do
    local j = s:find('["\\%z\1-\31]', i)
    if not j then fail(pos, "unterminated string") end
    local c = s:sub(j, j)
    if c == '"' then
      parts[#parts + 1] = s:sub(i, j - 1)
      return table.concat(parts), j + 1
    elseif c == "\\" then
      parts[#parts + 1] = s:sub(i, j - 1)
      local e = s:sub(j + 1, j + 1)
      if e == "u" then
        local hex = s:match("^%x%x%x%x", j + 2)
        if not hex then fail(j, "bad \\u escape") end
        local cp = tonumber(hex, 16)
        local nxt = j + 6
        if cp >= 0xD800 and cp <= 0xDBFF then
          local lo = s:match("^\\u(%x%x%x%x)", nxt)
          lo = lo and tonumber(lo, 16)
          if lo and lo >= 0xDC00 and lo <= 0xDFFF then
            cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
            nxt = nxt + 6
          else
            cp = 0xFFFD -- a lone high surrogate
          end
        elseif cp >= 0xDC00 and cp <= 0xDFFF then
          cp = 0xFFFD
        end
        parts[#parts + 1] = utf8_of(cp)
        i = nxt
      elseif ESC[e] then
        parts[#parts + 1] = ESC[e]
        i = j + 2
      else
        fail(j, "bad escape")
      end
    else
      fail(j, "control character in string")
    end
  end
end

local function decode_number(s, pos)
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
  -- the strict grammar: no leading zeros, digits after '.', digits in the exponent
  if not num or not (num:match("^-?0$") or num:match("^-?0[.eE]") or num:match("^-?[1-9]"))
    or num:match("%.$") or num:match("%.[eE]") or num:match("[eE][-+]?$") then
    fail(pos, "bad number")
  end
  local v = tonumber(num)
  if not v then fail(pos, "bad number") end
  return v, pos + #num
end

function decode_value(s, pos, depth)
  pos = skip(s, pos)
  local c = s:sub(pos, pos)
  if c == "{" then
    if depth >= MAX_DEPTH then fail(pos, "too deep") end
    local obj = {}
    pos = skip(s, pos + 1)
    if s:sub(pos, pos) == "}" then return obj, pos + 1 end
    while true do
      if s:sub(pos, pos) ~= '"' then fail(pos, "expected a key") end
      local k
      k, pos = decode_string(s, pos)
      pos = skip(s, pos)
      if s:sub(pos, pos) ~= ":" then fail(pos, "expected ':'") end
      local v
      v, pos = decode_value(s, pos + 1, depth + 1)
      obj[k] = v
      pos = skip(s, pos)
      local d = s:sub(pos, pos)
      if d == "}" then return obj, pos + 1 end
      if d ~= "," then fail(pos, "expected ',' or '}'") end
      pos = skip(s, pos + 1)
    end
  elseif c == "[" then
    if depth >= MAX_DEPTH then fail(pos, "too deep") end
    local list = setmetatable({}, array_mt)
    pos = skip(s, pos + 1)
    if s:sub(pos, pos) == "]" then return list, pos + 1 end
    local n = 0
    while true do
      local v
      v, pos = decode_value(s, pos, depth + 1)
      n = n + 1
      list[n] = v
      pos = skip(s, pos)
      local d = s:sub(pos, pos)
      if d == "]" then return list, pos + 1 end
      if d ~= "," then fail(pos, "expected ',' or ']'") end
      pos = pos + 1
    end
  elseif c == '"' then
    return decode_string(s, pos)
  elseif c == "-" or c:match("%d") then
    return decode_number(s, pos)
  end
  local word = s:match("^%a+", pos)
  if word == "null" then return cjson.null, pos + 4 end
  if word and LITERALS[word] ~= nil then return LITERALS[word], pos + #word end
  fail(pos, "unexpected " .. (c == "" and "end of text" or ("'" .. c .. "'")))
end

-- Returns the value, or nil, message. Arrays (empty ones included) carry array_mt.
function _M.decode(s)
  if type(s) ~= "string" then return nil, "json: not a string" end
  local ok, v, pos = pcall(decode_value, s, 1, 0)
  if not ok then
    if type(v) == "table" and v.json then return nil, v.json end
    error(v, 0)
  end
  pos = skip(s, pos)
  if pos <= #s then return nil, "json: trailing text at character " .. pos end
  return v
end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }
local function esc(c)
  return escapes[c] or string.format("\\u%04x", c:byte())
end

local function is_seq(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    count = count + 1
  end
  return count == n
end

local encode
local function encode_into(v, out, depth)
  if depth > 100 then error("json: too deep") end
  local tv = type(v)
  if v == nil or v == cjson.null then
    out[#out + 1] = "null"
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif v == math.floor(v) and math.abs(v) < 2^53 then out[#out + 1] = string.format("%d", v)
    else out[#out + 1] = string.format("%.14g", v) end
  elseif tv == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', esc) .. '"'
  elseif tv == "table" then
    if getmetatable(v) == array_mt or is_seq(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode_into(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        out[#out + 1] = '"' .. k:gsub('[%c"\\]', esc) .. '":'
        encode_into(val, out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"
  end
end

function encode(v)
  local out = {}
  encode_into(v, out, 0)
  return table.concat(out)
end
_M.encode = encode

return _M
