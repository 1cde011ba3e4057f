-- tiledesk.cli: the `tiledesk` command (bin/tiledesk) over the SDK, for people who automate from
-- the shell. M.main(argv, io_) runs one command and returns its exit status:
--   0 done, 1 a runtime failure (the server or the network said no), 2 misuse (bad arguments,
--   missing or unsafe credentials: nothing was sent), 130 interrupted (Ctrl-C).
-- io_ (for the specs) may replace stdout, stderr, getenv, home and is_tty.
local tiledesk = require("tiledesk")
local csv = require("tiledesk.csv")
local json = require("tiledesk.json")

local has_time, time = pcall(require, "tiledesk.time")
if not has_time then time = nil end

local unpack = rawget(table, "unpack") or rawget(_G, "unpack")

local M = {}

M.EXIT = { ok = 0, failure = 1, usage = 2, interrupted = 130 }

M.USAGE = [=[
usage: tiledesk [options] COMMAND [ARGS]

Commands:
  whoami                                  the signed-in user and the project
  conversations list                      open conversations (--status, --limit, --dept)
  conversations show ID                   one conversation with its messages
  conversations close ID                  close a conversation
  conversations export [--out FILE]       every conversation (--status, --since, --until,
                                          --messages), as CSV (or --json), with progress
  messages send ID TEXT                   send a text message to a conversation
  leads import FILE                       create or update leads from a CSV file (column
                                          email; fullname, phone, company; others become
                                          attributes); a rerun changes nothing
  leads export [--out FILE]               every lead, as CSV (or --json), with progress
  bots export ID [--out FILE]             a chatbot as JSON
  bots import FILE [--bot ID [--replace]] a chatbot from exported JSON: a new bot, or into bot ID
                                          (--replace: its old intents go first)
  api METHOD PATH [JSON]                  any call; PATH is under the project unless --global

Options:
  --json                one JSON object per line        --csv      CSV (lists and exports)
  --timezone ZONE       dates in ZONE (IANA name, UTC or +hh:mm; default TILEDESK_TIMEZONE or UTC)
  --profile NAME        credentials from NAME in the credentials file (default: the environment,
                        else the profile "default")
  --out FILE            write to FILE instead of stdout  --resume   continue an interrupted export
  --status S            open (default for list), closed, all, or codes like 100,200
  --since DATE --until DATE   ISO 8601 dates (inclusive)
  --limit N             at most N items (list: default 20)   --page-size N  items a request (100)
  --dept ID             one department          --messages   exports carry each transcript
  --global              api: the path is not under the project
  --log                 one line per HTTP call on stderr    --quiet  no progress
  -h, --help            this text               --version  the version

Credentials: TILEDESK_URL, TILEDESK_PROJECT_ID, TILEDESK_TOKEN or TILEDESK_EMAIL and
TILEDESK_PASSWORD, TILEDESK_TIMEZONE; or a profile in $TILEDESK_CREDENTIALS (default
~/.config/tiledesk/credentials), an INI file readable by you alone (chmod 600):
  [default]
  url = https://api.tiledesk.com/v3
  project_id = 65a1b2c3d4e5f60718293a4b
  email = me@example.com
  password = ...
Exit status: 0 done, 1 runtime failure, 2 misuse, 130 interrupted.]=]

-- Raised inside a command: { exit = n, msg = "..." }.
local function quit(code, msg) error({ exit = code, msg = msg }, 0) end
local function misuse(msg) quit(2, msg) end
local function failure(msg) quit(1, msg) end

-- Options: name -> "flag" | "value"; COMMANDS say which they take.
local OPTS = {
  json = "flag", csv = "flag", timezone = "value", profile = "value", out = "value", resume = "flag",
  status = "value", since = "value", ["until"] = "value", limit = "value", page_size = "value", dept = "value",
  messages = "flag", global = "flag", log = "flag", quiet = "flag", help = "flag", version = "flag", bot = "value",
  replace = "flag",
}
local COMMON = { json = true, timezone = true, profile = true, log = true, quiet = true, help = true, version = true }

local function parse_args(argv)
  local opts, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" then a = "--help" end
    if a == "--" then
      for j = i + 1, #argv do pos[#pos + 1] = argv[j] end
      break
    end
    local name, inline = a:match("^%-%-([%w%-]+)=(.*)$")
    name = name or a:match("^%-%-([%w%-]+)$")
    if name then
      local key = name:gsub("%-", "_")
      local kind = OPTS[key]
      if not kind then misuse("unknown option --" .. name) end
      if kind == "flag" then
        if inline then misuse("--" .. name .. " takes no value") end
        opts[key] = true
      else
        local v = inline
        if v == nil then
          i = i + 1
          v = argv[i]
        end
        if v == nil then misuse("--" .. name .. " needs a value") end
        opts[key] = v
      end
    elseif a:match("^%-.") and not a:match("^%-%d") then
      misuse("unknown option " .. a)
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return opts, pos
end

