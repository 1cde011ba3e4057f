/* Lua 5.1 / LuaJIT / 5.2 / 5.3 / 5.4 shims. Names never start with lua_ or luaL_. */
#ifndef TD_COMPAT_H
#define TD_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
#define td_setfuncs(L, l) luaL_register((L), NULL, (l))
#define td_rawlen(L, i) lua_objlen((L), (i))
#else
#define td_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define td_rawlen(L, i) lua_rawlen((L), (i))
#endif

#if LUA_VERSION_NUM >= 504
#define td_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 1)
#else
#define td_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif

#endif
