-- The LuaLS annotation files (types/*.lua, ---@meta) are what tools/luals.lua generates, and
-- name every resource method (every route's, the iterators, the hand-written ones), every
-- client option, every client and module function, the error table and tiledesk.csv.
local helper = require("spec.helper")
local routes = require("tiledesk.routes")
local resources = require("tiledesk.resources")
local options = require("tiledesk.options")
local client_mod = require("tiledesk.client")
local tiledesk = require("tiledesk")
local csv = require("tiledesk.csv")
local luals = require("tools.luals")

local function escape(s) return (s:gsub("%p", "%%%0")) end

describe("LuaLS annotations", function()
  local text = assert(helper.read_file(helper.root .. "types/tiledesk.lua"), "no types/tiledesk.lua: run ./dev readme")
  local csv_text = assert(helper.read_file(helper.root .. "types/tiledesk.csv.lua"))

  it("are what tools/luals.lua generates (run ./dev readme after changing routes, docs or options)", function()
    local generated, count = luals.generate()
    assert.equal(generated, text)
    assert.equal(luals.generate_csv(), csv_text)
    assert.is_true(count > 250)
  end)

  it("are meta files that compile", function()
    assert.matches("^%-%-%-@meta tiledesk\n", text)
    assert.matches("^%-%-%-@meta tiledesk%.csv\n", csv_text)
    for _, f in ipairs({ "types/tiledesk.lua", "types/tiledesk.csv.lua" }) do
      assert.is_function(loadfile(helper.root .. f), f)
    end
  end)

  it("give every resource a class on the client, and every route and method of it", function()
    local n = 0
    for _, res in ipairs(helper.nonempty(routes.resources)) do
      assert.truthy(text:find("\n---@class tiledesk.resource." .. res .. "\n", 1, true), res)
      assert.truthy(text:find("\n---@field " .. res .. " tiledesk.resource." .. res .. "\n", 1, true), res)
      assert.is_true(#routes.by_resource[res] > 0)
      for _, r in ipairs(routes.by_resource[res]) do
        if not r.skip then
          n = n + 1
          assert.truthy(text:find("\nfunction " .. res .. ":" .. r.name .. "(", 1, true), res .. ":" .. r.name)
          if r.page then
            local suffix = r.name == "list" and "" or ("_" .. r.name)
            assert.truthy(text:find("\nfunction " .. res .. ":each" .. suffix .. "(", 1, true), res .. ":each" .. suffix)
            assert.truthy(text:find("\nfunction " .. res .. ":pages" .. suffix .. "(", 1, true), res .. ":pages" .. suffix)
          end
        end
      end
      for name, fn in pairs(helper.nonempty(resources.methods(res))) do
        if type(fn) == "function" and not name:match("^_") then
          assert.truthy(text:find("\nfunction " .. res .. ":" .. name .. "(", 1, true), res .. ":" .. name)
        end
      end
    end
    assert.is_true(n > 150)
  end)

  it("describe the filters a list declares", function()
    local with = 0
    for _, r in ipairs(helper.nonempty(routes.list)) do
      if type(r.filters) == "table" and next(r.filters) then
        with = with + 1
        local class = "tiledesk.query." .. r.res .. "." .. r.name
        assert.truthy(text:find("\n---@class " .. class .. "\n", 1, true), class)
        assert.truthy(text:find("\n---@param query%? " .. escape(class) .. "\n"), class)
      end
    end
    if with == 0 then -- no route declares filters yet: the generator still renders one that does
      local r = routes.index["requests.list"]
      r.filters = { status = "status codes" }
      local ok, generated = pcall(luals.generate)
      r.filters = nil
      assert(ok, generated)
      assert.truthy(generated:find("\n---@class tiledesk.query.requests.list\n---@field status? any status codes\n", 1, true))
    end
  end)

  it("name every client option, client method, module function and error field", function()
    local opts = text:match("\n%-%-%-@class tiledesk%.Options\n(.-)\n\n")
    for k in pairs(helper.nonempty(options.CLIENT)) do
      assert.truthy(opts:find("\n?%-%-%-@field " .. escape(k) .. "%? "), "option " .. k)
    end
    for name, fn in pairs(helper.nonempty(client_mod.Client)) do
      if type(fn) == "function" and not name:match("^_") and name ~= "call" then
        assert.truthy(text:find("\nfunction Client:" .. name .. "(", 1, true), "client:" .. name)
      end
    end
    for name, v in pairs(helper.nonempty(tiledesk)) do
      if type(v) == "function" then
        assert.truthy(text:find("\nfunction tiledesk." .. name .. "(", 1, true), "tiledesk." .. name)
      end
    end
    local err_class = assert(text:match("\n%-%-%-@class tiledesk%.Error\n(.-)\n\n"))
    for _, f in ipairs({ "kind", "msg", "status", "body", "method", "url", "retry_after", "attempts" }) do
      assert.truthy(("\n" .. err_class):find("\n---@field " .. f .. " ", 1, true), "err." .. f)
    end
    for name, v in pairs(helper.nonempty(csv)) do
      if type(v) == "function" then
        assert.truthy(csv_text:find("\nfunction csv." .. name .. "(", 1, true), "csv." .. name)
      end
    end
  end)

  -- What lua-language-server's --check would report first, checked here without it (it is in no
  -- Debian bookworm or npm package): a type name that names no class, alias or built-in type
  -- (undefined-doc-name), a ---@param naming no parameter of the function below it or missing
  -- for one (undefined-doc-param), a class field declared twice (duplicate-doc-field).
  it("name only declared types, document each function's own parameters, and declare each field once", function()
    local BUILTIN = { ["nil"] = true, any = true, unknown = true, boolean = true, string = true, number = true,
      integer = true, ["function"] = true, table = true, thread = true, userdata = true, lightuserdata = true,
      ["file*"] = true, self = true, fun = true, ["true"] = true, ["false"] = true }
    local files = { text, csv_text }
    local declared = {}
    for _, t in ipairs(files) do
      for name in ("\n" .. t):gmatch("\n%-%-%-@class ([%w_%.]+)") do declared[name] = true end
      for name in ("\n" .. t):gmatch("\n%-%-%-@alias ([%w_%.]+)") do declared[name] = true end
    end
    -- the type expression at the start of s (balanced brackets; ends at a blank at depth 0)
    local function type_expr(str)
      local depth, i = 0, 1
      while i <= #str do
        local c = str:sub(i, i)
        if c == "(" or c == "{" or c == "<" or c == "[" then depth = depth + 1
        elseif c == ")" or c == "}" or c == ">" or c == "]" then depth = depth - 1
        elseif c == '"' then i = str:find('"', i + 1, true) or #str
        elseif c:match("%s") and depth == 0 then
          -- "fun(): string" goes on after the colon's blank
          if not str:sub(1, i - 1):match(":$") then break end
        end
        i = i + 1
      end
      return str:sub(1, i - 1)
    end
    local function check_type(expr, where)
      local bare = expr:gsub('"[^"]*"', " ")
      for name, after in bare:gmatch("([%a_][%w_%.]*%*?)()") do
        -- a key of a table type or a parameter name of a fun type ("name: T", "name?: T") is no type
        if not bare:sub(after):match("^%??%s*:") then
          assert.truthy(BUILTIN[name] or declared[name], where .. ": type " .. name .. " is declared nowhere")
        end
      end
    end
    local n_types, n_funcs = 0, 0
    for _, t in ipairs(files) do
      local params, fields, class = {}, {}, nil
      for line in t:gmatch("[^\n]+") do
        local tag, rest = line:match("^%-%-%-@(%a+)%s+(.*)$")
        if tag == "class" then
          class = rest:match("^[%w_%.]+")
          assert.is_nil(fields[class], "class " .. class .. " declared twice")
          fields[class] = {}
        elseif tag == "field" then
          local name, ty = rest:match("^([%w_]+)%??%s+(.*)$")
          assert.truthy(name, line)
          assert.is_nil(fields[class][name], class .. "." .. name .. " declared twice")
          fields[class][name] = true
          n_types = n_types + 1
          check_type(type_expr(ty), line)
        elseif tag == "param" then
          local name, ty = rest:match("^([%w_%.]+)%??%s+(.*)$")
          assert.truthy(name, line)
          params[#params + 1] = name
          n_types = n_types + 1
          check_type(type_expr(ty), line)
        elseif tag == "return" then
          n_types = n_types + 1
          check_type(type_expr(rest), line)
        elseif tag == "alias" then
          check_type(type_expr(rest:match("^[%w_%.]+%s+(.*)$")), line)
        end
        local args = line:match("^function [%w_%.:]+%(([^)]*)%)")
        if args then
          n_funcs = n_funcs + 1
          local got = {}
          for a in args:gmatch("[^,%s]+") do got[#got + 1] = a end
          assert.same(got, params, line .. ": its ---@param lines name other parameters")
        end
        if not line:match("^%-%-%-") then params = {} end
      end
    end
    assert.is_true(n_types > 1000 and n_funcs > 300, n_types .. " types, " .. n_funcs .. " functions")
  end)
end)
