-- What the scripts under tools/ and bench/ share: a whole file read or written, and a word quoted
-- for sh. The specs have their own (spec/helper.lua): they must not depend on the tools they test.
local M = {}

-- The file's bytes, or nil when it cannot be opened.
function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The file's bytes; raises (naming the file) when it cannot be opened.
function M.must_read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Replaces the file with text; raises when it cannot be written.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- A single-quoted sh word.
function M.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

return M
