// Differential test of the bitmap commands (SETBIT, GETBIT, BITCOUNT,
// BITPOS, BITOP, BITFIELD, BITFIELD_RO) and LCS against redis-server 7.0:
// fixed edge cases and every error text, then seeded random streams over
// random strings and offsets; each reply is compared byte for byte, over
// RESP2 and RESP3, and so are the keyspace notifications the writes make.
//
// BITS_DIFF_SEED=<n> runs one chosen seed of the random streams.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "differential.hpp"

namespace setd::testing {
namespace {

using Args = std::vector<std::string>;

// A Differential speaking `resp` on its main connections, emptied.
void prepare(Differential& d, int resp) {
  for (Client* c : {&d.setd(), &d.redis()}) {
    if (resp == 3) c->call({"HELLO", "3"});
    c->call({"FLUSHALL"});
  }
}

void run_all(Differential& d, const std::vector<Args>& cmds) {
  for (const auto& c : cmds) d.run_bytes(c);
}

const std::string kLong(70, 'x');  // a raw string

TEST(BitsDifferential, SetbitAndGetbit) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (int resp : {2, 3}) {
    Differential d(1);
    prepare(d, resp);
    run_all(d, {
                   {"SETBIT", "b", "7", "1"},
                   {"SETBIT", "b", "7", "1"},
                   {"SETBIT", "b", "7", "0"},
                   {"SETBIT", "b", "100", "1"},
                   {"GET", "b"},
                   {"STRLEN", "b"},
                   {"OBJECT", "ENCODING", "b"},
                   {"GETBIT", "b", "100"},
                   {"GETBIT", "b", "99"},
                   {"GETBIT", "b", "100000"},
                   {"GETBIT", "nokey", "3"},
                   {"SETBIT", "b", "-1", "1"},
                   {"SETBIT", "b", "abc", "1"},
                   {"SETBIT", "b", "", "1"},
                   {"SETBIT", "b", "1.5", "1"},
                   {"SETBIT", "b", "4294967296", "1"},
                   {"SETBIT", "b", "99999999999999999999", "1"},
                   {"SETBIT", "b", "1", "2"},
                   {"SETBIT", "b", "1", "-1"},
                   {"SETBIT", "b", "1", "x"},
                   {"SETBIT", "b", "1", ""},
                   {"SETBIT", "b", "1"},
                   {"GETBIT", "b"},
                   {"GETBIT", "b", "-1"},
                   {"GETBIT", "b", "4294967296"},
                   {"GETBIT", "b", "4294967295"},
                   {"GETBIT", "b", "x"},
                   // embstr and int strings become raw, even with no change
                   {"SET", "e", "a"},
                   {"SETBIT", "e", "1", "1"},
                   {"OBJECT", "ENCODING", "e"},
                   {"GET", "e"},
                   {"SET", "n", "12345"},
                   {"GETBIT", "n", "2"},
                   {"GETBIT", "n", "3"},
                   {"GETBIT", "n", "39"},
                   {"SETBIT", "n", "0", "0"},
                   {"OBJECT", "ENCODING", "n"},
                   {"SETBIT", "n", "7", "1"},
                   {"GET", "n"},
                   {"SET", "r", kLong},
                   {"SETBIT", "r", "600", "1"},
                   {"GET", "r"},
                   // the TTL stays
                   {"SET", "t", "v"},
                   {"EXPIREAT", "t", "4000000000"},
                   {"SETBIT", "t", "30", "1"},
                   {"EXPIRETIME", "t"},
                   // wrong type: argument errors first
                   {"SADD", "s", "a"},
                   {"SETBIT", "s", "1", "1"},
                   {"SETBIT", "s", "-1", "1"},
                   {"SETBIT", "s", "1", "5"},
                   {"GETBIT", "s", "1"},
                   {"GETBIT", "s", "-1"},
                   {"DBSIZE"},
               });
    EXPECT_EQ(d.mismatches(), 0u) << "RESP" << resp;
  }
}

TEST(BitsDifferential, BitcountAndBitpos) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (int resp : {2, 3}) {
    Differential d(2);
    prepare(d, resp);
    std::vector<Args> cmds = {
        {"SET", "k", std::string("\x00\xff\xf0\x0f\x55\x00\x01", 7)},
        {"SET", "ones", std::string("\xff\xff\xff", 3)},
        {"SET", "zeros", std::string(3, '\0')},
        {"SET", "num", "-9876"},
        {"SET", "empty", ""},
        {"SADD", "s", "a"},
        {"BITCOUNT", "k"},
        {"BITCOUNT", "num"},
        {"BITCOUNT", "empty"},
        {"BITCOUNT", "empty", "0", "-1"},
        {"BITCOUNT", "nokey"},
        {"BITCOUNT", "nokey", "a", "b"},
        {"BITCOUNT", "nokey", "0"},
        {"BITCOUNT", "nokey", "0", "1", "FOO"},
        {"BITCOUNT", "k", "0"},
        {"BITCOUNT", "k", "a", "1"},
        {"BITCOUNT", "k", "0", "b"},
        {"BITCOUNT", "k", "0", "1", "FOO"},
        {"BITCOUNT", "k", "-1", "-2", "FOO"},
        {"BITCOUNT", "k", "-1", "-2"},
        {"BITCOUNT", "k", "0", "1", "BIT", "x"},
        {"BITCOUNT", "k", "0", "1", "bit"},
        {"BITCOUNT", "k", "0", "1", "Byte"},
        {"BITCOUNT", "k", std::string("0"), "1", std::string("BIT\0x", 5)},
        {"BITCOUNT", "s"},
        {"BITCOUNT", "s", "a", "b"},
        {"BITPOS", "k", "2"},
        {"BITPOS", "k", "-1"},
        {"BITPOS", "k", "x"},
        {"BITPOS", "nokey", "1"},
        {"BITPOS", "nokey", "0"},
        {"BITPOS", "nokey", "0", "a", "b", "c"},
        {"BITPOS", "nokey", "2"},
        {"BITPOS", "s", "1"},
        {"BITPOS", "s", "2"},
        {"BITPOS", "s", "1", "x"},
        {"BITPOS", "k", "1", "x"},
        {"BITPOS", "k", "1", "0", "x"},
        {"BITPOS", "k", "1", "0", "1", "FOO"},
        {"BITPOS", "k", "1", "x", "1", "FOO"},
        {"BITPOS", "k", "1", "0", "x", "FOO"},
        {"BITPOS", "k", "1", "0", "1", "BIT", "x"},
        {"BITPOS", "ones", "0"},
        {"BITPOS", "ones", "0", "0"},
        {"BITPOS", "ones", "0", "0", "-1"},
        {"BITPOS", "ones", "0", "0", "-1", "BIT"},
        {"BITPOS", "ones", "1", "3"},
        {"BITPOS", "zeros", "1"},
        {"BITPOS", "zeros", "0"},
        {"BITPOS", "zeros", "1", "0", "-1", "BIT"},
        {"BITPOS", "empty", "0"},
        {"BITPOS", "empty", "1"},
        {"BITPOS", "empty", "0", "0", "-1"},
        {"BITPOS", "num", "1"},
        {"BITPOS", "num", "0", "2"},
    };
    // Every range form on "k" (7 bytes, 56 bits).
    for (const char* s : {"-100", "-9", "-1", "0", "1", "3", "6", "7", "13", "55", "56", "100"}) {
      for (const char* e : {"-100", "-9", "-1", "0", "2", "6", "7", "20", "55", "56"}) {
        cmds.push_back({"BITCOUNT", "k", s, e});
        cmds.push_back({"BITCOUNT", "k", s, e, "BIT"});
        cmds.push_back({"BITCOUNT", "k", s, e, "BYTE"});
        for (const char* bit : {"0", "1"}) {
          cmds.push_back({"BITPOS", "k", bit, s, e});
          cmds.push_back({"BITPOS", "k", bit, s, e, "BIT"});
          cmds.push_back({"BITPOS", "k", bit, s, e, "BYTE"});
          cmds.push_back({"BITPOS", "ones", bit, s, e, "BIT"});
          cmds.push_back({"BITPOS", "zeros", bit, s, e, "BIT"});
        }
      }
      for (const char* bit : {"0", "1"}) {
        cmds.push_back({"BITPOS", "k", bit, s});
        cmds.push_back({"BITPOS", "ones", bit, s});
      }
    }
    run_all(d, cmds);
    EXPECT_EQ(d.mismatches(), 0u) << "RESP" << resp;
  }
}

