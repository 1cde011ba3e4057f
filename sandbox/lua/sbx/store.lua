-- In-memory collections for the life of a sandbox run, re-seeded by reset().
local json = require("sbx.json")

local _M = {}

local counter = 0
local collections = {}
local clock_offset_ms = 0

function _M.now_ms()
  return math.floor(ngx.now() * 1000) + clock_offset_ms
end

-- The clock moved so that now is `ms` (epoch ms), or back to the real one (nil).
function _M.set_clock(ms)
  clock_offset_ms = ms and (ms - math.floor(ngx.now() * 1000)) or 0
end

-- ISO 8601 UTC with milliseconds, from epoch ms (default now).
function _M.iso(ms)
  ms = ms or _M.now_ms()
  local s = math.floor(ms / 1000)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%03dZ", ms % 1000)
end

function _M.now() return _M.iso() end

-- days since 1970-01-01 of a civil date (proleptic Gregorian)
local days_from_civil = require("sbx.tz").days_from_civil

_M.days_from_civil = days_from_civil

-- Epoch ms of a UTC civil time (no local time zone involved).
function _M.civil_ms(y, mo, d, h, mi, s, ms)
  return ((days_from_civil(y, mo, d) * 24 + (h or 0)) * 60 + (mi or 0)) * 60000 + (s or 0) * 1000 + (ms or 0)
end

-- Epoch ms of an ISO 8601 UTC text as iso() writes it (nil when it is not one).
function _M.ms_of(iso)
  local y, mo, d, h, mi, s, ms = tostring(iso):match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)Z$")
  if not y then return nil end
  return _M.civil_ms(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s), tonumber(ms))
end

-- 24-hex ObjectId-like ids from a counter: the seed gets the same ids on every run.
function _M.id()
  counter = counter + 1
  return string.format("6560f0a1%016x", counter)
end

function _M.uuid(compact)
  local crypto = require("sbx.crypto")
  local b = { crypto.random(16):byte(1, 16) }
  b[7] = b[7] % 16 + 64
  b[9] = b[9] % 64 + 128
  local h = {}
  for i = 1, 16 do h[i] = string.format("%02x", b[i]) end
  local s = table.concat(h)
  if compact then return s end
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21)
end

---------------------------------------------------------------------------------------------
-- What may have changed: answers that keep text made from documents (json.keep, a page of
-- conversations) keep it only while nothing could have written to the store since.
-- Handlers write to documents in place, so the store cannot see each write; instead every
-- piece of code that may write counts as a writer while it runs (sbx.app: each call but the
-- read-only ones it names; timers started through store.timer_at; reset), and the generation
-- moves when a writer starts and when it ends. Kept text is good for one generation, and
-- only while no writer runs (a writer may have yielded halfway through its writes).
local generation, writers = 0, 0

function _M.begin_write()
  writers = writers + 1
  generation = generation + 1
end

function _M.end_write()
  generation = generation + 1
  if writers > 0 then writers = writers - 1 end
end

-- The generation text may be kept for, or nil while a writer runs.
function _M.generation()
  if writers > 0 then return nil end
  return generation
end

-- ngx.timer.at for code that may write to the store: the callback counts as a writer.
function _M.timer_at(delay, fn, ...)
  return ngx.timer.at(delay, function(premature, ...)
    _M.begin_write()
    local ok, err = pcall(fn, premature, ...)
    _M.end_write()
    if not ok then error(err, 0) end
  end, ...)
end

local Coll = {}
Coll.__index = Coll

function _M.coll(name)
  local c = collections[name]
  if not c then
    c = setmetatable({ name = name, docs = {}, by_id = {} }, Coll)
    collections[name] = c
  end
  return c
end

function Coll:insert(doc, at_ms)
  doc._id = doc._id or _M.id()
  local ts = _M.iso(at_ms)
  doc.createdAt = doc.createdAt or ts
  doc.updatedAt = doc.updatedAt or doc.createdAt
  doc.__v = doc.__v or 0
  generation = generation + 1
  self.docs[#self.docs + 1] = doc
  self.by_id[doc._id] = doc
  return doc
end

function Coll:get(id)
  return self.by_id[id]
end

function Coll:find(pred)
  local out = json.arr()
  for _, d in ipairs(self.docs) do
    if not pred or pred(d) then out[#out + 1] = d end
  end
  return out
end

function Coll:find_one(pred)
  for _, d in ipairs(self.docs) do
    if pred(d) then return d end
  end
  return nil
end

function Coll:update(id, fields)
  local d = self.by_id[id]
  if not d then return nil end
  for k, v in pairs(fields or {}) do d[k] = v end
  generation = generation + 1
  d.updatedAt = _M.now()
  d.__v = (d.__v or 0) + 1
  return d
end

-- The write of an update query (findByIdAndUpdate, updateMany): the fields set, updatedAt now
-- (the schema's timestamps), __v as it was (only a save() versions a document).
function Coll.set(_, d, fields)
  for k, v in pairs(fields or {}) do d[k] = v end
  generation = generation + 1
  d.updatedAt = _M.now()
  return d
end

-- findByIdAndUpdate with upsert: the document of that _id, made bare (no __v: an upsert's
-- insert is no save) when there is none, then set as above.
function Coll:upsert(id, fields)
  local d = self:get(id)
  if not d then
    d = self:insert{ _id = id }
    d.__v = nil
  end
  return self:set(d, fields)
end

function Coll.touch(_, d)
  generation = generation + 1
  d.updatedAt = _M.now()
  d.__v = (d.__v or 0) + 1
  return d
end

function Coll:remove(id)
  local d = self.by_id[id]
  if not d then return nil end
  generation = generation + 1
  self.by_id[id] = nil
  for i, x in ipairs(self.docs) do
    if x == d then table.remove(self.docs, i) break end
  end
  return d
end

function Coll.all(self)
  return self.docs
end

function Coll:count()
  return #self.docs
end

local seeders = {}

-- Seeders run in order on start and on every reset.
function _M.add_seeder(fn)
  seeders[#seeders + 1] = fn
end

_M.seeded = {}

function _M.reset()
  _M.begin_write()
  -- empty the collections in place: modules keep references to them
  for _, c in pairs(collections) do
    c.docs, c.by_id = {}, {}
  end
  counter = 0
  clock_offset_ms = 0
  _M.seeded = {}
  local ok, err = pcall(function()
    for _, fn in ipairs(seeders) do fn(_M, _M.seeded) end
  end)
  _M.end_write()
  if not ok then error(err, 0) end
end

return _M
