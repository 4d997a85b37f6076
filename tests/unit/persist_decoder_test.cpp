// Unit tests for setd::persist::decode_rdb and the sources: round trips
// through the encoder, every string and set encoding (hand-built intsets and
// listpacks), opcodes, expiry, databases, AUX, the skipping of every other
// RDB type, checksums, and hostile input (truncation at every byte, bit
// flips, forged lengths, duplicates, malformed blobs).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rdb_test_util.hpp"
#include "setd/base/random.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/set_object.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/persist/lzf.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace setd::persist {
namespace {

using setd::testing::ListpackBuilder;
using setd::testing::members;
using setd::testing::rdb_file;
using setd::testing::RdbBytes;
using setd::testing::RdbRecorder;
using setd::testing::UnknownSizeSource;

db::Object set_of(const std::vector<std::string>& ms, size_t max_intset = 512) {
  ds::SetObject s;
  for (const auto& m : ms) s.add(m, ds::SetLimits::redis70(max_intset));
  return db::Object::set(std::move(s));
}

DecodeResult decode(std::string_view file, RdbRecorder& rec, DecodeOptions opts = {}) {
  StringSource src(file);
  return decode_rdb(src, rec, opts);
}

// One key of `type` whose value bytes are `value` in database 0.
std::string one_key_file(int type, std::string_view key, std::string_view value) {
  RdbBytes b;
  b.u8(type).str(key).raw(value);
  return rdb_file(b.bytes());
}

// A file holding one intset-encoded blob (RDB_TYPE_SET_INTSET).
std::string intset_file(int width, const std::vector<int64_t>& vals, int64_t count = -1) {
  RdbBytes blob;
  blob.le(static_cast<uint64_t>(width), 4)
      .le(static_cast<uint64_t>(count >= 0 ? count : static_cast<int64_t>(vals.size())), 4);
  for (int64_t v : vals) blob.le(static_cast<uint64_t>(v), width);
  RdbBytes val;
  val.raw_str(blob.bytes());
  return one_key_file(rdb::kTypeSetIntset, "s", val.bytes());
}

std::string listpack_file(const std::string& lp) {
  RdbBytes val;
  val.raw_str(lp);
  return one_key_file(rdb::kTypeSetListpack, "s", val.bytes());
}

// ---------------------------------------------------------------------------
// Round trips through the encoder
// ---------------------------------------------------------------------------

TEST(PersistDecoder, EmptyFile) {
  RdbRecorder rec;
  const std::string f = rdb_file("");
  const auto r = decode(f, rec);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.version, 10);
  EXPECT_EQ(r.keys, 0u);
}

TEST(PersistDecoder, StringsOfEveryEncodingRoundTrip) {
  std::string big_text;
  for (int i = 0; big_text.size() < (1 << 20); ++i) big_text += "row " + std::to_string(i) + "\n";
  base::Rng rng(11);
  std::string big_random(1 << 20, '\0');
  for (auto& c : big_random) c = static_cast<char>(rng.below(256));
  const std::vector<std::string> values = {"",
                                           "0",
                                           "-1",
                                           "127",
                                           "128",
                                           "-128",
                                           "-129",
                                           "32767",
                                           "32768",
                                           "-32768",
                                           "-32769",
                                           "2147483647",
                                           "2147483648",
                                           "-2147483648",
                                           "-2147483649",
                                           "12345678901",
                                           "100000000000",
                                           "9223372036854775807",
                                           "-9223372036854775808",
                                           "007",
                                           " 1",
                                           "+1",
                                           "-0",
                                           std::string(20, 'a'),
                                           std::string(21, 'a'),
                                           std::string("bin\0ary\xff\x01", 10),
                                           big_text,
                                           big_random};
  for (bool compress : {true, false}) {
    std::string body;
    RdbEncoder enc(&body, {.compress = compress});
    enc.select_db(0);
    for (size_t i = 0; i < values.size(); ++i)
      enc.key_value("k" + std::to_string(i), db::Object::string(values[i]), -1);
    // Keys use the string encodings too.
    for (size_t i = 0; i < values.size(); ++i)
      enc.key_value(values[i], db::Object::string("x"), -1);
    RdbRecorder rec;
    const auto r = decode(rdb_file(body), rec);
    ASSERT_TRUE(r.ok) << r.error;
    ASSERT_EQ(rec.keys.size(), 2 * values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      const auto* k = rec.find(0, "k" + std::to_string(i));
      ASSERT_NE(k, nullptr) << i;
      ASSERT_EQ(k->value.type(), db::Type::kString);
      EXPECT_EQ(k->value.as_string().bytes, values[i]) << i;
      EXPECT_EQ(k->expire_ms, -1);
      EXPECT_NE(rec.find(0, values[i]), nullptr) << i;
    }
  }
}

TEST(PersistDecoder, StringEncodingFollowsTryObjectEncoding) {
  std::string body;
  RdbEncoder enc(&body);
  enc.key_value("int", db::Object::string("12345"), -1);
  enc.key_value("bigint", db::Object::string("9223372036854775807"), -1);
  enc.key_value("emb", db::Object::string("hello"), -1);
  enc.key_value("raw", db::Object::string(std::string(45, 'r')), -1);
  RdbRecorder rec;
  ASSERT_TRUE(decode(rdb_file(body), rec).ok);
  EXPECT_STREQ(rec.find(0, "int")->value.encoding_name(), "int");
  EXPECT_STREQ(rec.find(0, "bigint")->value.encoding_name(), "int");
  EXPECT_STREQ(rec.find(0, "emb")->value.encoding_name(), "embstr");
  EXPECT_STREQ(rec.find(0, "raw")->value.encoding_name(), "raw");
}

