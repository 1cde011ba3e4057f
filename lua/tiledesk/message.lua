-- Rich messages as the Tiledesk widget renders them, and the intent-answer text format.
--   local message = require "tiledesk.message"
--   client.messages:send(rid, message.buttons("Pick one", {
--     message.button("Pricing"),                                  -- sends "Pricing" back
--     message.url_button("Docs", "https://example.com/docs"),     -- opens a link
--     message.action_button("Talk to a human", "handoff"),        -- runs an action/intent
--   }))
--   local m = message.parse("Pick one\n* Pricing\n* Docs https://example.com/docs")  -- same JSON
--
-- Every function returns plain tables (no metatables) ready for messages:send().
-- The JSON follows the widget's format: buttons live in attributes.attachment
-- { type = "template", buttons = { {type="text", value}, {type="url", value, link, target},
-- {type="action", value, action, show_echo} } }; images are type "image" with metadata
-- { src, width, height }; frames and videos type "frame" (metadata.type = "video" for videos);
-- files type "file" with metadata { name, src, type = <mime type>, size } and text "[name](src)".
local _M = {}

local TARGETS = { blank = true, parent = true, self = true }

local function fail(fn, msg) error("tiledesk.message." .. fn .. "(): " .. msg, 3) end

local function check_text(fn, what, v, optional)
  if v == nil and optional then return end
  if type(v) ~= "string" then fail(fn, what .. " must be a string, got " .. type(v)) end
end

local function check_label(fn, v)
  if type(v) ~= "string" or v:match("^%s*$") then fail(fn, "label must be a non-empty string") end
end

local function check_url(fn, what, v)
  if type(v) ~= "string" or not v:match("^[Hh][Tt][Tt][Pp][Ss]?://[^%s]+$") then
    fail(fn, what .. " must be an http(s) URL without spaces")
  end
end

