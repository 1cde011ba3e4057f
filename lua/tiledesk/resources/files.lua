-- Files: chat attachments and project assets (multipart uploads), their content and the public
-- address the chat widget shows an attachment from.
local multipart = require("tiledesk.multipart")
local url = require("tiledesk.url")

local M = {}

M.routes = {
  { "upload", "POST", "/files/chat", skip = true, call = "client.files:upload(content, { name = , type = })",
    doc = "Upload a chat attachment ({filename=}); the server takes jpg, png, gif, pdf and txt up to 1 MB by default" },
  { "upload_asset", "POST", "/files/assets", skip = true,
    call = "client.files:upload_asset(content, { name = , type = , expiration = })",
    doc = "Upload a project asset (admin; expiration in seconds optional)" },
  { "get", "GET", "/files", fields = { "path" }, raw = true, doc = "A file's content (as_attachment = true optional)",
    example = 'local pdf = assert(client.files:get(up.filename))' },
  { "download", "GET", "/files/download", fields = { "path" }, raw = true, doc = "A file's content, as an attachment",
    example = 'local data = assert(client.files:download(up.filename))' },
  { "delete", "DELETE", "/files", fields = { "path" }, doc = "Delete a file (and its thumbnail)",
    example = 'client.files:delete(up.filename)' },
}

-- The content types the server expects for each extension (it refuses a mismatch).
local TYPES = { jpg = "image/jpeg", jpeg = "image/jpeg", png = "image/png", gif = "image/gif",
  pdf = "application/pdf", txt = "text/plain", csv = "text/csv", doc = "application/msword",
  docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document" }
M.TYPES = TYPES

-- content type of a file name, by its extension (nil when unknown)
function M.type_of(name)
  local ext = type(name) == "string" and name:match("%.([^./]+)$")
  return ext and TYPES[ext:lower()]
end

local function upload(self, op, path, content, opts, allow_expiration)
  if type(content) ~= "string" then
    error(op .. ": bad argument #1 'content' (string expected, got " .. type(content) .. ")", 3)
  end
  if type(opts) ~= "table" then error(op .. ": bad argument #2 'opts' (table expected, got " .. type(opts) .. ")", 3) end
  for k in pairs(opts) do
    if k ~= "name" and k ~= "type" and not (allow_expiration and k == "expiration") then
      error(op .. ": unknown option '" .. tostring(k) .. "'", 3)
    end
  end
  if type(opts.name) ~= "string" or not opts.name:match("[^/\\]%.[%w]+$") then
    error(op .. ": option 'name' must be a file name with an extension (the server checks it)", 3)
  end
  if opts.type ~= nil and (type(opts.type) ~= "string" or opts.type:find("[%c]")) then
    error(op .. ": option 'type' must be a content type without control characters", 3)
  end
  local ctype = opts.type or M.type_of(opts.name)
  if type(ctype) ~= "string" then
    error(op .. ": option 'type' must be a content type (none is known for " .. opts.name .. ")", 3)
  end
  local query
  if opts.expiration ~= nil then
    if type(opts.expiration) ~= "number" or opts.expiration <= 0 then
      error(op .. ": option 'expiration' must be a number of seconds > 0", 3)
    end
    query = { expiration = math.floor(opts.expiration) }
  end
  local body, header = multipart.body({ field = "file", name = opts.name, type = ctype, content = content })
  -- an upload creates a file each time: never repeated behind the caller's back
  return self.client:call(op, { method = "POST", path = path, query = query, body = body,
    headers = { ["content-type"] = header } })
end

M.methods = {}

-- upload(content, { name = "invoice.pdf", type = "application/pdf" }): a chat attachment.
-- The type defaults from the name's extension. Returns { message, filename }.
function M.methods:upload(content, opts)
  -- not a tail call, so that misuse errors point at the caller
  local res, msg, err = upload(self, "files:upload()", "/files/chat", content, opts, false)
  return res, msg, err
end

-- upload_asset(content, { name =, type =, expiration = seconds }): a project asset (admin).
function M.methods:upload_asset(content, opts)
  local res, msg, err = upload(self, "files:upload_asset()", "/files/assets", content, opts, true)
  return res, msg, err
end

-- url(filename): the public address of an uploaded file, as the chat widget shows it
-- (GET <base_url>/files?path=<filename>, no authentication).
function M.methods:url(filename)
  if type(filename) ~= "string" or filename == "" then
    error("files:url(): bad argument #1 'filename' (string expected, got " .. type(filename) .. ")", 2)
  end
  return self.client.base_url .. "/files?path=" .. url.escape(filename)
end

-- README entries of the hand-written methods (tools/readme_api.lua).
M.docs = {
  upload = {
    syntax = "res, msg, err = client.files:upload(content, { name, type? })",
    doc = "Upload a chat attachment (multipart; never repeated): the type defaults from the name's extension; "
      .. "the answer is `{ message, filename }`, and `filename` is the path the other methods take",
    example = 'local up = assert(client.files:upload(io.open("invoice.pdf", "rb"):read("*a"), { name = "invoice.pdf" }))' },
  upload_asset = {
    syntax = "res, msg, err = client.files:upload_asset(content, { name, type?, expiration? })",
    doc = "Upload a project asset (admin; expiration in seconds)",
    example = 'local up = assert(client.files:upload_asset(logo_png, { name = "logo.png", expiration = 86400 }))' },
  url = {
    syntax = "address = client.files:url(filename)",
    doc = "The public address of an uploaded file, as the chat widget shows it (`GET <base_url>/files?path=`, "
      .. "no authentication; no HTTP call)",
    example = 'client.messages:send_file(rid, { src = client.files:url(up.filename), name = "invoice.pdf" })' },
}
return M