TEST(PersistDecoder, SetsRoundTripWithTheirEncodings) {
  std::string body;
  RdbEncoder enc(&body);
  enc.key_value("i16", set_of({"1", "2", "-3"}), -1);
  enc.key_value("i32", set_of({"1", "100000"}), -1);
  enc.key_value("i64", set_of({"-9223372036854775808", "9223372036854775807"}), -1);
  enc.key_value("ht", set_of({"a", "b", "1", ""}), -1);
  RdbRecorder rec;
  const auto r = decode(rdb_file(body), rec, {.set_limits = ds::SetLimits::redis70()});
  ASSERT_TRUE(r.ok) << r.error;
  const auto* i16 = rec.find(0, "i16");
  ASSERT_NE(i16, nullptr);
  ASSERT_NE(i16->value.as_set().as_intset(), nullptr);
  EXPECT_EQ(i16->value.as_set().as_intset()->width(), ds::IntSet::Width::k16);
  EXPECT_EQ(members(i16->value), (std::set<std::string>{"-3", "1", "2"}));
  EXPECT_EQ(rec.find(0, "i32")->value.as_set().as_intset()->width(), ds::IntSet::Width::k32);
  EXPECT_EQ(rec.find(0, "i64")->value.as_set().as_intset()->width(), ds::IntSet::Width::k64);
  EXPECT_EQ(members(rec.find(0, "i64")->value),
            (std::set<std::string>{"-9223372036854775808", "9223372036854775807"}));
  const auto* ht = rec.find(0, "ht");
  EXPECT_EQ(ht->value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
  EXPECT_EQ(members(ht->value), (std::set<std::string>{"", "1", "a", "b"}));
  // With listpack (the default): the small set of strings is a listpack.
  RdbRecorder rec72;
  ASSERT_TRUE(decode(rdb_file(body), rec72).ok);
  EXPECT_EQ(rec72.find(0, "i32")->value.as_set().as_intset()->width(), ds::IntSet::Width::k32);
  const auto* lp = rec72.find(0, "ht");
  EXPECT_EQ(lp->value.as_set().encoding(), ds::SetObject::Encoding::kListPack);
  EXPECT_EQ(members(lp->value), (std::set<std::string>{"", "1", "a", "b"}));
}

TEST(PersistDecoder, IntsetKeepsTheWidthItWasSavedWith) {
  RdbRecorder rec;
  const auto r = decode(intset_file(8, {1, 2, 3}), rec);
  ASSERT_TRUE(r.ok) << r.error;
  const auto* is = rec.keys.at(0).value.as_set().as_intset();
  ASSERT_NE(is, nullptr);
  EXPECT_EQ(is->width(), ds::IntSet::Width::k64);
  EXPECT_EQ(is->memory_bytes(), ds::IntSet::kHeaderBytes + 24u);
  RdbRecorder rec4;
  ASSERT_TRUE(decode(intset_file(4, {-70000, 5, 70000}), rec4).ok);
  EXPECT_EQ(rec4.keys.at(0).value.as_set().as_intset()->width(), ds::IntSet::Width::k32);
  EXPECT_EQ(members(rec4.keys.at(0).value), (std::set<std::string>{"-70000", "5", "70000"}));
  RdbRecorder rec2;
  ASSERT_TRUE(decode(intset_file(2, {-32768, 32767}), rec2).ok);
  EXPECT_EQ(rec2.keys.at(0).value.as_set().as_intset()->width(), ds::IntSet::Width::k16);
}

TEST(PersistDecoder, IntsetAboveMaxEntriesBecomesHashtable) {
  std::vector<int64_t> vals;
  for (int64_t i = 0; i < 600; ++i) vals.push_back(i * 3);
  RdbRecorder rec;
  ASSERT_TRUE(decode(intset_file(2, vals), rec).ok);
  const auto& v = rec.keys.at(0).value;
  EXPECT_EQ(v.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
  EXPECT_EQ(v.as_set().size(), 600u);
  EXPECT_TRUE(v.as_set().contains("1797"));
  RdbRecorder rec_big;
  ASSERT_TRUE(
      decode(intset_file(2, vals), rec_big, {.set_limits = ds::SetLimits::redis70(600)}).ok);
  EXPECT_EQ(rec_big.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kIntSet);
}

TEST(PersistDecoder, PlainSetChoosesTheEncodingRedis70Would) {
  auto file_of = [](const std::vector<std::string>& ms) {
    RdbBytes b;
    b.u8(rdb::kTypeSet).str("s").len(ms.size());
    for (const auto& m : ms) b.str(m);
    return rdb_file(b.bytes());
  };
  const DecodeOptions v70{.set_limits = ds::SetLimits::redis70()};
  std::vector<std::string> ints;
  for (int i = 0; i < 512; ++i) ints.push_back(std::to_string(i));
  RdbRecorder a;
  ASSERT_TRUE(decode(file_of(ints), a, v70).ok);
  EXPECT_EQ(a.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kIntSet);
  ints.push_back("512");
  RdbRecorder b;
  ASSERT_TRUE(decode(file_of(ints), b, v70).ok);
  EXPECT_EQ(b.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
  EXPECT_EQ(b.keys.at(0).value.as_set().size(), 513u);
  RdbRecorder c;
  ASSERT_TRUE(decode(file_of({"1", "2", "x", "3"}), c, v70).ok);
  EXPECT_EQ(c.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
  EXPECT_EQ(members(c.keys.at(0).value), (std::set<std::string>{"1", "2", "3", "x"}));
  RdbRecorder d;  // "007" is not an integer
  ASSERT_TRUE(decode(file_of({"1", "007"}), d, v70).ok);
  EXPECT_EQ(d.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
  RdbRecorder e;
  ASSERT_TRUE(decode(file_of({"5", "6"}), e, {.set_limits = ds::SetLimits::redis70(1)}).ok);
  EXPECT_EQ(e.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
}

// rdbLoadObject of Redis 7.2 for RDB_TYPE_SET (set-max-listpack-entries >
// 0, the default).
TEST(PersistDecoder, PlainSetChoosesTheEncodingRedis72Would) {
  auto file_of = [](const std::vector<std::string>& ms) {
    RdbBytes b;
    b.u8(rdb::kTypeSet).str("s").len(ms.size());
    for (const auto& m : ms) b.str(m);
    return rdb_file(b.bytes());
  };
  auto loaded = [&](const std::vector<std::string>& ms, DecodeOptions opts = {}) {
    RdbRecorder rec;
    const auto r = decode(file_of(ms), rec, opts);
    EXPECT_TRUE(r.ok) << r.error;
    return std::string(rec.keys.at(0).value.as_set().encoding_name());
  };
  std::vector<std::string> ints;
  for (int i = 0; i < 512; ++i) ints.push_back(std::to_string(i));
  EXPECT_EQ(loaded(ints), "intset");
  ints.push_back("512");
  EXPECT_EQ(loaded(ints), "hashtable");  // more than set-max-intset-entries
  // A non-integer: a listpack while everything fits one.
  RdbRecorder c;
  ASSERT_TRUE(decode(file_of({"1", "2", "x", "3"}), c).ok);
  EXPECT_EQ(c.keys.at(0).value.as_set().encoding_name(), "listpack");
  std::vector<std::string> order;
  c.keys.at(0).value.as_set().for_each([&](std::string_view m) { order.emplace_back(m); });
  EXPECT_EQ(order, (std::vector<std::string>{"1", "2", "x", "3"}));
  EXPECT_EQ(loaded({"1", "007"}), "listpack");
  std::vector<std::string> strs;
  for (int i = 0; i < 128; ++i) strs.push_back("s" + std::to_string(i));
  EXPECT_EQ(loaded(strs), "listpack");
  strs.push_back("s128");
  EXPECT_EQ(loaded(strs), "hashtable");
  std::vector<std::string> late(ints.begin(), ints.begin() + 127);
  late.push_back("x");  // the 128th member
  EXPECT_EQ(loaded(late), "listpack");
  late.insert(late.begin(), "-1");  // 128 integers before it
  EXPECT_EQ(loaded(late), "hashtable");
  EXPECT_EQ(loaded({"a", std::string(64, 'v')}), "listpack");
  EXPECT_EQ(loaded({"a", std::string(65, 'v')}), "hashtable");
  EXPECT_EQ(loaded({"1", "2", std::string(65, 'v')}), "hashtable");
  const DecodeOptions short_values{.set_limits = {.max_listpack_value = 5}};
  EXPECT_EQ(loaded({"1", "-1234", "x"}, short_values), "listpack");
  EXPECT_EQ(loaded({"1", "123456", "x"}, short_values), "hashtable");
  EXPECT_EQ(loaded({"5", "6"}, {.set_limits = {.max_intset_entries = 1}}), "hashtable");
  // Duplicates are an error in every encoding.
  for (const auto& dup :
       std::vector<std::vector<std::string>>{{"1", "1"}, {"1", "x", "1"}, {"x", "y", "x"}}) {
    RdbRecorder rec;
    EXPECT_FALSE(decode(file_of(dup), rec).ok) << dup[0];
  }
}

TEST(PersistDecoder, MillionMemberHashtableSetRoundTrip) {
  ds::SetObject s;
  for (int i = 0; i < 1000000; ++i) s.add("m:" + std::to_string(i), ds::SetLimits::redis70());
  const db::Object v = db::Object::set(std::move(s));
  std::string body;
  RdbEncoder enc(&body);
  const auto t0 = std::chrono::steady_clock::now();
  enc.key_value("big", v, -1);
  const auto t1 = std::chrono::steady_clock::now();
  RdbRecorder rec;
  const std::string f = rdb_file(body);
  const auto t2 = std::chrono::steady_clock::now();
  const auto r = decode(f, rec);
  const auto t3 = std::chrono::steady_clock::now();
  ASSERT_TRUE(r.ok) << r.error;
  const auto& got = rec.keys.at(0).value.as_set();
  ASSERT_EQ(got.size(), 1000000u);
  bool all = true;
  v.as_set().for_each([&](std::string_view m) { all = all && got.contains(m); });
  EXPECT_TRUE(all);
  const double enc_s = std::chrono::duration<double>(t1 - t0).count();
  const double dec_s = std::chrono::duration<double>(t3 - t2).count();
  std::printf(
      "[ info     ] 1M members, %zu bytes: encode %.1f ms (%.1f M members/s), decode %.1f ms "
      "(%.1f M members/s)\n",
      body.size(), enc_s * 1e3, 1.0 / enc_s, dec_s * 1e3, 1.0 / dec_s);
}

// ---------------------------------------------------------------------------
// Listpack sets (Redis 7.2, RDB_TYPE_SET_LISTPACK)
// ---------------------------------------------------------------------------

TEST(PersistDecoder, ListpackSetWithEveryEntryEncoding) {
  const std::string s4000(4000, 'q');
  const std::string s20000(20000, 'w');
  ListpackBuilder lp;
  lp.uint7(0)
      .uint7(127)
      .str6("")
      .str6("abc")
      .str6(std::string(63, 'c'))
      .int13(-4096)
      .int13(4095)
      .int13(-1)
      .str12(std::string(64, 'd'))
      .str12(s4000)  // 2-byte backlen
      .int16(-32768)
      .int16(32767)
      .int24(-8388608)
      .int24(8388607)
      .int32(INT32_MIN)
      .int32(INT32_MAX)
      .int64(INT64_MIN)
      .int64(INT64_MAX)
      .str32("e")
      .str32(s20000);  // 3-byte backlen
  // Redis 7.2 keeps a listpack of at most set-max-listpack-entries as it is
  // (long members too); Redis 7.0's rules load its members as a plain set.
  RdbRecorder rec72;
  const auto r72 = decode(listpack_file(lp.bytes()), rec72);
  ASSERT_TRUE(r72.ok) << r72.error;
  EXPECT_EQ(rec72.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kListPack);
  EXPECT_EQ(rec72.keys.at(0).value.as_set().as_listpack()->at(9), s4000);  // order kept
  RdbRecorder rec;
  const auto r = decode(listpack_file(lp.bytes()), rec, {.set_limits = ds::SetLimits::redis70()});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(members(rec72.keys.at(0).value), members(rec.keys.at(0).value));
  const auto& v = rec.keys.at(0).value;
  EXPECT_EQ(v.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
  EXPECT_EQ(members(v), (std::set<std::string>{"0",
                                               "127",
                                               "",
                                               "abc",
                                               std::string(63, 'c'),
                                               "-4096",
                                               "4095",
                                               "-1",
                                               std::string(64, 'd'),
                                               s4000,
                                               "-32768",
                                               "32767",
                                               "-8388608",
                                               "8388607",
                                               "-2147483648",
                                               "2147483647",
                                               "-9223372036854775808",
                                               "9223372036854775807",
                                               "e",
                                               s20000}));
}

TEST(PersistDecoder, ListpackOfIntegersBecomesIntsetRedis70) {
  ListpackBuilder lp;
  lp.uint7(5).int13(-100).int16(1000).str6("77").int64(1LL << 40);
  RdbRecorder rec;
  ASSERT_TRUE(decode(listpack_file(lp.bytes()), rec, {.set_limits = ds::SetLimits::redis70()}).ok);
  const auto& set = rec.keys.at(0).value.as_set();
  ASSERT_NE(set.as_intset(), nullptr);
  EXPECT_EQ(members(rec.keys.at(0).value),
            (std::set<std::string>{"-100", "5", "77", "1000", "1099511627776"}));
  // Over set-max-intset-entries: hashtable, whether or not the count is known.
  for (int64_t count : {-1, 65535}) {
    ListpackBuilder many;
    for (int i = 0; i < 20; ++i) many.uint7(static_cast<unsigned>(i));
    RdbRecorder r2;
    const auto res =
        decode(listpack_file(many.bytes(count)), r2, {.set_limits = ds::SetLimits::redis70(10)});
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(r2.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
    EXPECT_EQ(r2.keys.at(0).value.as_set().size(), 20u);
  }
}

TEST(PersistDecoder, ListpackStaysListpackRedis72) {
  ListpackBuilder lp;
  lp.uint7(5).int13(-100).int16(1000).str6("77").int64(1LL << 40);
  RdbRecorder rec;
  ASSERT_TRUE(decode(listpack_file(lp.bytes()), rec).ok);
  const auto& set = rec.keys.at(0).value.as_set();
  EXPECT_EQ(set.encoding(), ds::SetObject::Encoding::kListPack);  // integers too
  std::vector<std::string> order;
  set.for_each([&](std::string_view m) { order.emplace_back(m); });
  EXPECT_EQ(order, (std::vector<std::string>{"5", "-100", "1000", "77", "1099511627776"}));
  // Over set-max-listpack-entries: a hashtable, whether or not the count is
  // known; an "unknown" count of few members: a listpack.
  for (int64_t count : {-1, 65535}) {
    ListpackBuilder many;
    for (int i = 0; i < 20; ++i) many.uint7(static_cast<unsigned>(i));
    RdbRecorder r2;
    auto res =
        decode(listpack_file(many.bytes(count)), r2, {.set_limits = {.max_listpack_entries = 10}});
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(r2.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kHashTable);
    EXPECT_EQ(r2.keys.at(0).value.as_set().size(), 20u);
    RdbRecorder r3;
    res = decode(listpack_file(many.bytes(count)), r3);
    ASSERT_TRUE(res.ok) << res.error;
    EXPECT_EQ(r3.keys.at(0).value.as_set().encoding(), ds::SetObject::Encoding::kListPack);
    EXPECT_EQ(r3.keys.at(0).value.as_set().size(), 20u);
  }
  // Duplicates are refused, with either check.
  for (int n : {3, 300}) {
    ListpackBuilder dup;
    for (int i = 0; i < n; ++i) dup.str6("m" + std::to_string(i));
    dup.str6("m1");
    RdbRecorder r4;
    EXPECT_FALSE(
        decode(listpack_file(dup.bytes()), r4, {.set_limits = {.max_listpack_entries = 1000}}).ok)
        << n;
  }
}

TEST(PersistDecoder, EmptyListpackSetIsSkippedAsEmptyKey) {
  RdbRecorder rec;
  const auto r = decode(listpack_file(ListpackBuilder().bytes()), rec);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(rec.keys.empty());
  ASSERT_EQ(rec.empty.size(), 1u);
  EXPECT_EQ(rec.empty[0].second, "s");
  EXPECT_EQ(r.skipped, 1u);
}

void expect_listpack_error(const std::string& lp, const std::string& fragment) {
  RdbRecorder rec;
  const auto r = decode(listpack_file(lp), rec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find(fragment), std::string::npos) << r.error;
  EXPECT_TRUE(rec.keys.empty());
}

TEST(PersistDecoder, BadListpacksAreRejected) {
  const std::string good = ListpackBuilder().str6("a").uint7(1).bytes();
  std::string wrong_total = good;
  wrong_total[0] = static_cast<char>(wrong_total[0] + 1);
  expect_listpack_error(wrong_total, "Set listpack integrity check failed");
  std::string no_eof = good;
  no_eof.back() = 0x00;
  expect_listpack_error(no_eof, "no terminator");
  expect_listpack_error(ListpackBuilder().str6("a").uint7(1).bytes(3), "header counts 3");
  expect_listpack_error(ListpackBuilder().entry("\xf5").bytes(), "unknown encoding 0xf5");
  expect_listpack_error(ListpackBuilder().entry("\xfe").bytes(), "unknown encoding 0xfe");
  // Backlen that does not match the entry.
  expect_listpack_error(ListpackBuilder().raw(std::string("\x81x\x03", 3)).bytes(1), "backlen 3");
  // String length running past the end.
  expect_listpack_error(ListpackBuilder().raw(std::string("\x85xy\x06", 4)).bytes(1),
                        "past the end");
  expect_listpack_error(ListpackBuilder().raw(std::string("\xf0\xff\xff\xff\x7f", 5)).bytes(1),
                        "past the end");
  // A terminator in the middle.
  expect_listpack_error(ListpackBuilder().str6("a").raw("\xff").str6("b").bytes(2), "terminator");
  expect_listpack_error(std::string("\x06\x00\x00\x00\x00\x00", 6), "blob of 6 bytes");
  // Duplicates, also between an integer entry and its text.
  expect_listpack_error(ListpackBuilder().str6("a").str6("a").bytes(), "Duplicate set members");
  expect_listpack_error(ListpackBuilder().uint7(7).str6("7").bytes(), "Duplicate set members");
  // Backlen with continuation bits in all 5 bytes.
  std::string e = "\x81x";
  expect_listpack_error(ListpackBuilder().raw(e + "\x82").bytes(1), "backlen");
}

// ---------------------------------------------------------------------------
// Opcodes, expiry, databases
// ---------------------------------------------------------------------------

TEST(PersistDecoder, ExpiryDatabasesAuxAndResize) {
  std::string body;
  RdbEncoder enc(&body);
  enc.aux("redis-ver", "7.0.15");
  enc.aux("redis-bits", 64);
  enc.select_db(0);
  enc.resize_db(2, 1);
  enc.key_value("a", db::Object::string("1"), 1700000000123LL);
  enc.key_value("b", db::Object::string("2"), -1);
  enc.select_db(5);
  enc.resize_db(1, 0);
  enc.key_value("a", set_of({"x"}), -1);
  enc.select_db(15);
  enc.key_value("c", db::Object::string("3"), 1);
  RdbRecorder rec;
  const auto r = decode(rdb_file(body), rec);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.keys, 4u);
  ASSERT_EQ(rec.aux.size(), 2u);
  EXPECT_EQ(rec.aux[0], (std::pair<std::string, std::string>{"redis-ver", "7.0.15"}));
  EXPECT_EQ(rec.aux[1], (std::pair<std::string, std::string>{"redis-bits", "64"}));
  EXPECT_EQ(rec.selected, (std::vector<int>{0, 5, 15}));
  EXPECT_EQ(rec.resizes, (std::vector<std::pair<uint64_t, uint64_t>>{{2, 1}, {1, 0}}));
  EXPECT_EQ(rec.find(0, "a")->expire_ms, 1700000000123LL);
  EXPECT_EQ(rec.find(0, "b")->expire_ms, -1);  // the TTL belongs to one key only
  EXPECT_EQ(rec.find(5, "a")->value.type(), db::Type::kSet);
  EXPECT_EQ(rec.find(15, "c")->expire_ms, 1);
}

TEST(PersistDecoder, OldExpireIdleAndFreqOpcodes) {
  RdbBytes b;
  b.u8(rdb::kOpExpireTime).le(1700000000, 4).u8(rdb::kOpIdle).len(3600).u8(rdb::kOpFreq).u8(42);
  b.u8(rdb::kTypeString).str("k").str("v");
  b.u8(rdb::kTypeString).str("plain").str("v");
  RdbRecorder rec;
  const auto r = decode(rdb_file(b.bytes(), 7), rec);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.version, 7);
  EXPECT_EQ(rec.find(0, "k")->expire_ms, 1700000000000LL);
  EXPECT_EQ(rec.find(0, "k")->idle_seconds, 3600);
  EXPECT_EQ(rec.find(0, "k")->freq, 42);
  EXPECT_EQ(rec.find(0, "plain")->expire_ms, -1);
  EXPECT_EQ(rec.find(0, "plain")->idle_seconds, -1);
  EXPECT_EQ(rec.find(0, "plain")->freq, -1);
}

TEST(PersistDecoder, OldVersionsWithoutChecksum) {
  for (int version : {1, 2, 3, 4}) {
    RdbBytes b;
    b.u8(rdb::kOpSelectDb).len(0).u8(rdb::kTypeString).str("k").str("v");
    RdbRecorder rec;
    const std::string f = rdb_file(b.bytes(), version);
    const auto r = decode(f, rec);
    ASSERT_TRUE(r.ok) << version << ": " << r.error;
    EXPECT_EQ(rec.keys.size(), 1u);
    EXPECT_EQ(f.back(), '\xff');  // ends at the EOF opcode
  }
}

TEST(PersistDecoder, VersionsUpTo12AreRead) {
  for (int version = 5; version <= 12; ++version) {
    RdbRecorder rec;
    const auto r = decode(rdb_file(RdbBytes().u8(0).str("k").str("v").bytes(), version), rec);
    EXPECT_TRUE(r.ok) << version << ": " << r.error;
    EXPECT_EQ(r.version, version);
  }
}

TEST(PersistDecoder, BadHeaders) {
  struct Case {
    std::string bytes;
    std::string fragment;
  };
  std::string v13 = rdb_file("", 13);
  std::string v0 = rdb_file("", 0);
  const std::vector<Case> cases = {
      {"REDIX0010\xff", "does not start with \"REDIS\""},
      {"REDIS00a1\xff", "bad version digits"},
      {v13, "Can't handle RDB format version 13"},
      {v0, "Can't handle RDB format version 0"},
      {"REDIS001", "unexpected end of input"},
      {"", "unexpected end of input"},
  };
  for (const auto& c : cases) {
    RdbRecorder rec;
    const auto r = decode(c.bytes, rec);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find(c.fragment), std::string::npos) << r.error;
  }
}

TEST(PersistDecoder, ChecksumIsVerified) {
  std::string f = rdb_file(RdbBytes().u8(0).str("k").str("v").bytes());
  {
    RdbRecorder rec;
    EXPECT_TRUE(decode(f, rec).ok);
  }
  std::string bad = f;
  bad[bad.size() - 3] ^= 0x10;
  {
    RdbRecorder rec;
    const auto r = decode(bad, rec);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("RDB CRC error"), std::string::npos) << r.error;
    EXPECT_EQ(r.offset, f.size() - 8);
  }
  {
    RdbRecorder rec;  // verification off
    EXPECT_TRUE(decode(bad, rec, {.verify_checksum = false}).ok);
  }
  std::string zero = f;
  for (size_t i = zero.size() - 8; i < zero.size(); ++i) zero[i] = 0;
  {
    RdbRecorder rec;  // 0: written without a checksum
    EXPECT_TRUE(decode(zero, rec).ok);
  }
  std::string flipped = f;
  flipped[12] ^= 0x01;  // a byte of the value: the CRC no longer matches
  {
    RdbRecorder rec;
    const auto r = decode(flipped, rec);
    EXPECT_FALSE(r.ok);
  }
}

TEST(PersistDecoder, StopsRightAfterTheChecksum) {
  const std::string f = rdb_file(RdbBytes().u8(0).str("k").str("v").bytes());
  const std::string with_tail = f + "*1\r\n$4\r\nPING\r\n";
  StringSource src(with_tail);
  RdbRecorder rec;
  const auto r = decode_rdb(src, rec, {});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(src.offset(), f.size());
  EXPECT_EQ(src.remaining_hint(), with_tail.size() - f.size());
}

TEST(PersistDecoder, FunctionsModuleAuxAndSlotInfo) {
  RdbBytes b;
  b.u8(rdb::kOpFunction2).str("#!lua name=lib\nredis.register_function('f', function() end)");
  b.u8(rdb::kOpModuleAux).len(0x1234567890ULL).len(2).len(1);  // id, when_opcode UINT, when
  b.len(1).len(77).len(5).str("aux").len(3).le(0, 4).len(4).le(0, 8).len(0);  // opcodes, EOF
  b.u8(rdb::kOpSlotInfo).len(100).len(5).len(1);
  b.u8(rdb::kTypeString).str("k").str("v");
  const std::string f = rdb_file(b.bytes(), 11);
  {
    RdbRecorder rec;
    const auto r = decode(f, rec, {.skip_unsupported = true});
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.functions_skipped, 1u);
    EXPECT_EQ(rec.keys.size(), 1u);
  }
  {
    RdbRecorder rec;
    const auto r = decode(f, rec);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("Lua functions"), std::string::npos) << r.error;
    EXPECT_EQ(r.offset, 9u);
  }
  {
    RdbRecorder rec;
    const auto r = decode(rdb_file(RdbBytes().u8(rdb::kOpFunctionPreGa).str("x").bytes()), rec,
                          {.skip_unsupported = true});
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("pre-release"), std::string::npos) << r.error;
  }
  {
    RdbRecorder rec;  // module aux with a bad when_opcode
    const auto r =
        decode(rdb_file(RdbBytes().u8(rdb::kOpModuleAux).len(1).len(1).len(1).bytes()), rec);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("when_opcode"), std::string::npos) << r.error;
  }
}