-- Credentials --------------------------------------------------------------------------------

local PROFILE_KEYS = { url = "TILEDESK_URL", project_id = "TILEDESK_PROJECT_ID", email = "TILEDESK_EMAIL",
  password = "TILEDESK_PASSWORD", token = "TILEDESK_TOKEN", timezone = "TILEDESK_TIMEZONE" }

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The permission bits of a file (a number), or nil when it cannot be read.
local function file_mode(path)
  local p = io.popen("stat -L -c %a " .. shell_quote(path) .. " 2>/dev/null")
  if not p then return nil end
  local out = p:read("*a") or ""
  p:close()
  local m = out:match("^(%d+)")
  return m and tonumber(m, 8) or nil
end

local function credentials_path(env)
  local p = env.getenv("TILEDESK_CREDENTIALS")
  if p and p ~= "" then return p end
  local xdg = env.getenv("XDG_CONFIG_HOME")
  if xdg and xdg ~= "" then return xdg .. "/tiledesk/credentials" end
  local home = env.home or env.getenv("HOME")
  if not home or home == "" then return nil end
  return home .. "/.config/tiledesk/credentials"
end

-- The profile `name` of the credentials file, or nil when the file does not exist (and
-- `optional`). Refuses a file that group or others may read or write, as ssh does.
local function load_profile(env, name, optional)
  local path = credentials_path(env)
  if not path then
    if optional then return nil end
    misuse("no credentials file: set TILEDESK_CREDENTIALS or HOME")
  end
  local f = io.open(path, "rb")
  if not f then
    if optional then return nil end
    misuse("no credentials file " .. path .. " (for --profile " .. name .. ")")
  end
  local mode = file_mode(path)
  if not mode or mode % 64 ~= 0 then
    f:close()
    misuse(string.format("credentials file %s is open to others (mode %03o): run chmod 600 %s", path, mode or 0, path))
  end
  local text = f:read("*a")
  f:close()
  local profiles, current, n = {}, nil, 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = line:gsub("\r$", ""):match("^%s*(.-)%s*$")
    if line ~= "" and not line:match("^[#;]") then
      local section = line:match("^%[%s*(.-)%s*%]$")
      if section then
        current = {}
        profiles[section] = current
      else
        local k, v = line:match("^([%w_]+)%s*=%s*(.-)$")
        if not k then misuse(path .. ": line " .. n .. ": expected key = value or [profile]") end
        if not PROFILE_KEYS[k] then
          misuse(path .. ": line " .. n .. ": unknown key " .. k .. " (url, project_id, email, password, token, timezone)")
        end
        if not current then misuse(path .. ": line " .. n .. ": " .. k .. " before any [profile] line") end
        current[k] = v
      end
    end
  end
  local p = profiles[name]
  if not p then
    if optional then return nil end
    misuse("no profile [" .. name .. "] in " .. path)
  end
  return p, path
end

-- The client, and the time zone for dates.
local function make_client(opts, env)
  local getenv = env.getenv
  local source = "the environment"
  local profile_name = opts.profile or env.getenv("TILEDESK_PROFILE")
  if profile_name == "" then profile_name = nil end
  local values
  if profile_name then
    local p, path = load_profile(env, profile_name, false)
    values, source = p, "profile [" .. profile_name .. "] of " .. path
  elseif not (getenv("TILEDESK_PROJECT_ID") or getenv("TILEDESK_TOKEN") or getenv("TILEDESK_EMAIL")) then
    local p, path = load_profile(env, "default", true)
    if p then values, source = p, "profile [default] of " .. path end
  end
  if values then
    getenv = function(var)
      for k, v in pairs(PROFILE_KEYS) do
        if v == var then return values[k] end
      end
      return nil
    end
  end
  local zone = opts.timezone or getenv("TILEDESK_TIMEZONE") or "UTC"
  local cfg = { getenv = function(var) if var == "TILEDESK_TIMEZONE" then return nil end return getenv(var) end,
    log = opts.log and function(line) env.stderr:write(line, "\n") end or nil }
  local known = require("tiledesk.options").CLIENT
  if known.timezone and zone ~= "UTC" and not zone:match("^[+-]%d") then cfg.timezone = zone end
  local c, msg = tiledesk.from_env(cfg)
  if not c then
    msg = msg:gsub("^tiledesk%.from_env%(%): ", "")
    if values then
      for k, v in pairs(PROFILE_KEYS) do msg = msg:gsub(v, k) end
    end
    misuse(msg .. " (credentials from " .. source .. ")")
  end
  return c, zone
end

-- Dates -------------------------------------------------------------------------------------

