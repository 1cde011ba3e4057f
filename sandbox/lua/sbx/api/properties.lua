-- /:pid/properties: the project's custom lead properties (plain CRUD, soft delete).
return require("sbx.crud").resource{ path = "/:pid/properties", coll = "properties", required = { "name" }, soft = true,
  access = { role = "agent", types = { "bot", "subscription" } } }