TEST(PersistDecoder, UnknownTypeNamesTheKey) {
  RdbRecorder rec;
  const auto r = decode(rdb_file(RdbBytes().u8(0).str("ok").str("v").u8(31).str("k").bytes()), rec);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "Unknown RDB value type 31 for key 'k'");
  EXPECT_EQ(r.offset, 15u);
  RdbRecorder rec8;
  const auto r8 = decode(rdb_file(RdbBytes().u8(8).str("\x01\xff").bytes()), rec8);
  EXPECT_EQ(r8.error, "Unknown RDB value type 8 for key '\\x01\\xff'");
}

TEST(PersistDecoder, VisitorCanStopTheLoad) {
  const std::string f = rdb_file(RdbBytes().u8(0).str("k").str("v").bytes());
  RdbRecorder rec;
  rec.fail_on_key = "ERR DB index is out of range";
  const auto r = decode(f, rec);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "ERR DB index is out of range");
  EXPECT_EQ(r.offset, 9u);
}

TEST(PersistDecoder, ProgressIsReportedAndCanAbort) {
  std::string body;
  RdbEncoder enc(&body, {.compress = false});
  for (int i = 0; i < 100; ++i)
    enc.key_value("k" + std::to_string(i), db::Object::string(std::string(100000, 'x')), -1);
  const std::string f = rdb_file(body);
  RdbRecorder rec;
  ASSERT_TRUE(decode(f, rec).ok);
  EXPECT_GE(rec.progress.size(), 4u);
  RdbRecorder stop;
  stop.abort_progress = true;
  const auto r = decode(f, stop);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "loading aborted");
  EXPECT_LT(stop.keys.size(), 100u);
}

