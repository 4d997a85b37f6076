#include "setd/script/sandbox.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "setd/script/engine.hpp"
#include "setd/script/lua_libs.hpp"
#include "setd/server/server_state.hpp"

extern "C" {
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

namespace setd::script {

namespace {

// Registry keys.
// Registry keys: the addresses of these tags (light userdata keys cost no
// string hashing; the hot ones are read on every script run).
struct RegistryTag {
  char unused;
};
const RegistryTag kEngineKey{}, kGlobalsKey{}, kProxiesKey{}, kHandlerKey{}, kToStringKey{},
    kGlobalsMtKey{}, kLoadApiKey{}, kMetaProxiesKey{}, kChunkNamesKey{};

// Pushes registry[key].
void reg_get(lua_State* L, const RegistryTag& key) {
  lua_pushlightuserdata(L, const_cast<RegistryTag*>(&key));
  lua_rawget(L, LUA_REGISTRYINDEX);
}
// registry[key] = the value on top (popped).
void reg_set(lua_State* L, const RegistryTag& key) {
  lua_pushlightuserdata(L, const_cast<RegistryTag*>(&key));
  lua_insert(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
}

Engine& engine_of(lua_State* L) {
  reg_get(L, kEngineKey);
  auto* e = static_cast<Engine*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *e;
}

void* heap_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* heap = static_cast<LuaHeap*>(ud);
  if (nsize == 0) {
    std::free(ptr);
    heap->used -= osize;
    return nullptr;
  }
  if (heap->enforce && heap->limit != 0 && nsize > osize &&
      heap->used + nsize - osize > heap->limit)
    return nullptr;  // Lua raises "not enough memory"
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  heap->used = heap->used + nsize - osize;
  return p;
}

// Raises `msg` with no position (as Redis's read-only table check raised from
// a C function such as rawset).
[[noreturn]] void raise_plain(lua_State* L, const char* msg) {
  lua_pushstring(L, msg);
  lua_error(L);
  std::abort();  // lua_error does not return
}

// --- Read-only tables ------------------------------------------------------

// Replaces the table at `idx` on the stack with the real table behind it when
// it is a proxy.
void unproxy(lua_State* L, int idx) {
  if (!lua_istable(L, idx)) return;
  reg_get(L, kProxiesKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1))
    lua_replace(L, idx);
  else
    lua_pop(L, 1);
  lua_pop(L, 1);
}

bool is_proxy(lua_State* L, int idx) {
  if (!lua_istable(L, idx)) return false;
  reg_get(L, kProxiesKey);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  const bool found = !lua_isnil(L, -1);
  lua_pop(L, 2);
  return found;
}

int readonly_newindex(lua_State* L) { return luaL_error(L, "Attempt to modify a readonly table"); }

int missing_global(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name ? name : "?");
}

int sandbox_rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (is_proxy(L, 1)) raise_plain(L, "Attempt to modify a readonly table");
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int sandbox_rawget(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  unproxy(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

int sandbox_next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  unproxy(L, 1);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

int sandbox_pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, lua_upvalueindex(1));  // our next
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int sandbox_setmetatable(lua_State* L) {
  if (is_proxy(L, 1)) raise_plain(L, "Attempt to modify a readonly table");
  lua_pushvalue(L, lua_upvalueindex(1));  // the original setmetatable
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// Redis's getmetatable sees the real tables: a library table has none, and
// the globals' and the strings' metatables come back read-only (their
// proxies, from kMetaProxiesKey).
int sandbox_getmetatable(lua_State* L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  unproxy(L, 1);
  if (!lua_getmetatable(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushstring(L, "__metatable");
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  reg_get(L, kMetaProxiesKey);
  lua_pushvalue(L, -2);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 2);
  return 1;
}

// --- Errors ------------------------------------------------------------------

int error_handler(lua_State* L) {
  lua_Debug ar;
  bool have = lua_getstack(L, 1, &ar) != 0 && lua_getinfo(L, "nSl", &ar) != 0;
  // An error raised by a C function (error(), redis.call) is reported where
  // the script called it.
  if (have && std::strcmp(ar.what, "C") == 0)
    have = lua_getstack(L, 2, &ar) != 0 && lua_getinfo(L, "nSl", &ar) != 0;
  if (!lua_istable(L, 1)) {
    reg_get(L, kToStringKey);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    std::string text = "ERR ";
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    if (s != nullptr) text.append(s, len);
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushlstring(L, text.data(), text.size());
    lua_setfield(L, -2, "err");
    lua_replace(L, 1);
  }
  lua_settop(L, 1);
  if (have) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, 1, "source");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, 1, "line");
  }
  return 1;
}

// --- Loading chunks: text only ----------------------------------------------

// Lua 5.1's luaO_chunkid for a chunk name (LUA_IDSIZE 60): "=name" as is,
// "@file" as the file, anything else as [string "first line..."].
std::string chunk_id(const char* source) {
  constexpr size_t kIdSize = 60;
  std::string out;
  if (*source == '=') {
    out.assign(source + 1, std::min(std::strlen(source + 1), kIdSize - 1));
  } else if (*source == '@') {
    const size_t len = std::strlen(source + 1);
    const size_t room = kIdSize - 4;  // sizeof(" '...' ")
    if (len > room)
      out = "..." + std::string(source + 1 + len - room);
    else
      out = source + 1;
  } else {
    size_t len = std::strcspn(source, "\n\r");
    const size_t room = kIdSize - 16;  // sizeof(" [string \"...\"] ")
    if (len > room) len = room;
    out = "[string \"";
    if (source[len] != '\0') {
      out.append(source, len);
      out += "...";
    } else {
      out += source;
    }
    out += "\"]";
  }
  return out;
}

// Loads `code` as Lua text: a precompiled (binary) chunk is refused with the
// error the text parser gives for its first byte, as redis-server's Lua does
// (bytecode can break the sandbox). Pushes the function, or nil and the error.
int load_text(lua_State* L, std::string_view code, const char* chunkname) {
  if (!code.empty() && code[0] == '\033') {
    lua_pushnil(L);
    const std::string msg = chunk_id(chunkname) + ":1: unexpected symbol near 'char(27)'";
    lua_pushlstring(L, msg.data(), msg.size());
    return 2;
  }
  if (luaL_loadbuffer(L, code.data(), code.size(), chunkname) == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

int sandbox_loadstring(lua_State* L) {
  size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const char* name = luaL_optstring(L, 2, s);
  return load_text(L, std::string_view(s, len), name);
}

int sandbox_load(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  // The chunk name stays on the stack while the parser runs (Lua 5.1's
  // parser does not anchor the name it is given: a collection during the
  // parse could free it).
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_pushstring(L, "=(load)");
  }
  const char* name = luaL_checkstring(L, 2);
  std::string code;
  for (;;) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      lua_pushnil(L);
      lua_pushstring(L, "reader function must return a string");
      return 2;
    }
    size_t len = 0;
    const char* piece = lua_tolstring(L, -1, &len);
    if (len == 0) {
      lua_pop(L, 1);
      break;
    }
    code.append(piece, len);
    lua_pop(L, 1);
    // The pieces count against the Lua heap's bound (a reader that never
    // ends would otherwise grow this buffer without limit).
    void* ud = nullptr;
    lua_getallocf(L, &ud);
    const auto* heap = static_cast<const LuaHeap*>(ud);
    if (heap->enforce && heap->limit != 0 && heap->used + code.size() > heap->limit) {
      lua_pushnil(L);
      lua_pushstring(L, "not enough memory");
      return 2;
    }
  }
  return load_text(L, code, name);
}

