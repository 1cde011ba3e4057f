-- /:pid/keys: the project's custom-authentication secret.
local store = require("sbx.store")
local util = require("sbx.util")
local crypto = require("sbx.crypto")


local api = {}

-- custom-auth secret
-- The sandbox makes the shared secret only: no RSA key pair (publicKey/privateKey are null).
function api.generate(ctx)
  local secret = crypto.hex(crypto.random(24))
  ctx.project.jwtSecret = secret
  store.coll("projects"):touch(ctx.project)
  return 200, { publicKey = util.null, privateKey = util.null, jwtSecret = secret }
end

api.routes = {
  { "POST", "/:pid/keys/generate", "generate", { role = "agent" } },
}

return api
