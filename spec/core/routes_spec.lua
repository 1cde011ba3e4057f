-- Every endpoint of the SDK's route table exists in the sandbox: calling it with dummy ids and
-- bodies answers 2xx or a JSON 4xx refusal (404 for an unknown id, 422 for a bad body...), never
-- the HTML "Cannot <METHOD>" page of an unknown route and never a 5xx.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")
local routes = require("tiledesk.routes")

local st = helper.sandbox()

describe("the sandbox serves every route the SDK wraps", function()
  local c = tiledesk.new{ base_url = st.http_url, project_id = st.project_id, retries = 0,
    email = st.users.owner.email, password = st.users.owner.password }
  setup(function() helper.http_json("POST", st.control_url .. "/reset") end)
  teardown(function() helper.http_json("POST", st.control_url .. "/reset") end)

  for _, r in ipairs(routes.list) do
    -- destructive calls on the caller's own account are left out
    local own_account = r.res == "users" and (r.name == "delete" or r.name == "change_password")
      or (r.res == "projects" and r.name == "delete")
    if not own_account then
      it(r.method .. " " .. r.path .. " (" .. r.op .. ")", function()
        local args = {}
        for i in ipairs(r.params or {}) do
          args[#args + 1] = (r.default_project and i == 1) and st.project_id or "6560f0a1ffffffffffffffff"
        end
        for _ in ipairs(r.fields or {}) do args[#args + 1] = "x" end
        if r.body == "array" then args[#args + 1] = { "x" }
        elseif r.body == "required" or r.body == "object" then args[#args + 1] = { note = "x" } end
        if r.res == "analytics" and r.name == "tags" then args = { "requests" } end
        local v, msg, err
        if r.skip and r.res == "analytics" then
          v, msg, err = c.analytics:report(r.path:match("^/analytics/(.*)$"), { lastdays = 7 })
        elseif r.skip then
          -- a hand-written method (uploads): called by the name the table gives, with a small file
          local name = r.call:match("^client%.[%w_]+:([%w_]+)%(")
          v, msg, err = c[r.res][name](c[r.res], "hello\n", { name = "hello.txt" })
        else
          v, msg, err = c[r.res][r.name](c[r.res], (table.unpack or unpack)(args))
        end
        if v == nil then
          assert.is_table(err, msg)
          assert.equal("http", err.kind, msg)
          assert.is_nil(tostring(msg):find("Cannot " .. r.method, 1, true), msg)
          assert.is_true(err.status >= 400 and err.status < 500, msg)
          -- the server's JSON refusal, not a page (routes carrying secrets keep even that to themselves)
          if not r.secret then assert.is_table(err.body, msg) end
        end
      end)
    end
  end
end)
