-- docs/api.md documents every resource method and every public client function, each with a
-- `syntax:` line and an example (luv's docs-coverage idea, lua-resty-http's layout); its API
-- reference, its contents and the README's index of areas are what tools/readme_api.lua
-- generates; every Lua example in the README and in docs/api.md compiles.
local helper = require("spec.helper")
local routes = require("tiledesk.routes")
local client_mod = require("tiledesk.client")
local tiledesk = require("tiledesk")
local Fake = require("spec.support.fake_transport")
local api = require("tools.readme_api")

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- Reading time of a Markdown text, in minutes: prose at 230 words a minute (a word: a run of
-- non-blank characters holding a letter or digit, so table pipes and rules do not count; HTML
-- comments are not read), and fenced code blocks at 30 non-blank lines a minute (two seconds a
-- line: code is scanned and copied, not read word by word). Returns minutes, prose words, code lines.
local WORDS_PER_MINUTE, CODE_LINES_PER_MINUTE = 230, 30
local function reading_time(text)
  local code_lines = 0
  local prose = ("\n" .. text):gsub("\n```[^\n]*\n(.-)\n```", function(code)
    for line in (code .. "\n"):gmatch("([^\n]*)\n") do
      if line:find("%S") then code_lines = code_lines + 1 end
    end
    return "\n"
  end):gsub("<!%-%-.-%-%->", " ")
  local words = 0
  for w in prose:gmatch("%S+") do
    if w:find("[%w]") then words = words + 1 end
  end
  return words / WORDS_PER_MINUTE + code_lines / CODE_LINES_PER_MINUTE, words, code_lines
end

