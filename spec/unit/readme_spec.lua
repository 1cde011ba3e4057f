-- The README documents every resource and every public client function (luv's docs-coverage idea).
local helper = require("spec.helper")
local routes = require("tiledesk.routes")
local client_mod = require("tiledesk.client")

describe("README", function()
  local readme = assert(helper.read_file(helper.root .. "README.md"))

  it("starts with the two commands", function()
    local first_block = readme:match("```sh\n(.-)```")
    assert.matches("^%./dev demo", first_block)
    assert.matches("\n%./dev test", first_block)
  end)

  it("names every resource", function()
    for _, name in ipairs(routes.resources) do
      assert.truthy(readme:find("client." .. name, 1, true), "README lacks client." .. name)
    end
  end)

  it("has a syntax line for every public client function", function()
    for _, fn in ipairs({ "tiledesk.new", "client:signin", "tiledesk.signin_anonymously",
      "client:signin_with_custom_token", "client:request", "client:get", "client:close" }) do
      assert.truthy(readme:find("syntax: [^\n]*" .. fn:gsub("[%.:]", "%%%0")), "no syntax line for " .. fn)
    end
    for name in pairs(client_mod.Client) do
      if type(client_mod.Client[name]) == "function" and not name:match("^_") and name ~= "call"
        and name ~= "auth_kind" then
        assert.truthy(readme:find("client:" .. name, 1, true), "README lacks client:" .. name)
      end
    end
  end)

  it("has a Conventions section", function()
    assert.truthy(readme:find("\n## Conventions\n", 1, true))
    for _, word in ipairs({ "Errors", "Timeouts", "Auth modes", "Retries", "Secrets are never shown" }) do
      assert.truthy(readme:find("**" .. word, 1, true), word)
    end
  end)
end)