-- A function that writes a server timestamp in the zone: ISO 8601 with the zone's offset.
local function date_writer(zone)
  local off = zone:match("^[+-]%d%d:?%d%d$")
  if zone == "UTC" or zone == "Z" then zone = nil end
  if zone and not off and not time then
    misuse("--timezone " .. zone .. ": this SDK reads only UTC and +hh:mm offsets")
  end
  local fixed
  if off then
    local sign, h, m = zone:match("^([+-])(%d%d):?(%d%d)$")
    fixed = (tonumber(h) * 3600 + tonumber(m) * 60) * (sign == "-" and -1 or 1)
  elseif zone and time then
    local ok, z = pcall(time.zone, zone)
    if not ok or not z then misuse("--timezone " .. zone .. ": unknown time zone") end
  end
  return function(v)
    if type(v) ~= "string" and type(v) ~= "number" then return v end
    if not zone then
      if time then
        local t = time.parse(v)
        return t and time.format(t) or v
      end
      return v
    end
    local t
    if time then t = time.parse(v) end
    if not t then
      local y, mo, d, h, mi, s, frac = tostring(v):match("^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)(%.?%d*)Z$")
      if not y then return v end
      local days = os.time{ year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = 12 }
        - os.time{ year = 1970, month = 1, day = 1, hour = 12 }
      t = days + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s) + (tonumber("0" .. frac) or 0)
    end
    if fixed then
      local u = t + fixed
      local whole = math.floor(u)
      local ms = math.floor((u - whole) * 1000 + 0.5)
      local sign = fixed < 0 and "-" or "+"
      local a = math.abs(fixed)
      return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03d%s%02d:%02d", ms, sign, math.floor(a / 3600), math.floor(a % 3600 / 60))
    end
    return time.format(t, zone)
  end
end

