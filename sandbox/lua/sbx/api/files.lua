-- /:pid/files (chat attachments and project assets, routes/filesp.js) and the public GET /files
-- the widget shows them with (routes/files.js). Files live in the store for the run, like the
-- server's GridFS bucket: uploads/users/<user>/files/<uuid>/<name>.
local store = require("sbx.store")
local util = require("sbx.util")

-- The server's defaults (CHAT_FILES_ALLOW_LIST, ASSETS_FILES_ALLOW_LIST, MAX_UPLOAD_FILE_SIZE).
local CHAT_EXT = { [".jpg"] = true, [".jpeg"] = true, [".png"] = true, [".gif"] = true, [".pdf"] = true, [".txt"] = true }
local ASSET_EXT = { [".jpg"] = true, [".jpeg"] = true, [".png"] = true, [".gif"] = true, [".pdf"] = true,
  [".txt"] = true, [".csv"] = true, [".doc"] = true, [".docx"] = true }
local MAX_SIZE = 1024000
local MIME = { [".jpg"] = "image/jpeg", [".jpeg"] = "image/jpeg", [".png"] = "image/png", [".gif"] = "image/gif",
  [".pdf"] = "application/pdf", [".txt"] = "text/plain", [".csv"] = "text/csv", [".doc"] = "application/msword",
  [".docx"] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }
-- the first bytes the server's content check (file-type) expects for each kind
local MAGIC = { ["image/jpeg"] = "\255\216\255", ["image/png"] = "\137PNG\r\n\26\n", ["image/gif"] = "GIF8",
  ["application/pdf"] = "%PDF-" }

-- One part of a multipart/form-data body: name, filename, content type and data, or nil.
local function file_part(ctx, field)
  local ctype = util.header_value(ctx.headers, "content-type")
  local boundary = ctype:match("^multipart/form%-data;.*boundary=\"?([^\";]+)\"?")
  local body = ctx.raw_body
  if not boundary or not body then return nil end
  local delim = "--" .. boundary
  local pos = body:find(delim, 1, true)
  local guard = 0
  while pos and guard < 100 do
    guard = guard + 1
    local head_start = pos + #delim
    if body:sub(head_start, head_start + 1) == "--" then return nil end -- the closing delimiter
    local head_end = body:find("\r\n\r\n", head_start, true)
    if not head_end then return nil end
    local head = body:sub(head_start, head_end)
    local data_start = head_end + 4
    local next_pos = body:find("\r\n" .. delim, data_start, true)
    if not next_pos then return nil end
    local disp = head:match("[Cc]ontent%-[Dd]isposition:%s*([^\r\n]*)") or ""
    local name = disp:match('[^%w]name="([^"]*)"')
    if name == field then
      return { filename = disp:match('filename="([^"]*)"'), type = head:match("[Cc]ontent%-[Tt]ype:%s*([^\r\n;]+)"),
        data = body:sub(data_start, next_pos - 1) }
    end
    pos = next_pos + 2
  end
  return nil
end

local function ext_of(name) return ((name or ""):match("(%.[^./]+)$") or ""):lower() end

local function uri_component(s)
  return (s:gsub("[^%w%-_%.!~%*'%(%)]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- multer + the route's filter + verifyFileContent, as filesp.js runs them
local function accept(ctx, allowed)
  local part = file_part(ctx, "file")
  if not part then return nil, 400, { success = false, error = "No file uploaded" } end
  if not part.filename or part.filename == "" then
    return nil, 400, { success = false, error = "File original name is required" }
  end
  if #part.data > MAX_SIZE then
    return nil, 413, { success = false, error = "File too large", code = "LIMIT_FILE_SIZE" }
  end
  local ext = ext_of(part.filename)
  if not allowed[ext] then
    return nil, 403, { success = false, error = "File extension " .. ext .. " is not allowed" }
  end
  local expected = MIME[ext]
  if expected and part.type ~= expected then
    return nil, 403, { success = false, error = "File content does not match mimetype. Detected: "
      .. tostring(part.type) .. ", provided: " .. expected }
  end
  local magic = MAGIC[expected]
  if (magic and part.data:sub(1, #magic) ~= magic) or (expected == "text/plain" and part.data:find("%z")) then
    return nil, 403, { success = false, error = "File content does not match the declared type " .. expected }
  end
  local who = ctx.principal and ctx.principal.id
  local filename = "uploads/" .. (who and ("users/" .. who) or "public") .. "/files/" .. store.uuid() .. "/"
    .. part.filename
  store.coll("files"):insert{ filename = filename, contentType = expected, length = #part.data, data = part.data,
    id_project = ctx.pid }
  return filename
end

local function find(path)
  if not path then return nil end
  return store.coll("files"):find_one(function(f) return f.filename == path end)
end

local function serve(f, attachment)
  local headers = {}
  if attachment then
    headers["Content-Disposition"] = 'attachment; filename="' .. (f.filename:match("([^/]+)$") or "file") .. '"'
  end
  return 200, f.data, f.contentType, headers
end

local api = {}

function api.upload_chat(ctx)
  local filename, status, err = accept(ctx, CHAT_EXT)
  if not filename then return status, err end
  return 201, { message = "File uploaded successfully", filename = filename }
end

function api.upload_asset(ctx)
  local filename, status, err = accept(ctx, ASSET_EXT)
  if not filename then return status, err end
  -- the server answers assets with the name URI-encoded (and a thumbnail for images, made
  -- with sharp: the sandbox makes none)
  return 201, { message = "File uploaded successfully", filename = uri_component(filename) }
end

function api.get(ctx)
  local f = find(util.str(ctx.query.path))
  if not f then return 404, { success = false, error = "File not found." } end
  return serve(f, util.bool(ctx.query.as_attachment))
end

function api.download(ctx)
  local f = find(util.str(ctx.query.path))
  if not f then return 404, { success = false, error = "File not found." } end
  return serve(f, true)
end

function api.delete(ctx)
  local path = util.str(ctx.query.path)
  if not path then return 400, { success = false, error = "Path parameter is required" } end
  local f = find(path)
  if not f then return 404, { success = false, error = "File not found." } end
  store.coll("files"):remove(f._id)
  return 200, { message = "File deleted successfully", filename = uri_component(f.filename) }
end

-- public, as the widget shows attachments (no auth)
function api.get_public(ctx)
  local f = find(util.str(ctx.query.path))
  if not f then return 404, { success = false, error = "File not found." } end
  return serve(f, false)
end

api.routes = {
  { "POST", "/:pid/files/chat", "upload_chat", { role = "guest", types = { "bot", "subscription" } } },
  { "POST", "/:pid/files/assets", "upload_asset", { role = "admin", types = { "bot", "subscription" } } },
  { "GET", "/:pid/files", "get" },
  { "GET", "/:pid/files/download", "download" },
  { "DELETE", "/:pid/files", "delete" },
  { "GET", "/files", "get_public", { auth = false } },
}

return api
