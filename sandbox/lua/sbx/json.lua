-- JSON for the sandbox: cjson decodes; a small encoder of our own writes, so that arrays
-- marked with arr() stay [] even when empty (stock lua-cjson 2.1.0 cannot say that).
local cjson = require("cjson.safe")

local _M = {}
_M.null = cjson.null
local array_mt = { __name = "sbx.array" }
_M.array_mt = array_mt

function _M.arr(t)
  return setmetatable(t or {}, array_mt)
end

function _M.decode(s)
  return cjson.decode(s)
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