TEST(BitsDifferential, Bitop) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (int resp : {2, 3}) {
    Differential d(3);
    prepare(d, resp);
    const std::string big1(100, '\x5a'), big2(90, '\xc3');
    run_all(d, {
                   {"SET", "a", std::string("\xff\x0f\x01", 3)},
                   {"SET", "b", std::string("\x0f\xf0", 2)},
                   {"SET", "c", "12"},
                   {"SET", "big1", big1},
                   {"SET", "big2", big2},
                   {"SADD", "s", "x"},
                   {"BITOP", "AND", "d", "a", "b"},
                   {"GET", "d"},
                   {"OBJECT", "ENCODING", "d"},
                   {"BITOP", "or", "d", "a", "b", "c"},
                   {"GET", "d"},
                   {"BITOP", "Xor", "d", "a", "b", "nokey"},
                   {"GET", "d"},
                   {"BITOP", "NOT", "d", "a"},
                   {"GET", "d"},
                   {"BITOP", "AND", "d", "big1", "big2", "a"},
                   {"GET", "d"},
                   {"BITOP", "OR", "d", "big1", "big2"},
                   {"GET", "d"},
                   {"BITOP", "XOR", "d", "big1", "big2", "big1"},
                   {"GET", "d"},
                   {"BITOP", "NOT", "d", "big1"},
                   {"GET", "d"},
                   {"BITOP", "AND", "a2", "a", "a"},
                   {"GET", "a2"},
                   {"BITOP", "OR", "a", "a", "b"},  // the target is a source
                   {"GET", "a"},
                   {"BITOP", "NOT", "d", "a", "b"},
                   {"BITOP", "NOT", "d"},
                   {"BITOP", "NAND", "d", "a"},
                   {"BITOP", std::string("AND\0x", 5), "d", "a"},
                   {"BITOP", "AND", "d", "a", "s"},
                   {"BITOP", "AND", "d", "s", "nokey"},
                   {"BITOP", "AND", "s", "a"},  // a set target is overwritten
                   {"TYPE", "s"},
                   {"GET", "s"},
                   {"EXPIREAT", "d", "4000000000"},
                   {"BITOP", "OR", "d", "b"},  // drops the TTL
                   {"TTL", "d"},
                   {"BITOP", "OR", "d", "nokey", "nokey2"},  // empty: deleted
                   {"EXISTS", "d"},
                   {"BITOP", "OR", "d", "nokey"},
                   {"SET", "empty", ""},
                   {"BITOP", "NOT", "d", "empty"},
                   {"EXISTS", "d"},
                   {"BITOP", "AND", "d"},
                   {"DBSIZE"},
               });
    EXPECT_EQ(d.mismatches(), 0u) << "RESP" << resp;
  }
}

