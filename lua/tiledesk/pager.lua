-- Pagination over Tiledesk list endpoints (docs/server-api.md §3).
--   pager = pages(fetch, how, query)   pager:next() -> page | nil (end) | nil, msg, err
--   each(fetch, how, query)            iterator over items; raises on failure, like io.lines
-- how = { items = "requests" (envelope key) | nil (bare array), size = n, max = n,
--         fixed = true (server ignores limit), all = true (one unpaginated array) }
--
-- prefetch = n (query key, not sent; true = 4): once a page has told the total (`count`), each
-- page handed out sets the next n going (many(queries): they are asked for together, and go on
-- while the caller works on the page it holds) and they are handed out one by one, never a
-- page past the last one the count allows nor past max_items. What the caller sees is what it
-- sees without prefetch: the same pages in the same order, the same end, and a failed page
-- returned as nil, msg, err in its place (the pages asked for after it are dropped, and the next
-- call asks for that page again).
local E = require("tiledesk.error")

local _M = {}

local MAX_PAGES = 100000
local MAX_LIMIT = 100 -- no iterator asks for more than 100 items a page

local Pager = {}
Pager.__index = Pager
Pager.__name = "tiledesk.Pager"

local function copy(t)
  local out = {}
  for k, v in pairs(t or {}) do out[k] = v end
  return out
end

local PREFETCH_TRUE, PREFETCH_MAX = 4, 16

-- fetch(query) -> decoded body | nil, msg, err
-- many(queries) -> pending: the pages asked for at once, under way; pending:join() ->
-- { { body, msg, err }, ... } in the same order, pending:cancel() drops them. Without it,
-- prefetch is refused.
function _M.pages(fetch, how, query, op, many)
  if query ~= nil and type(query) ~= "table" then error((op or "pages()") .. ": query must be a table", 3) end
  local q = copy(query)
  local max_items = q.max_items
  q.max_items = nil
  if max_items ~= nil and (type(max_items) ~= "number" or max_items < 0) then
    error((op or "pages()") .. ": max_items must be a number >= 0", 3)
  end
  local prefetch = q.prefetch
  q.prefetch = nil
  if prefetch == true then prefetch = PREFETCH_TRUE elseif prefetch == false then prefetch = nil end
  if prefetch ~= nil and (type(prefetch) ~= "number" or prefetch ~= math.floor(prefetch) or prefetch < 1
    or prefetch > PREFETCH_MAX) then
    error((op or "pages()") .. ": prefetch must be true, false or a number of pages from 1 to " .. PREFETCH_MAX, 3)
  end
  if prefetch and not many then error((op or "pages()") .. ": prefetch needs a client to fetch pages at once", 3) end
  local size = how.size or 40
  if not how.fixed and not how.all then
    -- limit 0 means "no limit" to the server (everything in one answer): never send it
    local want = tonumber(q.limit)
    if not want or want < 1 then want = size end
    local cap = how.max or MAX_LIMIT
    if want > cap then want = cap end
    size = math.floor(want)
    q.limit = size
  end
  local first = tonumber(q.page) or 0
  return setmetatable({
    fetch = fetch, how = how, query = q, size = size, page = first, first_page = first,
    seen = 0, max_items = max_items, done = false, op = op or "pages()", last_key = nil,
    prefetch = not how.all and prefetch or nil, many = many, ahead = {}, count = nil, per_page = nil,
  }, Pager)
end

-- What identifies a page: its first item's id, or else the first item's scalar fields (so a
-- server that ignores 'page' is caught even when the items carry no id).
local function first_key(items)
  local it = items[1]
  if type(it) ~= "table" then return it end
  local id = it._id or it.id or it.request_id
  if id ~= nil then return id end
  local keys = {}
  for k, v in pairs(it) do
    local tv = type(v)
    if type(k) == "string" and (tv == "string" or tv == "number" or tv == "boolean") then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tostring(it[k]) end
  return #keys > 0 and (#items .. ":" .. table.concat(keys, "&")) or nil
end

local function shape_error(self, why)
  local msg = self.op .. ": unexpected response shape (" .. why .. ")"
  return nil, msg, E.new{ kind = "decode", msg = msg }
end