// --- Hardened library functions -------------------------------------------

// LuaBitOp's argument conversion: the number's low 32 bits after rounding.
uint32_t bit_arg(lua_State* L, int idx) {
  union {
    lua_Number n;
    uint64_t b;
  } u;
  u.n = luaL_checknumber(L, idx) + 6755399441055744.0;  // 2^52 + 2^51
  return static_cast<uint32_t>(u.b);
}

// bit.tohex(x [, n]): LuaBitOp's, with Redis's fix for n = INT32_MIN
// (Debian's copy negates it and writes out of its buffer).
int bit_tohex(lua_State* L) {
  uint32_t b = bit_arg(L, 1);
  int32_t n = lua_isnone(L, 2) ? 8 : static_cast<int32_t>(bit_arg(L, 2));
  const char* digits = "0123456789abcdef";
  if (n < 0) {
    n = n == INT32_MIN ? INT32_MAX : -n;
    digits = "0123456789ABCDEF";
  }
  if (n > 8) n = 8;
  char buf[8];
  for (int i = n - 1; i >= 0; --i) {
    buf[i] = digits[b & 15];
    b >>= 4;
  }
  lua_pushlstring(L, buf, static_cast<size_t>(n));
  return 1;
}

// The longest string cjson.encode is given: lua-cjson 2.1.0 sizes its
// escaping buffer as an int (6 bytes per input byte), which overflows past
// this (Redis's CVE-2022-24834 fix; Debian's copy may lack it).
constexpr size_t kCjsonMaxString = static_cast<size_t>(INT32_MAX) / 6 - 64;

// True if `idx` (a value cjson would encode) holds a string longer than
// kCjsonMaxString, looking `depth` levels into tables.
bool cjson_too_long(lua_State* L, int idx, int depth) {
  const int t = lua_type(L, idx);
  if (t == LUA_TSTRING) return lua_objlen(L, idx) > kCjsonMaxString;
  if (t != LUA_TTABLE || depth > 1000 || !lua_checkstack(L, 3)) return false;
  const int abs = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_pushnil(L);
  while (lua_next(L, abs)) {
    if (cjson_too_long(L, -1, depth + 1) || cjson_too_long(L, -2, depth + 1)) {
      lua_pop(L, 2);
      return true;
    }
    lua_pop(L, 1);
  }
  return false;
}