TEST(BitsDifferential, Bitfield) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (int resp : {2, 3}) {
    Differential d(4);
    prepare(d, resp);
    run_all(
        d, {
               {"BITFIELD", "f", "SET", "u8", "0", "255", "GET", "u8", "0", "GET", "i8", "0"},
               {"GET", "f"},
               {"OBJECT", "ENCODING", "f"},
               {"BITFIELD", "f", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "incrby", "u2",
                "102", "1"},
               {"BITFIELD", "f", "SET", "i64", "0", "-9223372036854775808", "GET", "i64", "0",
                "INCRBY", "i64", "0", "-1", "GET", "u63", "1"},
               {"BITFIELD", "f", "OVERFLOW", "SAT", "INCRBY", "i64", "0", "-1", "INCRBY", "i64",
                "0", "9223372036854775807", "INCRBY", "i64", "0", "9223372036854775807"},
               {"BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "9223372036854775807",
                "INCRBY", "u63", "0", "-1"},
               {"BITFIELD", "f", "OVERFLOW", "WRAP", "INCRBY", "u63", "1", "9223372036854775807",
                "INCRBY", "i5", "#3", "100", "SET", "i5", "#3", "-100"},
               {"BITFIELD", "f",   "OVERFLOW", "SAT", "SET", "u4",  "3",  "99", "SET", "i4", "9",
                "-99",      "SET", "i4",       "9",   "99",  "GET", "u4", "3",  "GET", "i4", "9"},
               {"BITFIELD", "f",  "OVERFLOW", "FAIL", "SET", "u4", "3",   "16", "SET", "u4",
                "3",        "15", "SET",      "i4",   "9",   "-9", "SET", "i4", "9",   "-8"},
               {"BITFIELD", "f", "GET", "u8", "#1000", "GET", "i1", "7", "GET", "u1", "7"},
               {"GET", "f"},
               {"BITFIELD", "f"},
               {"BITFIELD", "f", "OVERFLOW", "WRAP"},
               {"BITFIELD", "f", "GET", "u8"},
               {"BITFIELD", "f", "SET", "u8", "0"},
               {"BITFIELD", "f", "OVERFLOW"},
               {"BITFIELD", "f", "OVERFLOW", "BOGUS", "GET", "u8", "0"},
               {"BITFIELD", "f", "GETX", "u8", "0"},
               {"BITFIELD", "f", "GET", "u64", "0"},
               {"BITFIELD", "f", "GET", "i65", "0"},
               {"BITFIELD", "f", "GET", "i0", "0"},
               {"BITFIELD", "f", "GET", "x8", "0"},
               {"BITFIELD", "f", "GET", "i", "0"},
               {"BITFIELD", "f", "GET", "", "0"},
               {"BITFIELD", "f", "GET", "u8", "-1"},
               {"BITFIELD", "f", "GET", "u8", "#-1"},
               {"BITFIELD", "f", "GET", "u8", "#"},
               {"BITFIELD", "f", "GET", "u8", "x"},
               {"BITFIELD", "f", "GET", "u8", "4294967296"},
               {"BITFIELD", "f", "GET", "u8", "#536870912"},
               {"BITFIELD", "f", "SET", "u8", "0", "x"},
               {"BITFIELD", "f", "INCRBY", "u8", "0", "1.5"},
               {"BITFIELD", "f", "SET", "u8", "0", "1", "GET", "u99", "0"},
               {"GET", "f"},
               {"BITFIELD_RO", "f", "GET", "u8", "0", "GET", "i3", "#2"},
               {"BITFIELD_RO", "f", "SET", "u8", "0", "1"},
               {"BITFIELD_RO", "f", "INCRBY", "u8", "0", "1"},
               {"BITFIELD_RO", "f", "OVERFLOW", "SAT", "GET", "u8", "0"},
               {"BITFIELD_RO", "f", "GET", "u8", "0", "SET", "u8"},
               {"BITFIELD_RO", "f"},
               {"BITFIELD_RO", "nokey", "GET", "u8", "0"},
               {"BITFIELD", "nokey", "GET", "u8", "0"},
               {"EXISTS", "nokey"},
               // a write that fails still creates the key
               {"BITFIELD", "nokey", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"},
               {"GET", "nokey"},
               {"BITFIELD", "n2", "SET", "u8", "16", "0"},
               {"GET", "n2"},
               {"SET", "num", "123"},
               {"BITFIELD", "num", "GET", "u8", "0", "GET", "u16", "8", "GET", "i24", "4"},
               {"BITFIELD", "num", "SET", "u8", "0", "49"},
               {"OBJECT", "ENCODING", "num"},
               {"GET", "num"},
               {"SADD", "s", "x"},
               {"BITFIELD", "s", "GET", "u8", "0"},
               {"BITFIELD", "s", "SET", "u8", "0", "1"},
               {"BITFIELD", "s", "GET", "u99", "0"},
               {"BITFIELD_RO", "s", "GET", "u8", "0"},
               {"BITFIELD_RO", "s", "SET", "u8", "0", "1"},
               {"BITFIELD", "s"},
               {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8", "0"},
               {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "OVERFLOW", "SAT", "GET", "u8", "0"},
               {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0",
                "1"},
               {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k", "FOO"},
               {"COMMAND", "GETKEYSANDFLAGS", "BITFIELD", "k"},
               {"COMMAND", "GETKEYSANDFLAGS", "BITOP", "AND", "d", "a", "b"},
               {"COMMAND", "GETKEYSANDFLAGS", "LCS", "a", "b"},
               {"DBSIZE"},
           });
    EXPECT_EQ(d.mismatches(), 0u) << "RESP" << resp;
  }
}

TEST(BitsDifferential, Lcs) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  for (int resp : {2, 3}) {
    Differential d(5);
    prepare(d, resp);
    run_all(d, {
                   {"MSET", "key1", "ohmytext", "key2", "mynewtext"},
                   {"LCS", "key1", "key2"},
                   {"LCS", "key1", "key2", "LEN"},
                   {"LCS", "key1", "key2", "IDX"},
                   {"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"},
                   {"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"},
                   {"LCS", "key1", "key2", "IDX", "WITHMATCHLEN"},
                   {"LCS", "key1", "key2", "idx", "minmatchlen", "-5", "withmatchlen"},
                   {"LCS", "key1", "key2", "WITHMATCHLEN"},
                   {"LCS", "key1", "key2", "MINMATCHLEN", "2"},
                   {"LCS", "key1", "key2", "LEN", "IDX"},
                   {"LCS", "key1", "key2", "IDX", "LEN"},
                   {"LCS", "key1", "key2", "MINMATCHLEN"},
                   {"LCS", "key1", "key2", "MINMATCHLEN", "x"},
                   {"LCS", "key1", "key2", "FOO"},
                   {"LCS", "key1", "key2", "LEN", "FOO"},
                   {"LCS", "key1", "nokey"},
                   {"LCS", "nokey", "nokey", "IDX"},
                   {"LCS", "nokey", "nokey", "LEN"},
                   {"LCS", "key1", "key1", "IDX", "WITHMATCHLEN"},
                   {"SET", "n1", "1234567"},
                   {"SET", "n2", "9234560"},
                   {"LCS", "n1", "n2", "IDX"},
                   {"LCS", "n1", "n2"},
                   {"SET", "b1", std::string("a\0b\0c", 5)},
                   {"SET", "b2", std::string("\0b\0", 3)},
                   {"LCS", "b1", "b2"},
                   {"LCS", "b1", "b2", "IDX", "WITHMATCHLEN"},
                   {"SADD", "s", "x"},
                   {"LCS", "s", "key1"},
                   {"LCS", "key1", "s", "FOO"},
                   {"LCS", "key1"},
               });
    EXPECT_EQ(d.mismatches(), 0u) << "RESP" << resp;
  }
}

// Offsets and LCS's table are limited by proto-max-bulk-len.
TEST(BitsDifferential, LimitsFollowProtoMaxBulkLen) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(7);
  prepare(d, 2);
  run_all(d, {
                 {"CONFIG", "SET", "proto-max-bulk-len", "1mb"},
                 {"SETBIT", "big", "8388608", "1"},
                 {"SETBIT", "big", "8388607", "1"},
                 {"STRLEN", "big"},
                 {"GETBIT", "big", "8388608"},
                 {"BITFIELD", "b2", "SET", "u8", "#1048575", "1"},
                 {"BITFIELD", "b2", "SET", "u8", "#1048576", "1"},
                 {"BITFIELD", "b2", "GET", "u8", "8388600"},
                 {"SET", "l1", std::string(600, 'a')},
                 {"SET", "l2", std::string(300, 'a')},
                 {"LCS", "l1", "l1", "LEN"},
                 {"LCS", "l1", "l2", "LEN"},
                 {"LCS", "l2", "l2", "LEN"},
                 {"LCS", "l2", "l2", "IDX"},
             });
  EXPECT_EQ(d.mismatches(), 0u);
}

