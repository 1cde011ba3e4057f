-- tiledesk: the Lua SDK for the Tiledesk REST API.
--   local tiledesk = require "tiledesk"
--   local client = tiledesk.new{ project_id = "...", email = "...", password = "..." }
local client = require("tiledesk.client")
local json = require("tiledesk.json")
local url = require("tiledesk.url")
local E = require("tiledesk.error")

local _M = {
  _VERSION = "0.1.0",
  null = json.null,
  empty_array = json.empty_array,
  array = json.array,
  Error = E.Error,
}

-- tiledesk.time (IANA zones, timestamps) is read on its first use
setmetatable(_M, { __index = function(t, k)
  if k ~= "time" then return nil end
  local time = require("tiledesk.time")
  rawset(t, "time", time)
  return time
end })

local resources = require("tiledesk.resources")
local attach_resources = resources.attach

-- Creates a client. Options: see README.md ("Client options"). Unknown options raise.
function _M.new(opts)
  local c = client.new(opts, "tiledesk.new()", 3)
  attach_resources(c)
  return c
end

-- A guest client (POST /auth/signinAnonymously) and its user, or nil, msg, err.
function _M.signin_anonymously(opts)
  local c, user, err = client.signin_anonymously(opts)
  if not c then return nil, user, err end
  attach_resources(c)
  return c, user
end

-- A client from the environment: TILEDESK_URL (default: the cloud API), TILEDESK_PROJECT_ID,
-- TILEDESK_TOKEN or TILEDESK_EMAIL + TILEDESK_PASSWORD, TILEDESK_TIMEZONE. opts: more client
-- options (the environment's values win), and getenv (default os.getenv). Returns the client,
-- or nil, msg, err (err.kind "config", err.missing the variables to set) naming what is missing.
function _M.from_env(opts)
  if opts ~= nil and type(opts) ~= "table" then error("tiledesk.from_env(): opts must be a table", 2) end
  local cfg, getenv = {}, os.getenv
  for k, v in pairs(opts or {}) do
    if k == "getenv" then
      if type(v) ~= "function" then error("tiledesk.from_env(): getenv must be a function", 2) end
      getenv = v
    else
      cfg[k] = v
    end
  end
  cfg = require("tiledesk.options").client(cfg, "tiledesk.from_env()", nil, 2) -- misuse in opts raises
  local function env(name)
    local v = getenv(name)
    if v == "" then return nil end
    return v
  end
  local missing, why = {}, {}
  local function need(name, note)
    missing[#missing + 1] = name
    why[#why + 1] = name .. (note and (" " .. note) or "")
  end
  local base_url, project = env("TILEDESK_URL"), env("TILEDESK_PROJECT_ID")
  local email, password, token = env("TILEDESK_EMAIL"), env("TILEDESK_PASSWORD"), env("TILEDESK_TOKEN")
  local timezone = env("TILEDESK_TIMEZONE")
  if base_url then cfg.base_url = base_url end
  if project then cfg.project_id = project elseif not cfg.project_id then need("TILEDESK_PROJECT_ID") end
  if email and not password and not token then need("TILEDESK_PASSWORD", "(TILEDESK_EMAIL is set)")
  elseif password and not email and not token then need("TILEDESK_EMAIL", "(TILEDESK_PASSWORD is set)")
  elseif not (token or email or cfg.token or cfg.email) then
    need("TILEDESK_TOKEN", "(or TILEDESK_EMAIL and TILEDESK_PASSWORD)")
  end
  if #missing > 0 then
    local msg = "tiledesk.from_env(): set " .. table.concat(why, " and ")
    return nil, msg, E.new({ kind = "config", missing = missing, msg = msg })
  end
  if token then cfg.token = token end
  if email and password then cfg.email, cfg.password = email, password end
  if timezone then cfg.timezone = timezone end
  local ok, c = pcall(_M.new, cfg)
  if not ok then
    local reason = tostring(c):gsub("^[^\n]-tiledesk%.new%(%): ", ""):gsub("^[^\n]-:%d+: ", "")
    local VARS = { base_url = "TILEDESK_URL", project_id = "TILEDESK_PROJECT_ID", email = "TILEDESK_EMAIL",
      token = "TILEDESK_TOKEN", timezone = "TILEDESK_TIMEZONE" }
    local var = VARS[reason:match("option '([%w_]+)'") or ""]
    local msg = "tiledesk.from_env(): " .. (var and (var .. ": ") or "") .. reason
    return nil, msg, E.new({ kind = "config", missing = {}, msg = msg })
  end
  return c
end

-- tiledesk.path("/requests/{}/messages", id): each {} is one percent-encoded segment.
_M.path = url.path

_M.json_encode = json.encode
_M.json_decode = json.decode

return _M