local function check_opts(fn, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(fn, "opts must be a table") end
  for k in pairs(opts) do
    if not known[k] then fail(fn, "unknown option " .. tostring(k)) end
  end
  return opts
end

local function check_size(fn, what, v)
  if v ~= nil and (type(v) ~= "number" or v <= 0 or v ~= math.floor(v)) then
    fail(fn, what .. " must be a positive integer")
  end
end

-- Buttons --------------------------------------------------------------------------------------

-- A text button (a quick reply): pressing it sends its label as the visitor's message.
function _M.button(label)
  check_label("button", label)
  return { type = "text", value = label }
end

-- A link button; target "blank" (default: new tab), "parent" (the page around the widget) or
-- "self" (inside the widget).
function _M.url_button(label, link, target)
  check_label("url_button", label)
  check_url("url_button", "link", link)
  if target ~= nil and not TARGETS[target] then fail("url_button", "target must be blank, parent or self") end
  return { type = "url", value = label, link = link, target = target or "blank" }
end

-- An action button: pressing it runs action (an intent name, or what a bot reads from
-- attributes.action); show_echo (default true) also shows the label as the visitor's message.
function _M.action_button(label, action, show_echo)
  check_label("action_button", label)
  if type(action) ~= "string" or action == "" then fail("action_button", "action must be a non-empty string") end
  if show_echo ~= nil and type(show_echo) ~= "boolean" then fail("action_button", "show_echo must be a boolean") end
  return { type = "action", value = label, action = action, show_echo = show_echo ~= false }
end

local function is_button(b)
  return type(b) == "table" and (b.type == "text" or b.type == "url" or b.type == "action")
    and type(b.value) == "string"
end

-- Messages -------------------------------------------------------------------------------------

local TEXT_OPTS = { attributes = true, metadata = true }

local function copy(t)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = copy(v) end
  return out
end

local function apply(fn, m, opts)
  if opts.attributes ~= nil then
    if type(opts.attributes) ~= "table" then fail(fn, "attributes must be a table") end
    m.attributes = copy(opts.attributes)
  end
  if opts.metadata ~= nil then
    if type(opts.metadata) ~= "table" then fail(fn, "metadata must be a table") end
    m.metadata = copy(opts.metadata)
  end
  return m
end

-- A plain text message. opts: attributes, metadata (tables sent as they are).
function _M.text(text, opts)
  check_text("text", "text", text)
  return apply("text", { text = text, type = "text" }, check_opts("text", opts, TEXT_OPTS))
end

-- Text followed by buttons: strings become text buttons, tables are button() / url_button() /
-- action_button() values.
function _M.buttons(text, buttons, opts)
  check_text("buttons", "text", text)
  if type(buttons) ~= "table" or #buttons == 0 then fail("buttons", "buttons must be a non-empty array") end
  local list = {}
  for i, b in ipairs(buttons) do
    if type(b) == "string" then
      check_label("buttons", b)
      b = { type = "text", value = b }
    elseif not is_button(b) then
      fail("buttons", "button " .. i .. " is not a string or a button table")
    end
    list[i] = copy(b)
  end
  local m = apply("buttons", { text = text, type = "text" }, check_opts("buttons", opts, TEXT_OPTS))
  m.attributes = m.attributes or {}
  m.attributes.attachment = { type = "template", buttons = list }
  return m
end

-- Quick replies: text buttons from labels (the `* label` lines of an intent answer).
function _M.quick_replies(text, labels, opts)
  check_text("quick_replies", "text", text)
  if type(labels) ~= "table" or #labels == 0 then fail("quick_replies", "labels must be a non-empty array") end
  for _, l in ipairs(labels) do
    if type(l) ~= "string" then fail("quick_replies", "labels must be strings") end
  end
  return _M.buttons(text, labels, opts)
end

local MEDIA_OPTS = { text = true, width = true, height = true, attributes = true }

local function media(fn, kind, src, opts, extra)
  check_url(fn, "url", src)
  opts = check_opts(fn, opts, MEDIA_OPTS)
  check_text(fn, "text", opts.text, true)
  check_size(fn, "width", opts.width)
  check_size(fn, "height", opts.height)
  local m = apply(fn, { text = opts.text or "", type = kind, metadata = { src = src, width = opts.width,
    height = opts.height } }, { attributes = opts.attributes })
  if extra then m.metadata.type = extra end
  return m
end

-- An image (opts: text shown with it, width, height, attributes).
function _M.image(url, opts) return media("image", "image", url, opts) end

-- A web page in a frame inside the widget (opts as image).
function _M.frame(url, opts) return media("frame", "frame", url, opts) end

-- A video in a frame (YouTube watch links become embed links, as Tiledesk does).
function _M.video(url, opts)
  if type(url) == "string" then url = _M.youtube_embed(url) end
  return media("video", "frame", url, opts, "video")
end

local FILE_OPTS = { name = true, mime = true, size = true, text = true, attributes = true }

-- A file attachment: metadata { name, src, type = mime, size }; text defaults to the markdown link
-- "[name](url)" that the widget and the channel connectors show.
function _M.file(url, opts)
  check_url("file", "url", url)
  opts = check_opts("file", opts, FILE_OPTS)
  local name = opts.name or url:match("([^/?#]+)[^/]*$") or "file"
  check_text("file", "name", name)
  check_text("file", "mime", opts.mime, true)
  check_text("file", "text", opts.text, true)
  check_size("file", "size", opts.size)
  local mime = opts.mime or "application/octet-stream"
  local kind = mime:match("^image/") and "image" or "file"
  return apply("file", { text = opts.text or ("[" .. name .. "](" .. url .. ")"), type = kind,
    metadata = { name = name, src = url, type = mime, size = opts.size } }, { attributes = opts.attributes })
end

local function merged(fn, field, m, t)
  if type(m) ~= "table" then fail(fn, "message must be a table") end
  if type(t) ~= "table" then fail(fn, field .. " must be a table") end
  local out = copy(m)
  out[field] = out[field] or {}
  for k, v in pairs(t) do out[field][k] = copy(v) end
  return out
end

-- A copy of m with attributes merged in (a buttons message keeps its attachment unless replaced).
function _M.with_attributes(m, attributes) return merged("with_attributes", "attributes", m, attributes) end

-- A copy of m with metadata merged in.
function _M.with_metadata(m, metadata) return merged("with_metadata", "metadata", m, metadata) end

-- The message to send for a reply: a string is a text message, a table is used as it is (a copy).
function _M.from(v)
  if type(v) == "string" then return { text = v, type = "text" } end
  if type(v) == "table" then return copy(v) end
  error("tiledesk.message.from(): a string or a message table expected, got " .. type(v), 2)
end

-- The intent-answer text format ----------------------------------------------------------------

function _M.youtube_embed(url)
  local prefix = "https://www.youtube.com/watch?v="
  if url:sub(1, #prefix) ~= prefix then return url end
  local id = url:match("[?&]v=([^&#]+)")
  return id and ("https://www.youtube.com/embed/" .. id) or url
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Removes the first occurrence of piece from text (plain), as JavaScript's replace(string, "").
local function remove_first(text, piece)
  local i, j = text:find(piece, 1, true)
  if not i then return text end
  return text:sub(1, i - 1) .. text:sub(j + 1)
end

-- Each line of text with its start position.
local function lines(text)
  local out, pos = {}, 1
  for _ = 1, #text + 1 do
    local nl = text:find("\n", pos, true)
    out[#out + 1] = text:sub(pos, (nl or #text + 1) - 1)
    if not nl then break end
    pos = nl + 1
  end
  return out
end

-- The first line starting with prefix (plain).
local function first_line(text, prefix)
  for _, l in ipairs(lines(text)) do
    if l:sub(1, #prefix) == prefix then return l end
  end
  return nil
end

-- "tdImage,w100 h50:https://x/y.png" -> tag "tdImage,w100 h50", url (the last ":http" splits)
local function tag_line(text, tag)
  for _, l in ipairs(lines(text)) do
    if l:sub(1, #tag) == tag then
      local split
      local from = #tag + 1
      for _ = 1, #l do
        local i = l:find(":http", from, true)
        if not i then break end
        split, from = i, i + 1
      end
      if split then return l:sub(1, split - 1) .. ":" .. l:sub(split + 1), l:sub(1, split - 1), l:sub(split + 1) end
    end
  end
  return nil
end

-- width and height from a tag's ",w100 h50" suffix (zero or absent: not set)
local function tag_size(tag)
  local after = tag:match(".*,(.*)$")
  if not after then return nil, nil end
  local w, h = after:match("^%s*w(%d+)%s*h(%d+)")
  if not w then
    w = after:match("^%s*w(%d+)")
    if not w then h = after:match("^%s*h(%d+)") end
  end
  w, h = tonumber(w), tonumber(h)
  return (w and w > 0) and w or nil, (h and h > 0) and h or nil
end

local function parse_button(s)
  local function action(tag, rest_pattern, echo)
    local i, j = s:find(tag, 1, true)
    if not i then return nil end
    local arg = s:sub(j + 1):match(rest_pattern)
    if not arg then return nil end
    local whole = tag .. arg
    return { type = "action", value = trim(remove_first(s, whole)), action = trim(arg), show_echo = echo }
  end
  local b = action("tdAction:", "^%S+", false) or action("tdActionShowEcho:", "^%S+", true)
    or action("tdIntent:", "^.+", true) or action("tdIntentNoEcho:", "^%S+", false)
  if b then return b end
  for _, v in ipairs({ { "%s<%s(https?://%S*)", "parent" }, { "%s>%s(https?://%S*)", "self" },
    { "%s(https?://%S*)", "blank" } }) do
    local i, j, link = s:find(v[1])
    if i then
      return { type = "url", value = trim(s:sub(1, i - 1) .. s:sub(j + 1)), link = link, target = v[2] }
    end
  end
  return { type = "text", value = s }
end

-- Parses an intent answer written in Tiledesk's text format into a message:
--   "* label" lines           buttons (a URL after the label: link button, "< URL" opens it in the
--                             parent page, "> URL" in the widget; "tdIntent:name",
--                             "tdIntentNoEcho:name", "tdAction:name", "tdActionShowEcho:name":
--                             action buttons)
--   tdImage[,wW hH]:URL       an image          \image:[W-H:]URL   the older image line
--   tdFrame[,wW hH]:URL       a frame           tdVideo[,wW hH]:URL a video (frame)
--   \webhook[:URL]            asks the bot's webhook to handle the answer (second result)
-- Returns the message and the webhook value (true, a URL, or nil).
function _M.parse(text)
  if type(text) ~= "string" then
    error("tiledesk.message.parse(): text must be a string, got " .. type(text), 2)
  end
  text = text:gsub("\r\n", "\n")
  local m = { text = text, type = "text" }

  local legacy = first_line(text, "\\image:")
  if legacy then
    text = trim(remove_first(text, legacy))
    local src = legacy:sub(8)
    local w, h = 200, 200
    local ws, hs, rest = src:match("^(%d*)%-(%d*):(.*)$")
    if ws then w, h, src = ws, hs, rest end
    m.text, m.type, m.metadata = text, "image", { src = src, width = w, height = h }
  end

  for _, t in ipairs({ { "tdImage", "image" }, { "tdFrame", "frame" }, { "tdVideo", "frame", "video" } }) do
    local whole, tag, src = tag_line(text, t[1])
    if whole then
      text = trim(remove_first(text, whole))
      if t[3] then src = _M.youtube_embed(src) end
      local w, h = tag_size(tag)
      m.text, m.type, m.metadata = text, t[2], { src = src, width = w, height = h, type = t[3] }
    end
  end

  local buttons, kept = {}, {}
  for _, l in ipairs(lines(text)) do
    if l:match("^%*%s") then
      buttons[#buttons + 1] = parse_button(trim(l:gsub("^%*%s+", "")))
      kept[#kept + 1] = ""
    else
      kept[#kept + 1] = l
    end
  end
  if #buttons > 0 then
    text = trim(table.concat(kept, "\n"))
    m.text = text
    m.attributes = m.attributes or {}
    m.attributes.attachment = { type = "template", buttons = buttons }
  end

  local webhook
  local wline = first_line(text, "\\webhook:")
  if wline then
    text = trim(remove_first(text, wline))
    m.text, webhook = text, wline:sub(10)
  end
  if first_line(text, "\\webhook") then
    text = trim(remove_first(text, "\\webhook"))
    m.text, webhook = text, true
  end
  return m, webhook
end

-- A message as plain text plus buttons, for channels that show no widget (SMS, WhatsApp...):
-- returns text (media as their URL on a line of their own), and an array of
-- { label, kind = "text"|"url"|"action", value = <text to send back, URL, or action> }.
function _M.to_plain(m)
  if type(m) ~= "table" then error("tiledesk.message.to_plain(): message must be a table", 2) end
  local parts = {}
  if type(m.text) == "string" and m.text ~= "" then parts[#parts + 1] = m.text end
  local md = type(m.metadata) == "table" and m.metadata or nil
  if md and type(md.src) == "string" and not (type(m.text) == "string" and m.text:find(md.src, 1, true)) then
    parts[#parts + 1] = md.src
  end
  local out = {}
  local att = type(m.attributes) == "table" and m.attributes.attachment
  if type(att) == "table" and type(att.buttons) == "table" then
    for _, b in ipairs(att.buttons) do
      if is_button(b) then
        if b.type == "url" then
          out[#out + 1] = { label = b.value, kind = "url", value = b.link }
        elseif b.type == "action" then
          out[#out + 1] = { label = b.value, kind = "action", value = b.action }
        else
          out[#out + 1] = { label = b.value, kind = "text", value = b.value }
        end
      end
    end
  end
  return table.concat(parts, "\n"), out
end

return _M