int cjson_encode_guarded(lua_State* L) {
  luaL_argcheck(L, lua_gettop(L) == 1, 1, "expected 1 argument");
  if (cjson_too_long(L, 1, 0)) return luaL_error(L, "Cannot serialise, string too long");
  lua_pushvalue(L, lua_upvalueindex(1));  // lua-cjson's encode
  lua_insert(L, 1);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    // Its errors name the script's line, as when the script calls it
    // directly (raised from here, one call deeper, they would not).
    if (lua_type(L, -1) == LUA_TSTRING) {
      luaL_where(L, 1);
      lua_insert(L, -2);
      lua_concat(L, 2);
    }
    return lua_error(L);
  }
  return 1;
}

// unpack(t [, i [, j]]): Lua 5.1's, with its element count computed without
// overflow (Debian's copy lets unpack({}, -2^31, 2^31-1) past its stack
// check and writes out of the stack; Redis fixed its copy).
int sandbox_unpack(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const int i = static_cast<int>(luaL_optinteger(L, 2, 1));
  const int e = lua_isnoneornil(L, 3) ? static_cast<int>(lua_objlen(L, 1))
                                      : static_cast<int>(luaL_checkinteger(L, 3));
  if (i > e) return 0;
  const int64_t n = static_cast<int64_t>(e) - i + 1;
  if (n >= INT32_MAX || !lua_checkstack(L, static_cast<int>(n)))
    return luaL_error(L, "too many results to unpack");
  for (int64_t k = i; k <= e; ++k) lua_rawgeti(L, 1, static_cast<int>(k));
  return static_cast<int>(n);
}

// string.find / match / gmatch / gsub: Lua 5.1's pattern matcher recurses
// once per quantified item or capture of the pattern with no limit (5.2
// added one), so a long enough pattern overflows the C stack and kills the
// server (redis-server 7.0 too). Patterns with more than kMaxPatternItems
// such items are refused ("pattern too complex", 5.2's text); the others
// run the library's own function, whose errors keep the script's position
// and the function's name.
constexpr size_t kMaxPatternItems = 1000;

bool pattern_too_complex(std::string_view p) {
  size_t items = 0;
  for (const char c : p)
    if (c == '?' || c == '*' || c == '+' || c == '-' || c == '(' || c == '%') ++items;
  return items > kMaxPatternItems;
}

// Whether an error message already starts with a position ("chunk:12: ").
bool has_position(std::string_view msg) {
  const size_t colon = msg.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  size_t i = colon + 1;
  const size_t digits = i;
  while (i < msg.size() && msg[i] >= '0' && msg[i] <= '9') ++i;
  return i > digits && i < msg.size() && msg[i] == ':';
}

int pattern_guard(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    size_t len = 0;
    const char* p = lua_tolstring(L, 2, &len);
    if (pattern_too_complex(std::string_view(p, len))) return luaL_error(L, "pattern too complex");
  }
  const int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));  // the library's function
  lua_insert(L, 1);
  if (lua_pcall(L, n, LUA_MULTRET, 0) == 0) return lua_gettop(L);
  if (lua_type(L, -1) == LUA_TSTRING) {
    // Raised by the library function itself: called from here, it named
    // no function ('?') and no position; say what a direct call says.
    std::string msg = lua_tostring(L, -1);
    const size_t q = msg.find(" to '?'");
    if (msg.starts_with("bad argument #") && q != std::string::npos)
      msg.replace(q, 7, std::string(" to '") + lua_tostring(L, lua_upvalueindex(2)) + "'");
    if (!has_position(msg)) {
      luaL_where(L, 1);
      msg.insert(0, lua_tostring(L, -1));
    }
    lua_pushlstring(L, msg.data(), msg.size());
  }
  return lua_error(L);
}

// Redis's pcall: a redis.call error (a table with an `err` text) comes back
// as its text.
int sandbox_pcall(lua_State* L) {
  const int argc = lua_gettop(L);
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1))
        lua_replace(L, -2);
      else
        lua_pop(L, 1);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

// --- The redis table ---------------------------------------------------------

int redis_call(lua_State* L) {
  auto* e = static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1)));
  return e->lua_call_command(L, true);
}

int redis_pcall(lua_State* L) {
  auto* e = static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1)));
  return e->lua_call_command(L, false);
}

int redis_sha1hex(lua_State* L) {
  if (lua_gettop(L) != 1) {
    push_error_table(L, "wrong number of arguments");
    return lua_error(L);
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  const std::string hex = sha1_hex(s ? std::string_view(s, len) : std::string_view());
  lua_pushlstring(L, hex.data(), hex.size());
  return 1;
}

int single_field_table(lua_State* L, const char* field) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushstring(L, field);
  lua_pushvalue(L, -3);
  lua_settable(L, -3);
  return 1;
}

