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
    ["tiledesk.auth"] = "lua/tiledesk/auth.lua",
    ["tiledesk.batch"] = "lua/tiledesk/batch.lua",
    ["tiledesk.batch_ngx"] = "lua/tiledesk/batch_ngx.lua",
    ["tiledesk.bot"] = "lua/tiledesk/bot.lua",
    ["tiledesk.bot_nginx"] = "lua/tiledesk/bot_nginx.lua",
    ["tiledesk.check"] = "lua/tiledesk/check.lua",
    ["tiledesk.cli"] = "lua/tiledesk/cli.lua",
    ["tiledesk.client"] = "lua/tiledesk/client.lua",
    ["tiledesk.connector"] = "lua/tiledesk/connector.lua",
    ["tiledesk.credentials"] = "lua/tiledesk/credentials.lua",
    ["tiledesk.crypto"] = "lua/tiledesk/crypto.lua",
    ["tiledesk.csv"] = "lua/tiledesk/csv.lua",
    ["tiledesk.error"] = "lua/tiledesk/error.lua",
    ["tiledesk.filters"] = "lua/tiledesk/filters.lua",
    ["tiledesk.hooks"] = "lua/tiledesk/hooks.lua",
    ["tiledesk"] = "lua/tiledesk/init.lua",
    ["tiledesk.json"] = "lua/tiledesk/json.lua",
    ["tiledesk.jwt"] = "lua/tiledesk/jwt.lua",
    ["tiledesk.log"] = "lua/tiledesk/log.lua",
    ["tiledesk.message"] = "lua/tiledesk/message.lua",
    ["tiledesk.multipart"] = "lua/tiledesk/multipart.lua",
    ["tiledesk.options"] = "lua/tiledesk/options.lua",
    ["tiledesk.pager"] = "lua/tiledesk/pager.lua",
    ["tiledesk.ratelimit"] = "lua/tiledesk/ratelimit/init.lua",
    ["tiledesk.ratelimit.memory"] = "lua/tiledesk/ratelimit/memory.lua",
    ["tiledesk.ratelimit.redis"] = "lua/tiledesk/ratelimit/redis.lua",
    ["tiledesk.ratelimit.shared_dict"] = "lua/tiledesk/ratelimit/shared_dict.lua",
    ["tiledesk.redact"] = "lua/tiledesk/redact.lua",
    ["tiledesk.resources.activities"] = "lua/tiledesk/resources/activities.lua",
    ["tiledesk.resources.analytics"] = "lua/tiledesk/resources/analytics.lua",
    ["tiledesk.resources.answered"] = "lua/tiledesk/resources/answered.lua",
    ["tiledesk.resources.bots"] = "lua/tiledesk/resources/bots.lua",
    ["tiledesk.resources.campaigns"] = "lua/tiledesk/resources/campaigns.lua",
    ["tiledesk.resources.canned"] = "lua/tiledesk/resources/canned.lua",
    ["tiledesk.resources.departments"] = "lua/tiledesk/resources/departments.lua",
    ["tiledesk.resources.emails"] = "lua/tiledesk/resources/emails.lua",
    ["tiledesk.resources.events"] = "lua/tiledesk/resources/events.lua",
    ["tiledesk.resources.faqs"] = "lua/tiledesk/resources/faqs.lua",
    ["tiledesk.resources.files"] = "lua/tiledesk/resources/files.lua",
    ["tiledesk.resources.groups"] = "lua/tiledesk/resources/groups.lua",
    ["tiledesk.resources"] = "lua/tiledesk/resources/init.lua",
    ["tiledesk.resources.kb"] = "lua/tiledesk/resources/kb.lua",
    ["tiledesk.resources.kb_questions"] = "lua/tiledesk/resources/kb_questions.lua",
    ["tiledesk.resources.keys"] = "lua/tiledesk/resources/keys.lua",
    ["tiledesk.resources.labels"] = "lua/tiledesk/resources/labels.lua",
    ["tiledesk.resources.leads"] = "lua/tiledesk/resources/leads.lua",
    ["tiledesk.resources.logs"] = "lua/tiledesk/resources/logs.lua",
    ["tiledesk.resources.messages"] = "lua/tiledesk/resources/messages.lua",
    ["tiledesk.resources.namespaces"] = "lua/tiledesk/resources/namespaces.lua",
    ["tiledesk.resources.projects"] = "lua/tiledesk/resources/projects.lua",
    ["tiledesk.resources.properties"] = "lua/tiledesk/resources/properties.lua",
    ["tiledesk.resources.quotes"] = "lua/tiledesk/resources/quotes.lua",
    ["tiledesk.resources.requests"] = "lua/tiledesk/resources/requests.lua",
    ["tiledesk.resources.roles"] = "lua/tiledesk/resources/roles.lua",
    ["tiledesk.resources.segments"] = "lua/tiledesk/resources/segments.lua",
    ["tiledesk.resources.subscriptions"] = "lua/tiledesk/resources/subscriptions.lua",
    ["tiledesk.resources.tables"] = "lua/tiledesk/resources/tables.lua",
    ["tiledesk.resources.tags"] = "lua/tiledesk/resources/tags.lua",
    ["tiledesk.resources.team"] = "lua/tiledesk/resources/team.lua",
    ["tiledesk.resources.triggers"] = "lua/tiledesk/resources/triggers.lua",
    ["tiledesk.resources.unanswered"] = "lua/tiledesk/resources/unanswered.lua",
    ["tiledesk.resources.users"] = "lua/tiledesk/resources/users.lua",
    ["tiledesk.resources.webhooks"] = "lua/tiledesk/resources/webhooks.lua",
    ["tiledesk.resources.widgets"] = "lua/tiledesk/resources/widgets.lua",
    ["tiledesk.response"] = "lua/tiledesk/response.lua",
    ["tiledesk.retry"] = "lua/tiledesk/retry.lua",
    ["tiledesk.routes"] = "lua/tiledesk/routes.lua",
    ["tiledesk.send"] = "lua/tiledesk/send.lua",
    ["tiledesk.time"] = "lua/tiledesk/time.lua",
    ["tiledesk.transport.curl"] = "lua/tiledesk/transport/curl.lua",
    ["tiledesk.transport.ngx"] = "lua/tiledesk/transport/ngx.lua",
    ["tiledesk.url"] = "lua/tiledesk/url.lua",
    ["tiledesk.util"] = "lua/tiledesk/util.lua",
    ["tiledesk.webhook"] = "lua/tiledesk/webhook.lua",
    -- LUA MODULES END
  },
  install = {
    bin = { tiledesk = "bin/tiledesk" },
  },
  -- LuaLS annotations (---@meta), for editors: point workspace.library at <rock dir>/types
  copy_directories = { "types" },
}
test = {
  type = "busted",
}