// ---------------------------------------------------------------------------
// Skipping the types setd does not hold
// ---------------------------------------------------------------------------

struct SkipCase {
  int type;
  std::string value;  // the value's bytes after the key
  std::string name;   // Redis type name
};

std::vector<SkipCase> skip_cases() {
  std::vector<SkipCase> c;
  const std::string lp = ListpackBuilder().str6("f").str6("v").bytes();
  c.push_back({rdb::kTypeList, RdbBytes().len(2).str("a").str("1").bytes(), "list"});
  c.push_back(
      {rdb::kTypeZset,
       RdbBytes().len(3).str("a").u8(3).raw("1.5").str("b").u8(253).str("c").u8(254).bytes(),
       "zset"});
  c.push_back({rdb::kTypeHash, RdbBytes().len(1).str("f").str("v").bytes(), "hash"});
  c.push_back(
      {rdb::kTypeZset2, RdbBytes().len(1).str("a").le(0x3ff0000000000000ULL, 8).bytes(), "zset"});
  // Module value: id, then typed fields up to EOF (0).
  c.push_back({rdb::kTypeModule2,
               RdbBytes()
                   .len(0x4d4f44554c45ULL << 10)
                   .len(1)
                   .len(5)
                   .len(2)
                   .len(6)
                   .len(3)
                   .le(0, 4)
                   .len(4)
                   .le(0, 8)
                   .len(5)
                   .str("module string")
                   .len(0)
                   .bytes(),
               "module"});
  c.push_back({rdb::kTypeHashZipmap, RdbBytes().raw_str("zipmap-bytes").bytes(), "hash"});
  c.push_back({rdb::kTypeListZiplist, RdbBytes().raw_str("ziplist-bytes").bytes(), "list"});
  c.push_back({rdb::kTypeZsetZiplist, RdbBytes().raw_str("ziplist").bytes(), "zset"});
  c.push_back({rdb::kTypeHashZiplist, RdbBytes().raw_str("ziplist").bytes(), "hash"});
  c.push_back(
      {rdb::kTypeListQuicklist, RdbBytes().len(2).raw_str("zl1").raw_str("zl2").bytes(), "list"});
  c.push_back({rdb::kTypeHashListpack, RdbBytes().raw_str(lp).bytes(), "hash"});
  c.push_back({rdb::kTypeZsetListpack, RdbBytes().raw_str(lp).bytes(), "zset"});
  c.push_back({rdb::kTypeListQuicklist2,
               RdbBytes().len(2).len(2).raw_str(lp).len(1).raw_str("plain node").bytes(), "list"});
  // Streams: listpacks, metadata, consumer groups with PELs and consumers.
  auto stream = [&](int type) {
    RdbBytes b;
    b.len(1).raw_str(std::string(16, '\0')).raw_str(lp);  // one node: master ID + listpack
    b.len(1).len(1700000000000ULL).len(0);                // length, last ID
    if (type >= rdb::kTypeStreamListpacks2) b.len(0).len(0).len(0).len(0).len(1);
    b.len(1).str("group").len(0).len(0);  // one group: name, last ID
    if (type >= rdb::kTypeStreamListpacks2) b.len(1);
    b.len(1).raw(std::string(16, 'i')).le(1700000000000ULL, 8).len(1);  // PEL: id, time, count
    b.len(1).str("consumer").le(1700000000000ULL, 8);                   // consumer, seen time
    if (type >= rdb::kTypeStreamListpacks3) b.le(1700000000000ULL, 8);  // active time
    b.len(1).raw(std::string(16, 'i'));                                 // its PEL
    return b.bytes();
  };
  c.push_back({rdb::kTypeStreamListpacks, stream(rdb::kTypeStreamListpacks), "stream"});
  c.push_back({rdb::kTypeStreamListpacks2, stream(rdb::kTypeStreamListpacks2), "stream"});
  c.push_back({rdb::kTypeStreamListpacks3, stream(rdb::kTypeStreamListpacks3), "stream"});
  // Hashes with field TTLs (Redis 7.4+).
  c.push_back(
      {rdb::kTypeHashMetadataPreGa,
       RdbBytes().len(2).len(0).str("f").str("v").len(1700000000000ULL).str("g").str("w").bytes(),
       "hash"});
  c.push_back({rdb::kTypeHashListpackExPreGa, RdbBytes().raw_str(lp).bytes(), "hash"});
  c.push_back({rdb::kTypeHashMetadata,
               RdbBytes()
                   .le(1700000000000ULL, 8)
                   .len(2)
                   .len(0)
                   .str("f")
                   .str("v")
                   .len(5)
                   .str("g")
                   .str("w")
                   .bytes(),
               "hash"});
  c.push_back(
      {rdb::kTypeHashListpackEx, RdbBytes().le(1700000000000ULL, 8).raw_str(lp).bytes(), "hash"});
  return c;
}

