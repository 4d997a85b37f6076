// The `cmsgpack` library scripts get: MessagePack for Lua 5.1 with the
// encoding choices of lua-cmsgpack 0.4.0 as redis-server 7.0 builds it, so
// that a script packs the same bytes on setd as on Redis.
//
// Encoding (cmsgpack.pack(v1, v2, ...) concatenates one object per value):
//   nil, functions, userdata, threads        nil (0xc0)
//   booleans                                 0xc2 / 0xc3
//   strings                                  fixstr, str8, str16, str32
//   numbers that are whole and fit int64_t   the shortest (u)int form
//   other numbers                            float32 when the value survives
//                                            the round trip through float,
//                                            else float64
//   tables whose keys are exactly 1..n       array (the empty table too)
//   other tables                             map, in lua_next order
//   tables 16 levels down                    nil (so cycles terminate)
// Decoding understands the same forms plus nil/true/false, fixarray/fixmap,
// array16/32, map16/32, int8..int64, uint8..uint64 (a uint64 above 2^63-1
// comes back negative, as on Redis); bin, ext and the unused codes are
// "Bad data format in input.".
//
// unpack(s) returns every object in s; unpack_one(s [, offset]) and
// unpack_limit(s, limit [, offset]) return the next offset first (0-based,
// -1 once s is used up), then the objects.
//
// The Lua stack is used as the library uses it (one string per packed
// argument, the same luaL_checkstack calls and messages), so deep or wide
// inputs fail at the same points with the same errors.
#include <bit>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "setd/script/lua_libs.hpp"

namespace setd::script {

namespace {

// Tables nested deeper than this encode as nil.
constexpr int kMaxTableDepth = 16;

// Whole and exactly convertible to int64_t (what x86's truncating
// conversion gives back unchanged).
bool fits_int64(double d) {
  constexpr double kTwo63 = 9223372036854775808.0;
  return d >= -kTwo63 && d < kTwo63 && std::trunc(d) == d;
}

// Whole and exactly convertible to int.
bool fits_int(double d) {
  return d >= static_cast<double>(INT_MIN) && d <= static_cast<double>(INT_MAX) &&
         std::trunc(d) == d;
}

// ------------------------------- Encoding ----------------------------------

class Packer {
 public:
  Packer(lua_State* L, std::string* out) : L_(L), out_(out) {}

  // Encodes the value on top of the stack and pops it.
  void pack_top(int depth) {
    int type = lua_type(L_, -1);
    if (type == LUA_TTABLE && depth == kMaxTableDepth) type = LUA_TNIL;
    switch (type) {
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, -1, &len);
        put_string(s, len);
        break;
      }
      case LUA_TBOOLEAN:
        put_byte(lua_toboolean(L_, -1) ? 0xc3 : 0xc2);
        break;
      case LUA_TNUMBER: {
        const lua_Number n = lua_tonumber(L_, -1);
        if (fits_int64(n)) {
          put_integer(static_cast<std::int64_t>(lua_tointeger(L_, -1)));
        } else {
          put_real(n);
        }
        break;
      }
      case LUA_TTABLE:
        if (keys_are_one_to_n()) {
          pack_array(depth);
        } else {
          pack_map(depth);
        }
        break;
      default:
        put_byte(0xc0);
        break;
    }
    lua_pop(L_, 1);
  }

 private:
  void put_byte(unsigned value) { out_->push_back(static_cast<char>(value & 0xff)); }

  // `count` bytes of `value`, most significant first.
  void put_big_endian(std::uint64_t value, int count) {
    for (int k = count - 1; k >= 0; --k) put_byte(static_cast<unsigned>(value >> (8 * k)));
  }

  void put_string(const char* s, std::size_t len) {
    if (len < 32) {
      put_byte(0xa0 | static_cast<unsigned>(len));
    } else if (len <= 0xff) {
      put_byte(0xd9);
      put_big_endian(len, 1);
    } else if (len <= 0xffff) {
      put_byte(0xda);
      put_big_endian(len, 2);
    } else {
      put_byte(0xdb);
      put_big_endian(len, 4);
    }
    out_->append(s, len);
  }

