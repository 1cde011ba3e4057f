-- The runnable example of each API area in docs/api.md runs against the sandbox, as it says,
-- with the client its "API by area" section makes (the owner's); so does every ```lua block of
-- the README (the quick start with tiledesk.new pointed at the sandbox, as a reader would edit
-- it). Their output is swallowed; a failing assert or a raise fails the spec.
local helper = require("spec.helper")
local tiledesk = require("tiledesk")

local st = helper.sandbox()
local readme = assert(helper.read_file(helper.root .. "docs/api.md"))
local reference = assert(readme:match("<!%-%- API REFERENCE BEGIN.-%-%->(.-)<!%-%- API REFERENCE END"))

-- { heading, code } of the first ```lua block under each ### area heading
local examples = {}
do
  local starts = {}
  for pos in reference:gmatch("\n()### ") do starts[#starts + 1] = pos end
  starts[#starts + 1] = #reference + 1
  for i = 1, #starts - 1 do
    local section = reference:sub(starts[i], starts[i + 1] - 1)
    local heading = section:match("^### ([^\n]+)")
    local code = section:match("```lua\n(.-)```")
    if code then examples[#examples + 1] = { heading = heading, code = code } end
  end
end

local function owner_client()
  return tiledesk.new{ base_url = st.http_url, project_id = st.project_id, email = st.users.owner.email,
    password = st.users.owner.password }
end

-- require "tiledesk" as the README's reader has it once base_url, project and credentials are theirs
local function sandboxed_require(name)
  if name ~= "tiledesk" then return require(name) end
  return setmetatable({ new = function(opts)
    assert(type(opts) == "table" and opts.project_id and opts.email, "the README's tiledesk.new{} call changed")
    return owner_client()
  end }, { __index = tiledesk })
end

local function run(code)
  local env = setmetatable({ print = function() end, client = owner_client(), require = sandboxed_require },
    { __index = _G })
  local fn, err
  if setfenv then
    fn, err = loadstring(code, "README example")
    if fn then setfenv(fn, env) end
  else
    fn, err = load(code, "README example", "t", env)
  end
  assert(fn, err)
  fn()
end

describe("docs/api.md area examples", function()
  setup(helper.reset)
  teardown(helper.reset)

  it("are found, one per area", function()
    assert.is_true(#examples >= 25, "only " .. #examples .. " area examples found")
  end)

  for _, ex in ipairs(examples) do
    it("run: " .. ex.heading, function()
      local ok, err = pcall(run, ex.code)
      assert(ok, tostring(err) .. "\n" .. ex.code)
    end)
  end
end)

describe("README ```lua blocks", function()
  setup(helper.reset)
  teardown(helper.reset)
  local text = assert(helper.read_file(helper.root .. "README.md"))
  local blocks = {}
  for code in text:gmatch("\n```lua\n(.-)\n```") do blocks[#blocks + 1] = code end

  it("are found: the quick start and the dates example", function()
    assert.is_true(#blocks >= 2)
    assert.truthy(blocks[1]:find('require "tiledesk"', 1, true))
  end)

  for i, code in ipairs(blocks) do
    it("run against the sandbox: block " .. i, function()
      local ok, err = pcall(run, code)
      assert(ok, tostring(err) .. "\n" .. code)
    end)
  end
end)
