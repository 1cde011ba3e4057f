rockspec_format = "3.0"
package = "tiledesk"
version = "scm-1"
source = {
  url = "git+https://github.com/tiledesk-lua/tiledesk.git",
}
description = {
  summary = "Lua SDK for the Tiledesk REST API, with a libcurl C core",
  detailed = [[
    Drive Tiledesk (open-source live chat and chatbots) from Lua: conversations, messages,
    leads, team, departments, bots, webhooks. Clear errors, pagination iterators, retries that
    never duplicate a write, secrets that never reach a message or a log line.
  ]],
  homepage = "https://github.com/tiledesk-lua/tiledesk",
  license = "MIT",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson",
}
test_dependencies = {
  "busted",
}
external_dependencies = {
  CURL = { library = "curl" },
}
build = {
  type = "builtin",
  modules = {
    ["tiledesk.core"] = {
      sources = { "ext/td_buf.c", "ext/td_core.c" },
      libraries = { "curl" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    -- LUA MODULES BEGIN (kept equal to lua/tiledesk/**.lua by spec/unit/rockspec_spec.lua)
    ["tiledesk"] = "lua/tiledesk/init.lua",
    -- LUA MODULES END
  },
}
test = {
  type = "busted",
}
