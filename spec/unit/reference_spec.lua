-- The API reference against the route table: every endpoint it names is reached by a resource
-- or client method, or listed as left out with a reason. docs/reference-endpoints.txt is the
-- reference's list of endpoints, kept in the repository (tools/reference_endpoints.lua makes it
-- from the reference's tables); no spec reads anything outside the repository.
local helper = require("spec.helper")
local routes = require("tiledesk.routes")
local R = dofile(helper.root .. "tools/reference_endpoints.lua")

local LIST = helper.root .. "docs/reference-endpoints.txt"

describe("the API reference", function()
  it("has every endpoint reached by the SDK or left out with a reason", function()
    local list = R.read_list(LIST)
    assert.is_true(#list > 200, "the endpoint list looks cut: " .. #list)
    assert.same({}, R.uncovered(list, routes))
    for _, c in ipairs(helper.nonempty(routes.left_out)) do
      assert.is_string(c.why, c.path)
      assert.is_true(#c.why > 10, c.path)
    end
  end)

  it("finds what the reference's tables say, alternatives and notes included", function()
    local text = table.concat({
      "## 2. Endpoints", "| METHOD | path | notes |", "|---|---|---|",
      "| PUT / PATCH | /projects/{pid} | x |",
      "| PUT | /{pid}/groups/enable/{id} · /disable/{id} | x |",
      "| POST | /{pid}/quotes · GET /{pid}/quotes/{type} | x |",
      "| GET | /{pid}/pendinginvitations | also `GET/DELETE /{id}`, `POST /` |",
      "| CRUD | /{pid}/roles | x |",
      "| GET | /{pid}/analytics/... | x |",
      "## 3. Next", "" }, "\n")
    assert.same({
      "DELETE /{pid}/pendinginvitations/{}", "DELETE /{pid}/roles/{}", "GET /{pid}/pendinginvitations",
      "GET /{pid}/pendinginvitations/{}", "GET /{pid}/quotes/{}", "GET /{pid}/roles", "GET /{pid}/roles/{}",
      "PATCH /projects/{}", "POST /{pid}/pendinginvitations", "POST /{pid}/quotes", "POST /{pid}/roles",
      "PUT /projects/{}", "PUT /{pid}/groups/disable/{}", "PUT /{pid}/groups/enable/{}", "PUT /{pid}/roles/{}",
    }, R.extract(text))
  end)
end)