int redis_status_reply(lua_State* L) { return single_field_table(L, "ok"); }

int redis_error_reply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  size_t len = 0;
  const char* s = lua_tolstring(L, -1, &len);
  std::string text(s, len);
  if (text.empty() || text[0] != '-') text.insert(0, "-");
  push_error_table(L, text);
  return 1;
}

int redis_log(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc < 2) {
    push_error_table(L, "redis.log() requires two arguments or more.");
    return lua_error(L);
  }
  if (!lua_isnumber(L, 1)) {
    push_error_table(L, "First argument must be a number (log level).");
    return lua_error(L);
  }
  const int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) {
    push_error_table(L, "Invalid debug level.");
    return lua_error(L);
  }
  std::string line;
  for (int i = 2; i <= argc; ++i) {
    size_t len = 0;
    const char* s = lua_tolstring(L, i, &len);
    if (s == nullptr) continue;
    if (i != 2) line += ' ';
    line.append(s, len);
  }
  static constexpr spdlog::level::level_enum kLevels[] = {
      spdlog::level::debug, spdlog::level::debug, spdlog::level::info, spdlog::level::warn};
  spdlog::log(kLevels[level], "{}", line);
  return 0;
}

RunState* run_or_raise(lua_State* L, const char* what) {
  RunState* run = engine_of(L).current_run();
  if (run == nullptr) {
    push_error_table(L, std::string(what) + " can only be called inside a script invocation");
    lua_error(L);
  }
  return run;
}

int redis_breakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int redis_debug(lua_State*) { return 0; }
int redis_replicate_commands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

// --- math.random: Redis's rand48, shared by every script ------------------

uint64_t g_rand48 = 0x1234ABCD330EULL;

int32_t rand48_next() {
  g_rand48 = (g_rand48 * 0x5DEECE66DULL + 0xB) & ((1ULL << 48) - 1);
  return static_cast<int32_t>(g_rand48 >> 17);
}

int math_random(lua_State* L) {
  if (engine_of(L).current_run() == nullptr)
    return luaL_error(L, "math.random can only be called inside a script invocation");
  constexpr int32_t kMax = INT32_MAX;
  const lua_Number r =
      static_cast<lua_Number>(rand48_next() % kMax) / static_cast<lua_Number>(kMax);
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      const int u = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= u, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * u) + 1);
      break;
    }
    case 2: {
      const int l = luaL_checkint(L, 1);
      const int u = luaL_checkint(L, 2);
      luaL_argcheck(L, l <= u, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * (u - l + 1)) + l);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int math_randomseed(lua_State* L) {
  if (engine_of(L).current_run() == nullptr)
    return luaL_error(L, "math.randomseed can only be called inside a script invocation");
  const auto seed = static_cast<uint32_t>(luaL_checkint(L, 1));
  g_rand48 = (static_cast<uint64_t>(seed) << 16) | 0x330E;
  return 0;
}

void set_fn(lua_State* L, const char* name, lua_CFunction fn) {
  lua_pushcfunction(L, fn);
  lua_setfield(L, -2, name);
}
void set_num(lua_State* L, const char* name, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

void open_lib(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_istable(L, -1) && name[0] != '\0') {
    lua_setglobal(L, name);
  } else {
    lua_pop(L, 1);
  }
}

// Makes a proxy for the table at the top of the stack (which it replaces):
// reads go through, writes fail.
void make_proxy(lua_State* L, bool missing_is_error) {
  const int real = lua_gettop(L);
  if (missing_is_error) {
    // Reading a missing global raises (set on the real table itself).
    lua_newtable(L);
    lua_pushcfunction(L, missing_global);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, real);
  }
  lua_newtable(L);  // the proxy
  const int proxy = lua_gettop(L);
  lua_newtable(L);  // its metatable
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, proxy);
  reg_get(L, kProxiesKey);
  lua_pushvalue(L, proxy);
  lua_pushvalue(L, real);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_replace(L, real);  // the proxy where the real table was
}

// Registers a read-only proxy for the metatable on top of the stack (which
// stays), for sandbox_getmetatable.
void protect_metatable(lua_State* L) {
  reg_get(L, kMetaProxiesKey);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -1);
  make_proxy(L, false);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

int redis_setresp(lua_State* L) {
  run_or_raise(L, "redis.setresp");
  if (lua_gettop(L) != 1) {
    push_error_table(L, "redis.setresp() requires one argument.");
    return lua_error(L);
  }
  const int resp = static_cast<int>(lua_tonumber(L, -1));
  if (resp != 2 && resp != 3) {
    push_error_table(L, "RESP version must be 2 or 3.");
    return lua_error(L);
  }
  engine_of(L).set_script_resp(resp);
  return 0;
}