-- The next page: { items = {...}, number = n, count = total|nil, per_page = n }, nil at the end,
-- or nil, msg, err on failure (the same page is asked again on the next call).
function Pager:next()
  if self.done then return nil end
  if self.max_items and self.seen >= self.max_items then
    self.done = true
    return nil
  end
  if self.page - self.first_page >= MAX_PAGES then
    self.done = true
    return nil
  end
  local body, msg, err = self:fetch_page()
  if body == nil then
    self:drop_ahead()
    return nil, msg, err
  end
  local items, count, per_page
  if self.how.items then
    if type(body) ~= "table" then return shape_error(self, "no envelope") end
    items = body[self.how.items]
    count = tonumber(body.count)
    per_page = tonumber(body.perPage)
  else
    items = body
  end
  if type(items) ~= "table" then
    self:drop_ahead()
    return shape_error(self, "no item array")
  end
  if per_page == nil or per_page <= 0 then per_page = self.size end
  self.count, self.per_page = count, per_page
  local n = #items
  local number = self.page
  self.page = self.page + 1

  -- a server that ignores page would send the same page for ever
  local key = first_key(items)
  if n > 0 and key ~= nil and key == self.last_key then
    local m = self.op .. ": the server sent page " .. number .. " twice (does it ignore 'page'?)"
    self.done = true
    self:drop_ahead()
    return nil, m, E.new{ kind = "decode", msg = m }
  end
  self.last_key = key

  local short = n < per_page
  if self.max_items and self.seen + n > self.max_items then
    local keep = {}
    for i = 1, self.max_items - self.seen do keep[i] = items[i] end
    items = keep
    n = #keep
  end
  self.seen = self.seen + n
  -- count is 0 when the caller asked for no_count=true: only a positive count can end the list
  if self.how.all or short or (count and count > 0 and (number + 1) * per_page >= count)
    or (self.max_items and self.seen >= self.max_items) then
    self.done = true
    self:drop_ahead()
  else
    self:look_ahead()
  end
  return { items = items, number = number, count = count, per_page = per_page }
end

-- Drops the pages asked for ahead (those still under way are cancelled).
function Pager:drop_ahead()
  local cancelled = {}
  for _, a in pairs(self.ahead) do
    if not cancelled[a.pending] then
      cancelled[a.pending] = true
      a.pending:cancel()
    end
  end
  self.ahead = {}
end

-- Sets going the pages after the one just handed out that prefetch allows and are not under
-- way yet: those the last count says exist, and max_items still wants.
function Pager:look_ahead()
  local count, per_page = self.count, self.per_page
  if not (self.prefetch and count and count > 0 and per_page) then return end
  local first = self.page
  local last = math.min(first + self.prefetch - 1, math.ceil(count / per_page) - 1, self.first_page + MAX_PAGES - 1)
  if self.max_items then
    last = math.min(last, first + math.ceil((self.max_items - self.seen) / per_page) - 1)
  end
  local pages, queries = {}, {}
  for p = first, last do
    if not self.ahead[p] then
      local q = copy(self.query)
      q.page = p
      pages[#pages + 1], queries[#queries + 1] = p, q
    end
  end
  if #queries == 0 then return end
  local pending = self.many(queries)
  for k, p in ipairs(pages) do self.ahead[p] = { pending = pending, k = k } end
end

-- The body of page self.page: from the pages asked for ahead, or fetched now.
function Pager:fetch_page()
  local got = self.ahead[self.page]
  if got then
    self.ahead[self.page] = nil
    local r = got.pending:join()[got.k]
    return r[1], r[2], r[3]
  end
  local q = copy(self.query)
  if not self.how.all then q.page = self.page end
  return self.fetch(q)
end

-- Closes a for loop over each() with prefetch (Lua 5.4's fourth value of a generic for): a
-- loop left early, by break or an error, cancels the pages still under way.
local Closer = { __close = function(self) self.pager:drop_ahead() end }

-- Iterator over items across pages; raises the err table (tostring gives msg) on failure.
function _M.each(fetch, how, query, op, many)
  local pager = _M.pages(fetch, how, query, op, many)
  local items, i = nil, 0
  local closer = pager.prefetch and setmetatable({ pager = pager }, Closer) or nil
  return function()
    while true do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      local page, msg, err = pager:next()
      if not page then
        if msg then
          if type(err) == "table" then
            err.msg = err.msg or msg
            error(E.is(err) and err or E.new(err), 2)
          end
          error(msg, 2)
        end
        return nil
      end
      items, i = page.items, 0
    end
  end, nil, nil, closer
end

return _M
