-- JSON for the sandbox through Debian's lua-dkjson (/usr/share/lua/5.1/dkjson.lua), which
-- keeps empty arrays and objects apart both ways:
--   * decoded arrays carry array_mt and decoded objects object_mt, so a body's [] and {} go
--     back on the wire as they came;
--   * arr() marks a table built in Lua as an array; any other table with no metatable is an
--     array when it is a non-empty sequence and an object otherwise ({} is written "{}").
-- null is ngx.null (a light userdata, as cjson's): handlers' `type(x) == "table"` checks never
-- take a JSON null for an object.
local dkjson = require("dkjson")

local _M = {}

local array_mt = { __jsontype = "array" }
local object_mt = { __jsontype = "object" }
_M.array_mt = array_mt
_M.null = ngx.null

function _M.arr(t)
  return setmetatable(t or {}, array_mt)
end

-- What is written, as dkjson 2.6 would write a marked copy of the value (the rules the
-- sandbox has always answered with), but in one walk without the copy:
--   * a table marked with array_mt, or an unmarked non-empty sequence, goes through dkjson's
--     own array test (all keys positive integers, or a numeric `n`; not too many holes): an
--     array up to its highest index (holes null), else an object;
--   * any other table is an object (dkjson would write an object whose keys are all integers
--     as an array whatever its mark: such objects are written pair by pair here);
--   * strings with nothing to escape are quoted as they are, the rest by dkjson.quotestring;
--     numbers as dkjson writes them (tostring; NaN and infinities null); ngx.null and every
--     value JSON cannot hold: null.
-- Deeper than 100 levels (a cycle included) raises "json: too deep".
local quotestring = dkjson.quotestring
local floor, huge = math.floor, math.huge
local concat, tostring, type, pairs, getmetatable = table.concat, tostring, type, pairs, getmetatable
local strfind = string.find

-- dkjson's escapable bytes, and the lead bytes of the multi-byte sequences it escapes
local NEEDS_ESCAPE = "[%z\1-\31\"\\\127\194\216\220\225\226\239]"

-- Quoted strings are kept (strings are values: a cached text is never stale): the documents
-- of a list repeat the same keys, ids and dates call after call. Short strings only, and the
-- cache starts over when full, so it stays small whatever the traffic.
local quoted, n_quoted = {}, 0
local QUOTED_MAX, QUOTED_LEN = 20000, 200

local function quote(s)
  local q = quoted[s]
  if q then return q end
  if strfind(s, NEEDS_ESCAPE) then q = quotestring(s) else q = '"' .. s .. '"' end
  if #s <= QUOTED_LEN then
    if n_quoted >= QUOTED_MAX then quoted, n_quoted = {}, 0 end
    quoted[s], n_quoted = q, n_quoted + 1
  end
  return q
end

-- numbers as dkjson writes them; `plain`: the locale writes 0.5 as "0.5" (checked once per encode).
-- Their text is kept as quoted strings are (numbers are values; 0 is left out: -0 is the same key
-- and another text).
local numbered, n_numbered = {}, 0

local function number(v, plain)
  if v ~= v or v >= huge or -v >= huge then return "null" end
  -- dkjson mends a locale's decimal comma and group separators (none under nginx's C locale)
  if not plain then return dkjson.encode(v) end
  local text = numbered[v]
  if text then return text end
  text = tostring(v)
  if v ~= 0 then
    if n_numbered >= QUOTED_MAX then numbered, n_numbered = {}, 0 end
    numbered[v], n_numbered = text, n_numbered + 1
  end
  return text
end

local function is_sequence(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

-- dkjson's isarray: true, highest index | false
local function dk_isarray(t)
  local max, n, arraylen = 0, 0, 0
  for k, v in pairs(t) do
    if k == "n" and type(v) == "number" then
      arraylen = v
      if v > max then max = v end
    else
      if type(k) ~= "number" or k < 1 or floor(k) ~= k then return false end
      if k > max then max = k end
      n = n + 1
    end
  end
  if max > 10 and max > arraylen and max > n * 2 then return false end
  return true, max
end

-- OpenResty's table.nkeys (nginx's LuaJIT): when t's keys are exactly 1..#t, both tests above
-- say "an array of #t" and need no walk over the keys.
local has_nkeys, nkeys = pcall(require, "table.nkeys")

local function dense(t)
  if not has_nkeys then return nil end
  local n = #t
  if nkeys(t) ~= n then return nil end
  for i = 1, n do
    if t[i] == nil then return nil end
  end
  return n
end

-- The text is built in one string.buffer (LuaJIT 2.1), kept between calls; where there is none,
-- in a table of pieces with the same two methods.
local new_buffer
do
  local ok, sb = pcall(require, "string.buffer")
  if ok then
    new_buffer = sb.new
  else
    local Pieces = {}
    Pieces.__index = Pieces
    function Pieces:put(...)
      local n = self.n
      for i = 1, select("#", ...) do
        n = n + 1
        self[n] = select(i, ...)
      end
      self.n = n
      return self
    end
    function Pieces:reset()
      for i = 1, self.n do self[i] = nil end
      self.n = 0
      return self
    end
    function Pieces:tostring() return concat(self, "", 1, self.n) end
    new_buffer = function() return setmetatable({ n = 0 }, Pieces) end
  end