  void put_integer(std::int64_t n) {
    const auto bits = static_cast<std::uint64_t>(n);
    if (n >= 0) {
      if (n <= 0x7f) {
        put_byte(static_cast<unsigned>(n));
      } else if (n <= 0xff) {
        put_byte(0xcc);
        put_big_endian(bits, 1);
      } else if (n <= 0xffff) {
        put_byte(0xcd);
        put_big_endian(bits, 2);
      } else if (n <= 0xffffffffLL) {
        put_byte(0xce);
        put_big_endian(bits, 4);
      } else {
        put_byte(0xcf);
        put_big_endian(bits, 8);
      }
    } else if (n >= -32) {
      put_byte(static_cast<unsigned>(bits));  // negative fixint: 0xe0..0xff
    } else if (n >= -128) {
      put_byte(0xd0);
      put_big_endian(bits, 1);
    } else if (n >= -32768) {
      put_byte(0xd1);
      put_big_endian(bits, 2);
    } else if (n >= -2147483648LL) {
      put_byte(0xd2);
      put_big_endian(bits, 4);
    } else {
      put_byte(0xd3);
      put_big_endian(bits, 8);
    }
  }

  void put_real(double d) {
    const auto narrow = static_cast<float>(d);
    if (static_cast<double>(narrow) == d) {
      put_byte(0xca);
      put_big_endian(std::bit_cast<std::uint32_t>(narrow), 4);
    } else {
      put_byte(0xcb);
      put_big_endian(std::bit_cast<std::uint64_t>(d), 8);
    }
  }

  void put_container_header(unsigned fix_base, unsigned code16, std::uint64_t count) {
    if (count <= 15) {
      put_byte(fix_base | static_cast<unsigned>(count));
    } else if (count <= 0xffff) {
      put_byte(code16);
      put_big_endian(count, 2);
    } else {
      put_byte(code16 + 1);  // the 32-bit form follows the 16-bit one
      put_big_endian(count, 4);
    }
  }

  // True when the table on top has only the keys 1..n (no holes, no other
  // keys); the empty table qualifies.
  bool keys_are_one_to_n() {
    const int top = lua_gettop(L_);
    luaL_checkstack(L_, 2, "in function table_is_an_array");
    int count = 0;
    int highest = 0;
    bool only_positive_ints = true;
    lua_pushnil(L_);
    while (lua_next(L_, -2) != 0) {
      lua_pop(L_, 1);
      if (lua_type(L_, -1) != LUA_TNUMBER) {
        only_positive_ints = false;
        break;
      }
      const lua_Number key = lua_tonumber(L_, -1);
      if (key <= 0 || !fits_int(key)) {
        only_positive_ints = false;
        break;
      }
      if (key > highest) highest = static_cast<int>(key);
      ++count;
    }
    lua_settop(L_, top);
    return only_positive_ints && highest == count;
  }

  void pack_array(int depth) {
    const std::size_t len = lua_objlen(L_, -1);
    put_container_header(0x90, 0xdc, len);
    luaL_checkstack(L_, 1, "in function mp_encode_lua_table_as_array");
    for (std::size_t i = 1; i <= len; ++i) {
      lua_pushnumber(L_, static_cast<lua_Number>(i));
      lua_gettable(L_, -2);
      pack_top(depth + 1);
    }
  }

  void pack_map(int depth) {
    luaL_checkstack(L_, 3, "in function mp_encode_lua_table_as_map");
    std::uint64_t pairs = 0;
    lua_pushnil(L_);
    while (lua_next(L_, -2) != 0) {
      lua_pop(L_, 1);
      ++pairs;
    }
    put_container_header(0x80, 0xde, pairs);
    lua_pushnil(L_);
    while (lua_next(L_, -2) != 0) {
      lua_pushvalue(L_, -2);  // key value key
      pack_top(depth + 1);    // the key copy
      pack_top(depth + 1);    // the value; the key stays for lua_next
    }
  }

  lua_State* L_;
  std::string* out_;
};

// cmsgpack.pack(v1, ...) -> string
int msgpack_pack(lua_State* L) {
  const int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (lua_checkstack(L, nargs) == 0) {
    return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  }
  std::string encoded;
  Packer packer(L, &encoded);
  for (int i = 1; i <= nargs; ++i) {
    luaL_checkstack(L, 1, "in function mp_check");
    lua_pushvalue(L, i);
    packer.pack_top(0);
    lua_pushlstring(L, encoded.data(), encoded.size());
    encoded.clear();
  }
  lua_concat(L, nargs);
  return 1;
}

