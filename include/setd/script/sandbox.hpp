// The Lua sandbox scripts run in, as Redis 7.0's (script_lua.c):
// - libraries: base (without dofile, loadfile, print), table, string, math,
//   cjson, struct, cmsgpack, bit; no os, io, package or debug;
// - the `redis` table: call, pcall, error_reply, status_reply, sha1hex, log
//   and LOG_*, setresp, set_repl and REPL_*, acl_check_cmd, breakpoint,
//   debug, replicate_commands, REDIS_VERSION, REDIS_VERSION_NUM;
// - pcall that hands back the text of a redis.call error, math.random with
//   Redis's own generator;
// - read-only globals: reading a missing global raises "Script attempted to
//   access nonexistent global variable 'x'", and writing one, or a field of
//   a library table, "Attempt to modify a readonly table". Redis patches its
//   Lua for read-only tables; Debian's Lua has none, so each protected table
//   is an empty proxy whose metatable reads through to the real table and
//   refuses writes, and rawset, rawget, next, pairs, setmetatable and
//   getfenv see through (or refuse) the proxies.
//
// Dependency rule (module script): proto, base, Lua.
#pragma once

#include <cstddef>
#include <lua.hpp>
#include <string_view>

#include "setd/proto/reply_builder.hpp"

namespace setd::script {

class Engine;

// A Lua state's heap: what it holds, and the bound enforced while `enforce`
// (a script runs; growth past `limit` fails with "not enough memory").
struct LuaHeap {
  size_t used = 0;
  size_t limit = 0;  // 0 = none
  bool enforce = false;
};

// A new sandboxed Lua state whose `redis` API is bound to `engine`.
lua_State* new_sandbox(Engine& engine, LuaHeap& heap);
// Pushes the error handler lua_pcall gets: it turns any error into a table
// {err=..., source=..., line=...} (Redis's __redis__err__handler).
void push_error_handler(lua_State* L);
// Pops the top value into the real globals table under `name` (KEYS, ARGV).
void set_global_raw(lua_State* L, const char* name);
// Makes the table on top of the stack read-only for scripts: replaces it
// with its proxy (the real table stays reachable only through it).
void protect_table(lua_State* L);

// The functions' load API (FUNCTION LOAD): while a library's top-level code
// runs, the globals show only `redis` = {register_function, log, LOG_*,
// REDIS_VERSION, REDIS_VERSION_NUM}. make_load_api() builds it once
// (`register_fn` gets `ud` as its upvalue); use_load_api() switches the
// globals to it and back.
void make_load_api(lua_State* L, lua_CFunction register_fn, void* ud);
void use_load_api(lua_State* L, bool on);

// Pushes one RESP reply (as a command wrote it) as Lua values, Redis's
// conversions: integer -> number, bulk -> string, null bulk / null array ->
// false, status -> {ok=...}, error -> {err=...}, array -> table; RESP3:
// null -> nil, boolean, double -> {double=n}, map -> {map={...}},
// set -> {set={m=true}}, big number -> {big_number=s}, verbatim ->
// {verbatim_string={string=s, format=f}}; attributes are skipped.
void push_reply(lua_State* L, std::string_view reply);
// Pops the value on top of the stack and writes it as the script's reply,
// Redis's Lua -> RESP conversions. `script_resp`: the protocol the script
// chose with redis.setresp (booleans depend on it).
void write_reply(lua_State* L, proto::ReplyBuilder& rb, int script_resp);
// Pushes Redis's error table {err="CODE message"}: a text starting with '-'
// gives its own code, any other gets "ERR " (luaPushErrorBuff).
void push_error_table(lua_State* L, std::string_view text);

}  // namespace setd::script
