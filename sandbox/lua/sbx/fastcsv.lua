-- CSV bodies as fast-csv 4.3 writes them with format({ headers: true }) and nothing else set
-- (@fast-csv/format 4.3.5, the version the server's package-lock holds), over raw documents.
--
-- What that formatter does, and so what this does:
--   * the header line is the first row's keys (Object.keys), each written as a field is;
--     later rows are read through it (a key a row lacks is an empty field, a key only later
--     rows have is not written);
--   * a field: null or undefined -> empty; anything else -> `${value}` (String(): a Date as
--     Date.prototype.toString(), an ObjectId as its hex), NUL characters removed; quoted with
--     `"` when it holds a `"` (inner quotes doubled), or else when it holds a `,`, a `|`, a CR
--     or a LF (the formatter's character class is `[,\n|\r|\n]`: the `|` is in it);
--   * `,` between fields, `\n` between rows and none after the last; no BOM;
--   * no rows: an empty body (the header comes from the first row).
-- Rows are given as sbx.csvx takes them: rows[i] = { keys = { "k1", ... }, values = { ... },
-- dates = { k = true, ... }? }.
local csvx = require("sbx.csvx")
local json = require("sbx.json")

local _M = {}

local concat = table.concat
local null = json.null

function _M.field(v, is_date)
  if v == nil or v == null then return "" end
  local s = is_date and csvx.date_string(v) or csvx.js_string(v)
  if s:find("%z") then s = s:gsub("%z", "") end
  if s:find('"', 1, true) then return '"' .. s:gsub('"', '""') .. '"' end
  if s:find("[,|\r\n]") then return '"' .. s .. '"' end
  return s
end

function _M.body(rows)
  local lines = csvx.lines(rows, nil, _M.field, ",", _M.field)
  if not lines then return "" end
  return concat(lines, "\n")
end

return _M
