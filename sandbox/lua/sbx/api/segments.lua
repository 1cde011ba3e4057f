-- /:pid/segments: saved lead filters (plain CRUD; the list is enveloped).
return require("sbx.crud").resource{ path = "/:pid/segments", coll = "segments", required = { "name" },
  envelope = "segments", access = { role = "agent", types = { "bot", "subscription" } } }
