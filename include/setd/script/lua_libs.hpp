// The libraries Redis 7.0 offers scripts that Debian does not package for
// Lua 5.1: `struct` (Roberto Ierusalimschy's struct 0.2: pack, unpack, size)
// and `cmsgpack` (lua-cmsgpack 0.4.0: pack, unpack, unpack_one,
// unpack_limit). Written for setd from their documented formats; they behave
// as the copies built into redis-server 7.0. (cjson and bit are Debian's.)
//
// Dependency rule (module script): Lua only.
#pragma once

#include <lua.hpp>

namespace setd::script {

// lua_CFunction openers: each registers its global table and returns 1.
int open_struct(lua_State* L);
int open_cmsgpack(lua_State* L);

}  // namespace setd::script
