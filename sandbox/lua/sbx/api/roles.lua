-- /:pid/roles: custom roles and their permission names (plain CRUD).
return require("sbx.crud").resource{ path = "/:pid/roles", coll = "roles", required = { "name" },
  access = { role = "agent" } }