TEST(PersistDecoder, EveryUnsupportedTypeIsSkipped) {
  for (const auto& c : skip_cases()) {
    RdbBytes b;
    b.u8(rdb::kOpSelectDb).len(3);
    b.u8(rdb::kOpExpireTimeMs).le(1, 8);
    b.u8(c.type).str("other").raw(c.value);
    b.u8(rdb::kTypeString).str("after").str("v");
    const std::string f = rdb_file(b.bytes(), 12);
    RdbRecorder rec;
    const auto r = decode(f, rec, {.skip_unsupported = true});
    ASSERT_TRUE(r.ok) << "type " << c.type << ": " << r.error;
    EXPECT_EQ(r.skipped, 1u) << c.type;
    ASSERT_EQ(rec.skipped.size(), 1u) << c.type;
    EXPECT_EQ(rec.skipped[0], (std::tuple<int, std::string, std::string>{3, "other", c.name}));
    ASSERT_EQ(rec.keys.size(), 1u) << c.type;
    EXPECT_EQ(rec.keys[0].key, "after");
    EXPECT_EQ(rec.keys[0].expire_ms, -1) << "the TTL went with the skipped key";

    RdbRecorder strict;
    const auto e = decode(f, strict);
    EXPECT_FALSE(e.ok) << c.type;
    EXPECT_NE(e.error.find("key 'other' holds a " + c.name), std::string::npos) << e.error;
    EXPECT_NE(e.error.find("rdb-skip-unsupported-types"), std::string::npos) << e.error;
    EXPECT_EQ(e.offset, 20u) << c.type;  // the type byte
    EXPECT_TRUE(strict.keys.empty());

    // Truncated anywhere inside the skipped value: an error, never a load.
    const size_t value_start = 27;  // magic 9, select 2, expire 9, type 1, key "other" 6
    for (size_t cut = value_start; cut < value_start + c.value.size(); ++cut) {
      RdbRecorder t;
      const auto tr = decode(std::string_view(f).substr(0, cut), t, {.skip_unsupported = true});
      ASSERT_FALSE(tr.ok) << c.type << " cut " << cut;
    }
  }
}

