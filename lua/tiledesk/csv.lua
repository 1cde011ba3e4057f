-- tiledesk.csv: an RFC 4180 reader and writer, streaming.
--   for row in csv.rows(io.open("leads.csv", "rb")) do ... end           -- arrays of strings
--   for rec, line in csv.records(f) do print(rec.email) end              -- tables keyed by the header
--   local w = csv.writer(io.stdout, { columns = { "email", "fullname" } })
--   w:write{ email = "ann@example.com", fullname = "Ann" }
-- Reading: fields may be quoted ("a ""b"" c"), quoted fields may hold commas and line breaks,
-- records end with CRLF, LF or CR, a UTF-8 byte order mark at the start is dropped, blank lines
-- are skipped. Malformed input (a quote inside an unquoted field, text after a closing quote,
-- a quoted field never closed) is an error naming the line. Input is read in chunks, so a file
-- of any size takes memory for one record at a time.
-- Writing: a field is quoted when it holds a comma, a quote, CR or LF; records end with CRLF
-- (opts.eol = "\n" for LF); each record reaches the sink in one write.
local json = require("tiledesk.json")

local _M = {}

local BOM = "\239\187\191"
local CHUNK = 64 * 1024

-- A source is a string, a file handle (anything with :read) or a function returning chunks
-- (nil at the end). Returns a function giving the next chunk or nil.
local function chunks(src, where)
  local t = type(src)
  if t == "string" then
    local done = false
    return function()
      if done then return nil end
      done = true
      return src
    end
  elseif t == "function" then
    return src
  elseif (t == "userdata" or t == "table") and type(src.read) == "function" then
    return function()
      local s, err = src:read(CHUNK)
      if s == nil and err then error({ csv_read_error = err }) end
      return s
    end
  end
  error(where .. ": source must be a string, a file handle or a function, got " .. t, 3)
end

local Reader = {}
Reader.__index = Reader

-- A reader: r:next() returns the next record (an array of strings) and the line it starts on,
-- or nil at the end, or nil, msg on malformed input or a read error.
function _M.reader(src, opts)
  if opts ~= nil and type(opts) ~= "table" then error("csv.reader(): opts must be a table", 2) end
  opts = opts or {}
  local sep = opts.separator or ","
  if type(sep) ~= "string" or #sep ~= 1 or sep:find('["\r\n]') then
    error("csv.reader(): separator must be one character other than a quote or a line break", 2)
  end
  return setmetatable({ _next_chunk = chunks(src, "csv.reader()"), _buf = "", _pos = 1, _base = 0, _eof = false,
    _line = 1, _first = true, _sep = sep, _name = opts.name or "csv" }, Reader)
end

-- Appends the next non-empty chunk to the buffer (dropping what was consumed), the first time
-- without a byte order mark; false at the end of input.
function Reader:_more()
  while not self._eof do
    local ok, chunk = pcall(self._next_chunk)
    if not ok then
      if type(chunk) == "table" and chunk.csv_read_error then error({ msg = self._name .. ": " .. tostring(chunk.csv_read_error) }) end
      error(chunk, 0)
    end
    if chunk == nil then
      self._eof = true
    elseif type(chunk) ~= "string" then
      error({ msg = self._name .. ": the source gave a " .. type(chunk) .. " instead of a string" })
    elseif chunk ~= "" then
      self._base = self._base + self._pos - 1
      self._buf = self._buf:sub(self._pos) .. chunk
      self._pos = 1
      if not self._first then return true end
      if #self._buf >= 3 or self._buf ~= BOM:sub(1, #self._buf) then
        if self._buf:sub(1, 3) == BOM then self._buf, self._base = self._buf:sub(4), self._base + 3 end
        self._first = false
        if self._buf ~= "" then return true end
      end
    end
  end
  if self._first then -- the whole input is shorter than a byte order mark
    self._first = false
    return self._pos <= #self._buf
  end
  return false
end

local function malformed(self, line, what)
  error({ msg = self._name .. ": line " .. line .. ": " .. what })
end

