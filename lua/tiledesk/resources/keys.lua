-- The project's shared secret for custom-token (userexternal) authentication.
local M = {}
M.routes = {
  { "generate", "POST", "/keys/generate", secret = "response", doc = "Regenerate the project secret ({jwtSecret=}); old custom tokens stop working",
    example = 'local secret = assert(client.keys:generate()).jwtSecret' },
}
return M
