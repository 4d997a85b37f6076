// struct and cmsgpack (src/script/lua_struct.cpp, lua_cmsgpack.cpp) in a bare
// Lua state. Each case runs a Lua snippet and compares a description of what
// it returned with what the same snippet returns on redis-server 7.0.15 (the
// expected strings were produced by running each snippet there via EVAL,
// with the same describe() helper, and by nothing else).
//
// describe() renders the pcall results: "OK " and one item per returned
// value (s:<hex bytes>, n:<%.17g>, {key=value,...} in pairs() order,
// boolean:true, nil:nil), or "ERR <message>". Snippets run as chunk "=test",
// so error positions read "test:1:".
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "setd/script/lua_libs.hpp"

namespace {

constexpr const char* kDescribe = R"lua(
local function hex(s)
  return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end
local function ser(v, d)
  local t = type(v)
  if t == 'string' then return 's:' .. hex(v)
  elseif t == 'number' then return 'n:' .. string.format('%.17g', v)
  elseif t == 'table' then
    if d > 40 then return 'T...' end
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = ser(k, d + 1) .. '=' .. ser(x, d + 1) end
    return '{' .. table.concat(parts, ',') .. '}'
  else return t .. ':' .. tostring(v) end
end
return function(...)
  local r = {n = select('#', ...), ...}
  if not r[1] then return 'ERR ' .. tostring(r[2]) end
  local out = {}
  for i = 2, r.n do out[#out + 1] = ser(r[i], 0) end
  return 'OK ' .. table.concat(out, ' ')
end
)lua";

struct Case {
  const char* snippet;
  const char* expected;
};

class ScriptLibsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    L_ = luaL_newstate();
    ASSERT_NE(L_, nullptr);
    luaL_openlibs(L_);
    EXPECT_EQ(setd::script::open_struct(L_), 1);
    EXPECT_EQ(setd::script::open_cmsgpack(L_), 1);
    lua_settop(L_, 0);
    ASSERT_EQ(luaL_loadstring(L_, kDescribe), 0);
    ASSERT_EQ(lua_pcall(L_, 0, 1, 0), 0);
    lua_setglobal(L_, "describe");
  }
  void TearDown() override { lua_close(L_); }

  // Runs `snippet` (a function body) under pcall and describes the outcome.
  std::string run(const std::string& snippet) {
    const std::string code = "return describe(pcall(function() " + snippet + " end))";
    if (luaL_loadbuffer(L_, code.data(), code.size(), "=test") != 0 ||
        lua_pcall(L_, 0, 1, 0) != 0) {
      std::string failure = "LUA FAILURE: ";
      const char* msg = lua_tostring(L_, -1);
      failure += msg != nullptr ? msg : "(no message)";
      lua_settop(L_, 0);
      return failure;
    }
    std::size_t len = 0;
    const char* s = lua_tolstring(L_, -1, &len);
    std::string result = s != nullptr ? std::string(s, len) : "NOT A STRING";
    lua_settop(L_, 0);
    return result;
  }

  template <std::size_t N>
  void check_all(const Case (&cases)[N]) {
    for (const Case& c : cases) EXPECT_EQ(run(c.snippet), c.expected) << c.snippet;
    EXPECT_EQ(lua_gettop(L_), 0);
  }

  lua_State* L_ = nullptr;
};

using ScriptLibsStruct = ScriptLibsTest;
using ScriptLibsCmsgpack = ScriptLibsTest;

TEST_F(ScriptLibsStruct, OpenerRegistersGlobalAndReturnsTable) {
  lua_State* L = luaL_newstate();
  ASSERT_EQ(setd::script::open_struct(L), 1);
  EXPECT_EQ(lua_type(L, -1), LUA_TTABLE);
  lua_getglobal(L, "struct");
  EXPECT_TRUE(lua_rawequal(L, -1, -2));
  lua_settop(L, 0);
  ASSERT_EQ(setd::script::open_cmsgpack(L), 1);
  EXPECT_EQ(lua_type(L, -1), LUA_TTABLE);
  lua_getglobal(L, "cmsgpack");
  EXPECT_TRUE(lua_rawequal(L, -1, -2));
  lua_close(L);
}

// The describe() helper itself: failures must be visible.
TEST_F(ScriptLibsStruct, HarnessReportsValuesAndErrors) {
  EXPECT_EQ(run("return 'A', 1.5, nil, true"), "OK s:41 n:1.5 nil:nil boolean:true");
  EXPECT_EQ(run("error('boom')"), "ERR test:1: boom");
  EXPECT_NE(run("return struct.pack('>i2', 5)"), "OK s:0500");
}

