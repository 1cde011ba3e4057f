-- Widget translation labels (UI strings of the chat widget).
local M = {}
M.routes = {
  { "list", "GET", "/labels", auth = "none", doc = "All label sets of the project" },
  { "get", "GET", "/labels/{}", params = { "lang" }, auth = "none", doc = "Labels of a language",
    example = 'local labels = assert(client.labels:get("it"))' },
  { "defaults", "GET", "/labels/default", auth = "none", doc = "Built-in labels" },
  { "default", "GET", "/labels/default/{}", params = { "lang" }, auth = "none", doc = "Built-in labels of a language",
    example = 'local labels = assert(client.labels:default("en"))' },
  { "save", "POST", "/labels", fields = { "lang", "data" }, body = "object", doc = "Create or replace a label set",
    example = 'client.labels:save("it", { LABEL_PLACEHOLDER = "Scrivi qui..." })' },
  { "clone_default", "POST", "/labels/default/clone", fields = { "lang" }, doc = "Start a language from the defaults",
    example = 'client.labels:clone_default("it")' },
  { "make_default", "PATCH", "/labels/{}/default", params = { "lang" }, doc = "Make a language the default",
    example = 'client.labels:make_default("it")' },
  { "delete_all", "DELETE", "/labels", doc = "Delete every label set" },
  { "delete", "DELETE", "/labels/{}", params = { "lang" }, doc = "Delete a language",
    example = 'client.labels:delete("it")' },
}
return M
