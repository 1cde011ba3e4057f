-- JSON through a private cjson.safe instance, so the SDK's settings never change the
-- application's cjson. Adds a portable way to send empty arrays (stock lua-cjson 2.1.0 has none).
local cjson = require("cjson.safe")

local _M = {}

local codec = cjson.new()
codec.encode_max_depth(200)
codec.decode_max_depth(200)
if codec.encode_escape_forward_slash then codec.encode_escape_forward_slash(false) end

_M.null = cjson.null

local array_mt = { __name = "tiledesk.array" }
_M.array_mt = array_mt

-- Marks t (default: a new table) as a JSON array, so that it encodes as [] when empty.
function _M.array(t)
  if t ~= nil and type(t) ~= "table" then
    error("tiledesk.array(): table expected, got " .. type(t), 2)
  end
  return setmetatable(t or {}, array_mt)
end

_M.empty_array = setmetatable({}, {
  __name = "tiledesk.array",
  __newindex = function() error("tiledesk.empty_array is read-only", 2) end,
})

local PLACEHOLDER = string.format("@@tiledesk-empty-array-%08x@@", math.random(0, 0x7fffffff))
local PLACEHOLDER_PATTERN = ('"' .. PLACEHOLDER .. '"'):gsub("%p", "%%%0")

local function is_marked(v)
  return v == _M.empty_array or getmetatable(v) == array_mt
end

-- Copies the value, replacing empty marked arrays by a placeholder string; returns the copy
-- and whether any placeholder was used.
local function prepare(v, depth, seen)
  if type(v) ~= "table" then return v, false end
  if depth > 200 then error("JSON nesting deeper than 200", 0) end
  if seen[v] then error("JSON value contains a cycle", 0) end
  if is_marked(v) and next(v) == nil then return PLACEHOLDER, true end
  seen[v] = true
  local out, used = {}, false
  for k, x in pairs(v) do
    local c, u = prepare(x, depth + 1, seen)
    out[k] = c
    used = used or u
  end
  seen[v] = nil
  return out, used
end

-- Whether v holds an empty marked array anywhere (only then is a copy with placeholders made);
-- raises on a cycle or a nesting deeper than 200, as prepare does.
local function has_empty_marked(v, depth, seen)
  if depth > 200 then error("JSON nesting deeper than 200", 0) end
  if seen[v] then error("JSON value contains a cycle", 0) end
  if next(v) == nil then return is_marked(v) end
  seen[v] = true
  for _, x in next, v do
    if type(x) == "table" and has_empty_marked(x, depth + 1, seen) then
      seen[v] = nil
      return true
    end
  end
  seen[v] = nil
  return false
end

-- Encodes v; returns the text, or nil and a message (functions, cycles, sparse arrays…).
function _M.encode(v)
  local scanned, marked = true, false
  if type(v) == "table" then scanned, marked = pcall(has_empty_marked, v, 0, {}) end
  if not scanned then return nil, marked end
  if not marked then
    local text, err = codec.encode(v)
    if not text then return nil, err end
    return text
  end
  local ok, copy, used = pcall(prepare, v, 0, {})
  if not ok then return nil, copy end
  local text, err = codec.encode(copy)
  if not text then return nil, err end
  if used then
    text = text:gsub(PLACEHOLDER_PATTERN, "[]")
  end
  return text
end

-- lua-cjson decodes every number as a float; on 5.3+ give integral ones back as integers,
-- so that ids, statuses and counts print as 300, not 300.0. The walk is tiledesk.core's
-- (in C, loaded on the first decode that needs it); this one serves where the core is missing.
local tointeger = rawget(math, "tointeger")
local function integers_lua(v, depth)
  if depth > 200 then return v end
  for k, x in next, v do
    local tx = type(x)
    if tx == "number" then
      local i = tointeger(x)
      if i then v[k] = i end
    elseif tx == "table" then
      integers_lua(x, depth + 1)
    end
  end
  return v
end
-- integers(v) -> v, is_table: a table walked, a number made an integer when integral (core.integers,
-- or this where the core is missing)
local function integers_any(v)
  local tv = type(v)
  if tv == "table" then return integers_lua(v, 0), true end
  if tv == "number" then return tointeger(v) or v, false end
  return v, false
end
local integers
local function load_integers(v)
  local ok, core = pcall(require, "tiledesk.core")
  integers = ok and type(core) == "table" and core.integers or integers_any
  return integers(v)
end
integers = load_integers
_M._integers_lua = integers_lua -- for the spec that holds both walks to the same results

-- Decodes text, a string (not checked); returns the value and whether it is a table (a JSON object
-- or array), or nil and a message. (No type() call on the way: a client:get of an object pays none.)
local function decode_text(text)
  local v, err = codec.decode(text)
  if v == nil and err then return nil, err end
  if tointeger then return integers(v) end
  return v, type(v) == "table"
end
_M.decode_text = decode_text

-- Decodes text; returns the value, or nil and a message.
function _M.decode(text)
  if type(text) ~= "string" then return nil, "not a string" end
  local v, err = decode_text(text)
  if v == nil then return nil, err end
  return v
end

return _M