// ---- ScriptLibsStruct.Pack
TEST_F(ScriptLibsStruct, Pack) {
  const Case cases[] = {
      {R"lua(return struct.pack('>i2', 5))lua", "OK s:0005"},
      {R"lua(return struct.pack('<i2', 5))lua", "OK s:0500"},
      {R"lua(return struct.pack('i', -2))lua", "OK s:feffffff"},
      {R"lua(return struct.pack('<bBhHlLT', -1, 255, -300, 65535, -5, 7, 9))lua",
       "OK s:ffffd4fefffffbffffffffffffff07000000000000000900000000000000"},
      {R"lua(return struct.pack('>bBhHlLT', -1, 255, -300, 65535, -5, 7, 9))lua",
       "OK s:fffffed4fffffffffffffffffffb00000000000000070000000000000009"},
      {R"lua(return struct.pack('>I3', 0x123456))lua", "OK s:123456"},
      {R"lua(return struct.pack('>h', 70000))lua", "OK s:1170"},
      {R"lua(return struct.pack('>b', -129))lua", "OK s:7f"},
      {R"lua(return struct.pack('I2', 70000.9))lua", "OK s:7011"},
      {R"lua(return struct.pack('>i4', -3.7))lua", "OK s:fffffffd"},
      {R"lua(return struct.pack('>i4', '12'))lua", "OK s:0000000c"},
      {R"lua(return struct.pack('i0', 5))lua", "OK s:"},
      {R"lua(return struct.pack('<i10', -1))lua", "OK s:ffffffffffffffff0000"},
      {R"lua(return struct.pack('>i10', -1))lua", "OK s:0000ffffffffffffffff"},
      {R"lua(return struct.pack('>i16', 1))lua", "OK s:00000000000000000000000000000001"},
      {R"lua(return struct.pack('>i', 1, 2, 3))lua", "OK s:00000001"},
      {R"lua(return struct.pack('x x', 1))lua", "OK s:0000"},
      {R"lua(return struct.pack('b\0b', 1, 2))lua", "OK s:01"},
      {R"lua(return struct.pack('<>'))lua", "OK s:"},
      {R"lua(return struct.pack('>f', 1.5))lua", "OK s:3fc00000"},
      {R"lua(return struct.pack('<f', 1.5))lua", "OK s:0000c03f"},
      {R"lua(return struct.pack('>d', -0.1))lua", "OK s:bfb999999999999a"},
      {R"lua(return struct.pack('>d<d', 1/3, -1/3))lua", "OK s:3fd5555555555555555555555555d5bf"},
      {R"lua(return struct.pack('d', 1/0))lua", "OK s:000000000000f07f"},
      {R"lua(return struct.pack('>f', 1e300))lua", "OK s:7f800000"},
      {R"lua(return struct.pack('s', 'hi'))lua", "OK s:686900"},
      {R"lua(return struct.pack('>s', 'a\0b'))lua", "OK s:61006200"},
      {R"lua(return struct.pack('c0', 'hello'))lua", "OK s:68656c6c6f"},
      {R"lua(return struct.pack('c0', ''))lua", "OK s:"},
      {R"lua(return struct.pack('c3', 'hello'))lua", "OK s:68656c"},
      {R"lua(return #struct.pack('c0c0i', string.rep('a', 10000), string.rep('b', 10000), 7), struct.pack('c0c0i', string.rep('a', 10000), string.rep('b', 10000), 7):sub(-4))lua",
       "OK n:20004 s:07000000"},
  };
  check_all(cases);
}

// ---- ScriptLibsStruct.OutOfRange
TEST_F(ScriptLibsStruct, OutOfRange) {
  const Case cases[] = {
      {R"lua(return struct.pack('>I8', 2^63))lua", "OK s:8000000000000000"},
      {R"lua(return struct.pack('>I8', 2^63 + 2^12))lua", "OK s:8000000000001000"},
      {R"lua(return struct.pack('>I8', 2^64))lua", "OK s:0000000000000000"},
      {R"lua(return struct.pack('>i8', 2^65))lua", "OK s:0000000000000000"},
      {R"lua(return struct.pack('>I8', 1/0))lua", "OK s:0000000000000000"},
      {R"lua(return struct.pack('>I8', -1/0))lua", "OK s:8000000000000000"},
      {R"lua(return struct.pack('>i8', 0/0))lua", "OK s:8000000000000000"},
      {R"lua(return struct.pack('>i8', -2^63))lua", "OK s:8000000000000000"},
      {R"lua(return struct.pack('>i8', -2^64))lua", "OK s:8000000000000000"},
  };
  check_all(cases);
}

// ---- ScriptLibsStruct.Align
TEST_F(ScriptLibsStruct, Align) {
  const Case cases[] = {
      {R"lua(return struct.pack('!4 b i', 1, 2))lua", "OK s:0100000002000000"},
      {R"lua(return struct.pack('!2 b i', 1, 2))lua", "OK s:010002000000"},
      {R"lua(return struct.pack('!b d', 1, 2))lua", "OK s:01000000000000000000000000000040"},
      {R"lua(return struct.pack('!1bd', 1, 2))lua", "OK s:010000000000000040"},
      {R"lua(return struct.pack('!16bd', 1, 2))lua", "OK s:01000000000000000000000000000040"},
      {R"lua(return struct.pack('!8 b x h', 1, 2))lua", "OK s:01000200"},
      {R"lua(return struct.pack('!8 b i3', 1, 2))lua", "OK s:010000020000"},
      {R"lua(return struct.pack('!8 b i6 b i7', 1, -2, 3, 4))lua",
       "OK s:010000000000feffffffffff03000004000000000000"},
      {R"lua(return struct.pack('!>hbdx', 1, 2, 3))lua", "OK s:0001020000000000400800000000000000"},
      {R"lua(return struct.unpack('!>hbdx', struct.pack('!>hbdx', 1, 2, 3)))lua",
       "OK n:1 n:2 n:3 n:18"},
      {R"lua(return struct.unpack('!4 i', 'xyz\0\0\0\0\1', 2))lua", "OK n:16777216 n:9"},
      {R"lua(return struct.unpack('!8 b i6', struct.pack('!8 b i6', 1, -2)))lua",
       "OK n:1 n:-2 n:13"},
  };
  check_all(cases);
}