-- A date given on the command line, checked (ISO 8601 date or date-time).
local function date_arg(name, v)
  if v == nil then return nil end
  if not (v:match("^%d%d%d%d%-%d%d%-%d%d$") or v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d")) then
    misuse("--" .. name .. " " .. v .. ": expected an ISO 8601 date such as 2026-11-30 or 2026-11-30T09:00")
  end
  return v
end

-- Output ------------------------------------------------------------------------------------

local function value_at(rec, path)
  local v = rec
  for part in path:gmatch("[^%.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  return v
end

-- One UTF-8-safe cell of a table: line breaks shown as spaces, cut at `width` characters.
local function cell(v, width)
  local s
  if v == nil or v == json.null then s = ""
  elseif type(v) == "table" then s = json.encode(v) or "?"
  else s = tostring(v) end
  s = s:gsub("[\r\n\t]+", " ")
  local chars = 0
  for _ in s:gmatch("[^\128-\191]") do chars = chars + 1 end
  if chars <= width then return s, chars end
  local out, n = {}, 0
  for ch in s:gmatch("[^\128-\191][\128-\191]*") do
    n = n + 1
    if n >= width then break end
    out[n] = ch
  end
  return table.concat(out) .. "…", width
end

-- A writer of records: table (buffered, then aligned), --json lines or --csv.
-- cols = { { "HEADING", "field.path", date = true, width = n } ... }
local function output(ctx, cols, sink)
  sink = sink or ctx.stdout
  local fmt = ctx.opts.json and "json" or ctx.opts.csv and "csv" or "table"
  local function shaped(rec, for_table)
    local row = {}
    for i, c in ipairs(cols) do
      local v = value_at(rec, c[2])
      if c.date and v ~= nil then v = ctx.date(v) end
      row[i] = v
      if not for_table and (v == nil) then row[i] = json.null end
    end
    return row
  end
  if fmt == "json" then
    return { write = function(_, rec)
      local copy = {}
      for k, v in pairs(rec) do copy[k] = v end
      for _, c in ipairs(cols) do
        if c.date and not c[2]:find("%.") and copy[c[2]] ~= nil then copy[c[2]] = ctx.date(copy[c[2]]) end
      end
      local s = assert(json.encode(copy))
      local ok, err = sink:write(s, "\n")
      if not ok then failure("cannot write: " .. tostring(err)) end
    end, close = function() end }
  elseif fmt == "csv" then
    local names = {}
    for i, c in ipairs(cols) do names[i] = c[2] end
    local w = csv.writer(sink)
    w:write(names)
    return { write = function(_, rec)
      local row = shaped(rec)
      row.n = #cols
      local ok, err = w:write(row)
      if not ok then failure(err) end
    end, close = function() end }
  end
  local rows = {}
  return { write = function(_, rec) rows[#rows + 1] = shaped(rec, true) end, close = function()
    local widths, cells = {}, {}
    for i, c in ipairs(cols) do widths[i] = #c[1] end
    for r, row in ipairs(rows) do
      cells[r] = {}
      for i, c in ipairs(cols) do
        local s, n = cell(row[i], c.width or 40)
        cells[r][i] = { s, n }
        if n > widths[i] then widths[i] = n end
      end
    end
    local function line(parts)
      local out = {}
      for i, p in ipairs(parts) do
        out[i] = i == #parts and p[1] or (p[1] .. string.rep(" ", widths[i] - p[2]))
      end
      sink:write(table.concat(out, "  "), "\n")
    end
    local head = {}
    for i, c in ipairs(cols) do head[i] = { c[1], #c[1] } end
    line(head)
    for _, r in ipairs(cells) do line(r) end
  end }
end

-- Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise.
local function progress(ctx, label)
  local start = ctx.now()
  local last_line, last_draw = -1, -1
  local p = {}
  local function fmt_secs(s)
    s = math.floor(s + 0.5)
    if s >= 3600 then return string.format("%d:%02d:%02d", math.floor(s / 3600), math.floor(s % 3600 / 60), s % 60) end
    return string.format("%d:%02d", math.floor(s / 60), s % 60)
  end
  function p.update(done, total, final)
    if ctx.opts.quiet then return end
    local elapsed = math.max(ctx.now() - start, 0.001)
    local rate = done / elapsed
    if ctx.tty then
      local t = ctx.now()
      if not final and t - last_draw < 0.1 then return end
      last_draw = t
      local bar, tail
      if total and total > 0 then
        local frac = math.min(done / total, 1)
        local n = math.floor(frac * 30 + 0.5)
        bar = "[" .. string.rep("#", n) .. string.rep(".", 30 - n) .. "]"
        local left = rate > 0 and (total - done) / rate or 0
        tail = string.format(" %d/%d %3d%% %.1f/s %s left", done, total, math.floor(frac * 100 + 0.5), rate,
          fmt_secs(math.max(left, 0)))
      else
        bar, tail = "", string.format(" %d %.1f/s", done, rate)
      end
      ctx.stderr:write("\r", label, " ", bar, tail, "\27[K", final and "\n" or "")
    else
      -- a line per page of progress, and the last
      local step = math.max(ctx.page_size or 100, 1)
      if (not final and done - last_line < step) or (final and done == last_line) then return end
      last_line = done
      if total and total > 0 then
        ctx.stderr:write(string.format("%s: %d/%d (%d%%), %.1f/s\n", label, done, total,
          math.floor(math.min(done / total, 1) * 100 + 0.5), rate))
      else
        ctx.stderr:write(string.format("%s: %d, %.1f/s\n", label, done, rate))
      end
    end
  end
  return p
end

-- Commands ----------------------------------------------------------------------------------

local function need(v, what)
  if v == nil or v == "" then misuse("missing " .. what) end
  return v
end

local function check(ok, msg)
  if ok == nil then failure(msg) end
  return ok
end

local function number_opt(ctx, name, default, max)
  local v = ctx.opts[name]
  if v == nil then return default end
  local n = tonumber(v)
  if not n or n < 1 or n ~= math.floor(n) or (max and n > max) then
    misuse("--" .. name:gsub("_", "-") .. " " .. v .. ": expected a whole number from 1" .. (max and (" to " .. max) or ""))
  end
  return n
end

local STATUS = { open = "100,200", closed = "1000", all = "all", unassigned = "100", assigned = "200" }
local function status_opt(v, default)
  v = v or default
  if STATUS[v] then return STATUS[v] end
  if not v:match("^%d+[%d,]*$") then
    misuse("--status " .. v .. ": expected open, closed, all, unassigned, assigned or codes like 100,200")
  end
  return v
end

local CONV_COLS = {
  { "REQUEST_ID", "request_id", width = 100 }, { "STATUS", "status" }, { "CREATED", "createdAt", date = true },
  { "DEPARTMENT", "department.name", width = 20 }, { "LEAD", "lead.fullname", width = 24 },
  { "FIRST_TEXT", "first_text", width = 50 },
}
local MSG_COLS = {
  { "CREATED", "createdAt", date = true }, { "SENDER", "senderFullname", width = 24 }, { "TEXT", "text", width = 80 },
}
local LEAD_COLS = {
  { "ID", "_id" }, { "EMAIL", "email", width = 40 }, { "FULLNAME", "fullname", width = 30 }, { "PHONE", "phone" },
  { "COMPANY", "company" }, { "TAGS", "tags" }, { "ATTRIBUTES", "attributes" }, { "CREATED", "createdAt", date = true },
}
local EXPORT_CONV_COLS = {
  { "request_id", "request_id" }, { "status", "status" }, { "createdAt", "createdAt", date = true },
  { "updatedAt", "updatedAt", date = true }, { "closed_at", "closed_at", date = true },
  { "department", "department.name" }, { "lead_fullname", "lead.fullname" }, { "lead_email", "lead.email" },
  { "participants", "participants" }, { "tags", "tags" }, { "first_text", "first_text" },
}

local function query_of(ctx, default_status)
  local q = { status = status_opt(ctx.opts.status, default_status) }
  if ctx.opts.dept then q.dept_id = ctx.opts.dept end
  local since, till = date_arg("since", ctx.opts.since), date_arg("until", ctx.opts["until"])
  local function dmy(v)
    local y, m, d, rest = v:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T?(.*)$")
    local hm = rest:match("^(%d%d:%d%d)")
    return d .. "/" .. m .. "/" .. y .. (hm and (" " .. hm) or "")
  end
  if since then q.start_date = dmy(since) end
  if till then q.end_date = dmy(till) end
  return q
end

local commands = {}

function commands.whoami(ctx)
  local me = check(ctx.client.users:me())
  local project = ctx.client.projects:get()
  local rec = { email = me.email, name = ((me.firstname or "") .. " " .. (me.lastname or "")):gsub("^%s+", ""):gsub("%s+$", ""),
    user_id = me._id, project_id = ctx.client.project_id, project_name = project and project.name or nil,
    base_url = ctx.client.base_url }
  local out = output(ctx, { { "EMAIL", "email" }, { "NAME", "name" }, { "USER_ID", "user_id" },
    { "PROJECT_ID", "project_id" }, { "PROJECT", "project_name" }, { "URL", "base_url" } })
  out:write(rec)
  out:close()
end

local function conv_list(ctx)
  local limit = number_opt(ctx, "limit", 20)
  local q = query_of(ctx, "open")
  q.max_items = limit
  q.limit = math.min(limit, 100)
  local out = output(ctx, CONV_COLS)
  local ok, err = pcall(function()
    for conv in ctx.client.requests:each(q) do out:write(conv) end
  end)
  if not ok then failure(tostring(err)) end
  out:close()
end

local function conv_show(ctx, id)
  need(id, "the conversation id: tiledesk conversations show ID")
  local conv = check(ctx.client.requests:get(id))
  local msgs = {}
  local ok, err = pcall(function()
    for m in ctx.client.messages:each(id) do msgs[#msgs + 1] = m end
  end)
  if not ok then failure(tostring(err)) end
  if ctx.opts.json then
    local w = output(ctx, { { "", "createdAt", date = true }, { "", "updatedAt", date = true }, { "", "closed_at", date = true } })
    local copy = {}
    for k, v in pairs(conv) do copy[k] = v end
    copy.messages = {}
    for i, m in ipairs(msgs) do
      local c = {}
      for k, v in pairs(m) do c[k] = v end
      c.createdAt = c.createdAt and ctx.date(c.createdAt) or nil
      copy.messages[i] = c
    end
    w:write(copy)
    return
  end
  local fields = { { "request_id", "request_id" }, { "status", "status" }, { "created", "createdAt", date = true },
    { "closed", "closed_at", date = true }, { "department", "department.name" }, { "lead", "lead.fullname" },
    { "email", "lead.email" }, { "participants", "participants" }, { "tags", "tags" }, { "subject", "subject" } }
  for _, f in ipairs(fields) do
    local v = value_at(conv, f[2])
    if f.date and v ~= nil then v = ctx.date(v) end
    if v ~= nil and v ~= json.null then
      ctx.stdout:write(string.format("%-13s %s\n", f[1] .. ":", (cell(v, 200))))
    end
  end
  ctx.stdout:write("\n")
  local out = output(ctx, MSG_COLS)
  for _, m in ipairs(msgs) do out:write(m) end
  out:close()
end

local function conv_close(ctx, id)
  need(id, "the conversation id: tiledesk conversations close ID")
  local conv = check(ctx.client.requests:close(id))
  if ctx.opts.json then
    output(ctx, { { "", "closed_at", date = true } }):write(type(conv) == "table" and conv or { request_id = id })
  else
    ctx.stdout:write("closed ", id, "\n")
  end
end

-- Reads what an interrupted export left in `path`: the ids of its whole records and the byte
-- length they take; a partial last record (the machine stopped mid-write) is cut off.
local function resume_state(path, key, is_json)
  local f = io.open(path, "rb")
  if not f then return nil end
  local seen, n, keep = {}, 0, 0
  if is_json then
    local pos = 0
    for line in f:lines() do
      local rec = json.decode(line)
      if type(rec) ~= "table" then break end
      pos = pos + #line + 1
      keep = pos
      if rec[key] then seen[tostring(rec[key])] = true end
      n = n + 1
    end
  else
    local r = csv.reader(f, { name = path })
    local header = r:next()
    if header then
      keep = r:offset()
      local col
      for i, h in ipairs(header) do if h == key then col = i end end
      if not col then
        f:close()
        misuse("--resume: " .. path .. " has no column " .. key .. ": not an export of this kind")
      end
      while true do
        local row = r:next()
        if not row or #row ~= #header then break end
        local o = r:offset()
        -- a record counts when its line break was written too
        seen[row[col]] = true
        n = n + 1
        keep = o
      end
    end
  end
  f:close()
  return seen, n, keep
end

local function truncate(path, size)
  local f = assert(io.open(path, "rb"))
  local len = f:seek("end")
  f:close()
  if len == size then return end
  if not os.execute("truncate -s " .. math.floor(size) .. " " .. shell_quote(path)) then
    failure("--resume: cannot cut the partial record off " .. path)
  end
end

-- Opens the export's output: stdout, a new file, or (--resume) the file to append to.
local function open_out(ctx, key)
  local path = ctx.opts.out
  if ctx.opts.resume and not path then misuse("--resume needs --out FILE") end
  if not path then return ctx.stdout, nil, {}, 0 end
  local seen, n = {}, 0
  if ctx.opts.resume then
    local s, count, keep = resume_state(path, key, ctx.opts.json)
    if s then
      seen, n = s, count
      truncate(path, keep)
      local f, err = io.open(path, keep > 0 and "ab" or "wb")
      if not f then failure("cannot write " .. path .. ": " .. tostring(err)) end
      return f, path, seen, n, keep > 0
    end
  end
  local f, err = io.open(path, "wb")
  if not f then failure("cannot write " .. path .. ": " .. tostring(err)) end
  return f, path, seen, n, false
end

-- Streams a paginated list to a file (CSV or JSON lines) with progress; --resume skips the ids
-- already written. fetch(q) returns a pager; extend(item) may add fields (the transcript).
local function export(ctx, label, key, cols, pager, extend)
  local f, path, seen, already, appending = open_out(ctx, key)
  ctx.cleanup[#ctx.cleanup + 1] = function()
    if path then f:close() end
  end
  ctx.out_path, ctx.written = path, already
  local write
  if ctx.opts.json then
    write = function(rec)
      local copy = {}
      for k, v in pairs(rec) do copy[k] = v end
      for _, c in ipairs(cols) do
        if c.date and copy[c[2]] ~= nil then copy[c[2]] = ctx.date(copy[c[2]]) end
      end
      local ok, err = f:write(assert(json.encode(copy)), "\n")
      if not ok then failure("cannot write " .. tostring(path) .. ": " .. tostring(err)) end
    end
  else
    local names = {}
    for i, c in ipairs(cols) do names[i] = c[1] end
    local w = csv.writer(f, { columns = names, header = not appending })
    write = function(rec)
      local row = {}
      for _, c in ipairs(cols) do
        local v = value_at(rec, c[2])
        if c.date and v ~= nil then v = ctx.date(v) end
        row[c[1]] = v
      end
      local ok, err = w:write(row)
      if not ok then failure(err .. " (" .. tostring(path or "stdout") .. ")") end
    end
  end
  if path then f:flush() end
  local bar = progress(ctx, label)
  local done, total = already, nil
  while true do
    local page, msg = pager:next()
    if page == nil then
      if msg then failure(msg) end
      break
    end
    total = page.count or total
    for _, item in ipairs(page.items) do
      local id = item[key] and tostring(item[key])
      if not (id and seen[id]) then
        if extend then extend(item) end
        write(item)
        if path then f:flush() end
        done = done + 1
        ctx.written = done
      end
    end
    bar.update(done, total)
  end
  bar.update(done, total or done, true)
  if path then
    f:close()
    ctx.cleanup[#ctx.cleanup] = nil
    if not ctx.opts.quiet then
      ctx.stderr:write(string.format("%s: %d records in %s%s\n", label, done, path,
        already > 0 and string.format(" (%d were there already)", already) or ""))
    end
  end
end

local function conv_export(ctx)
  ctx.page_size = number_opt(ctx, "page_size", 100, 100)
  local q = query_of(ctx, "all")
  q.limit = ctx.page_size
  q.sort, q.direction = "createdAt", 1
  local cols = {}
  for i, c in ipairs(EXPORT_CONV_COLS) do cols[i] = c end
  local extend
  if ctx.opts.messages then
    cols[#cols + 1] = { "messages", "messages" }
    extend = function(conv)
      local list = {}
      local ok, err = pcall(function()
        for m in ctx.client.messages:each(conv.request_id) do
          list[#list + 1] = { createdAt = m.createdAt and ctx.date(m.createdAt), sender = m.sender,
            senderFullname = m.senderFullname, type = m.type, text = m.text }
        end
      end)
      if not ok then failure(tostring(err)) end
      conv.messages = tiledesk.array(list)
    end
  end
  export(ctx, "conversations export", "request_id", cols, ctx.client.requests:pages(q), extend)
end

local function messages_send(ctx, id, text, extra)
  need(id, "the conversation id: tiledesk messages send ID TEXT")
  need(text, "the text: tiledesk messages send ID TEXT")
  if extra then misuse("too many arguments: quote the text") end
  local m = check(ctx.client.messages:send_text(id, text))
  if ctx.opts.json then
    output(ctx, { { "", "createdAt", date = true } }):write(m)
  else
    ctx.stdout:write("sent ", tostring(m._id or ""), " to ", id, "\n")
  end
end

local function leads_import(ctx, path)
  need(path, "the CSV file: tiledesk leads import FILE")
  local f, err = io.open(path, "rb")
  if not f then misuse("cannot read " .. path .. ": " .. tostring(err)) end
  -- first pass: check the file whole and count, so a bad line loses nothing
  local total = 0
  local ok, perr = pcall(function()
    local iter, header = csv.records(f, { name = path })
    local has_email = false
    for _, h in ipairs(header or {}) do if h == "email" then has_email = true end end
    if header and not has_email then error(path .. ": line 1: no email column", 0) end
    for rec, line in iter do
      if rec.email == "" then error(path .. ": line " .. line .. ": no email", 0) end
      total = total + 1
    end
  end)
  f:close()
  if not ok then misuse(tostring(perr)) end
  f = assert(io.open(path, "rb"))
  ctx.cleanup[#ctx.cleanup + 1] = function() f:close() end
  ctx.page_size = 10
  local bar = progress(ctx, "leads import")
  local counts = { created = 0, updated = 0, unchanged = 0 }
  local done = 0
  for rec in csv.records(f, { name = path }) do
    -- one idempotent upsert a record (SDK: leads:upsert), found by email
    local lead, what = ctx.client.leads:upsert(ctx.client.leads:from_row(rec))
    if not lead then failure(what) end
    counts[what] = counts[what] + 1
    done = done + 1
    bar.update(done, total)
  end
  bar.update(done, total, true)
  f:close()
  ctx.cleanup[#ctx.cleanup] = nil
  if ctx.opts.json then
    ctx.stdout:write(assert(json.encode{ created = counts.created, updated = counts.updated,
      unchanged = counts.unchanged, total = total }), "\n")
  else
    ctx.stdout:write(string.format("%d created, %d updated, %d unchanged (%d in %s)\n", counts.created,
      counts.updated, counts.unchanged, total, path))
  end
end

local function leads_export(ctx)
  ctx.page_size = number_opt(ctx, "page_size", 100, 100)
  local cols = {}
  for i, c in ipairs(LEAD_COLS) do cols[i] = { c[2], c[2], date = c.date } end
  export(ctx, "leads export", "_id", cols, ctx.client.leads:pages{ limit = ctx.page_size, sort = "createdAt", direction = 1 })
end

local function write_text(ctx, text)
  local path = ctx.opts.out
  if not path then
    ctx.stdout:write(text, text:sub(-1) == "\n" and "" or "\n")
    return
  end
  local f, err = io.open(path, "wb")
  if not f then failure("cannot write " .. path .. ": " .. tostring(err)) end
  f:write(text)
  f:close()
end

local function bots_export(ctx, id)
  need(id, "the bot id: tiledesk bots export ID")
  local v = check(ctx.client.bots:export(id))
  local text = type(v) == "string" and v or assert(json.encode(v))
  write_text(ctx, text)
end

local function bots_import(ctx, path)
  need(path, "the JSON file: tiledesk bots import FILE")
  local f, err = io.open(path, "rb")
  if not f then misuse("cannot read " .. path .. ": " .. tostring(err)) end
  local text = f:read("*a")
  f:close()
  local v = json.decode(text)
  if type(v) ~= "table" then misuse(path .. " is not a JSON object (a bot exported with tiledesk bots export)") end
  local bots = ctx.client.bots
  if type(bots.import) ~= "function" then
    failure("bots import: this SDK version cannot import bots (no bots:import)")
  end
  if ctx.opts.replace and not ctx.opts.bot then misuse("bots import: --replace needs --bot ID") end
  local how = ctx.opts.bot and { bot_id = ctx.opts.bot, replace = ctx.opts.replace or nil } or { create = true }
  local res = check(bots:import(text, how))
  if ctx.opts.json then
    ctx.stdout:write(assert(json.encode(res)), "\n")
  else
    ctx.stdout:write("imported ", tostring(type(res) == "table" and (res._id or res.id) or ""), " ",
      tostring(type(res) == "table" and res.name or ""), "\n")
  end
end

local METHODS = { GET = true, POST = true, PUT = true, PATCH = true, DELETE = true }

local function api(ctx, method, path, body, extra)
  method = need(method, "the method: tiledesk api METHOD PATH [JSON]"):upper()
  if not METHODS[method] then misuse("api: method " .. method .. ": expected GET, POST, PUT, PATCH or DELETE") end
  need(path, "the path: tiledesk api METHOD PATH [JSON]")
  if extra then misuse("api: too many arguments: the JSON body is one argument (quote it)") end
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  local p, qs = path:match("^([^?]*)%??(.*)$")
  local query
  if qs ~= "" then
    query = {}
    for pair in qs:gmatch("[^&]+") do
      local k, v = pair:match("^([^=]*)=?(.*)$")
      local function dec(s) return (s:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)) end
      query[dec(k)] = dec(v)
    end
  end
  local decoded
  if body ~= nil then
    local derr
    decoded, derr = json.decode(body)
    if decoded == nil then misuse("api: the body is not JSON: " .. tostring(derr)) end
  end
  local v = check(ctx.client:call("api " .. method .. " " .. p, { method = method, path = p, query = query,
    body = decoded, project = not ctx.opts.global }))
  if v == true then return end
  ctx.stdout:write(type(v) == "string" and v or assert(json.encode(v)), "\n")
end

local TABLE = {
  whoami = { run = commands.whoami, opts = {} },
  conversations = {
    list = { run = conv_list, opts = { csv = true, status = true, limit = true, dept = true, since = true, ["until"] = true } },
    show = { run = conv_show, opts = {} },
    close = { run = conv_close, opts = {} },
    export = { run = conv_export, opts = { csv = true, out = true, resume = true, status = true, since = true,
      ["until"] = true, dept = true, messages = true, page_size = true } },
  },
  messages = { send = { run = messages_send, opts = {} } },
  leads = {
    import = { run = leads_import, opts = {} },
    export = { run = leads_export, opts = { csv = true, out = true, resume = true, page_size = true } },
  },
  bots = {
    export = { run = bots_export, opts = { out = true } },
    import = { run = bots_import, opts = { bot = true, replace = true } },
  },
  api = { run = api, opts = { global = true } },
}

local function names_of(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return table.concat(out, ", ")
end

-- The command of the positional arguments: entry, its name, the remaining arguments.
local function find_command(pos)
  local first = pos[1]
  if not first then misuse("no command (tiledesk --help lists them)") end
  local entry = TABLE[first]
  if not entry then misuse("unknown command " .. first .. " (commands: " .. names_of(TABLE) .. ")") end
  if entry.run then return entry, first, { unpack(pos, 2) } end
  local sub = pos[2]
  if not sub then misuse(first .. ": which one? (" .. names_of(entry) .. ")") end
  local e = entry[sub]
  if not e then misuse(first .. ": unknown command " .. sub .. " (" .. names_of(entry) .. ")") end
  return e, first .. " " .. sub, { unpack(pos, 3) }
end

-- A monotonic-enough clock in seconds (the C core's, else os.clock's CPU time as a fallback).
local function clock()
  local ok, core = pcall(require, "tiledesk.core")
  if ok and core.now_ms then return function() return core.now_ms() / 1000 end end
  return os.clock
end

local function default_tty()
  local r1, _, r3 = os.execute("test -t 2")
  return r1 == true or r1 == 0 or r3 == 0
end

-- Runs the command line argv; returns the exit status.
function M.main(argv, io_)
  io_ = io_ or {}
  local ctx = { stdout = io_.stdout or io.stdout, stderr = io_.stderr or io.stderr, cleanup = {},
    now = io_.now or clock() }
  local env = { getenv = io_.getenv or os.getenv, home = io_.home, stderr = ctx.stderr }
  local function finish()
    for i = #ctx.cleanup, 1, -1 do pcall(ctx.cleanup[i]) end
    ctx.cleanup = {}
    if ctx.client then pcall(ctx.client.close, ctx.client) end
  end
  local ok, err = pcall(function()
    local opts, pos = parse_args(argv)
    ctx.opts = opts
    if opts.help then
      ctx.stdout:write(M.USAGE, "\n")
      return
    end
    if opts.version then
      ctx.stdout:write("tiledesk ", tiledesk._VERSION, "\n")
      return
    end
    local entry, name, args = find_command(pos)
    for k in pairs(opts) do
      if not COMMON[k] and not entry.opts[k] then misuse(name .. ": --" .. k:gsub("_", "-") .. " does not apply") end
    end
    if opts.json and opts.csv then misuse("--json and --csv: choose one") end
    if io_.is_tty ~= nil then ctx.tty = io_.is_tty else ctx.tty = default_tty() end
    local client, zone = make_client(opts, env)
    ctx.client = client
    ctx.date = date_writer(zone)
    entry.run(ctx, unpack(args, 1, math.max(#args, 3) + 1))
  end)
  finish()
  if ok then return M.EXIT.ok end
  if type(err) == "table" and err.exit then
    ctx.stderr:write("tiledesk: ", tostring(err.msg):gsub("\n.*", ""), "\n")
    if err.exit == 2 and not tostring(err.msg):find("--help", 1, true) then
      ctx.stderr:write("tiledesk: run tiledesk --help for the usage\n")
    end
    return err.exit
  end
  local text = tostring(err)
  if text:find("interrupted!", 1, true) then
    if ctx.out_path then
      ctx.stderr:write(string.format("\ntiledesk: interrupted; %s holds %d whole records: run the same command with --resume to go on\n",
        ctx.out_path, ctx.written or 0))
    else
      ctx.stderr:write("\ntiledesk: interrupted\n")
    end
    return M.EXIT.interrupted
  end
  if type(err) == "table" and getmetatable(err) == require("tiledesk.error").Error then
    ctx.stderr:write("tiledesk: ", text:gsub("\n.*", ""), "\n")
    return M.EXIT.failure
  end
  ctx.stderr:write("tiledesk: internal error: ", text:gsub("\n.*", ""), "\n")
  return M.EXIT.failure
end

return M
