-- Prints docs/coverage.md from the route table (lua/tiledesk/routes.lua).
-- ./dev coverage rewrites the file; spec/unit/resources_spec.lua fails when the two differ.
local routes = require("tiledesk.routes")

local out = {}
local function w(s) out[#out + 1] = s end

local function signature(r)
  return r.call or ("client." .. r.res .. ":" .. r.name .. "(" .. routes.arguments(r) .. ")")
end

local shown_path = routes.shown_path

w("# API coverage")
w("")
w("Generated from `lua/tiledesk/routes.lua` by `./dev coverage`; `spec/unit/resources_spec.lua` fails when this")
w("file and the route table differ. Every endpoint of the reference (docs/reference-endpoints.txt) is either")
w("reached by a Lua call below or listed under \"Left out\" with the reason. Any endpoint at all can still")
w("be called with `client:request{ method = ..., path = ... }`.")
w("")
local total = 0
for _, res in ipairs(routes.resources) do
  local list = routes.by_resource[res]
  w("## " .. res)
  w("")
  w("| method | path | Lua call | notes |")
  w("|---|---|---|---|")
  for _, r in ipairs(list) do
    total = total + 1
    local notes = r.doc or ""
    if r.page then
      local extra = r.page.all and "unpaginated: `each` iterates the whole array"
        or ("paginated" .. (r.page.items and (" (envelope `" .. r.page.items .. "`)") or " (bare array)"))
      local suffix = r.name == "list" and "" or ("_" .. r.name)
      notes = notes .. "; " .. extra .. "; also `:each" .. suffix .. "()` and `:pages" .. suffix .. "()`"
    end
    if r.auth == "none" then notes = notes .. "; no authentication" end
    if r.role then notes = notes .. "; role: " .. r.role end
    w(string.format("| %s | `%s` | `%s` | %s |", r.method, shown_path(r), signature(r), notes))
  end
  w("")
end
w("## Client methods")
w("")
w("| method | path | Lua call |")
w("|---|---|---|")
for _, c in ipairs(routes.client_calls) do
  total = total + 1
  w(string.format("| %s | `%s` | `%s` |", c.method, c.path, c.call))
end
w("")
w("## Left out")
w("")
w("| method | path | why |")
w("|---|---|---|")
for _, c in ipairs(routes.left_out) do
  w(string.format("| %s | `%s` | %s |", c.method, c.path, c.why))
end
w("")
w(string.format("%d endpoints reached through %d resources and the client; %d left out.", total,
  #routes.resources, #routes.left_out))

io.write(table.concat(out, "\n"), "\n")