TEST(PersistDecoder, ModuleErrorsNameTheModuleType) {
  const uint64_t id = ((uint64_t{'A' - 'A'} << 48) | 0) << 10;  // "AAAAAAAAA", version 0
  RdbRecorder rec;
  const auto r =
      decode(rdb_file(RdbBytes().u8(rdb::kTypeModule2).str("m").len(id).len(0).bytes()), rec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("module type 'AAAAAAAAA'"), std::string::npos) << r.error;
  // The 4.0 release-candidate format cannot be skipped.
  RdbRecorder rec6;
  const auto r6 = decode(rdb_file(RdbBytes().u8(rdb::kTypeModulePreGa).str("m").len(1).bytes()),
                         rec6, {.skip_unsupported = true});
  EXPECT_FALSE(r6.ok);
  EXPECT_NE(r6.error.find("RDB type 6"), std::string::npos) << r6.error;
  // Unknown module opcode.
  RdbRecorder rec9;
  const auto r9 = decode(rdb_file(RdbBytes().u8(rdb::kTypeModule2).str("m").len(1).len(9).bytes()),
                         rec9, {.skip_unsupported = true});
  EXPECT_FALSE(r9.ok);
  EXPECT_NE(r9.error.find("Unknown module value opcode 9"), std::string::npos) << r9.error;
}

// ---------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------

// A small multi-key dump with every value encoding setd reads.
std::string sample_file() {
  std::string body;
  RdbEncoder enc(&body);
  enc.aux("redis-ver", "7.0.15");
  enc.select_db(0);
  enc.resize_db(5, 1);
  enc.key_value("int", db::Object::string("-12345"), 1700000000000LL);
  enc.key_value("text", db::Object::string("hello world"), -1);
  enc.key_value("lzf", db::Object::string(std::string(40, 'z') + "tail"), -1);
  enc.key_value("is", set_of({"1", "300", "70000"}), -1);
  enc.key_value("ht", set_of({"a", "b", "7"}), -1);
  enc.select_db(2);
  RdbBytes more;
  more.u8(rdb::kTypeSetListpack).str("lp").raw_str(ListpackBuilder().str6("x").int16(999).bytes());
  body += more.bytes();
  return rdb_file(body);
}

TEST(PersistDecoder, SampleFileDecodes) {
  RdbRecorder rec;
  const auto r = decode(sample_file(), rec);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.keys, 6u);
  EXPECT_EQ(members(rec.find(2, "lp")->value), (std::set<std::string>{"999", "x"}));
  EXPECT_EQ(rec.find(0, "lzf")->value.as_string().bytes, std::string(40, 'z') + "tail");
}

TEST(PersistDecoder, TruncationAtEveryOffsetIsAnError) {
  const std::string f = sample_file();
  for (size_t cut = 0; cut < f.size(); ++cut) {
    for (bool known : {true, false}) {
      RdbRecorder rec;
      const std::string_view part = std::string_view(f).substr(0, cut);
      DecodeResult r;
      if (known) {
        StringSource src(part);
        r = decode_rdb(src, rec, {});
      } else {
        UnknownSizeSource src(part);
        r = decode_rdb(src, rec, {});
      }
      ASSERT_FALSE(r.ok) << "cut at " << cut;
      EXPECT_NE(r.error.find("unexpected end of input"), std::string::npos)
          << "cut at " << cut << ": " << r.error;
      EXPECT_LE(r.offset, cut);
    }
  }
}

TEST(PersistDecoder, RandomBitFlipsNeverCrash) {
  const std::string f = sample_file();
  base::Rng rng(2024);
  size_t ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string g = f;
    const int flips = 1 + static_cast<int>(rng.below(4));
    for (int k = 0; k < flips; ++k) g[rng.below(g.size())] ^= static_cast<char>(1u << rng.below(8));
    RdbRecorder rec;
    const auto r = decode(g, rec,
                          {.set_limits = ds::SetLimits::redis70(2),
                           .skip_unsupported = (i & 1) != 0,
                           .verify_checksum = false});
    if (r.ok) ++ok;
    if (!r.ok) {
      EXPECT_FALSE(r.error.empty());
    }
    // With the checksum verified, a flip of the content is always caught
    // (unless it made the version one without a checksum).
    RdbRecorder rec2;
    const auto r2 = decode(g, rec2);
    if (g.compare(0, 9, f, 0, 9) == 0) {
      EXPECT_FALSE(r2.ok && g != f);
    }
  }
  std::printf("[ info     ] %zu of 20000 flipped files still decoded (checksum off)\n", ok);
}

TEST(PersistDecoder, ForgedHugeLengthsFailWithoutAllocating) {
  // Each claims far more than the input holds; under AddressSanitizer an
  // allocation of that size would abort the test.
  const std::vector<std::string> bodies = {
      RdbBytes().u8(0).str("k").len(UINT64_MAX).bytes(),             // string
      RdbBytes().u8(0).str("k").len(1ULL << 40).raw("abc").bytes(),  // string
      RdbBytes().u8(0).str("k").u8(0xc3).len(10).len(1ULL << 40).raw("0123456789").bytes(),
      RdbBytes().u8(0).str("k").u8(0xc3).len(1ULL << 40).len(10).bytes(),  // LZF
      RdbBytes().u8(2).str("k").len(1ULL << 40).str("a").bytes(),          // set count
      RdbBytes().u8(2).str("k").len(4000000000ULL).str("a").bytes(),
      RdbBytes().u8(11).str("k").len(1ULL << 33).bytes(),  // intset blob
      RdbBytes().u8(1).str("k").len(1ULL << 60).bytes(),   // skipped list
      RdbBytes().u8(15).str("k").len(1ULL << 60).bytes(),  // skipped stream
      RdbBytes().u8(4).str("k").len(1ULL << 62).bytes(),   // skipped hash
  };
  for (size_t i = 0; i < bodies.size(); ++i) {
    const std::string f = rdb_file(bodies[i]);
    for (bool known : {true, false}) {
      RdbRecorder rec;
      DecodeResult r;
      if (known) {
        StringSource src(f);
        r = decode_rdb(src, rec, {.skip_unsupported = true});
      } else {
        UnknownSizeSource src(f);
        r = decode_rdb(src, rec, {.skip_unsupported = true});
      }
      EXPECT_FALSE(r.ok) << i;
      EXPECT_EQ(r.error.find("out of memory"), std::string::npos) << i << ": " << r.error;
    }
  }
}

