-- Data tables: small project databases that bots read and write (routes/dataTable.js; admin,
-- or a bot or subscription token). A table has a schema of columns (string, number, boolean,
-- datetime; ids made by the server); a row is { _id, data = { <column> = value } }. Rows are
-- named by id_row, or chosen by conditions: { column =, operator = equal|not_equal|
-- greater_than|greater_or_equal|less_than|less_or_equal|contains|starts_with|ends_with|exists|
-- not_exists, value = } with must_match = "all" (default) or "any".
local check = require("tiledesk.check")
local url = require("tiledesk.url")
local json = require("tiledesk.json")

local M = {}
local ROLE = "admin (or a bot or subscription token)"
M.routes = {
  { "list", "GET", "/tables", page = { all = true }, role = ROLE, filters = {}, doc = "Tables, newest first (schema and stats, no rows)" },
  { "get", "GET", "/tables/{}", params = { "table_id" }, role = ROLE, filters = {}, doc = "One table with its first 100 rows' data" },
  { "create", "POST", "/tables", fields = { "name" }, body = "object", role = ROLE,
    doc = "Create (schema = { { name =, type = }, ... })",
    example = 'local tbl = assert(client.tables:create("orders", { schema = { { name = "order_id", type = "string" }, '
      .. '{ name = "total", type = "number" } } }))' },
  { "update", "PUT", "/tables/{}", params = { "table_id" }, body = "required", role = ROLE,
    doc = "Rename, or give the whole schema: columns with an id are kept (renamed), without one added, missing ones dropped",
    example = 'client.tables:update(tbl._id, { name = "orders_2026" })' },
  { "delete", "DELETE", "/tables/{}", params = { "table_id" }, role = ROLE, doc = "Delete with its rows" },
  { "add_column", "POST", "/tables/{}/columns", params = { "table_id" }, fields = { "name", "type" }, role = ROLE,
    doc = "Add a column (letters, digits and _; type string|number|boolean|datetime); returns the table",
    example = 'local tbl2 = assert(client.tables:add_column(tbl._id, "shipped", "boolean"))' },
  { "rename_column", "PATCH", "/tables/{}/columns/{}", params = { "table_id", "column_id" }, fields = { "name" }, role = ROLE,
    doc = "Rename a column (the rows follow); returns the table",
    example = 'client.tables:rename_column(tbl._id, tbl.schema[1].id, "order_number")' },
  { "delete_column", "DELETE", "/tables/{}/columns/{}", params = { "table_id", "column_id" }, role = ROLE,
    doc = "Drop a column and its values; returns the table" },
  { "rows", "GET", "/tables/{}/rows/list", params = { "table_id" }, skip = true, role = ROLE,
    call = "client.tables:rows(table_id, { conditions = , must_match = })",
    doc = "Rows, newest first (at most 200), all or those matching conditions: { _id, <column> = value } each" },
  { "insert", "POST", "/tables/{}/row/insert", params = { "table_id" }, fields = { "data" }, body = "object", role = ROLE,
    doc = "Insert a row (id_row to choose its id); returns { _id, data, ... }",
    example = 'local row = assert(client.tables:insert(tbl._id, { order_id = "1234", total = 59.9 }))' },
  { "update_rows", "PUT", "/tables/{}/row/update", params = { "table_id" }, body = "required", role = ROLE,
    doc = "Set columns of the row id_row (returns it) or of every row matching conditions (returns them)",
    example = 'client.tables:update_rows(tbl._id, { id_row = row._id, data = { total = 64.9 } })' },
  { "upsert", "PUT", "/tables/{}/row/upsert", params = { "table_id" }, body = "required", role = ROLE,
    doc = "Update the row id_row or the one row matching conditions, else insert data (409 when several match)",
    example = 'client.tables:upsert(tbl._id, { conditions = { { column = "order_id", operator = "equal", '
      .. 'value = "1234" } }, data = { order_id = "1234", total = 70 } })' },
  { "delete_rows", "PUT", "/tables/{}/row/delete", params = { "table_id" }, body = "required", role = ROLE,
    doc = "Delete the row id_row (returns it) or every row matching conditions (returns them)",
    example = 'client.tables:delete_rows(tbl._id, { id_row = row._id })' },
}

M.methods = {}

-- rows(table_id, { conditions = {...}, must_match = "all"|"any" }): the conditions travel as
-- JSON in the query, as the server reads them.
function M.methods:rows(table_id, opts)
  local op = "tables:rows()"
  check.str(op, 1, "table_id", table_id, 2)
  opts = check.options(op, 2, opts, { conditions = check.is_table,
    must_match = function(v) return v == "all" or v == "any" or '"all" or "any"' end }, 2)
  local query
  if opts.conditions then
    if #opts.conditions == 0 then error(op .. ": option 'conditions' must be a non-empty array", 2) end
    query = { conditions = json.encode(json.array(opts.conditions)), must_match = opts.must_match }
  end
  local res, msg, err = self.client:call(op, { method = "GET", path = "/tables/" .. url.segment(table_id) .. "/rows/list",
    query = query })
  return res, msg, err
end

M.docs = {
  rows = {
    syntax = "rows, msg, err = client.tables:rows(table_id, { conditions?, must_match? })",
    doc = "The rows of a table, newest first, at most 200: all, or those matching `conditions` (sent as JSON in "
      .. "the query); each row is `{ _id, <column> = value }` with every column of the schema (null when unset)",
    example = 'local rows = assert(client.tables:rows(tbl._id, { conditions = { { column = "total", '
      .. 'operator = "greater_than", value = 50 } } }))' },
}

return M