// The writes' keyspace notifications (new, setbit, set, del), as a
// subscriber sees them.
TEST(BitsDifferential, KeyspaceEvents) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(6);
  prepare(d, 2);
  d.run({"CONFIG", "SET", "notify-keyspace-events", "KEA$gn"});
  ClientPair sub(d, 300);
  sub.run({"PSUBSCRIBE", "__key*__:*"});
  run_all(d, {
                 {"SETBIT", "b", "3", "1"},
                 {"SETBIT", "b", "3", "1"},  // no change: no event
                 {"SETBIT", "b", "3", "0"},
                 {"BITFIELD", "f", "SET", "u8", "0", "1", "SET", "u8", "8", "1"},
                 {"BITFIELD", "f", "SET", "u8", "0", "1"},  // no change
                 {"BITFIELD", "f", "GET", "u8", "0"},
                 {"BITFIELD", "g", "OVERFLOW", "FAIL", "SET", "u8", "0", "999"},
                 {"BITOP", "OR", "d", "b", "f"},
                 {"BITOP", "OR", "d", "nokey"},
                 {"BITOP", "OR", "d", "nokey"},
                 {"LCS", "b", "f"},
             });
  size_t events = 0;
  for (int i = 0; i < 60; ++i) {
    auto x = sub.setd().read();
    auto y = sub.redis().read();
    if (!x && !y) break;
    if (x) ++events;
    const std::string sx = x ? x->to_string() : "<none>";
    const std::string sy = y ? y->to_string() : "<none>";
    if (sx != sy) d.report({"(event)", std::to_string(i)}, sx, sy);
  }
  EXPECT_GT(events, 5u);
  EXPECT_EQ(d.mismatches(), 0u);
}