-- Every ```lua block of a text, in order.
local function lua_blocks(text)
  local out = {}
  for code in text:gmatch("\n```lua\n(.-)\n```") do out[#out + 1] = code end
  return out
end

-- Compiles a chunk against an environment where every global is a stub; never runs it.
local function compile(code, name)
  local stub = setmetatable({}, { __index = function(t) return t end, __call = function(t) return t end })
  local env = setmetatable({}, { __index = function() return stub end })
  local loadstring = rawget(_G, "loadstring")
  local setfenv = rawget(_G, "setfenv")
  if loadstring and setfenv then -- Lua 5.1 / LuaJIT
    local fn, err = loadstring(code, name)
    if fn then setfenv(fn, env) end
    return fn, err
  end
  return load(code, name, "t", env)
end

describe("README and docs/api.md", function()
  local readme_md = assert(helper.read_file(helper.root .. "README.md"))
  local readme = assert(helper.read_file(helper.root .. "docs/api.md")) -- the reference
  local examples = {} -- the text of every example: ```lua blocks and `Example:` lines
  for _, code in ipairs(lua_blocks(readme)) do examples[#examples + 1] = code end
  for ex in readme:gmatch("\nExample: `([^\n]*)`") do examples[#examples + 1] = ex end
  local example_text = "\n" .. table.concat(examples, "\n") .. "\n"

  local function has_syntax(call)
    return readme:find("\n`syntax: [^`\n]*" .. escape(call) .. "[^%w_]") ~= nil
  end
  local function has_example(call)
    return example_text:find("[^%w_%.:]" .. escape(call) .. "[^%w_]") ~= nil
  end

  it("starts with the two commands", function()
    local first_block = readme_md:match("```sh\n(.-)```")
    assert.matches("^%./dev demo", first_block)
    assert.matches("\n%./dev test", first_block)
  end)

  it("names every resource, in both", function()
    for _, name in ipairs(helper.nonempty(routes.resources)) do
      assert.truthy(readme_md:find("`client." .. name .. "`", 1, true), "README lacks client." .. name)
      assert.truthy(readme:find("`client." .. name .. "`", 1, true), "docs/api.md lacks client." .. name)
    end
  end)

  it("has the API reference tools/readme_api.lua generates (run ./dev readme after changing routes or docs)", function()
    local generated, total = api.generate()
    assert.is_true(total > 200)
    local committed = api.extract(readme)
    assert.is_string(committed, "docs/api.md lacks the marker lines of the API reference")
    assert.equal(generated, committed)
    assert.equal(api.contents(), api.extract(readme, api.TOC_BEGIN, api.TOC_END))
    assert.equal(api.index(), api.extract(readme_md, api.INDEX_BEGIN, api.INDEX_END))
    -- the block is the last section of docs/api.md, under "API by area"
    local area = readme:find("\n## API by area\n", 1, true)
    local begin = readme:find(api.BEGIN, 1, true)
    assert.truthy(area and area < begin)
    assert.is_nil(readme:find("\n## ", begin, true))
    -- the README no longer carries the reference itself
    assert.is_nil(readme_md:find(api.BEGIN, 1, true))
  end)

  it("links every area of the index and every contents entry to a heading of docs/api.md", function()
    local anchors = {}
    for heading in ("\n" .. readme):gmatch("\n#+ ([^\n]+)") do anchors[api.anchor(heading)] = true end
    local n = 0
    for target in readme_md:gmatch("%(docs/api%.md#([^)]+)%)") do
      n = n + 1
      assert.truthy(anchors[target], "README links to docs/api.md#" .. target .. ", which is no heading")
    end
    for target in readme:gmatch("%]%(#([^)]+)%)") do
      n = n + 1
      assert.truthy(anchors[target], "docs/api.md links to #" .. target .. ", which is no heading")
    end
    assert.is_true(n >= 2 * #api.AREAS)
    assert.equal("conversations-clientrequests", api.anchor("Conversations (`client.requests`)"))
    assert.equal("clientrequestsadd_note", api.anchor("client.requests:add_note"))
  end)

  it("renders the filters and returned fields a route declares", function()
    local r = routes.index["requests.list"]
    local saved_f, saved_r = r.filters, r.returns
    r.filters, r.returns = { "status", { "dept_id", "a department's _id" } }, { { "request_id" }, { "status", "100, 200 or 1000" } }
    local ok, text = pcall(api.generate)
    r.filters, r.returns = saved_f, saved_r
    assert(ok, text)
    assert.truthy(text:find("\nFilters: `status`, `dept_id` (a department's _id).\n", 1, true))
    assert.truthy(text:find("\nReturns: `request_id`, `status` (100, 200 or 1000).\n", 1, true))
  end)

  it("has a syntax line and an example for every method of every resource", function()
    local c = tiledesk.new{ transport = Fake.new(), project_id = "p", token = "JWT t" }
    local n = 0
    for _, res in ipairs(helper.nonempty(routes.resources)) do
      -- the area's methods table, filled (pairs() alone does not fill it on Lua 5.1 and LuaJIT)
      local methods = require("tiledesk.resources").methods(res)
      assert.equal(methods, getmetatable(c[res]))
      for name, fn in pairs(helper.nonempty(methods)) do
        if type(fn) == "function" and not name:match("^_") then
          n = n + 1
          local call = "client." .. res .. ":" .. name
          assert.is_true(has_syntax(call), "no syntax line for " .. call)
          assert.is_true(has_example(call), "no example for " .. call)
          -- each/pages (each_x/pages_x) are documented under list (x)
          local base = name:match("^each_(.+)$") or name:match("^pages_(.+)$")
            or ((name == "each" or name == "pages") and "list") or name
          assert.truthy(readme:find("\n#### client." .. res .. ":" .. base .. "\n", 1, true), "no heading for " .. call)
        end
      end
    end
    local _, total = api.generate()
    assert.equal(n, total)
    c:close()
  end)

  it("has a syntax line and an example for every public client function", function()
    local fns = { "tiledesk.new", "tiledesk.from_env", "tiledesk.path", "tiledesk.array", "tiledesk.null", "tiledesk.empty_array",
      "tiledesk.signin_anonymously", "tiledesk.json_encode", "tiledesk.json_decode", "client:signin",
      "client:signin_with_custom_token", "client:request", "client:get", "client:post", "client:put",
      "client:patch", "client:delete", "client:close", "client:auth_kind", "client:with", "client:batch" }
    local listed = {}
    for _, fn in ipairs(helper.nonempty(fns)) do
      listed[fn] = true
      assert.is_true(has_syntax(fn), "no syntax line for " .. fn)
      assert.is_true(has_example(fn), "no example for " .. fn)
    end
    -- a function added to the module or the client must be documented too
    for name, v in pairs(helper.nonempty(tiledesk)) do
      if type(v) == "function" and not name:match("^_") then
        assert.is_true(listed["tiledesk." .. name], "README does not document tiledesk." .. name)
      end
    end
    for name, v in pairs(helper.nonempty(client_mod.Client)) do
      if type(v) == "function" and not name:match("^_") and name ~= "call" then
        assert.is_true(listed["client:" .. name], "README does not document client:" .. name)
      end
    end
  end)

  it("has a runnable example for every area", function()
    local block = "\n" .. api.extract(readme)
    local starts = {}
    local at = block:find("\n### ", 1, true)
    while at do
      starts[#starts + 1] = at
      at = block:find("\n### ", at + 1, true)
    end
    assert.equal(#api.AREAS, #starts)
    for i, from in ipairs(helper.nonempty(starts)) do
      local section = block:sub(from + 1, (starts[i + 1] or #block + 1) - 1)
      assert.truthy(section:find("\n```lua\n", 1, true), "no ```lua example in " .. section:match("^[^\n]*"))
    end
    local seen = {}
    for _, area in ipairs(helper.nonempty(api.AREAS)) do
      for _, res in ipairs(area.resources) do seen[res] = true end
      assert.is_string(area.example)
      assert.truthy(area.example:find("\n", 1, true), area.title .. ": the example should be a few lines")
    end
    for _, res in ipairs(helper.nonempty(routes.resources)) do assert.truthy(seen[res], res .. " is in no area") end
  end)

  it("has Lua examples that compile", function()
    for i, code in ipairs(helper.nonempty(lua_blocks(readme_md))) do
      local fn, err = compile(code, "README block " .. i)
      assert.is_function(fn, "README.md ```lua block " .. i .. " does not compile: " .. tostring(err) .. "\n" .. code)
    end
    local blocks = lua_blocks(readme)
    assert.is_true(#blocks >= #api.AREAS + 10)
    for i, code in ipairs(blocks) do
      local fn, err = compile(code, "README block " .. i)
      assert.is_function(fn, "docs/api.md ```lua block " .. i .. " does not compile: " .. tostring(err) .. "\n" .. code)
    end
    local lines = 0
    for ex in readme:gmatch("\nExample: `([^\n]*)`") do
      lines = lines + 1
      local fn, err = compile(ex, "example")
      assert.is_function(fn, "example does not compile: " .. tostring(err) .. "\n" .. ex)
    end
    assert.is_true(lines > 200)
  end)

  it("reads in ten minutes: prose at 230 words a minute, code at 30 lines a minute", function()
    local minutes, words, lines = reading_time(readme_md)
    local what = string.format("the README has %d words of prose and %d lines of code: %.1f minutes", words, lines, minutes)
    assert.is_true(words > 800 and lines > 20, what)
    assert.is_true(words <= 2300, what .. "; at most 2300 words of prose")
    assert.is_true(minutes <= 10, what .. "; a newcomer reads it in ten")
    -- the counting itself: pipes, rules and comments are no words; code counts by lines
    local m, w, l = reading_time("| a | b |\n|---|---|\n<!-- not read -->\n```lua\nx = 1\n\ny = 2\n```\none two")
    assert.equal(4, w)
    assert.equal(2, l)
    assert.near(4 / 230 + 2 / 30, m, 1e-9)
  end)

  it("has the conventions: errors, timeouts, auth, retries, secrets, filters, dates and time zones, statuses", function()
    local conv = assert(readme_md:match("\n## Conventions\n(.-)\n## [^#]"), "no Conventions section")
    for _, word in ipairs({ "Errors", "Timeouts", "Auth modes", "Retries", "Secrets are never shown", "Filters", "Dates",
      "Conversation status", "Objects" }) do
      assert.truthy(conv:find("**" .. word, 1, true), word)
    end
    for _, s in ipairs({ "nil, msg, err", "[docs/api.md](docs/api.md)", "timezone", "IANA", "`1000` closed",
      "[docs/conventions.md](docs/conventions.md)" }) do
      assert.truthy(conv:find(s, 1, true), s)
    end
  end)

  it("links only to files and headings that exist (README and the docs it links to)", function()
    local function anchors_of(text)
      local a = {}
      for heading in ("\n" .. text):gmatch("\n#+ ([^\n]+)") do a[api.anchor(heading)] = true end
      return a
    end
    local files = { "README.md", "docs/conventions.md", "docs/cli.md", "docs/openresty.md", "docs/developing.md",
      "docs/webhooks.md" }
    local n = 0
    for _, file in ipairs(files) do
      local text = assert(helper.read_file(helper.root .. file), file)
      local dir = file:match("^(.*/)") or ""
      for target in text:gmatch("%]%(([^)%s]+)%)") do
        if not target:match("^https?:") then
          n = n + 1
          local path, anchor = target:match("^([^#]*)#?(.*)$")
          local linked = path == "" and text or helper.read_file(helper.root .. dir .. path)
          assert.truthy(linked, file .. " links to " .. target .. ", which does not exist")
          if anchor ~= "" and path:match("%.md$") or (path == "" and anchor ~= "") then
            assert.truthy(anchors_of(linked)[anchor], file .. " links to " .. target .. ", which is no heading")
          end
        end
      end
    end
    assert.is_true(n > 40)
  end)

  it("names the payload of every event the server sends", function()
    local section = assert(readme_md:match("\n## Webhooks and bots\n(.-)\n## "), "no Webhooks and bots section")
    -- services/subscriptionNotifier*.js of the server: the events it sends
    for _, ev in ipairs({ "message.create", "message.create.request.channel.<name>", "request.create", "request.update",
      "request.close", "lead.create", "project_user.invite", "user.signup", "faqbot.*", "faq.*", "department.*",
      "group.*", "event.emit", "project.create", "operator.select" }) do
      assert.truthy(section:find("`" .. ev .. "`", 1, true), ev)
    end
    for _, s in ipairs({ ".update", ".update.agent", ".delete", ".downgrade" }) do
      assert.truthy(section:find("`" .. s .. "`", 1, true), s)
    end
  end)

  it("shows each of the four most used events as a delivery webhook.parse accepts, trimmed from docs/webhooks.md", function()
    local json = require("tiledesk.json")
    local jwt = require("tiledesk.jwt")
    local webhook = require("tiledesk.webhook")
    local section = assert(readme_md:match("\n## Webhooks and bots\n(.-)\n## "))
    local full_doc = assert(helper.read_file(helper.root .. "docs/webhooks.md"))
    -- the full example of an event in docs/webhooks.md (a delivery, or its payload)
    local function full(event)
      local code = assert(full_doc:match("\n`" .. escape(event) .. "`[^\n]*\n\n```json\n(.-)\n```"),
        "docs/webhooks.md has no full example of " .. event)
      local t = assert(json.decode(code), "docs/webhooks.md: the " .. event .. " example is not JSON")
      return t.payload or t
    end
    -- every key of a (trimmed) example is a key of the full one, at the same place
    local function trimmed_from(small, big, where)
      assert.equal("table", type(big), where .. " is no object in the full example")
      for k, v in pairs(small) do
        local path = where .. "." .. tostring(k)
        if type(k) == "number" then
          assert.truthy(big[1] ~= nil, path .. ": the full example's list is empty")
          if type(v) == "table" then trimmed_from(v, big[1], path) end
        else
          assert.truthy(big[k] ~= nil, path .. " is not in the full example of docs/webhooks.md")
          if type(v) == "table" and next(v) then trimmed_from(v, big[k], path) end
        end
      end
    end
    local secret = "readme-spec-secret"
    local seen, n = {}, 0
    for code in section:gmatch("\n```json\n(.-)\n```") do
      n = n + 1
      local env = assert(json.decode(code), "README webhook example " .. n .. " is not JSON:\n" .. code)
      -- the README's own text, with a token really signed for its subscription in place of the sample one
      local token = jwt.sign({ _id = env.hook._id, event = env.hook.event, sub = "subscription", iss = "https://tiledesk.com",
        aud = "https://tiledesk.com/subscriptions/" .. env.hook._id, iat = os.time() }, secret)
      local body = code:gsub(escape(env.token), token)
      local event, msg = webhook.parse(body, { ["X-Hook-Secret"] = secret }, { secret = secret, now = env.timestamp })
      assert.is_table(event, "README example " .. n .. " refused: " .. tostring(msg))
      seen[event.event] = event.payload
      trimmed_from(event.payload, full(event.event), event.event)
    end
    local p = seen["message.create"]
    assert.truthy(p and p.text and p.senderFullname and p.request.request_id == p.recipient, "message.create")
    p = seen["request.create"]
    assert.truthy(p and p.request_id and p.status and p.lead.fullname, "request.create")
    p = seen["request.close"]
    assert.truthy(p and p.status == 1000 and #p.messages > 0, "request.close")
    p = seen["lead.create"]
    assert.truthy(p and p.lead_id and p.fullname and p.email, "lead.create")
    assert.equal(4, n)
  end)

  it("opens with contents whose links reach the README's headings", function()
    local toc = assert(readme_md:match("\n## Contents\n(.-)\n## "), "no Contents section")
    local anchors = {}
    for heading in readme_md:gmatch("\n#+ ([^\n]+)") do anchors[api.anchor(heading)] = true end
    local n = 0
    for target in toc:gmatch("%]%(#([^)]+)%)") do
      n = n + 1
      assert.truthy(anchors[target], "Contents links to #" .. target .. ", which is no heading")
    end
    assert.is_true(n >= 8)
    assert.is_true(readme_md:find("\n## Contents\n", 1, true) < readme_md:find("\n## Install\n", 1, true))
  end)

  it("shows the install for Lua 5.4, 5.1 and LuaJIT, with a compiler, luarocks path and --deps-mode", function()
    local install = assert(readme_md:match("\n## Install\n(.-)\n## "))
    local applines = 0
    for line in install:gmatch("apt%-get install[^\n]*") do
      applines = applines + 1
      for _, pkg in ipairs({ "gcc", "luarocks", "libcurl4-openssl-dev", "lua-cjson" }) do
        assert.truthy(line:find(" " .. pkg, 1, true), pkg .. " missing from: " .. line)
      end
    end
    assert.equal(3, applines)
    for _, s in ipairs({ "liblua5.4-dev", "liblua5.1-0-dev", "luajit", "--lua-version=5.4", "--lua-version=5.1",
      "--deps-mode=none", "luarocks --lua-version=5.4 --local path", "LUA_INCDIR=" }) do
      assert.truthy(install:find(s, 1, true), s)
    end
    local version = dofile(helper.root .. "tools/rockspec_modules.lua").version(helper.root)
    assert.truthy(install:find("rockspec/tiledesk-" .. version .. "-1.rockspec", 1, true), "the install names another version")
  end)

  it("has Recipes near the top, linking every example script, the five of the issue among them", function()
    local at = assert(readme_md:find("\n## Recipes\n", 1, true), "no Recipes section")
    assert.is_true(at < readme_md:find("\n## Conventions\n", 1, true))
    assert.is_true(at < readme_md:find("\n## The `tiledesk` command\n", 1, true))
    local recipes = readme_md:match("\n## Recipes\n(.-)\n## ")
    local p = io.popen("cd '" .. helper.root .. "examples' && ls *.lua")
    local n = 0
    for name in p:lines() do
      if name ~= "common.lua" then
        n = n + 1
        assert.truthy(recipes:find("[`" .. name .. "`](examples/" .. name .. ")", 1, true), "Recipes does not link examples/" .. name)
      end
    end
    p:close()
    assert.is_true(n >= 5)
    -- the five recipes the issue asks for, each run by spec/core/recipes_spec.lua against the sandbox
    local specs = assert(helper.read_file(helper.root .. "spec/core/recipes_spec.lua"))
    for _, name in ipairs({ "export_closed_last_week", "assign_fewest_open", "import_leads", "first_response_times", "faq_bot" }) do
      assert.truthy(helper.read_file(helper.root .. "examples/" .. name .. ".lua"), name)
      assert.truthy(specs:find('"' .. name .. '.lua"', 1, true) or specs:find("examples/" .. name .. ".lua", 1, true),
        name .. " is not run by spec/core/recipes_spec.lua")
    end
  end)
end)
