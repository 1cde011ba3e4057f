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

/* One user value per userdata: a table (5.1 keeps it as the userdata's environment). */
#if LUA_VERSION_NUM >= 504
#define td_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 1)
#define td_getuservalue(L, i) ((void)lua_getiuservalue((L), (i), 1))
#define td_setuservalue(L, i) ((void)lua_setiuservalue((L), (i), 1))
#elif LUA_VERSION_NUM >= 502
#define td_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define td_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#define td_setuservalue(L, i) lua_setuservalue((L), (i))
#else
#define td_newuserdata(L, sz) lua_newuserdata((L), (sz))
#define td_getuservalue(L, i) lua_getfenv((L), (i))
#define td_setuservalue(L, i) ((void)lua_setfenv((L), (i)))
#endif

#endif