end
local BUFFER_KEEP = 1024 * 1024 -- a buffer grown past this is let go after the call

local write

---------------------------------------------------------------------------------------------
-- Kept text: json.keep(gen, key, value) is written as value is, and the text it was written as
-- is kept under key for generation gen (sbx.store.generation); json.kept(gen, key) gives it
-- back while gen is the same, and json.raw(text) puts it in an answer again, byte for byte.
-- A text is kept for the depth it was written at and written again only at that depth (deeper
-- than 100 levels raises the same). Every text of an older generation goes at once; at most
-- KEPT_MAX texts are kept (then it starts over).
local keep_mt, raw_mt = {}, {}
local kept, kept_gen, n_kept = {}, nil, 0
local KEPT_MAX = 5000

function _M.keep(gen, key, value)
  return setmetatable({ gen = gen, key = key, value = value }, keep_mt)
end

-- What is kept under key at generation gen (its text and depth, for json.raw), else nil.
function _M.kept(gen, key)
  if gen == nil or gen ~= kept_gen then return nil end
  return kept[key]
end

-- A kept text (from kept()), written as it is.
function _M.raw(entry)
  return setmetatable({ entry = entry }, raw_mt)
end

local function write_kept(v, buf, depth, plain)
  local gen = v.gen
  if gen == nil then return write(v.value, buf, depth, plain) end
  local sub = new_buffer()
  write(v.value, sub, depth, plain)
  local text = sub:tostring()
  buf:put(text)
  if gen ~= kept_gen or n_kept >= KEPT_MAX then kept, kept_gen, n_kept = {}, gen, 0 end
  if kept[v.key] == nil then n_kept = n_kept + 1 end
  kept[v.key] = { text = text, depth = depth }
end

local function write_raw(v, buf, depth)
  local e = v.entry
  if e.depth ~= depth then error("json: a kept text written at another depth", 0) end
  buf:put(e.text)
end

-- The fields of t (those `over` does not hold, when given), after a "," unless `first`.
local function write_fields(t, buf, depth, plain, first, over)
  for k, x in pairs(t) do
    if over == nil or rawget(over, k) == nil then
      local kt = type(k)
      if kt ~= "string" and kt ~= "number" then
        error("json: type '" .. kt .. "' is not supported as a key by JSON.", 0)
      end
      if first then first = false else buf:put(",") end
      buf:put(quote(kt == "string" and k or tostring(k)), ":")
      write(x, buf, depth, plain)
    end
  end
  return first
end

local function write_pairs(t, buf, depth, plain)
  buf:put("{")
  local base = getmetatable(t)
  base = base and base.__jsonbase
  local first = write_fields(t, buf, depth, plain, true)
  if base then write_fields(base, buf, depth, plain, first, t) end
  buf:put("}")
end

function write(v, buf, depth, plain)
  local t = type(v)
  if t == "string" then
    buf:put(quote(v))
  elseif t == "number" then
    buf:put(number(v, plain))
  elseif t == "boolean" then
    buf:put(v and "true" or "false")
  elseif t == "table" then
    if depth > 100 then error("json: too deep", 0) end
    local mt = getmetatable(v)
    if mt == array_mt or mt == nil then
      local max = dense(v)
      if not max then
        if mt == nil and not is_sequence(v) then return write_pairs(v, buf, depth + 1, plain) end
        local isa
        isa, max = dk_isarray(v)
        if not isa then return write_pairs(v, buf, depth + 1, plain) end
      elseif max == 0 and mt == nil then
        -- an unmarked empty table is an object
        return write_pairs(v, buf, depth + 1, plain)
      end
      buf:put("[")
      for i = 1, max do
        if i > 1 then buf:put(",") end
        write(v[i], buf, depth + 1, plain)
      end
      buf:put("]")
    elseif mt == raw_mt then
      write_raw(v, buf, depth)
    elseif mt == keep_mt then
      write_kept(v, buf, depth, plain)
    else
      write_pairs(v, buf, depth + 1, plain)
    end
  else
    -- nil (a hole of an array), ngx.null, functions, userdata
    buf:put("null")
  end
end

local shared = new_buffer()

local function encode(v)
  local buf = shared
  buf:reset()
  local ok, err = pcall(write, v, buf, 0, tostring(0.5) == "0.5")
  local text = ok and buf:tostring()
  if #buf > BUFFER_KEEP then shared = new_buffer() else buf:reset() end
  if not ok then error(err, 2) end
  return text
end
_M.encode = encode

-- `fields` (a table without a metatable) made to stand for a copy of `base` with `fields` set
-- over it, without the copy: reads of a field it does not hold fall through to base, and it
-- is written as an object of both tables' fields (those of `fields` winning). A field set to
-- nil in it shows base's. For answers that are only written out (a page of a list).
function _M.overlay(base, fields)
  return setmetatable(fields or {}, { __index = base, __jsonbase = base })
end

-- nil, message on malformed text or text after the value (dkjson stops at the value's end).
function _M.decode(s)
  if type(s) ~= "string" then return nil, "json: not a string" end
  local v, pos, err = dkjson.decode(s, 1, _M.null, object_mt, array_mt)
  if err then return nil, "json: " .. err end
  if s:find("[^ \t\r\n]", pos) then return nil, "json: trailing text at character " .. pos end
  return v
end

return _M