// ------------------------------- Decoding ----------------------------------

class Unpacker {
 public:
  enum class Status { kOk, kTruncated, kBadFormat };

  Unpacker(lua_State* L, const unsigned char* data, std::size_t len)
      : L_(L), p_(data), left_(len) {}

  std::size_t left() const { return left_; }
  Status status() const { return status_; }

  // Pushes the next object. On failure status() says why and the stack may
  // hold partial results.
  void unpack_next() {
    if (!have(1)) return;
    // One more slot per object: this is what bounds a long stream (and the
    // nesting depth) by the C stack limit.
    luaL_checkstack(L_, 1,
                    "too many return values at once; "
                    "use unpack_one or unpack_limit instead.");
    const unsigned code = p_[0];
    if (code <= 0x7f) {
      lua_pushinteger(L_, static_cast<lua_Integer>(code));
      skip(1);
    } else if (code >= 0xe0) {
      lua_pushinteger(L_, static_cast<lua_Integer>(code) - 0x100);
      skip(1);
    } else if ((code & 0xe0) == 0xa0) {
      push_string(1, code & 0x1f);
    } else if ((code & 0xf0) == 0x90) {
      skip(1);
      unpack_array(code & 0x0f);
    } else if ((code & 0xf0) == 0x80) {
      skip(1);
      unpack_map(code & 0x0f);
    } else {
      unpack_coded(code);
    }
  }

 private:
  bool have(std::size_t n) {
    if (left_ < n) {
      status_ = Status::kTruncated;
      return false;
    }
    return true;
  }
  void skip(std::size_t n) {
    p_ += n;
    left_ -= n;
  }
  // `n` bytes after the code byte, big-endian.
  std::uint64_t field(std::size_t n) const {
    std::uint64_t v = 0;
    for (std::size_t k = 1; k <= n; ++k) v = (v << 8) | p_[k];
    return v;
  }

  void push_string(std::size_t header, std::size_t len) {
    if (!have(header) || !have(header + len)) return;
    lua_pushlstring(L_, reinterpret_cast<const char*>(p_ + header), len);
    skip(header + len);
  }

  // The codes 0xc0..0xdf.
  void unpack_coded(unsigned code) {
    switch (code) {
      case 0xc0:
        lua_pushnil(L_);
        skip(1);
        return;
      case 0xc2:
      case 0xc3:
        lua_pushboolean(L_, code == 0xc3 ? 1 : 0);
        skip(1);
        return;
      case 0xca:
        if (!have(5)) return;
        lua_pushnumber(
            L_, static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(field(4)))));
        skip(5);
        return;
      case 0xcb:
        if (!have(9)) return;
        lua_pushnumber(L_, std::bit_cast<double>(field(8)));
        skip(9);
        return;
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf: {
        const std::size_t width = std::size_t{1} << (code - 0xcc);
        if (!have(1 + width)) return;
        // uint64 goes through lua_Integer: above 2^63-1 it turns negative.
        lua_pushinteger(L_, static_cast<lua_Integer>(field(width)));
        skip(1 + width);
        return;
      }
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {
        const std::size_t width = std::size_t{1} << (code - 0xd0);
        if (!have(1 + width)) return;
        const unsigned spare = 64 - 8 * static_cast<unsigned>(width);
        // Sign-extend from the field's top bit.
        const auto value = static_cast<std::int64_t>(field(width) << spare) >> spare;
        if (code == 0xd3) {
          lua_pushnumber(L_, static_cast<lua_Number>(value));
        } else {
          lua_pushinteger(L_, static_cast<lua_Integer>(value));
        }
        skip(1 + width);
        return;
      }
      case 0xd9:
      case 0xda:
      case 0xdb: {
        const std::size_t width = std::size_t{1} << (code - 0xd9);
        if (!have(1 + width)) return;
        push_string(1 + width, static_cast<std::size_t>(field(width)));
        return;
      }
      case 0xdc:
      case 0xdd:
      case 0xde:
      case 0xdf: {
        const std::size_t width = (code & 1) == 0 ? 2 : 4;
        if (!have(1 + width)) return;
        const auto count = static_cast<std::size_t>(field(width));
        skip(1 + width);
        if (code <= 0xdd) {
          unpack_array(count);
        } else {
          unpack_map(count);
        }
        return;
      }
      default:
        status_ = Status::kBadFormat;
        return;
    }
  }

  // Tables start empty and grow as Lua grows them, so that their layout (and
  // so pairs() order) matches Redis.
  void unpack_array(std::size_t count) {
    lua_newtable(L_);
    luaL_checkstack(L_, 1, "in function mp_decode_to_lua_array");
    int index = 1;
    for (std::size_t i = 0; i < count; ++i) {
      lua_pushnumber(L_, index++);
      unpack_next();
      if (status_ != Status::kOk) return;
      lua_settable(L_, -3);
    }
  }

  void unpack_map(std::size_t count) {
    lua_newtable(L_);
    for (std::size_t i = 0; i < count; ++i) {
      unpack_next();  // key
      if (status_ != Status::kOk) return;
      unpack_next();  // value
      if (status_ != Status::kOk) return;
      lua_settable(L_, -3);
    }
  }

  lua_State* L_;
  const unsigned char* p_;
  std::size_t left_;
  Status status_ = Status::kOk;
};

