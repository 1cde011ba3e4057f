-- transport/ngx.lua without nginx: a scripted stand-in for ngx.socket.tcp (each connection plays
-- back the bytes given to it and records what was sent), so the HTTP/1.1 framing, the pool, the
-- error kinds and the never-twice rule run under Lua 5.4, 5.1 and LuaJIT like the rest.
local credentials = require("tiledesk.credentials")

-- conns: list of { reused = n, reply = "bytes" | nil, connect_err = s, send_err = s, tls_err = s,
--   eof_err = "closed" (what receive says at the end of reply), probe = "timeout" | "closed" }
local function fake_ngx(conns, phase)
  local log = { connects = {}, socks = {} }
  local n = 0
  local ngx = {
    get_phase = function() return phase or "content" end,
    update_time = function() end,
    now = function() return 1000 end,
    sleep = function() end,
    config = { ngx_lua_version = 10023 },
    socket = {},
  }
  function ngx.socket.tcp()
    n = n + 1
    local spec = conns[n] or error("no scripted connection #" .. n)
    local buf = spec.reply or ""
    local s = { spec = spec, sent = {}, kept = nil, closed = false }
    log.socks[n] = s
    function s.settimeouts() end
    function s.connect(_, host, port, opts)
      log.connects[#log.connects + 1] = { host = host, port = port, pool = opts.pool, pool_size = opts.pool_size }
      if spec.connect_err then return nil, spec.connect_err end
      return true
    end
    function s.getreusedtimes() return spec.reused or 0 end
    function s.sslhandshake(_, _, server_name, verify)
      s.sni, s.verify = server_name, verify
      if spec.tls_err then return nil, spec.tls_err end
      return true
    end
    function s.send(_, data)
      if spec.send_err then return nil, spec.send_err end
      s.sent[#s.sent + 1] = data
      return #data
    end
    function s.receive(_, pat)
      if pat == 1 and spec.probe then
        spec.probed = true
        return nil, spec.probe
      end
      if pat == "*l" then
        local i = buf:find("\n", 1, true)
        if not i then
          local partial = buf
          buf = ""
          return nil, spec.eof_err or "closed", partial
        end
        local line = buf:sub(1, i - 1):gsub("\r$", "")
        buf = buf:sub(i + 1)
        return line
      end
      if #buf < pat then
        local partial = buf
        buf = ""
        return nil, spec.eof_err or "closed", partial
      end
      local out = buf:sub(1, pat)
      buf = buf:sub(pat + 1)
      return out
    end
    function s.setkeepalive(_, idle, size) s.kept = { idle = idle, size = size } return true end
    function s.close() s.closed = true return true end
    return s
  end
  return ngx, log
end

local function with_ngx(conns, phase, fn)
  local ngx, log = fake_ngx(conns, phase)
  local old = rawget(_G, "ngx")
  rawset(_G, "ngx", ngx)
  local ok, err = pcall(fn, log)
  rawset(_G, "ngx", old)
  if not ok then error(err, 0) end
  return log
end

local T = require("tiledesk.transport.ngx")

local function new(cfg)
  local t = T.new(cfg or { user_agent = "ua/1" })
  t:set_credentials{ mode = "jwt", token = "tok" }
  return t
end

local OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\nX-A: 2\r\n\r\n{}"

describe("tiledesk.transport.ngx (scripted sockets)", function()
  it("writes one HTTP/1.1 request and reads a content-length answer into the pool", function()
    local log = with_ngx({ { reply = OK } }, nil, function()
      local status, h, body = new():send{ method = "GET", url = "http://api.test:8080/v3/x?a=1",
        headers = { ["x-b"] = "2", authorization = "Basic forged" } }
      assert.equal(200, status)
      assert.equal("{}", body)
      assert.same({ "1", "2" }, h["x-a"])
    end)
    assert.equal("GET /v3/x?a=1 HTTP/1.1\r\nHost: api.test:8080\r\nUser-Agent: ua/1\r\nAccept: */*\r\n"
      .. "x-b: 2\r\nAuthorization: JWT tok\r\n\r\n", log.socks[1].sent[1])
    assert.equal("tiledesk:http:api.test:8080", log.connects[1].pool)
    assert.same({ idle = 10000, size = 32 }, log.socks[1].kept)
  end)

  it("reads chunked bodies (extensions, trailers) and bodies that end at close", function()
    local chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nabcd\r\n3\r\nefg\r\n0\r\nX-T: 1\r\n\r\n"
    local until_close = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello world"
    local log = with_ngx({ { reply = chunked }, { reply = until_close } }, nil, function()
      local t = new()
      local _, _, b1 = t:send{ method = "GET", url = "http://api.test/a" }
      local _, _, b2 = t:send{ method = "GET", url = "http://api.test/b" }
      assert.equal("abcdefg", b1)
      assert.equal("hello world", b2)
    end)
    assert.is_table(log.socks[1].kept)
    assert.is_nil(log.socks[2].kept)
    assert.is_true(log.socks[2].closed)
  end)

  it("skips 1xx answers and closes after an HTTP/1.0 answer without keep-alive", function()
    local reply = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 201 Created\r\nContent-Length: 0\r\n\r\n"
    local log = with_ngx({ { reply = reply } }, nil, function()
      local status = new():send{ method = "POST", url = "http://api.test/a", body = "{}" }
      assert.equal(201, status)
    end)
    assert.matches("Content%-Length: 2\r\n\r\n{}$", log.socks[1].sent[1])
    assert.is_nil(log.socks[1].kept)
  end)

  it("gives too_large past max_body_size, by Content-Length or by chunks", function()
    with_ngx({ { reply = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world" },
      { reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n" } }, nil,
      function()
        local t = new{ max_body_size = 10 }
        local _, msg, err = t:send{ method = "GET", url = "http://api.test/big?token=SECRET" }
        assert.equal("too_large", err.kind)
        assert.equal("GET http://api.test/big: too_large (response larger than max_body_size 10 bytes)", msg)
        local _, _, err2 = t:send{ method = "GET", url = "http://api.test/big" }
        assert.equal("too_large", err2.kind)
      end)
  end)

  it("maps cosocket failures to the curl transport's kinds, with hints", function()
    with_ngx({ { connect_err = "no resolver defined to resolve \"api.test\"" }, { connect_err = "connection refused" },
      { connect_err = "timeout" }, { tls_err = "20: unable to get local issuer certificate" },
      { reply = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", eof_err = "connection reset by peer" } }, nil,
      function()
        local t = new()
        local _, m1, e1 = t:send{ method = "GET", url = "http://api.test/" }
        assert.equal("resolve", e1.kind)
        assert.matches("add a `resolver` directive", m1, 1, true)
        local _, _, e2 = t:send{ method = "GET", url = "http://api.test/" }
        assert.equal("connect", e2.kind)
        local _, _, e3 = t:send{ method = "GET", url = "http://api.test/" }
        assert.equal("timeout", e3.kind)
        local _, m4, e4 = t:send{ method = "GET", url = "https://api.test/" }
        assert.equal("tls", e4.kind)
        assert.matches("lua_ssl_trusted_certificate", m4, 1, true)
        local _, _, e5 = t:send{ method = "GET", url = "http://api.test/" }
        assert.equal("transport", e5.kind)
      end)
  end)

  it("verifies TLS with SNI by default (none for an IP literal), in a pool of its own", function()
    local log = with_ngx({ { reply = OK }, { reply = OK } }, nil, function()
      new():send{ method = "GET", url = "https://api.test/" }
      new{ ssl_verify = false }:send{ method = "GET", url = "https://127.0.0.1:8443/" }
    end)
    assert.equal("api.test", log.socks[1].sni)
    assert.is_true(log.socks[1].verify)
    assert.equal("tiledesk:https:api.test:443:tls:verify", log.connects[1].pool)
    assert.is_nil(log.socks[2].sni)
    assert.is_false(log.socks[2].verify)
    assert.equal("tiledesk:https:127.0.0.1:8443:tls:noverify", log.connects[2].pool)
  end)

  it("never sends a write twice: a reused connection that dies before any answer gives unknown_outcome", function()
    local log = with_ngx({ { reused = 3, probe = "timeout", reply = "" }, { reused = 3, probe = "timeout", reply = "" },
      { reused = 3, probe = "timeout", reply = "" } }, nil, function()
      local t = new()
      local _, msg, err = t:send{ method = "POST", url = "http://api.test/tags", body = "{}" }
      assert.equal("unknown_outcome", err.kind)
      assert.matches("may or may not have reached the server", msg, 1, true)
      -- a call that may not be repeated says so with retry = false (or the core's once = true)
      local _, _, err2 = t:send{ method = "GET", url = "http://api.test/tags", retry = false }
      assert.equal("unknown_outcome", err2.kind)
      local _, _, err3 = t:send{ method = "PUT", url = "http://api.test/tags", once = true }
      assert.equal("unknown_outcome", err3.kind)
    end)
    assert.equal(3, #log.socks)
    for i = 1, 3 do assert.equal(1, #log.socks[i].sent) end
  end)

  it("checks a pooled connection before a write and takes another when it was closed", function()
    local log = with_ngx({ { reused = 1, probe = "closed" }, { reply = OK } }, nil, function()
      local status = new():send{ method = "POST", url = "http://api.test/tags", body = "{}" }
      assert.equal(200, status)
    end)
    assert.is_true(log.socks[1].closed)
    assert.equal(0, #log.socks[1].sent)
    assert.equal(1, #log.socks[2].sent)
  end)

  it("repeats a GET (or a write with retry = true) on a new connection in the same case", function()
    local log = with_ngx({ { reused = 2, reply = "" }, { reply = OK }, { reused = 2, reply = "" }, { reply = OK } }, nil,
      function()
        local t = new()
        assert.equal(200, (t:send{ method = "GET", url = "http://api.test/x" }))
        assert.equal(200, (t:send{ method = "POST", url = "http://api.test/x", retry = true }))
      end)
    assert.equal(4, #log.socks)
  end)

  it("hands 2xx bodies to a sink in pieces of at most 64 KiB; a sink that says no stops with kind sink", function()
    local big = string.rep("x", 150000)
    with_ngx({ { reply = "HTTP/1.1 200 OK\r\nContent-Length: 150000\r\n\r\n" .. big },
      { reply = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n249F0\r\n" .. big .. "\r\n0\r\n\r\n" },
      { reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}" },
      { reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" } }, nil, function()
      local t = new()
      for _ = 1, 2 do
        local pieces = {}
        local status, _, body = t:send{ method = "GET", url = "http://api.test/f",
          sink = function(c) pieces[#pieces + 1] = c end }
        assert.equal(200, status)
        assert.equal("", body)
        assert.equal(3, #pieces)
        assert.equal(big, table.concat(pieces))
      end
      local status, _, body = t:send{ method = "GET", url = "http://api.test/f", sink = function() error("never") end }
      assert.equal(404, status)
      assert.equal("{}", body)
      local _, msg, err = t:send{ method = "GET", url = "http://api.test/f", sink = function() return nil, "disk full" end }
      assert.equal("sink", err.kind)
      assert.matches("disk full", msg, 1, true)
    end)
  end)

  it("fails with kind config in phases without cosockets, naming ngx.timer.at", function()
    with_ngx({}, "log", function()
      local _, msg, err = new():send{ method = "GET", url = "http://api.test/x" }
      assert.equal("config", err.kind)
      assert.matches("'log' phase", msg, 1, true)
      assert.matches("ngx.timer.at", msg, 1, true)
    end)
  end)

  it("raises on misuse and after close", function()
    assert.has_error(function() T.new{ cafile = "/x.pem" } end,
      "tiledesk.transport.ngx.new(): option 'cafile' is not available inside nginx: trust the CA with the "
      .. "lua_ssl_trusted_certificate directive (and lua_ssl_verify_depth)")
    assert.has_error(function() T.new{ pool_size = 0 } end,
      "tiledesk.transport.ngx.new(): option 'pool_size' must be an integer >= 1")
    local t = new()
    t:close()
    t:close()
    assert.has_error(function() t:auth_kind() end, "tiledesk.transport.ngx is closed")
    assert.equal("tiledesk.transport.ngx (closed)", tostring(t))
  end)

  it("uses the credentials module for the wire", function()
    assert.is_function(credentials.new)
    local log = with_ngx({ { reply = OK } }, nil, function()
      local t = T.new{ user_agent = "ua/1" }
      t:set_credentials{ mode = "jwt", email = "a@b.c", password = "p\"w" }
      t:send{ method = "POST", url = "http://api.test/auth/signin", auth = "signin" }
    end)
    assert.matches('Content%-Type: application/json\r\nContent%-Length: 35\r\n\r\n{"email":"a@b.c","password":"p\\"w"}$',
      log.socks[1].sent[1])
  end)

  it("is what tiledesk.new chooses inside nginx; a transport named in the options wins", function()
    local tiledesk = require("tiledesk")
    with_ngx({}, "content", function()
      local c = tiledesk.new{ project_id = "p", token = "JWT x" }
      assert.equal("tiledesk.transport.ngx", getmetatable(c._transport).__name)
      assert.has_error(function() tiledesk.new{ transport = "libcurl" } end,
        "tiledesk.new(): option 'transport' must be \"curl\", \"ngx\" or a transport object (see docs/design.md) (got string)")
      assert.has_error(function() tiledesk.new{ cafile = "/ca.pem" } end,
        "tiledesk.transport.ngx.new(): option 'cafile' is not available inside nginx: trust the CA with the "
        .. "lua_ssl_trusted_certificate directive (and lua_ssl_verify_depth)")
    end)
    local c = tiledesk.new{ project_id = "p", token = "JWT x", transport = "ngx" }
    assert.equal("tiledesk.transport.ngx", getmetatable(c._transport).__name)
  end)
end)