-- One quoted field starting at self._pos (on the opening quote); returns its text.
function Reader:_quoted(start_line)
  local parts = {}
  local pos = self._pos + 1
  while true do
    local q = self._buf:find('"', pos, true)
    if not q then
      local piece = self._buf:sub(pos)
      parts[#parts + 1] = piece
      self._pos = #self._buf + 1
      if not self:_more() then malformed(self, start_line, "a quoted field is never closed") end
      pos = self._pos
    elseif q == #self._buf and not self._eof then
      -- is it "" (an escaped quote) or the closing quote? The next chunk tells.
      parts[#parts + 1] = self._buf:sub(pos, q - 1)
      self._pos = q
      if not self:_more() then -- nothing came: the field is closed at the end of input
        pos = self._pos + 1
        self._pos = pos
        break
      end
      pos = self._pos + 1
      if self._buf:sub(pos, pos) == '"' then
        parts[#parts + 1] = '"'
        pos = pos + 1
      else
        self._pos = pos
        break
      end
    else
      parts[#parts + 1] = self._buf:sub(pos, q - 1)
      if self._buf:sub(q + 1, q + 1) == '"' then
        parts[#parts + 1] = '"'
        pos = q + 2
      else
        self._pos = q + 1
        break
      end
    end
  end
  local text = table.concat(parts)
  local _, n = text:gsub("\n", "")
  self._line = self._line + n
  if n == 0 then
    local _, r = text:gsub("\r", "")
    self._line = self._line + r
  end
  return text
end

-- Skips one line break at self._pos (CRLF, LF or CR); true when there was one.
function Reader:_eol()
  local c = self._buf:sub(self._pos, self._pos)
  if c == "\n" then
    self._pos = self._pos + 1
  elseif c == "\r" then
    self._pos = self._pos + 1
    if self._pos > #self._buf then self:_more() end
    if self._buf:sub(self._pos, self._pos) == "\n" then self._pos = self._pos + 1 end
  else
    return false
  end
  self._line = self._line + 1
  return true
end

function Reader:_record()
  local buf_empty = function() return self._pos > #self._buf end
  while buf_empty() do
    if not self:_more() then return nil end
  end
  local start_line = self._line
  local row = {}
  local sep = self._sep
  local stop = "[" .. (sep == "%" and "%%" or sep:gsub("%p", "%%%0")) .. '\r\n"]'
  while true do
    if buf_empty() and not self:_more() then -- end of input right after a separator, or at a record's end
      row[#row + 1] = ""
      return row, start_line
    end
    local c = self._buf:sub(self._pos, self._pos)
    local field
    if c == '"' then
      field = self:_quoted(start_line)
      if buf_empty() then self:_more() end
      local after = self._buf:sub(self._pos, self._pos)
      if after ~= "" and after ~= sep and after ~= "\r" and after ~= "\n" then
        malformed(self, self._line, "text after a closing quote")
      end
    else
      local parts = {}
      while true do
        local s = self._buf:find(stop, self._pos)
        if s then
          parts[#parts + 1] = self._buf:sub(self._pos, s - 1)
          self._pos = s
          if self._buf:sub(s, s) == '"' then malformed(self, self._line, "a quote inside an unquoted field") end
          break
        end
        parts[#parts + 1] = self._buf:sub(self._pos)
        self._pos = #self._buf + 1
        if not self:_more() then break end
      end
      field = table.concat(parts)
    end
    row[#row + 1] = field
    if buf_empty() then self:_more() end
    local d = self._buf:sub(self._pos, self._pos)
    if d == sep then
      self._pos = self._pos + 1
      if buf_empty() and not self:_more() then
        row[#row + 1] = ""
        return row, start_line
      end
    elseif d == "" then
      return row, start_line
    else
      self:_eol()
      return row, start_line
    end
  end
end

function Reader:next()
  while true do
    local ok, row, line = pcall(self._record, self)
    if not ok then
      if type(row) == "table" and row.msg then return nil, row.msg end
      error(row, 0)
    end
    if row == nil then return nil end
    if not (#row == 1 and row[1] == "") then return row, line end -- blank lines are skipped
  end
end

-- The line the next record starts on.
function Reader:line() return self._line end

-- The bytes of input read up to the end of the last record (its line break included).
function Reader:offset() return self._base + self._pos - 1 end

-- for row, line in csv.rows(src[, opts]) do ... end: records as arrays of strings; raises on
-- malformed input (like io.lines), with the line in the message.
function _M.rows(src, opts)
  local r = _M.reader(src, opts)
  return function()
    local row, line = r:next()
    if row == nil and line ~= nil then error(line, 0) end
    return row, line
  end
end

-- for rec, line in csv.records(src[, opts]) do ... end: the first record names the columns;
-- each later one is a table column -> value (missing trailing fields are ""). A record with
-- more fields than the header, an empty or repeated column name, raise naming the line.
function _M.records(src, opts)
  local r = _M.reader(src, opts)
  local header, hline = r:next()
  if header == nil and hline ~= nil then error(hline, 0) end
  local name = (opts and opts.name) or "csv"
  if header then
    local seen = {}
    for i, h in ipairs(header) do
      if h == "" then error(name .. ": line " .. hline .. ": column " .. i .. " of the header has no name", 0) end
      if seen[h] then error(name .. ": line " .. hline .. ": column " .. h .. " appears twice in the header", 0) end
      seen[h] = true
    end
  end
  local iter = function()
    if not header then return nil end
    local row, line = r:next()
    if row == nil then
      if line ~= nil then error(line, 0) end
      return nil
    end
    if #row > #header then
      error(name .. ": line " .. line .. ": " .. #row .. " fields, the header has " .. #header, 0)
    end
    local rec = {}
    for i, h in ipairs(header) do rec[h] = row[i] or "" end
    return rec, line
  end
  return iter, header
end

-- Writing ------------------------------------------------------------------------------------

-- The text of one value: strings as they are, integral numbers without a fraction, booleans as
-- true/false, nil and JSON null as empty, tables as their JSON text.
local function text_of(v, where)
  local t = type(v)
  if t == "string" then return v end
  if v == nil or v == json.null then return "" end
  if t == "number" then
    if v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53 then return string.format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then return tostring(v) end
    local s = string.format("%.15g", v)
    if tonumber(s) ~= v then s = string.format("%.17g", v) end
    return s
  end
  if t == "boolean" then return tostring(v) end
  if t == "table" then
    local s, err = json.encode(v)
    if not s then error(where .. ": a table value cannot be written as JSON: " .. tostring(err), 3) end
    return s
  end
  error(where .. ": cannot write a " .. t .. " value", 3)
end

local function quote(s, sep)
  if s:find('[\r\n"]') or s:find(sep, 1, true) then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- One record as text (with its line end).
function _M.format_row(row, opts)
  if type(row) ~= "table" then error("csv.format_row(): row must be a table", 2) end
  opts = opts or {}
  local sep, eol = opts.separator or ",", opts.eol or "\r\n"
  local out = {}
  local n = row.n or #row
  for i = 1, n do out[i] = quote(text_of(row[i], "csv.format_row()"), sep) end
  return table.concat(out, sep) .. eol
end

local Writer = {}
Writer.__index = Writer

-- A writer onto a sink: a file handle (anything with :write) or a function(text).
-- opts.columns: names of the columns; the header is written first (unless opts.header == false)
-- and w:write(t) takes tables keyed by those names. Without columns, w:write takes arrays.
function _M.writer(sink, opts)
  if opts ~= nil and type(opts) ~= "table" then error("csv.writer(): opts must be a table", 2) end
  opts = opts or {}
  local ts = type(sink)
  local put
  if ts == "function" then
    put = sink
  elseif (ts == "userdata" or ts == "table") and type(sink.write) == "function" then
    put = function(s) return sink:write(s) end
  else
    error("csv.writer(): sink must be a file handle or a function, got " .. ts, 2)
  end
  local eol = opts.eol or "\r\n"
  if eol ~= "\r\n" and eol ~= "\n" then error('csv.writer(): eol must be "\\r\\n" or "\\n"', 2) end
  local sep = opts.separator or ","
  if type(sep) ~= "string" or #sep ~= 1 or sep:find('["\r\n]') then
    error("csv.writer(): separator must be one character other than a quote or a line break", 2)
  end
  if opts.columns ~= nil then
    if type(opts.columns) ~= "table" or #opts.columns == 0 then
      error("csv.writer(): columns must be a non-empty array of names", 2)
    end
    for i, c in ipairs(opts.columns) do
      if type(c) ~= "string" then error("csv.writer(): columns[" .. i .. "] must be a string", 2) end
    end
  end
  local w = setmetatable({ _put = put, _fmt = { separator = sep, eol = eol }, columns = opts.columns, count = 0 }, Writer)
  if opts.columns and opts.header ~= false then
    local ok, err = w:_emit(opts.columns)
    if not ok then error("csv.writer(): " .. tostring(err), 2) end
  end
  return w
end

function Writer:_emit(row)
  local ok, err = self._put(_M.format_row(row, self._fmt))
  if ok == nil and err ~= nil then return nil, "csv: write failed: " .. tostring(err) end
  return true
end

-- Writes one record (an array, or with columns a table keyed by them); true, or nil, msg when
-- the sink fails. The record reaches the sink in one piece.
function Writer:write(rec)
  if type(rec) ~= "table" then error("csv writer:write(): record must be a table, got " .. type(rec), 2) end
  local row = rec
  if self.columns then
    row = { n = #self.columns }
    for i, c in ipairs(self.columns) do
      local v = rec[c]
      row[i] = v
    end
  end
  local ok, s = pcall(_M.format_row, row, self._fmt)
  if not ok then error((tostring(s):gsub("csv%.format_row%(%)", "csv writer:write()")), 2) end
  local done, err = self._put(s)
  if done == nil and err ~= nil then return nil, "csv: write failed: " .. tostring(err) end
  self.count = self.count + 1
  return true
end

-- The value of one field, as the writer would write it (before quoting).
_M.text_of = function(v) return text_of(v, "csv.text_of()") end

return _M