TEST(PersistDecoder, LengthEncodingErrors) {
  RdbRecorder rec;
  auto r = decode(rdb_file(RdbBytes().u8(0).str("k").u8(0x82).bytes()), rec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("Unknown length encoding 0x82"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("key 'k'"), std::string::npos) << r.error;
  r = decode(rdb_file(RdbBytes().u8(0).str("k").u8(0xc4).bytes()), rec);
  EXPECT_NE(r.error.find("Unknown RDB string encoding type 4"), std::string::npos) << r.error;
  r = decode(rdb_file(RdbBytes().u8(2).str("k").u8(0xc0).bytes()), rec);
  EXPECT_NE(r.error.find("where a length was expected"), std::string::npos) << r.error;
  r = decode(rdb_file(RdbBytes().u8(rdb::kOpSelectDb).len(1ULL << 40).bytes()), rec);
  EXPECT_NE(r.error.find("database index"), std::string::npos) << r.error;
}

TEST(PersistDecoder, CorruptLzfIsAnError) {
  RdbRecorder rec;
  // Back reference before the start of the output.
  auto r = decode(
      rdb_file(RdbBytes().u8(0).str("k").u8(0xc3).len(3).len(30).raw("\xe0\xff\xff").bytes()), rec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("Invalid LZF compressed string"), std::string::npos) << r.error;
  // Decompresses to fewer bytes than announced.
  const std::string c = *lzf_compress(std::string(100, 'a'), 100);
  r = decode(rdb_file(RdbBytes().u8(0).str("k").u8(0xc3).len(c.size()).len(101).raw(c).bytes()),
             rec);
  EXPECT_NE(r.error.find("Invalid LZF"), std::string::npos) << r.error;
  r = decode(rdb_file(RdbBytes().u8(0).str("k").u8(0xc3).len(0).len(0).bytes()), rec);
  EXPECT_NE(r.error.find("Invalid LZF"), std::string::npos) << r.error;
}

TEST(PersistDecoder, DuplicateSetMembers) {
  for (auto ms :
       std::vector<std::vector<std::string>>{{"1", "2", "1"}, {"a", "b", "a"}, {"1", "x", "1"}}) {
    RdbBytes b;
    b.u8(rdb::kTypeSet).str("s").len(ms.size());
    for (const auto& m : ms) b.str(m);
    RdbRecorder rec;
    const auto r = decode(rdb_file(b.bytes()), rec);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("Duplicate set members detected"), std::string::npos) << r.error;
    EXPECT_TRUE(rec.keys.empty());
  }
  // "1" and int-encoded 1 are the same member.
  RdbRecorder rec;
  const auto r = decode(
      rdb_file(RdbBytes().u8(rdb::kTypeSet).str("s").len(2).raw_str("1").u8(0xc0).u8(1).bytes()),
      rec);
  EXPECT_NE(r.error.find("Duplicate set members detected"), std::string::npos) << r.error;
}

TEST(PersistDecoder, EmptySetIsSkippedAsEmptyKey) {
  RdbRecorder rec;
  const auto r = decode(
      rdb_file(RdbBytes().u8(rdb::kTypeSet).str("e").len(0).u8(0).str("k").str("v").bytes()), rec);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(rec.empty, (std::vector<std::pair<int, std::string>>{{0, "e"}}));
  EXPECT_EQ(rec.keys.size(), 1u);
  EXPECT_EQ(r.skipped, 1u);
}

TEST(PersistDecoder, BadIntsets) {
  struct Case {
    std::string file;
    std::string fragment;
  };
  RdbBytes short_blob;
  short_blob.raw_str("\x02\x00\x00");
  const std::vector<Case> cases = {
      {intset_file(3, {1}), "encoding 3 is not 2, 4 or 8"},
      {intset_file(2, {1, 2}, 3), "3 members of 2 bytes"},
      {intset_file(2, {1, 2}, 1), "1 members of 2 bytes"},
      {intset_file(2, {}), "no members"},
      {intset_file(2, {2, 1}), "strictly ascending"},
      {intset_file(4, {5, 5}), "strictly ascending"},
      {one_key_file(rdb::kTypeSetIntset, "s", short_blob.bytes()), "no header"},
  };
  for (const auto& c : cases) {
    RdbRecorder rec;
    const auto r = decode(c.file, rec);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("Intset integrity check failed"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find(c.fragment), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("key 's'"), std::string::npos) << r.error;
  }
}

TEST(PersistDecoder, ErrorMessagesQuoteBinaryAndLongKeys) {
  RdbRecorder rec;
  const std::string key = std::string("a'\\\n") + std::string(100, 'k');
  const auto r = decode(rdb_file(RdbBytes().u8(rdb::kTypeHash).str(key).len(0).bytes()), rec);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("key 'a\\x27\\x5c\\x0a" + std::string(60, 'k') + "...' holds a hash"),
            std::string::npos)
      << r.error;
}

// ---------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------

TEST(PersistSource, FdSourceReadsThroughItsBufferAndKeepsTheRest) {
  char path[] = "/tmp/setd_persist_fd_XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string f = sample_file();
  const std::string tail = "*1\r\n$4\r\nPING\r\n";
  const std::string all = f + tail;
  ASSERT_EQ(::write(fd, all.data(), all.size()), static_cast<ssize_t>(all.size()));
  for (size_t buffer : {1, 7, 64, 1 << 20}) {
    ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
    FdSource src(fd, all.size(), buffer);
    EXPECT_EQ(src.remaining_hint(), all.size());
    RdbRecorder rec;
    const auto r = decode_rdb(src, rec, {});
    ASSERT_TRUE(r.ok) << buffer << ": " << r.error;
    EXPECT_EQ(r.keys, 6u);
    EXPECT_EQ(src.offset(), f.size());
    EXPECT_EQ(src.remaining_hint(), tail.size());
    // What was buffered but not handed out is the start of the tail.
    const std::string_view unread = src.unread();
    EXPECT_EQ(std::string(unread), tail.substr(0, unread.size()));
  }
  // Unknown size.
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  FdSource src(fd);
  EXPECT_EQ(src.remaining_hint(), UINT64_MAX);
  RdbRecorder rec;
  EXPECT_TRUE(decode_rdb(src, rec, {}).ok);
  ::close(fd);
  ::unlink(path);
}

TEST(PersistSource, FdSourceReportsReadErrors) {
  FdSource src(-1, UINT64_MAX, 16);
  RdbRecorder rec;
  const auto r = decode_rdb(src, rec, {});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("read error"), std::string::npos) << r.error;
  EXPECT_FALSE(src.error().empty());
}

// ---------------------------------------------------------------------------
// DUMP / RESTORE payloads
// ---------------------------------------------------------------------------

TEST(PersistDump, PayloadBytesForSmallValues) {
  // "1": type 0, int 1, version 10 LE, CRC-64 LE of the six bytes before it.
  const std::string p = dump_payload(db::Object::string("1"), true);
  ASSERT_EQ(p.size(), 13u);
  EXPECT_EQ(p.substr(0, 5), std::string("\x00\xc0\x01\x0a\x00", 5));
  const uint64_t crc = crc64(0, p.data(), 5);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(static_cast<unsigned char>(p[5 + static_cast<size_t>(i)]), (crc >> (8 * i)) & 0xff);
}