// Random strings, offsets and ranges: SETBIT, GETBIT, BITCOUNT, BITPOS,
// BITFIELD (every type, overflow mode and offset form), BITOP and LCS.
class BitsStream {
 public:
  explicit BitsStream(Differential& d) : d_(d) {}

  std::string key() { return d_.one_of(keys_); }
  std::string random_string() {
    const size_t n = d_.pick(4) == 0 ? d_.pick(40) : d_.pick(12);
    std::string s(n, '\0');
    const int style = static_cast<int>(d_.pick(4));
    for (auto& c : s) {
      if (style == 0)
        c = static_cast<char>(d_.pick(256));
      else if (style == 1)
        c = d_.chance(0.5) ? '\xff' : '\0';
      else if (style == 2)
        c = static_cast<char>('0' + d_.pick(10));
      else
        c = static_cast<char>(d_.one_of(std::vector<int>{0, 0xff, 0x80, 0x01, 0x7f, 0xfe}));
    }
    return s;
  }
  std::string index(long long len) {
    switch (d_.pick(5)) {
      case 0:
        return std::to_string(d_.between(-3 * len - 3, 3 * len + 3));
      case 1:
        return std::to_string(d_.between(-len - 1, len + 1));
      case 2:
        return std::to_string(d_.between(-8 * len - 9, 8 * len + 9));
      case 3:
        return d_.one_of(std::vector<std::string>{"0", "-1", "1", "-2", "7", "8", "9"});
      default:
        return std::to_string(d_.between(-len, len));
    }
  }
  std::string field_type() {
    if (d_.chance(0.02)) return d_.one_of(std::vector<std::string>{"u64", "i65", "i0", "z3"});
    const bool sign = d_.chance(0.5);
    const long long bits = d_.chance(0.3) ? d_.one_of(std::vector<long long>{1, 8, 16, 32, 63, 64})
                                          : d_.between(1, 64);
    if (!sign && bits == 64) return "u63";
    return (sign ? "i" : "u") + std::to_string(bits);
  }
  std::string field_offset() {
    if (d_.chance(0.2)) return "#" + std::to_string(d_.between(0, 12));
    return std::to_string(d_.between(0, 200));
  }
  std::string field_value() {
    switch (d_.pick(4)) {
      case 0:
        return std::to_string(d_.between(-300, 300));
      case 1:
        return std::to_string(static_cast<long long>(d_.rng()()));
      case 2:
        return d_.one_of(std::vector<std::string>{"9223372036854775807", "-9223372036854775808",
                                                  "0", "-1", "1", "255", "256", "-128", "127"});
      default:
        return std::to_string(d_.between(-100000, 100000));
    }
  }

