// Unit tests for setd::persist::RdbEncoder: the exact bytes of Redis 7.0's
// rdbSaveLen / rdbSaveRawString / set encodings, written out by hand from
// the format, and the framing opcodes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rdb_test_util.hpp"
#include "setd/base/random.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/set_object.hpp"
#include "setd/persist/lzf.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace setd::persist {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string enc_len(uint64_t n) {
  std::string out;
  RdbEncoder(&out).length(n);
  return out;
}

std::string enc_str(std::string_view s, bool compress = true) {
  std::string out;
  RdbEncoder(&out, {.compress = compress}).string(s);
  return out;
}

db::Object set_of(const std::vector<std::string>& ms, size_t max_intset = 512) {
  ds::SetObject s;
  for (const auto& m : ms) s.add(m, ds::SetLimits::redis70(max_intset));
  return db::Object::set(std::move(s));
}

TEST(PersistEncoder, LengthForms) {
  EXPECT_EQ(enc_len(0), bytes({0x00}));
  EXPECT_EQ(enc_len(63), bytes({0x3f}));
  EXPECT_EQ(enc_len(64), bytes({0x40, 0x40}));
  EXPECT_EQ(enc_len(300), bytes({0x41, 0x2c}));
  EXPECT_EQ(enc_len(16383), bytes({0x7f, 0xff}));
  EXPECT_EQ(enc_len(16384), bytes({0x80, 0x00, 0x00, 0x40, 0x00}));
  EXPECT_EQ(enc_len(0xffffffffULL), bytes({0x80, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(enc_len(0x100000000ULL), bytes({0x81, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(enc_len(UINT64_MAX), bytes({0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(PersistEncoder, IntegerEncodedStrings) {
  EXPECT_EQ(enc_str("0"), bytes({0xc0, 0x00}));
  EXPECT_EQ(enc_str("1"), bytes({0xc0, 0x01}));
  EXPECT_EQ(enc_str("-1"), bytes({0xc0, 0xff}));
  EXPECT_EQ(enc_str("127"), bytes({0xc0, 0x7f}));
  EXPECT_EQ(enc_str("-128"), bytes({0xc0, 0x80}));
  EXPECT_EQ(enc_str("128"), bytes({0xc1, 0x80, 0x00}));
  EXPECT_EQ(enc_str("-129"), bytes({0xc1, 0x7f, 0xff}));
  EXPECT_EQ(enc_str("32767"), bytes({0xc1, 0xff, 0x7f}));
  EXPECT_EQ(enc_str("-32768"), bytes({0xc1, 0x00, 0x80}));
  EXPECT_EQ(enc_str("32768"), bytes({0xc2, 0x00, 0x80, 0x00, 0x00}));
  EXPECT_EQ(enc_str("-32769"), bytes({0xc2, 0xff, 0x7f, 0xff, 0xff}));
  EXPECT_EQ(enc_str("2147483647"), bytes({0xc2, 0xff, 0xff, 0xff, 0x7f}));
  EXPECT_EQ(enc_str("-2147483648"), bytes({0xc2, 0x00, 0x00, 0x00, 0x80}));  // 11 bytes
  EXPECT_EQ(enc_str("-1234567890"), bytes({0xc2, 0x2e, 0xfd, 0x69, 0xb6}));
}

TEST(PersistEncoder, IntegersOutsideInt32OrNotCanonicalStayText) {
  EXPECT_EQ(enc_str("2147483648"),
            "\x0a"
            "2147483648");
  EXPECT_EQ(enc_str("-2147483649"),
            "\x0b"
            "-2147483649");
  EXPECT_EQ(enc_str("12345678901"),
            "\x0b"
            "12345678901");  // 11 digits, > 2^31
  EXPECT_EQ(enc_str("100000000000"),
            "\x0c"
            "100000000000");  // 12 digits
  EXPECT_EQ(enc_str("9223372036854775807"),
            "\x13"
            "9223372036854775807");
  EXPECT_EQ(enc_str("-9223372036854775808"),
            "\x14"
            "-9223372036854775808");
  for (std::string_view s : {"007", " 1", "+1", "-0", "1 ", "0x1", "1.0", "00"}) {
    std::string want(1, static_cast<char>(s.size()));
    want += s;
    EXPECT_EQ(enc_str(s), want) << s;
  }
}

TEST(PersistEncoder, PlainStrings) {
  EXPECT_EQ(enc_str(""), bytes({0x00}));
  EXPECT_EQ(enc_str("a"),
            "\x01"
            "a");
  EXPECT_EQ(enc_str(std::string_view("a\0b", 3)), std::string("\x03"
                                                              "a\0b",
                                                              4));
  // 20 bytes: never compressed, even when it would compress.
  EXPECT_EQ(enc_str(std::string(20, 'a')), "\x14" + std::string(20, 'a'));
  // 21 bytes with compression off: plain.
  EXPECT_EQ(enc_str(std::string(21, 'a'), false), "\x15" + std::string(21, 'a'));
  // 64 bytes: 14-bit length.
  EXPECT_EQ(enc_str(std::string(64, 'z'), false), "\x40\x40" + std::string(64, 'z'));
}

TEST(PersistEncoder, LzfFrom21Bytes) {
  const std::string s(21, 'a');
  const std::string out = enc_str(s);
  // 0xC3 <compressed length> <original length> <LZF>: redis-server 7.0.15
  // DUMPs SET k <21 x 'a'> with exactly these bytes (a literal run of two
  // 'a', then a back reference at distance 1 of 7 + 10 + 2 = 19 bytes).
  EXPECT_EQ(out, bytes({0xc3, 0x06, 0x15, 0x01, 0x61, 0x61, 0xe0, 0x0a, 0x00}));
  const auto back = lzf_decompress(out.substr(3), 21);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
}

TEST(PersistEncoder, IncompressibleDataIsStoredPlain) {
  base::Rng rng(5);
  std::string s(100, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  EXPECT_EQ(enc_str(s), "\x40\x64" + s);
}

TEST(PersistEncoder, LzfMustSaveFourBytes) {
  // "abcd...": 25 distinct bytes then a repeat that saves too little.
  const std::string s = "abcdefghijklmnopqrstuvwxyabcd";
  const std::string out = enc_str(s);
  const auto c = lzf_compress(s, s.size() - 4);
  if (c) {
    EXPECT_EQ(static_cast<unsigned char>(out[0]), 0xc3);
  } else {
    EXPECT_EQ(out, std::string(1, static_cast<char>(s.size())) + s);
  }
}

TEST(PersistEncoder, LongStringCompressesAndRoundTrips) {
  std::string s;
  for (int i = 0; s.size() < (1 << 20); ++i) s += "value-" + std::to_string(i % 1000) + ";";
  s.resize(1 << 20);
  const std::string out = enc_str(s);
  ASSERT_EQ(static_cast<unsigned char>(out[0]), 0xc3);
  EXPECT_LT(out.size(), s.size() / 2);
  // clen (32-bit form), len (32-bit form: 1 MiB), data.
  ASSERT_EQ(static_cast<unsigned char>(out[1]), 0x80);
  const uint32_t clen = (static_cast<uint32_t>(static_cast<unsigned char>(out[2])) << 24) |
                        (static_cast<uint32_t>(static_cast<unsigned char>(out[3])) << 16) |
                        (static_cast<uint32_t>(static_cast<unsigned char>(out[4])) << 8) |
                        static_cast<unsigned char>(out[5]);
  EXPECT_EQ(out.substr(6, 5), bytes({0x80, 0x00, 0x10, 0x00, 0x00}));
  ASSERT_EQ(out.size(), 11 + clen);
  EXPECT_EQ(lzf_decompress(out.substr(11), s.size()), s);
}

TEST(PersistEncoder, SetKeyOneIsKnownBytes) {
  // SET k 1: type 0, key "k", value int-encoded 1.
  std::string out;
  RdbEncoder enc(&out);
  enc.key_value("k", db::Object::string("1"), -1);
  EXPECT_EQ(out, bytes({0x00, 0x01, 'k', 0xc0, 0x01}));
}

TEST(PersistEncoder, ExpiryPrecedesTheKey) {
  std::string out;
  RdbEncoder enc(&out);
  enc.key_value("k", db::Object::string("v"), 0x0102030405060708LL);
  EXPECT_EQ(out, bytes({0xfc, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x01, 'k', 0x01,
                        'v'}));
  out.clear();
  enc.key_value("k", db::Object::string("v"), 0);  // 0 is a TTL (1970), not "none"
  EXPECT_EQ(out.substr(0, 9), bytes({0xfc, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(PersistEncoder, IntsetBlobAt16Bits) {
  std::string out;
  RdbEncoder enc(&out);
  const db::Object v = set_of({"3", "1", "2"});
  ASSERT_EQ(RdbEncoder::type_of(v), rdb::kTypeSetIntset);
  enc.key_value("s", v, -1);
  EXPECT_EQ(out, bytes({0x0b, 0x01, 's', 0x0e,   // type, key, 14-byte string
                        0x02, 0x00, 0x00, 0x00,  // encoding: 2 bytes
                        0x03, 0x00, 0x00, 0x00,  // length: 3
                        0x01, 0x00, 0x02, 0x00, 0x03, 0x00}));
}

TEST(PersistEncoder, IntsetBlobAt32And64Bits) {
  std::string out;
  RdbEncoder enc(&out, {.compress = false});
  enc.typed_value(set_of({"-40000", "5"}));
  EXPECT_EQ(out, bytes({0x0b, 0x10, 0x04, 0, 0, 0, 0x02, 0, 0, 0, 0xc0, 0x63, 0xff, 0xff, 0x05, 0,
                        0, 0}));
  out.clear();
  enc.typed_value(set_of({"9223372036854775807"}));
  EXPECT_EQ(out, bytes({0x0b, 0x10, 0x08, 0, 0, 0, 0x01, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xff, 0xff, 0x7f}));
}

TEST(PersistEncoder, IntsetKeepsItsWidthAfterErase) {
  ds::SetObject s;
  s.add("1", ds::SetLimits::redis70());
  s.add("100000", ds::SetLimits::redis70());
  s.remove("100000");  // width stays 32 bits, as in Redis
  std::string out;
  RdbEncoder(&out).typed_value(db::Object::set(std::move(s)));
  EXPECT_EQ(out, bytes({0x0b, 0x0c, 0x04, 0, 0, 0, 0x01, 0, 0, 0, 0x01, 0, 0, 0}));
}

TEST(PersistEncoder, IntsetBlobIsCompressedWhenLzfSavesEnough) {
  // 1..500 at 16 bits has no repeated 3-byte run: stored plain (redis-server
  // 7.0 DUMPs it as 0x0b 0x43 0xf0 <1008 bytes> too).
  std::vector<std::string> ms;
  for (int i = 1; i <= 500; ++i) ms.push_back(std::to_string(i));
  std::string out;
  RdbEncoder(&out).typed_value(set_of(ms));
  ASSERT_EQ(out.size(), 1 + 2 + 1008u);
  EXPECT_EQ(out.substr(0, 11), bytes({0x0b, 0x43, 0xf0, 0x02, 0, 0, 0, 0xf4, 0x01, 0, 0}));
  // At 64 bits the zero bytes repeat: LZF.
  ms.push_back("1099511627776");
  out.clear();
  RdbEncoder(&out).typed_value(set_of(ms));
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0xc3);
  EXPECT_LT(out.size(), 8 + 501 * 8u);
  out.clear();
  RdbEncoder(&out, {.compress = false}).typed_value(set_of(ms));
  EXPECT_EQ(out.size(), 1 + 2 + 8 + 501 * 8u);  // a 4016-byte blob: 14-bit length
}

TEST(PersistEncoder, HashtableSetIsLengthThenMembers) {
  std::string out;
  RdbEncoder enc(&out);
  const db::Object v = set_of({"a"});
  ASSERT_EQ(RdbEncoder::type_of(v), rdb::kTypeSet);
  enc.key_value("s", v, -1);
  EXPECT_EQ(out, bytes({0x02, 0x01, 's', 0x01, 0x01, 'a'}));
  // Members are strings: integers in a hashtable set are int-encoded.
  out.clear();
  enc.typed_value(set_of({"x", "7"}));
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out.substr(0, 2), bytes({0x02, 0x02}));
  const std::string rest = out.substr(2);
  EXPECT_TRUE(rest == bytes({0x01, 'x', 0xc0, 0x07}) || rest == bytes({0xc0, 0x07, 0x01, 'x'}));
}

TEST(PersistEncoder, FramingOpcodes) {
  std::string out;
  RdbEncoder enc(&out);
  enc.magic();
  EXPECT_EQ(out, "REDIS0010");
  out.clear();
  enc.magic(9);
  EXPECT_EQ(out, "REDIS0009");
  out.clear();
  enc.aux("redis-ver", "7.0.15");
  EXPECT_EQ(out,
            "\xfa\x09redis-ver\x06"
            "7.0.15");
  out.clear();
  enc.aux("redis-bits", 64);
  EXPECT_EQ(out, "\xfa\x0aredis-bits\xc0\x40");
  out.clear();
  enc.aux("ctime", 1700000000LL);
  EXPECT_EQ(out, bytes({0xfa, 0x05, 'c', 't', 'i', 'm', 'e', 0xc2, 0x00, 0xf1, 0x53, 0x65}));
  out.clear();
  enc.aux("used-mem", 5000000000LL);  // beyond 32 bits: decimal text
  EXPECT_EQ(out,
            "\xfa\x08used-mem\x0a"
            "5000000000");
  out.clear();
  enc.select_db(0);
  enc.resize_db(3, 1);
  enc.select_db(300);
  enc.eof();
  EXPECT_EQ(out, bytes({0xfe, 0x00, 0xfb, 0x03, 0x01, 0xfe, 0x41, 0x2c, 0xff}));
  out.clear();
  enc.u64_le(0x1122334455667788ULL);
  EXPECT_EQ(out, bytes({0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11}));
}

TEST(PersistEncoder, EmptyDatabaseFileBytes) {
  // A dump with no keys: magic, EOF, CRC-64 of both (little-endian).
  std::string out;
  RdbEncoder enc(&out);
  enc.magic();
  enc.eof();
  const uint64_t crc = crc64(0, out);
  enc.u64_le(crc);
  EXPECT_EQ(out.size(), 18u);
  EXPECT_EQ(out, setd::testing::rdb_file(""));
}

TEST(PersistEncoder, SwappingOutputBuffers) {
  std::string a, b;
  RdbEncoder enc(&a);
  enc.string("x");
  enc.set_output(&b);
  enc.string("y");
  EXPECT_EQ(enc.output(), &b);
  EXPECT_EQ(a, "\x01x");
  EXPECT_EQ(b, "\x01y");
  EXPECT_TRUE(enc.options().compress);
}

}  // namespace
}  // namespace setd::persist