TEST(PersistDump, RoundTrips) {
  ds::SetObject big;
  for (int i = 0; i < 2000; ++i) big.add("member-" + std::to_string(i), ds::SetLimits::redis70());
  std::vector<db::Object> values;
  values.push_back(db::Object::string(""));
  values.push_back(db::Object::string("-7"));
  values.push_back(db::Object::string(std::string(1000, 'x')));
  values.push_back(set_of({"1", "2", "3"}));
  values.push_back(set_of({"a", "b"}));
  values.push_back(db::Object::set(std::move(big)));
  ds::SetObject lp = ds::SetObject::empty_listpack();
  for (const char* m : {"x", "1", ""}) lp.add(m, ds::SetLimits{});
  const size_t listpack_at = values.size();
  values.push_back(db::Object::set(std::move(lp)));
  for (bool compress : {true, false}) {
    for (size_t i = 0; i < values.size(); ++i) {
      const auto& v = values[i];
      // Redis 7.0's rules for the values made with them, 7.2's for the listpack.
      const DecodeOptions opts{.set_limits =
                                   i == listpack_at ? ds::SetLimits{} : ds::SetLimits::redis70()};
      const auto r = restore_payload(dump_payload(v, compress), opts);
      ASSERT_TRUE(r.value.has_value()) << r.error;
      EXPECT_EQ(r.value->type(), v.type());
      EXPECT_EQ(members(*r.value), members(v));
      if (v.type() == db::Type::kSet) {
        EXPECT_EQ(r.value->as_set().encoding(), v.as_set().encoding());
      }
    }
  }
}

TEST(PersistDump, FooterErrors) {
  const std::string p = dump_payload(db::Object::string("hello"), true);
  const std::string kFooter = "DUMP payload version or checksum are wrong";
  EXPECT_EQ(restore_payload("", {}).error, kFooter);
  EXPECT_EQ(restore_payload(p.substr(0, 9), {}).error, kFooter);
  std::string bad_crc = p;
  bad_crc.back() ^= 1;
  EXPECT_EQ(restore_payload(bad_crc, {}).error, kFooter);
  std::string bad_body = p;
  bad_body[2] ^= 1;
  EXPECT_EQ(restore_payload(bad_body, {}).error, kFooter);
  // A newer version than setd reads, with a correct CRC.
  std::string v13 = p.substr(0, p.size() - 10) + std::string("\x0d\x00", 2);
  RdbEncoder(&v13).u64_le(crc64(0, v13));
  EXPECT_EQ(restore_payload(v13, {}).error, kFooter);
  // Version 12 is fine.
  std::string v12 = p.substr(0, p.size() - 10) + std::string("\x0c\x00", 2);
  RdbEncoder(&v12).u64_le(crc64(0, v12));
  EXPECT_TRUE(restore_payload(v12, {}).value.has_value());
  // CRC not checked when asked so.
  EXPECT_TRUE(restore_payload(bad_crc, {.verify_checksum = false}).value.has_value());
}

std::string payload_of(const std::string& body) {
  std::string p = body + std::string("\x0a\x00", 2);
  RdbEncoder(&p).u64_le(crc64(0, p));
  return p;
}

TEST(PersistDump, BodyErrors) {
  EXPECT_EQ(restore_payload(payload_of(RdbBytes().u8(0).str("v").u8(0).bytes()), {}).error,
            "Bad data format");  // trailing byte
  EXPECT_EQ(restore_payload(payload_of(RdbBytes().u8(0).bytes()), {}).error, "Bad data format");
  EXPECT_EQ(restore_payload(payload_of(RdbBytes().u8(2).len(0).bytes()), {}).error,
            "Bad data format");  // empty set
  EXPECT_EQ(restore_payload(payload_of(RdbBytes().u8(30).bytes()), {}).error, "Bad data format");
  EXPECT_EQ(restore_payload(payload_of(RdbBytes().u8(rdb::kOpEof).bytes()), {}).error,
            "Bad data format");
  EXPECT_EQ(
      restore_payload(payload_of(RdbBytes().u8(4).len(1).str("f").str("v").bytes()), {}).error,
      "Bad data format: setd cannot hold a hash value");
  EXPECT_EQ(restore_payload(payload_of(RdbBytes().u8(15).len(0).bytes()), {}).error,
            "Bad data format: setd cannot hold a stream value");
  EXPECT_EQ(
      restore_payload(payload_of(RdbBytes().u8(2).len(2).str("a").str("a").bytes()), {}).error,
      "Bad data format");
  // Listpack set payload (Redis 7.2's DUMP of a small set).
  const auto r = restore_payload(
      payload_of(RdbBytes().u8(20).raw_str(ListpackBuilder().str6("a").uint7(3).bytes()).bytes()),
      {});
  ASSERT_TRUE(r.value.has_value()) << r.error;
  EXPECT_EQ(members(*r.value), (std::set<std::string>{"3", "a"}));
}

// Sets of every encoding, made as commands make them under Redis 7.2's
// rules (and listpacks built directly: integers only, long members), go
// through DUMP / RESTORE with their members; the encoding a restore gives
// depends only on the members, so a second round trip keeps it (what
// tests/fuzz/rdb_fuzz.cpp checks on arbitrary input).
TEST(PersistDump, ListpackLimitsRoundTripToAFixedPoint) {
  base::Rng rng(31);
  const ds::SetLimits limits{
      .max_intset_entries = 8, .max_listpack_entries = 4, .max_listpack_value = 6};
  auto encoding_after = [&](const db::Object& v) {
    const auto r = restore_payload(dump_payload(v, (rng.next() & 1) != 0), {.set_limits = limits});
    EXPECT_TRUE(r.value.has_value()) << r.error;
    if (!r.value) return std::string("?");
    EXPECT_EQ(members(*r.value), members(v));
    return std::string(r.value->encoding_name());
  };
  for (int round = 0; round < 3000; ++round) {
    ds::SetObject s;
    if (rng.below(4) == 0) {
      ds::ListPack lp;
      const size_t n = 1 + rng.below(12);
      for (size_t i = 0; i < n; ++i)
        lp.insert(rng.below(2) ? std::to_string(rng.below(50)) : std::string(rng.below(10), 'x'));
      s = ds::SetObject::from_listpack(std::move(lp));
    } else {
      const size_t n = 1 + rng.below(12);
      for (size_t i = 0; i < n; ++i)
        s.add(rng.below(3) ? std::to_string(rng.below(50)) : std::string(rng.below(9), 'y'),
              limits);
    }
    const db::Object v = db::Object::set(std::move(s));
    const std::string once = encoding_after(v);
    const auto r = restore_payload(dump_payload(v, true), {.set_limits = limits});
    ASSERT_TRUE(r.value.has_value());
    EXPECT_EQ(encoding_after(*r.value), once) << round;
    if (v.as_set().encoding() != ds::SetObject::Encoding::kListPack) {
      // Made by adding: the load makes the same choice.
      EXPECT_EQ(once, v.encoding_name()) << round;
    }
  }
}

TEST(PersistDump, RandomPayloadsNeverCrash) {
  base::Rng rng(99);
  const std::string good = dump_payload(set_of({"1", "20000", "x", "yy"}), true);
  for (int i = 0; i < 20000; ++i) {
    std::string g = good;
    g[rng.below(g.size() - 10)] ^= static_cast<char>(1u << rng.below(8));
    const auto r = restore_payload(g, {.verify_checksum = false});
    EXPECT_TRUE(r.value.has_value() || !r.error.empty());
  }
}

}  // namespace
}  // namespace setd::persist