  void step() {
    const std::string k = key();
    switch (d_.pick(14)) {
      case 0:
        d_.run_bytes({"SET", k, random_string()});
        break;
      case 1:
        d_.run_bytes({"SETBIT", k, std::to_string(d_.between(0, 300)), d_.chance(0.5) ? "1" : "0"});
        break;
      case 2:
        d_.run_bytes({"GETBIT", k, std::to_string(d_.between(0, 400))});
        break;
      case 3:
      case 4: {
        Args a{"BITCOUNT", k};
        if (d_.chance(0.85)) {
          const long long len = 8 + static_cast<long long>(d_.pick(40));
          a.push_back(index(len));
          a.push_back(index(len));
          if (d_.chance(0.6)) a.push_back(d_.chance(0.5) ? "BIT" : "BYTE");
        }
        d_.run_bytes(a);
        break;
      }
      case 5:
      case 6: {
        Args a{"BITPOS", k, d_.chance(0.5) ? "1" : "0"};
        const long long len = 8 + static_cast<long long>(d_.pick(40));
        if (d_.chance(0.8)) {
          a.push_back(index(len));
          if (d_.chance(0.75)) {
            a.push_back(index(len));
            if (d_.chance(0.6)) a.push_back(d_.chance(0.5) ? "BIT" : "BYTE");
          }
        }
        d_.run_bytes(a);
        break;
      }
      case 7:
      case 8:
      case 9: {
        Args a{d_.chance(0.1) ? "BITFIELD_RO" : "BITFIELD", k};
        const size_t ops = 1 + d_.pick(5);
        for (size_t i = 0; i < ops; ++i) {
          switch (d_.pick(5)) {
            case 0:
              a.insert(a.end(),
                       {"OVERFLOW", d_.one_of(std::vector<std::string>{"WRAP", "SAT", "FAIL"})});
              break;
            case 1:
            case 2:
              a.insert(a.end(), {"GET", field_type(), field_offset()});
              break;
            case 3:
              a.insert(a.end(), {"SET", field_type(), field_offset(), field_value()});
              break;
            default:
              a.insert(a.end(), {"INCRBY", field_type(), field_offset(), field_value()});
              break;
          }
        }
        d_.run_bytes(a);
        break;
      }
      case 10: {
        Args a{"BITOP", d_.one_of(std::vector<std::string>{"AND", "OR", "XOR", "NOT"}), key(), k};
        if (a[1] != "NOT" || d_.chance(0.05)) {
          const size_t more = d_.pick(3);
          for (size_t i = 0; i < more; ++i) a.push_back(key());
        }
        d_.run_bytes(a);
        break;
      }
      case 11: {
        Args a{"LCS", k, key()};
        switch (d_.pick(4)) {
          case 0:
            a.push_back("LEN");
            break;
          case 1:
            a.push_back("IDX");
            if (d_.chance(0.5)) a.insert(a.end(), {"MINMATCHLEN", std::to_string(d_.pick(4))});
            if (d_.chance(0.5)) a.push_back("WITHMATCHLEN");
            break;
          default:
            break;
        }
        d_.run_bytes(a);
        break;
      }
      case 12:
        d_.run_bytes({"GET", k});
        break;
      default:
        d_.run_bytes({d_.chance(0.8) ? "DEL" : "SADD", k, "m"});
        break;
    }
  }

  void compare_all() {
    for (const auto& k : keys_) d_.run_bytes({"GET", k});
  }

 private:
  Differential& d_;
  std::vector<std::string> keys_{"a", "b", "c", "d", "e"};
};

TEST(BitsDifferential, RandomStreamsMatchRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  std::vector<uint64_t> seeds = {11, 12, 13};
  if (const char* s = std::getenv("BITS_DIFF_SEED")) seeds = {std::strtoull(s, nullptr, 10)};
  for (const uint64_t seed : seeds) {
    Differential d(seed);
    prepare(d, seed % 2 == 0 ? 3 : 2);
    BitsStream stream(d);
    for (int i = 0; i < 3000 && d.mismatches() < 10; ++i) {
      stream.step();
      if (i % 100 == 99) stream.compare_all();
    }
    stream.compare_all();
    EXPECT_EQ(d.mismatches(), 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace setd::testing