// ---- ScriptLibsStruct.Unpack
TEST_F(ScriptLibsStruct, Unpack) {
  const Case cases[] = {
      {R"lua(return struct.unpack('>i2', '\0\5'))lua", "OK n:5 n:3"},
      {R"lua(return struct.unpack('<i2', '\255\255'))lua", "OK n:-1 n:3"},
      {R"lua(return struct.unpack('<I2', '\255\255'))lua", "OK n:65535 n:3"},
      {R"lua(return struct.unpack('>i3', '\128\0\1'))lua", "OK n:-8388607 n:4"},
      {R"lua(return struct.unpack('bBhHlLT', struct.pack('bBhHlLT', -1, 255, -300, 65535, -5, 7, 9)))lua",
       "OK n:-1 n:255 n:-300 n:65535 n:-5 n:7 n:9 n:31"},
      {R"lua(return struct.unpack('<T>T', string.rep('\1', 8) .. string.rep('\2', 8)))lua",
       "OK n:72340172838076672 n:1.4468034567615334e+17 n:17"},
      {R"lua(return struct.unpack('<L>l', string.rep('\255', 16)))lua",
       "OK n:1.8446744073709552e+19 n:-1 n:17"},
      {R"lua(return struct.unpack('>I8', '\255\255\255\255\255\255\255\255'))lua",
       "OK n:1.8446744073709552e+19 n:9"},
      {R"lua(return struct.unpack('>i8', '\128\0\0\0\0\0\0\1'))lua",
       "OK n:-9.2233720368547758e+18 n:9"},
      {R"lua(return struct.unpack('i0', 'abc'))lua", "OK n:0 n:1"},
      {R"lua(return struct.unpack('>i10', string.rep('\255', 10)))lua", "OK n:-1 n:11"},
      {R"lua(return struct.unpack('>i9', '\0\0\0\0\0\0\0\128\0'))lua", "OK n:-128 n:10"},
      {R"lua(return struct.unpack('>i9', '\128\0\0\0\0\0\0\0\0'))lua", "OK n:0 n:10"},
      {R"lua(return struct.unpack('>i12', '\0\0\0\0\0\0\0\0\0\0\128\0'))lua", "OK n:32768 n:13"},
      {R"lua(return struct.unpack('>I12', '\1\2\3\4\5\6\7\8\9\10\11\12'))lua",
       "OK n:3.6198455114268954e+17 n:13"},
      {R"lua(return struct.unpack('>f', '\63\192\0\0'))lua", "OK n:1.5 n:5"},
      {R"lua(return struct.unpack('>f', '\127\192\0\0'))lua", "OK n:nan n:5"},
      {R"lua(return struct.unpack('<f<d', struct.pack('<f<d', 1/3, 1/3)))lua",
       "OK n:0.3333333432674408 n:0.33333333333333331 n:13"},
      {R"lua(return struct.unpack('xb', 'ab'))lua", "OK n:98 n:3"},
      {R"lua(return struct.unpack('s', 'abc\0def'))lua", "OK s:616263 n:5"},
      {R"lua(return struct.unpack('>s', 'a\0b'))lua", "OK s:61 n:3"},
      {R"lua(return struct.unpack('c3', 'abcdef'))lua", "OK s:616263 n:4"},
      {R"lua(return struct.unpack('bc0', '\3abcdef'))lua", "OK s:616263 n:5"},
      {R"lua(return struct.unpack('bc0', '\0'))lua", "OK s: n:2"},
      {R"lua(return struct.unpack('c1c0', '5hello'))lua", "OK s:68656c6c6f n:7"},
      {R"lua(return struct.unpack('>dc0', struct.pack('>d', 2.5) .. 'abc'))lua", "OK s:6162 n:11"},
      {R"lua(return struct.unpack('>dc0', struct.pack('>d', 1/0) .. 'abc'))lua", "OK s: n:9"},
  };
  check_all(cases);
}

// ---- ScriptLibsStruct.Offsets
TEST_F(ScriptLibsStruct, Offsets) {
  const Case cases[] = {
      {R"lua(return struct.unpack('b', 'abc', 2))lua", "OK n:98 n:3"},
      {R"lua(return struct.unpack('b', 'abc', 3))lua", "OK n:99 n:4"},
      {R"lua(return struct.unpack('b', 'abc', 4))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('', 'abc', 4))lua", "OK n:4"},
      {R"lua(return struct.unpack('', 'abc', 5))lua", "OK n:5"},
      {R"lua(return struct.unpack('>', 'abc', 5))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('b', 'abc', 0))lua",
       "ERR test:1: bad argument #3 to 'unpack' (offset must be 1 or greater)"},
      {R"lua(return struct.unpack('b', 'abc', -1))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('', 'abc', -5))lua", "OK n:-5"},
      {R"lua(return struct.unpack('', 'abc', 2.7))lua", "OK n:2"},
      {R"lua(return struct.unpack('b', 'a', 'z'))lua",
       "ERR test:1: bad argument #3 to 'unpack' (number expected, got string)"},
  };
  check_all(cases);
}

// ---- ScriptLibsStruct.Size
TEST_F(ScriptLibsStruct, Size) {
  const Case cases[] = {
      {R"lua(return struct.size('bhi'))lua", "OK n:7"},
      {R"lua(return struct.size('!bhi'))lua", "OK n:8"},
      {R"lua(return struct.size('!4 b d'))lua", "OK n:12"},
      {R"lua(return struct.size('bTxfd'))lua", "OK n:22"},
      {R"lua(return struct.size('c7'))lua", "OK n:7"},
      {R"lua(return struct.size('!b i5'))lua", "OK n:10"},
      {R"lua(return struct.size('!8 b i6 b i7 c3 x f'))lua", "OK n:32"},
      {R"lua(return struct.size(''))lua", "OK n:0"},
      {R"lua(return struct.size('q5'))lua", "OK n:0"},
      {R"lua(return struct.size(5))lua", "OK n:0"},
      {R"lua(return struct.size('s'))lua",
       "ERR test:1: bad argument #1 to 'size' (option 's' has no fixed size)"},
      {R"lua(return struct.size('c0'))lua",
       "ERR test:1: bad argument #1 to 'size' (option 'c0' has no fixed size)"},
      {R"lua(return struct.size('?'))lua",
       "ERR test:1: bad argument #1 to 'size' (invalid format option '?')"},
      {R"lua(return struct.size('i40'))lua",
       "ERR test:1: integral size 40 is larger than limit of 32"},
      {R"lua(return struct.size())lua",
       "ERR test:1: bad argument #1 to 'size' (string expected, got no value)"},
  };
  check_all(cases);
}

