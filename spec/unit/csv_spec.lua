-- tiledesk.csv: RFC 4180 reading (quotes, embedded line breaks, a byte order mark, any chunking
-- of the input) and writing (quoting, one sink write per record), and its error messages.
local helper = require("spec.helper")
local csv = require("tiledesk.csv")
local tiledesk = require("tiledesk")

-- All records of src as { fields..., line = n }.
local function read_all(src, opts)
  local out = {}
  for row, line in csv.rows(src, opts) do
    row.line = line
    out[#out + 1] = row
  end
  return out
end

-- A source giving s in pieces of `size` bytes.
local function pieces(s, size)
  local i = 1
  return function()
    if i > #s then return nil end
    local c = s:sub(i, i + size - 1)
    i = i + size
    return c
  end
end

local function err_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok)
  return tostring(err)
end

describe("tiledesk.csv reader", function()
  it("reads plain, quoted and empty fields, with CRLF, LF and CR line ends", function()
    local rows = read_all('a,b,c\r\n1,"two, too",\n"say ""hi""",,"x"\r"",last,\n')
    assert.same({ { "a", "b", "c", line = 1 }, { "1", "two, too", "", line = 2 },
      { 'say "hi"', "", "x", line = 3 }, { "", "last", "", line = 4 } }, rows)
  end)

  it("keeps line breaks inside quoted fields and counts lines across them", function()
    local rows = read_all('id,note\r\n1,"first line\r\nsecond line"\r\n2,"a\nb\nc"\n3,x\n')
    assert.equal(4, #rows)
    assert.equal("first line\r\nsecond line", rows[2][2])
    assert.equal("a\nb\nc", rows[3][2])
    assert.same({ 1, 2, 4, 7 }, { rows[1].line, rows[2].line, rows[3].line, rows[4].line })
  end)

  it("drops a UTF-8 byte order mark at the start only, and keeps UTF-8 text", function()
    local rows = read_all("\239\187\191name,city\nJosé,Zürich\n\239\187\191x,y\n")
    assert.same({ "name", "city" }, { rows[1][1], rows[1][2] })
    assert.same({ "José", "Zürich" }, { rows[2][1], rows[2][2] })
    assert.equal("\239\187\191x", rows[3][1])
    assert.same({}, read_all("\239\187\191"))
    assert.same({ { "\239\187", line = 1 } }, read_all("\239\187"))
  end)

  it("skips blank lines and needs no final line break", function()
    local rows = read_all("a,b\n\n\r\nc,d")
    assert.same({ { "a", "b", line = 1 }, { "c", "d", line = 4 } }, rows)
    assert.same({}, read_all(""))
  end)

  it("gives the same records whatever the chunk size (quotes, CRLF and the BOM split anywhere)", function()
    local text = '\239\187\191h1,"h ""2"""\r\n"multi\r\nline",""""\r\n,\r\n"x",y\r\n"end"'
    local whole = read_all(text)
    assert.equal(5, #whole)
    assert.same({ { "h1", 'h "2"', line = 1 }, { "multi\r\nline", '"', line = 2 }, { "", "", line = 4 },
      { "x", "y", line = 5 }, { "end", line = 6 } }, whole)
    for size = 1, #text do
      assert.same(whole, read_all(pieces(text, size)), "chunks of " .. size)
    end
    -- empty chunks in between change nothing
    local parts, i = { "", "a,", "", '"b', "", '""', "", '"\n', "" }, 0
    assert.same({ { "a", 'b"', line = 1 } }, read_all(function() i = i + 1 return parts[i] end))
  end)

  it("reads a file handle in chunks, record by record", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    local big = string.rep("x", 100000)
    f:write('id,text\r\n1,"', big, '"\r\n2,short\r\n')
    f:close()
    f = assert(io.open(path, "rb"))
    local rows = read_all(f)
    f:close()
    os.remove(path)
    assert.equal(3, #rows)
    assert.equal(big, rows[2][2])
    assert.equal("short", rows[3][2])
  end)

  it("names the line of malformed input; rows() raises, reader:next() returns nil, msg", function()
    assert.equal("csv: line 2: a quote inside an unquoted field", err_of(read_all, 'a,b\nc,d"e\n'))
    assert.equal("csv: line 1: text after a closing quote", err_of(read_all, '"abc"x,1\n'))
    assert.equal("leads.csv: line 2: a quoted field is never closed",
      err_of(read_all, 'a\n"open\nstill open', { name = "leads.csv" }))
    local r = csv.reader('ok\n"bad"x\n')
    assert.same({ "ok" }, (r:next()))
    local row, msg = r:next()
    assert.is_nil(row)
    assert.equal("csv: line 2: text after a closing quote", msg)
  end)

  it("reports a read error of the source", function()
    local path = os.tmpname()
    os.remove(path)
    assert(os.execute("mkdir " .. path) ~= false)
    local dir = assert(io.open(path, "rb"))
    local r = csv.reader(dir)
    local row, msg = r:next()
    dir:close()
    os.remove(path)
    assert.is_nil(row)
    assert.matches("^csv: .*[Dd]irectory", msg)
  end)

  it("takes another separator", function()
    assert.same({ { "a", "b,c", "d;e", line = 1 } }, read_all('a;b,c;"d;e"\n', { separator = ";" }))
  end)

  it("raises on misuse with the message naming the call", function()
    assert.equal("csv.reader(): source must be a string, a file handle or a function, got number", err_of(csv.reader, 42))
    assert.equal("csv.reader(): opts must be a table", err_of(csv.reader, "", "x"))
    assert.equal("csv.reader(): separator must be one character other than a quote or a line break",
      err_of(csv.reader, "", { separator = '"' }))
  end)
end)

describe("tiledesk.csv records", function()
  it("keys each record by the header, filling missing trailing fields with empty strings", function()
    local iter, header = csv.records("\239\187\191email,fullname,plan\nann@example.com,Ann Lee,pro\nbob@example.com,Bob\n")
    assert.same({ "email", "fullname", "plan" }, header)
    local recs = {}
    for rec, line in iter do
      rec._line = line
      recs[#recs + 1] = rec
    end
    assert.same({ { email = "ann@example.com", fullname = "Ann Lee", plan = "pro", _line = 2 },
      { email = "bob@example.com", fullname = "Bob", plan = "", _line = 3 } }, recs)
  end)

  it("raises naming the line for too many fields and a bad header", function()
    assert.equal("csv: line 3: 3 fields, the header has 2", err_of(function()
      for _ in csv.records("a,b\n1,2\n1,2,3\n") do end
    end))
    assert.equal("csv: line 1: column a appears twice in the header", err_of(csv.records, "a,b,a\n"))
    assert.equal("csv: line 1: column 2 of the header has no name", err_of(csv.records, "a,,c\n"))
  end)

  it("gives nothing for an empty input", function()
    local n = 0
    for _ in csv.records("") do n = n + 1 end
    assert.equal(0, n)
  end)
end)

describe("tiledesk.csv writer", function()
  local function collect()
    local out = {}
    return out, function(s) out[#out + 1] = s return true end
  end

  it("quotes what needs it, writes CRLF by default, and one sink write per record", function()
    local out, sink = collect()
    local w = csv.writer(sink, { columns = { "id", "text", "n", "ok", "tags", "none" } })
    assert.is_true(w:write{ id = "1", text = 'He said "hi", then\r\nleft', n = 3.0, ok = true, tags = { "a", "b" } })
    assert.is_true(w:write{ id = "2", text = "plain", n = 0.1, ok = false, none = tiledesk.null })
    assert.same({ "id,text,n,ok,tags,none\r\n", '1,"He said ""hi"", then\r\nleft",3,true,"[""a"",""b""]",\r\n',
      "2,plain,0.1,false,,\r\n" }, out)
    assert.equal(2, w.count)
  end)

  it("writes arrays without columns, LF when asked, and no header when told", function()
    local out, sink = collect()
    local w = csv.writer(sink, { eol = "\n" })
    w:write{ "a", "b c", "" }
    local w2 = csv.writer(sink, { columns = { "x" }, header = false, eol = "\n" })
    w2:write{ x = 1 }
    assert.equal("a,b c,\n1\n", table.concat(out))
  end)

  it("round-trips whatever it writes through the reader", function()
    math.randomseed(7)
    local alphabet = { "a", "Z", " ", ",", '"', "\r", "\n", "é", "\239\187\191", ";" }
    local rows = {}
    for i = 1, 200 do
      local row = {}
      for j = 1, 1 + i % 5 do
        local s = {}
        for k = 1, math.random(1, 8) do s[k] = alphabet[math.random(#alphabet)] end
        row[j] = table.concat(s)
      end
      row[1] = "r" .. i .. row[1] -- no record is blank, and none starts with a byte order mark
      rows[i] = row
    end
    local out, sink = collect()
    local w = csv.writer(sink)
    for _, r in ipairs(helper.nonempty(rows)) do assert.is_true(w:write(r)) end
    local text = table.concat(out)
    for _, size in ipairs({ 1, 3, 64, #text }) do
      local back = {}
      for row in csv.rows(pieces(text, size)) do back[#back + 1] = row end
      assert.same(rows, back, "chunks of " .. size)
    end
  end)

  it("writes to a file handle, and returns nil, msg when the sink fails", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    local w = csv.writer(f, { columns = { "a" } })
    w:write{ a = "1" }
    f:close()
    local back = assert(io.open(path, "rb"))
    assert.equal("a\r\n1\r\n", back:read("*a"))
    back:close()
    os.remove(path)
    local failing = csv.writer(function() return nil, "No space left on device" end)
    local ok, msg = failing:write{ "x" }
    assert.is_nil(ok)
    assert.equal("csv: write failed: No space left on device", msg)
  end)

  it("raises on misuse with the message naming the call", function()
    assert.equal("csv.writer(): sink must be a file handle or a function, got string", err_of(csv.writer, "out.csv"))
    assert.equal("csv.writer(): columns must be a non-empty array of names", err_of(csv.writer, print, { columns = {} }))
    assert.equal('csv.writer(): eol must be "\\r\\n" or "\\n"', err_of(csv.writer, print, { eol = ";" }))
    local w = csv.writer(function() return true end)
    assert.equal("csv writer:write(): record must be a table, got string", err_of(w.write, w, "a,b"))
    assert.matches("cannot write a function value", err_of(w.write, w, { print }))
  end)
end)