int redis_set_repl(lua_State* L) {
  run_or_raise(L, "redis.set_repl");
  if (lua_gettop(L) != 1) {
    push_error_table(L, "redis.set_repl() requires two arguments.");
    return lua_error(L);
  }
  const int flags = static_cast<int>(lua_tonumber(L, -1));
  if ((flags & ~(server::kToAof | server::kToReplicas)) != 0) {
    push_error_table(
        L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
    return lua_error(L);
  }
  engine_of(L).set_repl_targets(static_cast<uint8_t>(flags));
  return 0;
}

int redis_acl_check_cmd(lua_State* L) {
  run_or_raise(L, "redis.acl_check_cmd");
  return engine_of(L).lua_acl_check(L);
}

}  // namespace

void protect_table(lua_State* L) { make_proxy(L, false); }

lua_State* new_sandbox(Engine& engine, LuaHeap& heap) {
  lua_State* L = lua_newstate(heap_alloc, &heap);
  if (L == nullptr) throw std::bad_alloc();
  lua_pushlightuserdata(L, &engine);
  reg_set(L, kEngineKey);
  lua_newtable(L);
  reg_set(L, kProxiesKey);
  lua_newtable(L);
  reg_set(L, kMetaProxiesKey);

  open_lib(L, "", luaopen_base);
  open_lib(L, LUA_TABLIBNAME, luaopen_table);
  open_lib(L, LUA_STRLIBNAME, luaopen_string);
  open_lib(L, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L, "cjson", luaopen_cjson);
  open_lib(L, "struct", open_struct);
  open_lib(L, "cmsgpack", open_cmsgpack);
  open_lib(L, "bit", luaopen_bit);
  lua_getglobal(L, "bit");
  lua_pushcfunction(L, bit_tohex);
  lua_setfield(L, -2, "tohex");
  lua_pop(L, 1);
  lua_getglobal(L, "string");
  for (const char* fn : {"find", "match", "gmatch", "gsub"}) {
    lua_getfield(L, -1, fn);
    lua_pushstring(L, fn);
    lua_pushcclosure(L, pattern_guard, 2);
    lua_setfield(L, -2, fn);
  }
  lua_pop(L, 1);
  lua_getglobal(L, "cjson");
  lua_getfield(L, -1, "encode");
  lua_pushcclosure(L, cjson_encode_guarded, 1);
  lua_setfield(L, -2, "encode");
  lua_pop(L, 1);
  // The chunk names setd compiles scripts under live as long as the state:
  // Lua 5.1's parser does not anchor the name it is given.
  lua_newtable(L);
  lua_pushstring(L, "@user_script");
  lua_rawseti(L, -2, 1);
  lua_pushstring(L, "@user_function");
  lua_rawseti(L, -2, 2);
  reg_set(L, kChunkNamesKey);
  // The globals of redis-server 7.0.15: no dofile, loadfile or print, and no
  // getfenv, setfenv or newproxy either (later 7.0 releases removed them).
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }

  lua_getglobal(L, "tostring");
  reg_set(L, kToStringKey);
  lua_pushcfunction(L, error_handler);
  reg_set(L, kHandlerKey);

  // Base functions that must see through (or refuse) the proxies.
  lua_pushcfunction(L, sandbox_pcall);
  lua_setglobal(L, "pcall");
  lua_pushcfunction(L, sandbox_unpack);
  lua_setglobal(L, "unpack");
  lua_pushcfunction(L, sandbox_loadstring);
  lua_setglobal(L, "loadstring");
  lua_pushcfunction(L, sandbox_load);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, sandbox_rawset);
  lua_setglobal(L, "rawset");
  lua_pushcfunction(L, sandbox_rawget);
  lua_setglobal(L, "rawget");
  lua_pushcfunction(L, sandbox_next);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "next");
  lua_pushcclosure(L, sandbox_pairs, 1);
  lua_setglobal(L, "pairs");
  lua_getglobal(L, "setmetatable");
  lua_pushcclosure(L, sandbox_setmetatable, 1);
  lua_setglobal(L, "setmetatable");
  lua_pushcfunction(L, sandbox_getmetatable);
  lua_setglobal(L, "getmetatable");
  lua_pushcfunction(L, error_handler);
  lua_setglobal(L, "__redis__err__handler");

  // The redis table.
  lua_newtable(L);
  lua_pushlightuserdata(L, &engine);
  lua_pushcclosure(L, redis_call, 1);
  lua_setfield(L, -2, "call");
  lua_pushlightuserdata(L, &engine);
  lua_pushcclosure(L, redis_pcall, 1);
  lua_setfield(L, -2, "pcall");
  set_fn(L, "log", redis_log);
  set_num(L, "LOG_DEBUG", 0);
  set_num(L, "LOG_VERBOSE", 1);
  set_num(L, "LOG_NOTICE", 2);
  set_num(L, "LOG_WARNING", 3);
  {
    // REDIS_VERSION_NUM: 0x00MMmmpp.
    const std::string v = server::kRedisCompatVersion;
    int parts[3] = {0, 0, 0};
    size_t at = 0;
    for (int i = 0; i < 3 && at <= v.size(); ++i) {
      const size_t dot = v.find('.', at);
      const std::string_view part =
          std::string_view(v).substr(at, dot == std::string::npos ? std::string::npos : dot - at);
      std::from_chars(part.data(), part.data() + part.size(), parts[i]);
      if (dot == std::string::npos) break;
      at = dot + 1;
    }
    set_num(L, "REDIS_VERSION_NUM", (parts[0] << 16) | (parts[1] << 8) | parts[2]);
    lua_pushstring(L, v.c_str());
    lua_setfield(L, -2, "REDIS_VERSION");
  }
  set_fn(L, "setresp", redis_setresp);
  set_fn(L, "sha1hex", redis_sha1hex);
  set_fn(L, "error_reply", redis_error_reply);
  set_fn(L, "status_reply", redis_status_reply);
  set_fn(L, "set_repl", redis_set_repl);
  set_num(L, "REPL_NONE", 0);
  set_num(L, "REPL_AOF", server::kToAof);
  set_num(L, "REPL_SLAVE", server::kToReplicas);
  set_num(L, "REPL_REPLICA", server::kToReplicas);
  set_num(L, "REPL_ALL", server::kToAll);
  set_fn(L, "acl_check_cmd", redis_acl_check_cmd);
  set_fn(L, "breakpoint", redis_breakpoint);
  set_fn(L, "debug", redis_debug);
  set_fn(L, "replicate_commands", redis_replicate_commands);
  lua_setglobal(L, "redis");

  lua_getglobal(L, "math");
  set_fn(L, "random", math_random);
  set_fn(L, "randomseed", math_randomseed);
  lua_pop(L, 1);

  // Read-only library tables: each global table becomes its proxy (the
  // string metatable's __index goes through the proxy too).
  for (const char* name :
       {"string", "table", "math", "cjson", "struct", "cmsgpack", "bit", "coroutine", "redis"}) {
    lua_getglobal(L, name);
    if (!lua_istable(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    make_proxy(L, false);
    lua_setglobal(L, name);
  }
  lua_pushstring(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_getglobal(L, "string");
    lua_setfield(L, -2, "__index");
    protect_metatable(L);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  // Read-only globals: the thread's globals become the proxy; the real
  // table (registry) raises on a missing name.
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_pushvalue(L, -1);
  reg_set(L, kGlobalsKey);
  make_proxy(L, true);
  reg_get(L, kGlobalsKey);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "_G");  // rawset: the real table has no __newindex
  lua_getmetatable(L, -1);    // the real table's: missing names raise
  protect_metatable(L);
  lua_pop(L, 1);
  lua_pop(L, 1);
  lua_getmetatable(L, -1);
  reg_set(L, kGlobalsMtKey);
  lua_replace(L, LUA_GLOBALSINDEX);
  return L;
}

void make_load_api(lua_State* L, lua_CFunction register_fn, void* ud) {
  lua_newtable(L);  // what the globals show while loading
  lua_newtable(L);  // its redis table
  lua_pushlightuserdata(L, ud);
  lua_pushcclosure(L, register_fn, 1);
  lua_setfield(L, -2, "register_function");
  set_fn(L, "log", redis_log);
  set_num(L, "LOG_DEBUG", 0);
  set_num(L, "LOG_VERBOSE", 1);
  set_num(L, "LOG_NOTICE", 2);
  set_num(L, "LOG_WARNING", 3);
  lua_getglobal(L, "redis");
  lua_getfield(L, -1, "REDIS_VERSION");
  lua_setfield(L, -3, "REDIS_VERSION");
  lua_getfield(L, -1, "REDIS_VERSION_NUM");
  lua_setfield(L, -3, "REDIS_VERSION_NUM");
  lua_pop(L, 1);
  make_proxy(L, true);
  lua_setfield(L, -2, "redis");
  // A missing name raises, as in the globals.
  lua_newtable(L);
  lua_pushcfunction(L, missing_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  reg_set(L, kLoadApiKey);
}

void use_load_api(lua_State* L, bool on) {
  reg_get(L, kGlobalsMtKey);
  reg_get(L, on ? kLoadApiKey : kGlobalsKey);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void push_error_handler(lua_State* L) { reg_get(L, kHandlerKey); }

void set_global_raw(lua_State* L, const char* name) {
  reg_get(L, kGlobalsKey);
  lua_insert(L, -2);
  lua_setfield(L, -2, name);  // the real table has no __newindex
  lua_pop(L, 1);
}

void push_error_table(lua_State* L, std::string_view text) {
  std::string_view code = "ERR";
  std::string_view msg = text;
  if (!text.empty() && text[0] == '-') {
    const size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      msg = text.substr(1);
    } else {
      code = text.substr(1, space - 1);
      msg = text.substr(space + 1);
    }
  }
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.remove_suffix(1);
  while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) msg.remove_prefix(1);
  std::string full;
  full.reserve(code.size() + 1 + msg.size());
  full.append(code);
  full += ' ';
  full.append(msg);
  lua_newtable(L);
  lua_pushlstring(L, full.data(), full.size());
  lua_setfield(L, -2, "err");
}

// --- RESP -> Lua -------------------------------------------------------------

namespace {

const char* line_end(const char* p, const char* end) {
  const void* cr = std::memchr(p, '\r', static_cast<size_t>(end - p));
  return cr ? static_cast<const char*>(cr) : end;
}

long long parse_ll(const char* p, const char* e) {
  long long v = 0;
  std::from_chars(p, e, v);
  return v;
}

// `lua` null: skip the value (attributes).
const char* push_one(lua_State* L, const char* p, const char* end, bool push) {
  if (p >= end) {
    if (push) lua_pushnil(L);
    return end;
  }
  const char type = *p++;
  const char* le = line_end(p, end);
  const char* next = le + 2 <= end ? le + 2 : end;
  if (push && !lua_checkstack(L, 4)) luaL_error(L, "reached lua stack limit");
  switch (type) {
    case ':':
      if (push) lua_pushnumber(L, static_cast<lua_Number>(parse_ll(p, le)));
      return next;
    case '$': {
      const long long n = parse_ll(p, le);
      if (n < 0) {
        if (push) lua_pushboolean(L, 0);
        return next;
      }
      const auto len = static_cast<size_t>(n);
      if (push) lua_pushlstring(L, next, std::min<size_t>(len, static_cast<size_t>(end - next)));
      return std::min(end, next + len + 2);
    }
    case '+':
      if (push) {
        lua_newtable(L);
        lua_pushlstring(L, p, static_cast<size_t>(le - p));
        lua_setfield(L, -2, "ok");
      }
      return next;
    case '-':
      if (push) {
        std::string text = "-";
        text.append(p, static_cast<size_t>(le - p));
        push_error_table(L, text);
        // Already counted when the command wrote it.
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "ignore_error_stats_update");
      }
      return next;
    case '*':
    case '~':
    case '>':
    case '%': {
      const long long n = parse_ll(p, le);
      if (n < 0) {
        if (push) lua_pushboolean(L, 0);
        return next;
      }
      const char* q = next;
      if (type == '*' || type == '>') {
        if (push) lua_createtable(L, static_cast<int>(std::min<long long>(n, 1 << 20)), 0);
        for (long long i = 0; i < n; ++i) {
          q = push_one(L, q, end, push);
          if (push) lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
      } else if (type == '~') {
        if (push) {
          lua_newtable(L);
          lua_newtable(L);
        }
        for (long long i = 0; i < n; ++i) {
          q = push_one(L, q, end, push);
          if (push) {
            lua_pushboolean(L, 1);
            lua_settable(L, -3);
          }
        }
        if (push) lua_setfield(L, -2, "set");
      } else {
        if (push) {
          lua_newtable(L);
          lua_newtable(L);
        }
        for (long long i = 0; i < n; ++i) {
          q = push_one(L, q, end, push);
          q = push_one(L, q, end, push);
          if (push) lua_settable(L, -3);
        }
        if (push) lua_setfield(L, -2, "map");
      }
      return q;
    }
    case '|': {
      // Attributes: skipped, then the value they describe.
      const long long n = parse_ll(p, le);
      const char* q = next;
      for (long long i = 0; i < 2 * n; ++i) q = push_one(L, q, end, false);
      return push_one(L, q, end, push);
    }
    case '_':
      if (push) lua_pushnil(L);
      return next;
    case '#':
      if (push) lua_pushboolean(L, p < le && *p == 't');
      return next;
    case ',':
      if (push) {
        lua_newtable(L);
        const std::string text(p, le);
        lua_pushnumber(L, std::strtod(text.c_str(), nullptr));
        lua_setfield(L, -2, "double");
      }
      return next;
    case '(':
      if (push) {
        lua_newtable(L);
        lua_pushlstring(L, p, static_cast<size_t>(le - p));
        lua_setfield(L, -2, "big_number");
      }
      return next;
    case '=': {
      const auto len = static_cast<size_t>(parse_ll(p, le));
      const size_t avail = std::min<size_t>(len, static_cast<size_t>(end - next));
      if (push) {
        lua_newtable(L);
        lua_newtable(L);
        const size_t fmt = std::min<size_t>(3, avail);
        const size_t skip = std::min<size_t>(4, avail);
        lua_pushlstring(L, next + skip, avail - skip);
        lua_setfield(L, -2, "string");
        lua_pushlstring(L, next, fmt);
        lua_setfield(L, -2, "format");
        lua_setfield(L, -2, "verbatim_string");
      }
      return std::min(end, next + len + 2);
    }
    default:
      if (push) lua_pushnil(L);
      return end;
  }
}

}  // namespace

void push_reply(lua_State* L, std::string_view reply) {
  push_one(L, reply.data(), reply.data() + reply.size(), true);
}

// --- Lua -> RESP -------------------------------------------------------------

namespace {

// Looks up t[field] (raw) for the table on top; leaves it pushed.
int raw_field(lua_State* L, const char* field) {
  lua_pushstring(L, field);
  lua_rawget(L, -2);
  return lua_type(L, -1);
}

void write_value(lua_State* L, proto::ReplyBuilder& rb, int script_resp) {
  if (!lua_checkstack(L, 4)) {
    rb.error("ERR reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      rb.bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1))
          rb.integer(1);
        else
          rb.null();
      } else {
        rb.boolean(lua_toboolean(L, -1) != 0);
      }
      break;
    case LUA_TNUMBER:
      rb.integer(static_cast<long long>(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE: {
      if (raw_field(L, "err") == LUA_TSTRING) {
        size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        lua_pop(L, 1);
        bool count = true;
        if (raw_field(L, "ignore_error_stats_update") == LUA_TBOOLEAN)
          count = lua_toboolean(L, -1) == 0;
        lua_pop(L, 1);
        // Redis writes "-" and the text: a text of its own "-CODE" gives
        // "--CODE" (error_as_is drops one leading '-').
        std::string text = "-";
        text.append(s, len);
        rb.error_as_is(text, count);
        break;
      }
      lua_pop(L, 1);
      if (raw_field(L, "ok") == LUA_TSTRING) {
        size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        std::string text(s, len);
        for (char& c : text)
          if (c == '\r' || c == '\n') c = ' ';
        rb.simple(text);
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
      if (raw_field(L, "double") == LUA_TNUMBER) {
        rb.dbl(lua_tonumber(L, -1));
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
      if (raw_field(L, "big_number") == LUA_TSTRING) {
        size_t len = 0;
        const char* s = lua_tolstring(L, -1, &len);
        std::string text(s, len);
        for (char& c : text)
          if (c == '\r' || c == '\n') c = ' ';
        if (rb.resp() >= 3) {
          rb.raw("(");
          rb.raw(text);
          rb.raw("\r\n");
        } else {
          rb.bulk(text);
        }
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
      if (raw_field(L, "verbatim_string") == LUA_TTABLE) {
        if (raw_field(L, "format") == LUA_TSTRING) {
          size_t flen = 0;
          const char* f = lua_tolstring(L, -1, &flen);
          // "string" of the verbatim table (below the format).
          lua_pushstring(L, "string");
          lua_rawget(L, -3);
          if (lua_type(L, -1) == LUA_TSTRING) {
            size_t len = 0;
            const char* s = lua_tolstring(L, -1, &len);
            // Three characters, as Redis's addReplyVerbatim: up to the
            // format's end (or a NUL), then spaces.
            char format[3] = {' ', ' ', ' '};
            for (size_t i = 0; i < 3 && i < flen && f[i] != '\0'; ++i) format[i] = f[i];
            rb.verbatim(std::string_view(s, len), std::string_view(format, 3));
            lua_pop(L, 3);
            break;
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      if (raw_field(L, "map") == LUA_TTABLE) {
        const size_t mark = rb.begin_deferred();
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pushvalue(L, -2);
          write_value(L, rb, script_resp);  // key
          write_value(L, rb, script_resp);  // value
          ++n;
        }
        rb.end_deferred(mark, n, proto::ReplyBuilder::Aggregate::kMap);
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
      if (raw_field(L, "set") == LUA_TTABLE) {
        const size_t mark = rb.begin_deferred();
        size_t n = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
          lua_pop(L, 1);
          lua_pushvalue(L, -1);
          write_value(L, rb, script_resp);
          ++n;
        }
        rb.end_deferred(mark, n, proto::ReplyBuilder::Aggregate::kSet);
        lua_pop(L, 1);
        break;
      }
      lua_pop(L, 1);
      // An array: elements 1, 2, ... up to the first nil.
      const size_t mark = rb.begin_deferred();
      size_t n = 0;
      for (int j = 1;; ++j) {
        lua_rawgeti(L, -1, j);
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          break;
        }
        write_value(L, rb, script_resp);
        ++n;
      }
      rb.end_deferred(mark, n);
      break;
    }
    default:
      rb.null();
  }
  lua_pop(L, 1);
}

}  // namespace

void write_reply(lua_State* L, proto::ReplyBuilder& rb, int script_resp) {
  write_value(L, rb, script_resp);
}

}  // namespace setd::script
