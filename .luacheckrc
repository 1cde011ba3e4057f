std = "min"
max_line_length = 160
exclude_files = { "build", ".luarocks", "lua_modules", ".sandbox*" }
files["spec"] = { std = "max+busted" }
files["sandbox/lua"] = { std = "luajit", globals = { "ngx" } }
files["lua/tiledesk/transport/ngx.lua"] = { read_globals = { "ngx" } }
files["spec/support/nginx_app.lua"] = { std = "max+busted", globals = { "ngx" } }
files["spec/support/transport_contract.lua"] = { std = "max" }
files["lua/tiledesk/ratelimit/shared_dict.lua"] = { read_globals = { "ngx" } }
files["lua/tiledesk/ratelimit/redis.lua"] = { read_globals = { "ngx" } }
files["lua/tiledesk/batch_ngx.lua"] = { read_globals = { "ngx" } }
