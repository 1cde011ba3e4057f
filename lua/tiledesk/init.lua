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

-- tiledesk.path("/requests/{}/messages", id): each {} is one percent-encoded segment.
_M.path = url.path

_M.json_encode = json.encode
_M.json_decode = json.decode

return _M