// Unpacks up to `limit` objects from argument 1 starting at byte `offset`.
// limit == 0 && offset == 0 means everything, without the offset result.
int unpack_from(lua_State* L, lua_Integer limit, lua_Integer offset) {
  std::size_t len = 0;
  const char* s = luaL_checklstring(L, 1, &len);
  const bool whole_input = limit == 0 && offset == 0;
  if (offset < 0 || limit < 0) {
    // The message reports the input length where it says "limit".
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(len));
  }
  if (static_cast<std::size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(len));
  }
  if (whole_input) limit = INT_MAX;

  Unpacker unpacker(L, reinterpret_cast<const unsigned char*>(s) + offset,
                    len - static_cast<std::size_t>(offset));
  int count = 0;
  while (unpacker.left() > 0 && count < limit) {
    unpacker.unpack_next();
    switch (unpacker.status()) {
      case Unpacker::Status::kOk:
        break;
      case Unpacker::Status::kTruncated:
        return luaL_error(L, "Missing bytes in input.");
      case Unpacker::Status::kBadFormat:
        return luaL_error(L, "Bad data format in input.");
    }
    ++count;
  }
  if (whole_input) return count;

  luaL_checkstack(L, 1, "in function mp_unpack_full");
  const std::size_t next = len - unpacker.left();
  lua_pushinteger(L, unpacker.left() == 0 ? -1 : static_cast<lua_Integer>(next));
  lua_insert(L, 2);  // the offset goes first, right above the input string
  return count + 1;
}

// cmsgpack.unpack(s) -> all objects in s
int msgpack_unpack(lua_State* L) { return unpack_from(L, 0, 0); }

// cmsgpack.unpack_one(s [, offset]) -> next offset, object
int msgpack_unpack_one(lua_State* L) {
  const lua_Integer offset = luaL_optinteger(L, 2, 0);
  lua_settop(L, 1);
  return unpack_from(L, 1, offset);
}

// cmsgpack.unpack_limit(s, limit [, offset]) -> next offset, objects
int msgpack_unpack_limit(lua_State* L) {
  const lua_Integer limit = luaL_checkinteger(L, 2);
  const lua_Integer offset = luaL_optinteger(L, 3, 0);
  lua_settop(L, 1);
  return unpack_from(L, limit, offset);
}

}  // namespace

int open_cmsgpack(lua_State* L) {
  // Fields are set in Redis's order, which fixes the table's layout and so
  // the order pairs(cmsgpack) visits them in.
  lua_newtable(L);
  lua_pushcfunction(L, msgpack_pack);
  lua_setfield(L, -2, "pack");
  lua_pushcfunction(L, msgpack_unpack);
  lua_setfield(L, -2, "unpack");
  lua_pushcfunction(L, msgpack_unpack_one);
  lua_setfield(L, -2, "unpack_one");
  lua_pushcfunction(L, msgpack_unpack_limit);
  lua_setfield(L, -2, "unpack_limit");
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  lua_pushvalue(L, -1);
  lua_setglobal(L, "cmsgpack");
  return 1;
}

}  // namespace setd::script