// ---- ScriptLibsStruct.Errors
TEST_F(ScriptLibsStruct, Errors) {
  const Case cases[] = {
      {R"lua(return struct.pack('bz', 1))lua",
       "ERR test:1: bad argument #1 to 'pack' (invalid format option 'z')"},
      {R"lua(return struct.pack('5', 1))lua",
       "ERR test:1: bad argument #1 to 'pack' (invalid format option '5')"},
      {R"lua(return struct.pack(12, 5))lua",
       "ERR test:1: bad argument #1 to 'pack' (invalid format option '1')"},
      {R"lua(return struct.pack('s5', 'ab'))lua",
       "ERR test:1: bad argument #1 to 'pack' (invalid format option '5')"},
      {R"lua(return struct.pack('\200', 1))lua",
       "ERR test:1: bad argument #1 to 'pack' (invalid format option '\xc8"
       "')"},
      {R"lua(return struct.pack('>i33', 1))lua",
       "ERR test:1: integral size 33 is larger than limit of 32"},
      {R"lua(return struct.pack('!3 b', 1))lua", "ERR test:1: alignment 3 is not a power of 2"},
      {R"lua(return struct.pack('!0 b', 1))lua", "ERR test:1: alignment 0 is not a power of 2"},
      {R"lua(return struct.pack('!99999999999 b', 1))lua", "ERR test:1: integral size overflow"},
      {R"lua(return struct.pack('i99999999999', 1))lua", "ERR test:1: integral size overflow"},
      {R"lua(return struct.pack('c5', 'ab'))lua",
       "ERR test:1: bad argument #3 to 'pack' (string too short)"},
      {R"lua(return struct.pack('>i4'))lua",
       "ERR test:1: bad argument #2 to 'pack' (number expected, got nil)"},
      {R"lua(return struct.pack('c0c0c0', string.rep('a', 10000), string.rep('b', 10000)))lua",
       "ERR test:1: bad argument #4 to 'pack' (string expected, got nil)"},
      {R"lua(return struct.pack('>i4', 'x'))lua",
       "ERR test:1: bad argument #2 to 'pack' (number expected, got string)"},
      {R"lua(return struct.pack('i', true))lua",
       "ERR test:1: bad argument #2 to 'pack' (number expected, got boolean)"},
      {R"lua(return struct.pack('c', {}))lua",
       "ERR test:1: bad argument #2 to 'pack' (string expected, got table)"},
      {R"lua(return struct.pack())lua",
       "ERR test:1: bad argument #1 to 'pack' (string expected, got no value)"},
      {R"lua(return struct.unpack('q', 'ab'))lua",
       "ERR test:1: bad argument #1 to 'unpack' (invalid format option 'q')"},
      {R"lua(return struct.unpack('c3', 'ab'))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('i', '\1\0\0'))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('x', ''))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('s', 'abc'))lua", "ERR test:1: unfinished string in data"},
      {R"lua(return struct.unpack('c0', 'abc'))lua",
       "ERR test:1: format 'c0' needs a previous size"},
      {R"lua(return struct.unpack('c1c0', 'xhello'))lua",
       "ERR test:1: format 'c0' needs a previous size"},
      {R"lua(return struct.unpack('bc0', '\255abc'))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('>dc0', struct.pack('>d', 0/0) .. 'abc'))lua",
       "ERR test:1: bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(return struct.unpack('b'))lua",
       "ERR test:1: bad argument #2 to 'unpack' (string expected, got no value)"},
      {R"lua(return struct.unpack(nil, 'a'))lua",
       "ERR test:1: bad argument #1 to 'unpack' (string expected, got nil)"},
      {R"lua(return struct.unpack(string.rep('b', 9000), string.rep('a', 9000)))lua",
       "ERR test:1: stack overflow (too many results)"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.PackScalars
TEST_F(ScriptLibsCmsgpack, PackScalars) {
  const Case cases[] = {
      {R"lua(return cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296))lua",
       "OK s:00017fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000"},
      {R"lua(return cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649))lua",
       "OK s:ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffff"},
      {R"lua(return cmsgpack.pack(2^31, -2^31, 2^32, 2^16, -2^15, -2^15 - 1))lua",
       "OK s:ce80000000d280000000cf0000000100000000ce00010000d18000d2ffff7fff"},
      {R"lua(return cmsgpack.pack(2^53, -2^53, 2^63, -2^63, 2^62, 1e20, -1e20))lua",
       "OK s:cf0020000000000000d3ffe0000000000000ca5f000000d38000000000000000c"
       "f4000000000000000cb4415af1d78b58c40cbc415af1d78b58c40"},
      {R"lua(return cmsgpack.pack(123456789012, -123456789012, 0.25, 1e-7))lua",
       "OK s:cf0000001cbe991a14d3ffffffe34166e5ecca3e800000cb3e7ad7f29abcaf48"},
      {R"lua(return cmsgpack.pack(0.5, -0.5, 1.5, 0.1, 3.14159, 1e300, -1e-300, 1/0, -1/0))lua",
       "OK s:ca3f000000cabf000000ca3fc00000cb3fb999999999999acb400921f9f01b866"
       "ecb7e37e43c8800759ccb81a56e1fc2f8f359ca7f800000caff800000"},
      {R"lua(return cmsgpack.pack(1e38, 3.4028234663852886e38, 3.5e38, 1e-45, 2^-149))lua",
       "OK s:cb47d2ced32a16a1b1ca7f7fffffcb47f074f8c4d3cd7bcb3696d601ad376ab9ca00000001"},
      {R"lua(return cmsgpack.pack(0/0))lua", "OK s:cbfff8000000000000"},
      {R"lua(return cmsgpack.pack(-(0/0)))lua", "OK s:cb7ff8000000000000"},
      {R"lua(return cmsgpack.pack(-0.0))lua", "OK s:00"},
      {R"lua(return cmsgpack.pack(true, false, nil))lua", "OK s:c3c2c0"},
      {R"lua(return cmsgpack.pack(nil, nil))lua", "OK s:c0c0"},
      {R"lua(return cmsgpack.pack(function() end, coroutine.create(function() end)))lua",
       "OK s:c0c0"},
      {R"lua(return cmsgpack.pack('', 'abc', 'x\0y'))lua", "OK s:a0a3616263a3780079"},
      {R"lua(return cmsgpack.pack(string.rep('x', 31)):sub(1, 2), #cmsgpack.pack(string.rep('x', 31)))lua",
       "OK s:bf78 n:32"},
      {R"lua(return cmsgpack.pack(string.rep('x', 32)):sub(1, 3), #cmsgpack.pack(string.rep('x', 32)))lua",
       "OK s:d92078 n:34"},
      {R"lua(return cmsgpack.pack(string.rep('x', 255)):sub(1, 3))lua", "OK s:d9ff78"},
      {R"lua(return cmsgpack.pack(string.rep('x', 256)):sub(1, 4))lua", "OK s:da010078"},
      {R"lua(return cmsgpack.pack(string.rep('x', 65535)):sub(1, 4))lua", "OK s:daffff78"},
      {R"lua(return cmsgpack.pack(string.rep('x', 65536)):sub(1, 6), #cmsgpack.pack(string.rep('x', 65536)))lua",
       "OK s:db0001000078 n:65541"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.PackTables
TEST_F(ScriptLibsCmsgpack, PackTables) {
  const Case cases[] = {
      {R"lua(return cmsgpack.pack({}))lua", "OK s:90"},
      {R"lua(return cmsgpack.pack({1, 2, 3}))lua", "OK s:93010203"},
      {R"lua(return cmsgpack.pack({1, 2, nil, 4}))lua", "OK s:83010102020404"},
      {R"lua(return cmsgpack.pack({[1]=1, [2]=2, [4]=4}))lua", "OK s:83010102020404"},
      {R"lua(return cmsgpack.pack({[1]=1, [2]=2, [3.0]=3}))lua", "OK s:93010203"},
      {R"lua(return cmsgpack.pack({[2]=2}))lua", "OK s:810202"},
      {R"lua(return cmsgpack.pack({[1.5]=1}))lua", "OK s:81ca3fc0000001"},
      {R"lua(return cmsgpack.pack({[0]=1}))lua", "OK s:810001"},
      {R"lua(return cmsgpack.pack({[-1]=1}))lua", "OK s:81ff01"},
      {R"lua(return cmsgpack.pack({[2^31]=1}))lua", "OK s:81ce8000000001"},
      {R"lua(return cmsgpack.pack({[true]=1}))lua", "OK s:81c301"},
      {R"lua(return cmsgpack.pack({['1']=1}))lua", "OK s:81a13101"},
      {R"lua(return cmsgpack.pack({1, 2, a=3}))lua", "OK s:8301010202a16103"},
      {R"lua(return cmsgpack.pack({['10']=1, [10]=2, [1]=3}))lua", "OK s:8301030a02a2313001"},
      {R"lua(return cmsgpack.pack({x={1,2}, y={z=false}}))lua", "OK s:82a17981a17ac2a178920102"},
      {R"lua(return cmsgpack.pack({1, 2, '3', {a={b={}}}, 'x\0y'}))lua",
       "OK s:950102a13381a16181a16290a3780079"},
      {R"lua(local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t))lua",
       "OK s:dc00100102030405060708090a0b0c0d0e0f10"},
      {R"lua(local t = {} for i = 1, 100 do t[i] = i * 1000 end return cmsgpack.pack(t))lua",
       "OK s:dc0064cd03e8cd07d0cd0bb8cd0fa0cd1388cd1770cd1b58cd1f40cd2328cd271"
       "0cd2af8cd2ee0cd32c8cd36b0cd3a98cd3e80cd4268cd4650cd4a38cd4e20cd5208cd5"
       "5f0cd59d8cd5dc0cd61a8cd6590cd6978cd6d60cd7148cd7530cd7918cd7d00cd80e8c"
       "d84d0cd88b8cd8ca0cd9088cd9470cd9858cd9c40cda028cda410cda7f8cdabe0cdafc"
       "8cdb3b0cdb798cdbb80cdbf68cdc350cdc738cdcb20cdcf08cdd2f0cdd6d8cddac0cdd"
       "ea8cde290cde678cdea60cdee48cdf230cdf618cdfa00cdfde8ce000101d0ce000105b"
       "8ce000109a0ce00010d88ce00011170ce00011558ce00011940ce00011d28ce0001211"
       "0ce000124f8ce000128e0ce00012cc8ce000130b0ce00013498ce00013880ce00013c6"
       "8ce00014050ce00014438ce00014820ce00014c08ce00014ff0ce000153d8ce000157c"
       "0ce00015ba8ce00015f90ce00016378ce00016760ce00016b48ce00016f30ce0001731"
       "8ce00017700ce00017ae8ce00017ed0ce000182b8ce000186a0"},
      {R"lua(local t = {} for i = 1, 70000 do t[i] = i % 3 end local s = cmsgpack.pack(t) return s:sub(1, 8), #s)lua",
       "OK s:dd00011170010200 n:70005"},
      {R"lua(local t = {} for i = 1, 20 do t['k' .. i] = i end return cmsgpack.pack(t))lua",
       "OK s:de0014a36b313610a36b313913a36b31310ba36b313711a36b31350fa36b32301"
       "4a36b31300aa26b3808a26b3101a36b31320ca26b3303a26b3202a26b3909a36b31330"
       "da36b313812a36b31340ea26b3606a26b3707a26b3404a26b3505"},
      {R"lua(local t = {} for i = 1, 50 do t['key' .. i] = {i, tostring(i)} end return cmsgpack.pack(t))lua",
       "OK s:de0032a56b657931369210a23136a46b6579399209a139a56b657935309232a23"
       "530a56b657933359223a23335a56b657932349218a23234a56b65793134920ea23134a"
       "46b6579389208a138a56b65793331921fa23331a56b65793236921aa23236a56b65793"
       "1379211a23137a56b657933399227a23339a46b6579359205a135a56b65793133920da"
       "23133a56b657934389230a23438a56b65793437922fa23437a56b657932319215a2323"
       "1a46b6579349204a134a56b657933329220a23332a56b657934319229a23431a56b657"
       "93433922ba23433a56b65793434922ca23434a46b6579329202a132a46b6579319201a"
       "131a56b65793435922da23435a56b65793330921ea23330a56b65793436922ea23436a"
       "56b65793237921ba23237a56b657934309228a23430a56b657933389226a23338a56b6"
       "57932329216a23232a56b657933339221a23333a46b6579339203a133a56b657932359"
       "219a23235a56b65793135920fa23135a46b6579369206a136a56b657933349222a2333"
       "4a56b65793131920ba23131a56b657934399231a23439a56b65793432922aa23432a56"
       "b65793130920aa23130a56b657931399213a23139a56b65793239921da23239a46b657"
       "9379207a137a56b657933379225a23337a56b657932309214a23230a56b65793132920"
       "ca23132a56b657931389212a23138a56b657932339217a23233a56b657933369224a23"
       "336a56b65793238921ca23238"},
      {R"lua(local t = {} for i = 1, 70000 do t['k' .. i] = 1 end local s = cmsgpack.pack(t) return s:sub(1, 5), #s)lua",
       "OK s:df00011170 n:548899"},
      {R"lua(local t = setmetatable({}, {__index = function() return 7 end}) t[1] = 1 t[3] = 3 return cmsgpack.pack(t))lua",
       "OK s:8201010303"},
      {R"lua(return cmsgpack.pack(setmetatable({1, 2}, {__len = function() return 5 end})))lua",
       "OK s:920102"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.Nesting
TEST_F(ScriptLibsCmsgpack, Nesting) {
  const Case cases[] = {
      {R"lua(local t = {} local c = t for i = 1, 15 do c[1] = {} c = c[1] end return cmsgpack.pack(t))lua",
       "OK s:91919191919191919191919191919190"},
      {R"lua(local t = {} local c = t for i = 1, 16 do c[1] = {} c = c[1] end return cmsgpack.pack(t))lua",
       "OK s:91919191919191919191919191919191c0"},
      {R"lua(local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t))lua",
       "OK s:91919191919191919191919191919191c0"},
      {R"lua(local t = {} t.self = t return cmsgpack.pack(t))lua",
       "OK s:81a473656c6681a473656c6681a473656c6681a473656c6681a473656c6681a47"
       "3656c6681a473656c6681a473656c6681a473656c6681a473656c6681a473656c6681a"
       "473656c6681a473656c6681a473656c6681a473656c6681a473656c66c0"},
      {R"lua(local t = {} t[t] = 1 return cmsgpack.pack(t))lua",
       "OK s:81818181818181818181818181818181c001010101010101010101010101010101"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.Unpack
TEST_F(ScriptLibsCmsgpack, Unpack) {
  const Case cases[] = {
      {R"lua(return cmsgpack.unpack(''))lua", "OK "},
      {R"lua(return cmsgpack.unpack('\192\194\195'))lua", "OK nil:nil boolean:false boolean:true"},
      {R"lua(return cmsgpack.unpack('\127\224\255\128\144'))lua", "OK n:127 n:-32 n:-1 {} {}"},
      {R"lua(return cmsgpack.unpack('\204\200\205\1\2\206\255\255\255\255'))lua",
       "OK n:200 n:258 n:4294967295"},
      {R"lua(return cmsgpack.unpack('\207\0\0\0\0\0\0\0\1'))lua", "OK n:1"},
      {R"lua(return cmsgpack.unpack('\207\128\0\0\0\0\0\0\0'))lua", "OK n:-9.2233720368547758e+18"},
      {R"lua(return cmsgpack.unpack('\207\255\255\255\255\255\255\255\255'))lua", "OK n:-1"},
      {R"lua(return cmsgpack.unpack('\208\128\209\255\1\210\128\0\0\0\211\255\255\255\255\255\255\255\254'))lua",
       "OK n:-128 n:-255 n:-2147483648 n:-2"},
      {R"lua(return cmsgpack.unpack('\209\128\0'))lua", "OK n:-32768"},
      {R"lua(return cmsgpack.unpack('\211\128\0\0\0\0\0\0\0'))lua", "OK n:-9.2233720368547758e+18"},
      {R"lua(return cmsgpack.unpack('\202\63\192\0\0\203\63\185\153\153\153\153\153\154'))lua",
       "OK n:1.5 n:0.10000000000000001"},
      {R"lua(return cmsgpack.unpack('\202\127\192\0\0\202\255\128\0\0'))lua", "OK n:nan n:-inf"},
      {R"lua(return cmsgpack.unpack('\163a\0b'))lua", "OK s:610062"},
      {R"lua(return cmsgpack.unpack('\217\3abc'))lua", "OK s:616263"},
      {R"lua(return cmsgpack.unpack('\218\0\3abc'))lua", "OK s:616263"},
      {R"lua(return cmsgpack.unpack('\219\0\0\0\3abc'))lua", "OK s:616263"},
      {R"lua(return cmsgpack.unpack('\147\1\2\3'))lua", "OK {n:1=n:1,n:2=n:2,n:3=n:3}"},
      {R"lua(return cmsgpack.unpack('\147\1\192\3'))lua", "OK {n:1=n:1,n:3=n:3}"},
      {R"lua(return cmsgpack.pack(cmsgpack.unpack('\147\1\192\3')))lua", "OK s:8201010303"},
      {R"lua(return cmsgpack.unpack('\129\1\2'))lua", "OK {n:1=n:2}"},
      {R"lua(return cmsgpack.unpack('\130\1\2\1\3'))lua", "OK {n:1=n:3}"},
      {R"lua(return cmsgpack.unpack('\220\0\2\1\2\222\0\1\1\2'))lua",
       "OK {n:1=n:1,n:2=n:2} {n:1=n:2}"},
      {R"lua(return cmsgpack.unpack(cmsgpack.pack(1, 'a', {2}, true, false, 1.5, 0.1)))lua",
       "OK n:1 s:61 {n:1=n:2} boolean:true boolean:false n:1.5 n:0.10000000000000001"},
      {R"lua(return cmsgpack.unpack(cmsgpack.pack({a=1, b=2, c=3, d=4, e={1, 2, {f=1}}})))lua",
       "OK {s:61=n:1,s:63=n:3,s:62=n:2,s:65={n:1=n:1,n:2=n:2,n:3={s:66=n:1}},s:64=n:4}"},
      {R"lua(return cmsgpack.pack(cmsgpack.unpack(cmsgpack.pack({a=1, b=2, c=3, d=4, e=5, f=6, g=7, h=8, i=9}))))lua",
       "OK s:89a16101a16303a16202a16505a16404a16707a16606a16909a16808"},
      {R"lua(return cmsgpack.unpack(5))lua", "OK n:53"},
      {R"lua(return cmsgpack.unpack(cmsgpack.pack(1, 2, 3), 99))lua", "OK n:1 n:2 n:3"},
      {R"lua(return #{cmsgpack.unpack(string.rep('\1', 7990))})lua", "OK n:7990"},
      {R"lua(local t = cmsgpack.unpack(string.rep('\145', 3000) .. '\1') local d = 0 while type(t) == 'table' do t = t[1] d = d + 1 end return d, t)lua",
       "OK n:3000 n:1"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.UnpackErrors
TEST_F(ScriptLibsCmsgpack, UnpackErrors) {
  const Case cases[] = {
      {R"lua(return cmsgpack.unpack('\193'))lua", "ERR test:1: Bad data format in input."},
      {R"lua(return cmsgpack.unpack('\196\1a'))lua", "ERR test:1: Bad data format in input."},
      {R"lua(return cmsgpack.unpack('\199\1\1a'))lua", "ERR test:1: Bad data format in input."},
      {R"lua(return cmsgpack.unpack('\212\1a'))lua", "ERR test:1: Bad data format in input."},
      {R"lua(return cmsgpack.unpack('\204'))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\217\3ab'))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\219\0\0'))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\219\0\0\0\3ab'))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\147\1\2'))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\129\1'))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\221\255\255\255\255'))lua",
       "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\223\255\255\255\255\1'))lua",
       "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack('\129\192\1'))lua", "ERR table index is nil"},
      {R"lua(return cmsgpack.unpack('\129\203\127\248\0\0\0\0\0\0\1'))lua",
       "ERR table index is NaN"},
      {R"lua(return cmsgpack.unpack(string.rep('\145', 5000) .. '\1'))lua",
       "ERR test:1: stack overflow (in function mp_decode_to_lua_array)"},
      {R"lua(return #{cmsgpack.unpack(string.rep('\1', 8000))})lua",
       "ERR test:1: stack overflow (too many return values at once; use unpack"
       "_one or unpack_limit instead.)"},
      {R"lua(return cmsgpack.unpack())lua",
       "ERR test:1: bad argument #1 to 'unpack' (string expected, got no value)"},
      {R"lua(return cmsgpack.unpack({}))lua",
       "ERR test:1: bad argument #1 to 'unpack' (string expected, got table)"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.UnpackOneLimit
TEST_F(ScriptLibsCmsgpack, UnpackOneLimit) {
  const Case cases[] = {
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3)))lua", "OK n:1 n:1"},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0))lua", "OK n:1 n:1"},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1))lua", "OK n:2 n:2"},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2))lua", "OK n:-1 n:3"},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3))lua", "OK n:-1"},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack({1, 2}, 'abc', 7), 3))lua",
       "OK n:7 s:616263"},
      {R"lua(return cmsgpack.unpack_one(''))lua", "OK n:-1"},
      {R"lua(return cmsgpack.unpack_one('\1', '0'))lua", "OK n:-1 n:1"},
      {R"lua(return cmsgpack.unpack_one('\1', 0.9))lua", "OK n:-1 n:1"},
      {R"lua(return cmsgpack.unpack_one(12))lua", "OK n:1 n:49"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2))lua", "OK n:2 n:1 n:2"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1))lua", "OK n:-1 n:2 n:3"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1))lua", "OK n:-1 n:2 n:3"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack({1, 2}, 'abc', 7), 2, 3))lua",
       "OK n:-1 s:616263 n:7"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0))lua", "OK n:1 n:2 n:3"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1))lua", "OK n:1"},
      {R"lua(return cmsgpack.unpack_limit('\1\2\3', 1, 3))lua", "OK n:-1"},
      {R"lua(return cmsgpack.unpack_limit('\1\2\3', 1.9))lua", "OK n:1 n:1"},
      {R"lua(return cmsgpack.unpack_limit('\1\2\3', 3000000000))lua", "OK n:-1 n:1 n:2 n:3"},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4))lua",
       "ERR test:1: Start offset 4 greater than input length 3."},
      {R"lua(return cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1))lua",
       "ERR test:1: Invalid request to unpack with offset of -1 and limit of 3."},
      {R"lua(return cmsgpack.unpack_one('\1\2\3', -2^40))lua",
       "ERR test:1: Invalid request to unpack with offset of 0 and limit of 3."},
      {R"lua(return cmsgpack.unpack_one('\1\204', 1))lua", "ERR test:1: Missing bytes in input."},
      {R"lua(return cmsgpack.unpack_one('\193', 0))lua", "ERR test:1: Bad data format in input."},
      {R"lua(return cmsgpack.unpack_one('\1', 'x'))lua",
       "ERR test:1: bad argument #2 to 'unpack_one' (number expected, got string)"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1))lua",
       "ERR test:1: Invalid request to unpack with offset of 0 and limit of 3."},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1, -3))lua",
       "ERR test:1: Invalid request to unpack with offset of -3 and limit of 3."},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 99))lua",
       "ERR test:1: Start offset 99 greater than input length 3."},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 2^32 + 1))lua",
       "ERR test:1: Start offset 1 greater than input length 3."},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3)))lua",
       "ERR test:1: bad argument #2 to 'unpack_limit' (number expected, got no value)"},
      {R"lua(return cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 'b'))lua",
       "ERR test:1: bad argument #3 to 'unpack_limit' (number expected, got string)"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.PackErrors
TEST_F(ScriptLibsCmsgpack, PackErrors) {
  const Case cases[] = {
      {R"lua(return cmsgpack.pack())lua",
       "ERR test:1: bad argument #0 to 'pack' (MessagePack pack needs input.)"},
      {R"lua(local t = {} for i = 1, 3999 do t[i] = i end return #cmsgpack.pack(unpack(t)))lua",
       "OK n:11615"},
      {R"lua(local t = {} for i = 1, 4001 do t[i] = i end return #cmsgpack.pack(unpack(t)))lua",
       "ERR test:1: bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"},
      {R"lua(local t = {} for i = 1, 3990 do t[i] = {{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}} end return #cmsgpack.pack(unpack(t)))lua",
       "OK n:67830"},
      {R"lua(local t = {} for i = 1, 3998 do t[i] = {{{{{{{{{{{{{{{{1}}}}}}}}}}}}}}}} end return #cmsgpack.pack(unpack(t)))lua",
       "ERR test:1: stack overflow (in function table_is_an_array)"},
      {R"lua(local t = {} for i = 1, 3990 do t[i] = {a={b={c={d={e={f={g={h={i={j={k={l={m={n={o={p=1}}}}}}}}}}}}}}}} end return #cmsgpack.pack(unpack(t)))lua",
       "ERR test:1: stack overflow (in function mp_encode_lua_table_as_map)"},
  };
  check_all(cases);
}

// ---- ScriptLibsCmsgpack.Module
TEST_F(ScriptLibsCmsgpack, Module) {
  const Case cases[] = {
      {R"lua(return cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION)lua",
       "OK s:636d73677061636b s:6c75612d636d73677061636b20302e342e30 s:436f707"
       "972696768742028432920323031322c2053616c7661746f72652053616e66696c69707"
       "06f s:4d6573736167655061636b204320696d706c656d656e746174696f6e20666f72"
       "204c7561"},
      {R"lua(local k = {} for n in pairs(cmsgpack) do k[#k+1] = n end return table.concat(k, ','))lua",
       "OK s:5f4445534352495054494f4e2c7061636b2c5f4e414d452c756e7061636b2c5f4"
       "34f505952494748542c5f56455253494f4e2c756e7061636b5f6f6e652c756e7061636"
       "b5f6c696d6974"},
      {R"lua(local k = {} for n in pairs(struct) do k[#k+1] = n end return table.concat(k, ','))lua",
       "OK s:7061636b2c73697a652c756e7061636b"},
      {R"lua(return type(cmsgpack.pack), type(cmsgpack.unpack), type(cmsgpack.unpack_one), type(cmsgpack.unpack_limit), type(struct.pack), type(struct.unpack), type(struct.size))lua",
       "OK s:66756e6374696f6e s:66756e6374696f6e s:66756e6374696f6e s:66756e63"
       "74696f6e s:66756e6374696f6e s:66756e6374696f6e s:66756e6374696f6e"},
  };
  check_all(cases);
}
// ---- Round trips (no Redis reference needed: the values must come back).

TEST_F(ScriptLibsStruct, RoundTripsIntegersAndFloats) {
  EXPECT_EQ(run(R"lua(
    local bad = 0
    local fmts = {{'b', -128, 127}, {'B', 0, 255}, {'h', -32768, 32767}, {'H', 0, 65535},
                  {'i', -2^31, 2^31 - 1}, {'I', 0, 2^32 - 1}, {'l', -2^53, 2^53},
                  {'i3', -2^23, 2^23 - 1}, {'I5', 0, 2^40 - 1}, {'i7', -2^53, 2^53}}
    for _, f in ipairs(fmts) do
      for _, e in ipairs({'<', '>', '!4<', '!8>'}) do
        for k = 0, 50 do
          local v = f[2] + math.floor((f[3] - f[2]) * k / 50)
          local fmt = e .. 'b' .. f[1] .. 'd'
          local a, b, c, nxt = struct.unpack(fmt, struct.pack(fmt, 1, v, v / 3))
          if a ~= 1 or b ~= v or c ~= v / 3 or nxt ~= struct.size(fmt) + 1 then bad = bad + 1 end
        end
      end
    end
    local s = struct.pack('>fs c0 c2', 0.5, 'zero', 'abc', 'xyz')
    local f, z, c3, c2, nxt = struct.unpack('>fs c3 c2', s)
    if f ~= 0.5 or z ~= 'zero' or c3 ~= 'abc' or c2 ~= 'xy' or nxt ~= #s + 1 then bad = bad + 1 end
    local str, nxt2 = struct.unpack('>I2 c0', struct.pack('>I2 c0', 5, 'hello'))
    if str ~= 'hello' or nxt2 ~= 8 then bad = bad + 1 end
    return bad
  )lua"),
            "OK n:0");
}

TEST_F(ScriptLibsCmsgpack, RoundTripsValues) {
  EXPECT_EQ(run(R"lua(
    local function same(a, b)
      if type(a) ~= type(b) then return false end
      if type(a) ~= 'table' then return a == b end
      for k, v in pairs(a) do if not same(v, b[k]) then return false end end
      for k in pairs(b) do if a[k] == nil then return false end end
      return true
    end
    local values = {0, 1, -1, 127, 128, -32, -33, 255, 256, 65535, 65536, -32768, -32769,
                    2^31, -2^31 - 1, 2^32, 2^53, -2^53, 0.5, 0.1, -1e300, 1/0, -1/0,
                    '', 'x', string.rep('y', 40), string.rep('z', 300), string.rep('w', 70000),
                    true, false, {}, {1, 2, 3}, {a = 1, b = {c = {d = 'e'}}}, {[1] = 1, [3] = 3},
                    {1, 'two', {3}, x = 4}}
    local bad = 0
    for i, v in ipairs(values) do
      local back = cmsgpack.unpack(cmsgpack.pack(v))
      if not same(v, back) then bad = bad + 1 end
    end
    -- A stream of values comes back in order, whole or one at a time.
    local stream = cmsgpack.pack(unpack(values))
    local all = {cmsgpack.unpack(stream)}
    if #all ~= #values then bad = bad + 1 end
    for i = 1, #values do if not same(values[i], all[i]) then bad = bad + 1 end end
    local offset, i = 0, 0
    while offset ~= -1 do
      local v
      offset, v = cmsgpack.unpack_one(stream, offset)
      i = i + 1
      if not same(values[i], v) then bad = bad + 1 end
    end
    if i ~= #values then bad = bad + 1 end
    return bad
  )lua"),
            "OK n:0");
}

// A Lua error raised inside the libraries unwinds (the Lua library is built as
// C++) and leaves the state usable.
TEST_F(ScriptLibsCmsgpack, ErrorsLeaveTheStateUsable) {
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(run("return cmsgpack.unpack('\\217\\200' .. string.rep('x', 100))"),
              "ERR test:1: Missing bytes in input.");
    ASSERT_EQ(run("return struct.pack('c0i', string.rep('a', 20000))"),
              "ERR test:1: bad argument #3 to 'pack' (number expected, got nil)");
  }
  EXPECT_EQ(run("return cmsgpack.pack({1, {2}})"),
            "OK s:920191"
            "02");
}

}  // namespace
