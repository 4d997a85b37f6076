// The RDB codec against the real thing: dumps written by redis-server 7.0
// (SAVE) decoded by decode_rdb(), dumps written by RdbEncoder checked by
// redis-check-rdb and loaded by redis-server, and DUMP / RESTORE payloads
// both ways. Every key, value, encoding and TTL is compared: with Redis
// 7.0's set encodings (set-max-listpack-entries 0) against what
// redis-server 7.0 reports, and listpack sets (Redis 7.2's rules, the
// default) written so that Redis 7.0 loads them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rdb_test_util.hpp"
#include "server_process.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/set_object.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace setd::testing {
namespace {

bool have_redis_server() { return !shell("command -v redis-server").empty(); }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// decode_rdb() over a file through FdSource, as a server would load it.
persist::DecodeResult decode_file(const std::string& path, RdbRecorder& rec,
                                  persist::DecodeOptions opts) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + path);
  struct stat st {};
  ::fstat(fd, &st);
  persist::FdSource src(fd, static_cast<uint64_t>(st.st_size));
  auto r = persist::decode_rdb(src, rec, opts);
  ::close(fd);
  return r;
}

std::set<std::string> as_set(const RespValue& v) {
  std::set<std::string> out;
  for (const auto& e : v.elements) out.insert(e.str);
  return out;
}

std::string random_bytes(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (auto& c : s) {
    seed = seed * 1103515245u + 12345u;
    c = static_cast<char>(seed >> 16);
  }
  return s;
}

// The strings both directions use: every RDB string encoding.
std::map<std::string, std::string> sample_strings() {
  std::string text;
  for (int i = 0; text.size() < 5000; ++i) text += "line " + std::to_string(i % 50) + "; ";
  return {
      {"str:empty", ""},
      {"str:0", "0"},
      {"str:int8", "-128"},
      {"str:int16", "-129"},
      {"str:int32", "2147483647"},
      {"str:int32min", "-2147483648"},
      {"str:beyond32", "2147483648"},
      {"str:int64", "9223372036854775807"},
      {"str:leading0", "007"},
      {"str:plus", "+1"},
      {"str:short", "hello"},
      {"str:20", std::string(20, 'a')},
      {"str:21lzf", std::string(21, 'a')},
      {"str:text", text},
      {"str:bin", std::string("a\0b\xff\x01\r\n", 7)},
      {"str:random", random_bytes(300, 7)},
      {"1234", "key that is an integer"},
  };
}

// Sets both directions use, with the encoding Redis 7.0 gives them.
struct SampleSet {
  std::vector<std::string> members;
  std::string encoding;
  // The encoding under Redis 7.2's rules (default limits).
  std::string encoding72() const {
    if (encoding != "hashtable" || members.size() > 128) return encoding;
    for (const auto& m : members)
      if (m.size() > 64) return encoding;
    return "listpack";
  }
};

constexpr ds::SetLimits k70 = ds::SetLimits::redis70();
std::map<std::string, SampleSet> sample_sets() {
  std::map<std::string, SampleSet> m;
  m["set:i16"] = {{"1", "2", "3", "-32768", "32767"}, "intset"};
  m["set:i32"] = {{"1", "-40000", "2147483647"}, "intset"};
  m["set:i64"] = {{"-9223372036854775808", "1", "9223372036854775807"}, "intset"};
  std::vector<std::string> ints512;
  for (int i = 0; i < 512; ++i) ints512.push_back(std::to_string(i * 7));
  m["set:i512"] = {ints512, "intset"};
  std::vector<std::string> ints600;
  for (int i = 0; i < 600; ++i) ints600.push_back(std::to_string(i));
  m["set:i600"] = {ints600, "hashtable"};
  m["set:mixed"] = {{"1", "2", "x"}, "hashtable"};
  m["set:007"] = {{"007", "7"}, "hashtable"};
  std::vector<std::string> big;
  for (int i = 0; i < 3000; ++i) big.push_back("member:" + std::to_string(i));
  big.push_back(std::string(100, 'L'));
  big.push_back(std::string("bin\0\xff", 5));
  m["set:big"] = {big, "hashtable"};
  return m;
}

// SADD in batches (one command per 500 members).
void sadd_all(Client& c, const std::string& key, const std::vector<std::string>& members) {
  for (size_t i = 0; i < members.size(); i += 500) {
    std::vector<std::string> args{"SADD", key};
    for (size_t j = i; j < members.size() && j < i + 500; ++j) args.push_back(members[j]);
    ASSERT_FALSE(c.call(args).is_error());
  }
}

std::set<std::string> sorted(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

// ---------------------------------------------------------------------------
// redis-server's dump -> decode_rdb
// ---------------------------------------------------------------------------

TEST(PersistCodecVsRedis, DecodesWhatRedisSaves) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  ServerProcess redis("redis-server", {"--dir", dir.path(), "--dbfilename", "dump.rdb"});
  Client c(redis.port());
  const auto strings = sample_strings();
  const auto sets = sample_sets();
  for (const auto& [k, v] : strings) ASSERT_EQ(c.call({"SET", k, v}).str, "OK");
  for (const auto& [k, s] : sets) sadd_all(c, k, s.members);
  // TTLs (absolute times read back with PEXPIRETIME).
  ASSERT_EQ(c.call({"SET", "ttl:str", "v", "PX", "3600000"}).str, "OK");
  c.call({"SADD", "ttl:set", "a", "b"});
  c.call({"PEXPIRE", "ttl:set", "7200000"});
  const long long ttl_str = c.call({"PEXPIRETIME", "ttl:str"}).integer;
  const long long ttl_set = c.call({"PEXPIRETIME", "ttl:set"}).integer;
  ASSERT_GT(ttl_str, now_ms());
  // Other types: listpack and hashtable hashes, a quicklist, listpack and
  // skiplist sorted sets, a stream with a consumer group.
  c.call({"HSET", "other:hash", "f", "v"});
  std::vector<std::string> hargs{"HSET", "other:bighash"};
  for (int i = 0; i < 200; ++i) {
    hargs.push_back("f" + std::to_string(i));
    hargs.push_back("v");
  }
  c.call(hargs);
  c.call({"RPUSH", "other:list", "a", "b", "1"});
  c.call({"ZADD", "other:zset", "1.5", "a"});
  std::vector<std::string> zargs{"ZADD", "other:bigzset"};
  for (int i = 0; i < 200; ++i) {
    zargs.push_back(std::to_string(i));
    zargs.push_back("m" + std::to_string(i));
  }
  c.call(zargs);
  c.call({"XADD", "other:stream", "*", "f", "v"});
  c.call({"XGROUP", "CREATE", "other:stream", "g", "0"});
  c.call({"XREADGROUP", "GROUP", "g", "consumer", "COUNT", "1", "STREAMS", "other:stream", ">"});
  // Other databases.
  c.call({"SELECT", "1"});
  c.call({"SET", "db1:k", "one"});
  c.call({"SELECT", "15"});
  c.call({"SADD", "db15:s", "x", "y"});
  c.call({"SELECT", "0"});
  // A function library.
  const auto fn =
      c.call({"FUNCTION", "LOAD",
              "#!lua name=setdlib\nredis.register_function('f', function() return 1 end)"});
  ASSERT_FALSE(fn.is_error()) << fn.str;
  ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  const std::string path = dir.file("dump.rdb");

  RdbRecorder rec;
  const auto r = decode_file(path, rec, {.set_limits = k70, .skip_unsupported = true});
  ASSERT_TRUE(r.ok) << r.error << " at " << r.offset;
  EXPECT_EQ(r.version, 10);
  EXPECT_EQ(r.functions_skipped, 1u);
  EXPECT_EQ(r.keys, strings.size() + sets.size() + 2 + 2);
  std::set<std::string> skipped;
  for (const auto& [db, key, type] : rec.skipped) {
    EXPECT_EQ(db, 0);
    skipped.insert(key + "=" + type);
  }
  EXPECT_EQ(skipped, (std::set<std::string>{"other:hash=hash", "other:bighash=hash",
                                            "other:list=list", "other:zset=zset",
                                            "other:bigzset=zset", "other:stream=stream"}));
  bool saw_ver = false;
  for (const auto& [k, v] : rec.aux)
    if (k == "redis-ver") saw_ver = v.rfind("7.", 0) == 0;
  EXPECT_TRUE(saw_ver);

  for (const auto& [k, v] : strings) {
    const auto* lk = rec.find(0, k);
    ASSERT_NE(lk, nullptr) << k;
    ASSERT_EQ(lk->value.type(), db::Type::kString) << k;
    EXPECT_EQ(lk->value.as_string().bytes, v) << k;
    EXPECT_EQ(lk->value.encoding_name(), c.call({"OBJECT", "ENCODING", k}).str) << k;
    EXPECT_EQ(lk->expire_ms, -1) << k;
  }
  for (const auto& [k, s] : sets) {
    const auto* lk = rec.find(0, k);
    ASSERT_NE(lk, nullptr) << k;
    ASSERT_EQ(lk->value.type(), db::Type::kSet) << k;
    EXPECT_EQ(members(lk->value), sorted(s.members)) << k;
    EXPECT_EQ(lk->value.encoding_name(), s.encoding) << k;
    EXPECT_EQ(s.encoding, c.call({"OBJECT", "ENCODING", k}).str) << k;
  }
  ASSERT_NE(rec.find(0, "ttl:str"), nullptr);
  EXPECT_EQ(rec.find(0, "ttl:str")->expire_ms, ttl_str);
  EXPECT_EQ(rec.find(0, "ttl:set")->expire_ms, ttl_set);
  ASSERT_NE(rec.find(1, "db1:k"), nullptr);
  EXPECT_EQ(rec.find(1, "db1:k")->value.as_string().bytes, "one");
  ASSERT_NE(rec.find(15, "db15:s"), nullptr);
  EXPECT_EQ(members(rec.find(15, "db15:s")->value), (std::set<std::string>{"x", "y"}));
  EXPECT_EQ(rec.selected, (std::vector<int>{0, 1, 15}));
  // The same dump loaded with listpack sets (Redis 7.2's rdbLoadObject).
  RdbRecorder rec72;
  ASSERT_TRUE(decode_file(path, rec72, {.skip_unsupported = true}).ok);
  for (const auto& [k, s] : sets) {
    const auto* lk = rec72.find(0, k);
    ASSERT_NE(lk, nullptr) << k;
    EXPECT_EQ(members(lk->value), sorted(s.members)) << k;
    EXPECT_EQ(lk->value.encoding_name(), s.encoding72()) << k;
  }

  // Without skipping: the function library stops the load first ...
  RdbRecorder strict;
  const auto e = decode_file(path, strict, {});
  EXPECT_FALSE(e.ok);
  EXPECT_NE(e.error.find("Lua functions"), std::string::npos) << e.error;
  // ... and without it, the first key of another type, by name.
  c.call({"FUNCTION", "FLUSH"});
  ASSERT_EQ(c.call({"SAVE"}).str, "OK");
  RdbRecorder strict2;
  const auto e2 = decode_file(path, strict2, {});
  EXPECT_FALSE(e2.ok);
  EXPECT_NE(e2.error.find("key 'other:"), std::string::npos) << e2.error;
  EXPECT_NE(e2.error.find("setd holds strings and sets"), std::string::npos) << e2.error;
  RdbRecorder again;
  const auto r2 = decode_file(path, again, {.skip_unsupported = true});
  ASSERT_TRUE(r2.ok) << r2.error;
  EXPECT_EQ(r2.functions_skipped, 0u);
  EXPECT_EQ(r2.skipped, 6u);

  // A smaller set-max-intset-entries at load converts the bigger intsets.
  RdbRecorder small;
  ASSERT_TRUE(
      decode_file(path, small, {.set_limits = ds::SetLimits::redis70(4), .skip_unsupported = true})
          .ok);
  EXPECT_STREQ(small.find(0, "set:i16")->value.encoding_name(), "hashtable");
  EXPECT_STREQ(small.find(0, "set:i32")->value.encoding_name(), "intset");
}

// ---------------------------------------------------------------------------
// RdbEncoder's dump -> redis-check-rdb and redis-server
// ---------------------------------------------------------------------------

std::string encoder_dump(int64_t expire_at) {
  std::string out;
  persist::RdbEncoder enc(&out);
  enc.magic();
  enc.aux("redis-ver", "7.0.15");
  enc.aux("redis-bits", 64);
  enc.aux("ctime", static_cast<long long>(now_ms() / 1000));
  enc.aux("used-mem", 1234567);
  enc.aux("aof-base", 0);
  const auto strings = sample_strings();
  const auto sets = sample_sets();
  enc.select_db(0);
  enc.resize_db(strings.size() + sets.size() + 2, 2);
  for (const auto& [k, v] : strings) enc.key_value(k, db::Object::string(v), -1);
  for (const auto& [k, s] : sets) {
    ds::SetObject set;
    for (const auto& m : s.members) set.add(m, k70);
    enc.key_value(k, db::Object::set(std::move(set)), -1);
  }
  enc.key_value("ttl:str", db::Object::string("v"), expire_at);
  ds::SetObject ts;
  ts.add("a", k70);
  enc.key_value("ttl:set", db::Object::set(std::move(ts)), expire_at + 1);
  enc.select_db(3);
  enc.resize_db(1, 0);
  enc.key_value("db3:k", db::Object::string("three"), -1);
  enc.select_db(15);
  enc.resize_db(1, 0);
  ds::SetObject s15;
  s15.add("5", k70);
  enc.key_value("db15:s", db::Object::set(std::move(s15)), -1);
  enc.eof();
  enc.u64_le(persist::crc64(0, out));
  return out;
}

TEST(PersistCodecVsRedis, RedisLoadsWhatTheEncoderWrites) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  TempDir dir;
  const int64_t expire_at = now_ms() + 3600 * 1000;
  const std::string path = dir.file("dump.rdb");
  put_file_bytes(path, encoder_dump(expire_at));

  if (!shell("command -v redis-check-rdb").empty()) {
    const int status = std::system(("redis-check-rdb " + path + " >/dev/null 2>&1").c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << shell("redis-check-rdb " + path);
  }

  ServerProcess redis("redis-server", {"--dir", dir.path(), "--dbfilename", "dump.rdb"});
  Client c(redis.port());
  const auto strings = sample_strings();
  const auto sets = sample_sets();
  EXPECT_EQ(c.call({"DBSIZE"}).integer, static_cast<long long>(strings.size() + sets.size() + 2));
  for (const auto& [k, v] : strings) {
    EXPECT_EQ(c.call({"GET", k}).str, v) << k;
    EXPECT_EQ(c.call({"OBJECT", "ENCODING", k}).str, db::Object::string(v).encoding_name()) << k;
  }
  for (const auto& [k, s] : sets) {
    EXPECT_EQ(as_set(c.call({"SMEMBERS", k})), sorted(s.members)) << k;
    EXPECT_EQ(c.call({"OBJECT", "ENCODING", k}).str, s.encoding) << k;
  }
  const long long pttl = c.call({"PTTL", "ttl:str"}).integer;
  EXPECT_GT(pttl, 3500 * 1000);
  EXPECT_LE(pttl, 3600 * 1000);
  EXPECT_EQ(c.call({"PEXPIRETIME", "ttl:str"}).integer, expire_at);
  EXPECT_EQ(c.call({"PEXPIRETIME", "ttl:set"}).integer, expire_at + 1);
  EXPECT_EQ(c.call({"PTTL", "str:short"}).integer, -1);
  c.call({"SELECT", "3"});
  EXPECT_EQ(c.call({"DBSIZE"}).integer, 1);
  EXPECT_EQ(c.call({"GET", "db3:k"}).str, "three");
  c.call({"SELECT", "15"});
  EXPECT_EQ(c.call({"DBSIZE"}).integer, 1);
  EXPECT_EQ(as_set(c.call({"SMEMBERS", "db15:s"})), (std::set<std::string>{"5"}));
  for (int db : {1, 2, 4, 14}) {
    c.call({"SELECT", std::to_string(db)});
    EXPECT_EQ(c.call({"DBSIZE"}).integer, 0) << db;
  }
}

// Listpack-encoded sets (setd's default) are written as RDB_TYPE_SET, which
// redis-check-rdb accepts and redis-server 7.0 loads with its own encodings;
// setd loads them back as listpacks.
TEST(PersistCodecVsRedis, RedisLoadsListpackSets) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  struct LpSet {
    std::vector<std::string> members;
    std::string redis70_encoding;
  };
  std::vector<std::string> tags50;
  for (int j = 0; j < 50; ++j) tags50.push_back("m:" + std::to_string(j));
  std::map<std::string, LpSet> sets = {
      {"lp:one", {{"user:12345"}, "hashtable"}},
      {"lp:tags", {{"red", "green", "blue", "urgent", "done"}, "hashtable"}},
      {"lp:50", {tags50, "hashtable"}},
      {"lp:mixed", {{"1", "x", "-7", "", std::string("b\0\xff", 3)}, "hashtable"}},
      {"lp:ints", {{"5", "-100", "1000", "77", "1099511627776"}, "intset"}},
      {"lp:long", {{"a", std::string(300, 'L')}, "hashtable"}},
  };
  TempDir dir;
  const std::string path = dir.file("dump.rdb");
  {
    std::string out;
    persist::RdbEncoder enc(&out);
    enc.magic();
    enc.aux("redis-ver", "7.0.15");
    enc.select_db(0);
    enc.resize_db(sets.size(), 0);
    for (const auto& [k, s] : sets) {
      ds::ListPack lp;  // built directly: integers and long members too
      for (const auto& m : s.members) ASSERT_TRUE(lp.insert(m));
      const db::Object v = db::Object::set(ds::SetObject::from_listpack(std::move(lp)));
      ASSERT_STREQ(v.encoding_name(), "listpack");
      enc.key_value(k, v, -1);
    }
    enc.eof();
    enc.u64_le(persist::crc64(0, out));
    put_file_bytes(path, out);
  }
  if (!shell("command -v redis-check-rdb").empty()) {
    const int status = std::system(("redis-check-rdb " + path + " >/dev/null 2>&1").c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << shell("redis-check-rdb " + path);
  }
  {
    ServerProcess redis("redis-server", {"--dir", dir.path(), "--dbfilename", "dump.rdb"});
    Client c(redis.port());
    EXPECT_EQ(c.call({"DBSIZE"}).integer, static_cast<long long>(sets.size()));
    for (const auto& [k, s] : sets) {
      EXPECT_EQ(as_set(c.call({"SMEMBERS", k})), sorted(s.members)) << k;
      EXPECT_EQ(c.call({"OBJECT", "ENCODING", k}).str, s.redis70_encoding) << k;
    }
  }
  // setd: listpacks again (in the order they were written), or Redis
  // 7.0's encodings without listpack.
  RdbRecorder rec, rec70;
  ASSERT_TRUE(decode_file(path, rec, {}).ok);
  ASSERT_TRUE(decode_file(path, rec70, {.set_limits = k70}).ok);
  for (const auto& [k, s] : sets) {
    const auto* lk = rec.find(0, k);
    ASSERT_NE(lk, nullptr) << k;
    const bool fits = k != "lp:long" && k != "lp:ints";
    EXPECT_STREQ(lk->value.encoding_name(), k == "lp:ints" ? "intset"
                                            : fits         ? "listpack"
                                                           : "hashtable")
        << k;
    EXPECT_EQ(members(lk->value), sorted(s.members)) << k;
    EXPECT_STREQ(rec70.find(0, k)->value.encoding_name(), s.redis70_encoding.c_str()) << k;
  }
}

// ---------------------------------------------------------------------------
// DUMP / RESTORE
// ---------------------------------------------------------------------------

TEST(PersistCodecVsRedis, DumpPayloadsBothWays) {
  if (!have_redis_server()) GTEST_SKIP() << "redis-server not installed";
  ServerProcess redis("redis-server");
  Client c(redis.port());
  const auto strings = sample_strings();
  const auto sets = sample_sets();
  for (const auto& [k, v] : strings) c.call({"SET", k, v});
  for (const auto& [k, s] : sets) sadd_all(c, k, s.members);

  // redis DUMP -> restore_payload.
  for (const auto& [k, v] : strings) {
    const std::string payload = c.call({"DUMP", k}).str;
    const auto r = persist::restore_payload(payload, {});
    ASSERT_TRUE(r.value.has_value()) << k << ": " << r.error;
    EXPECT_EQ(r.value->as_string().bytes, v) << k;
    const std::string ours = persist::dump_payload(*r.value, true);
    if (v.size() <= 20) {
      EXPECT_EQ(ours, payload) << k;  // no LZF involved: byte for byte
    } else {
      EXPECT_EQ(persist::restore_payload(ours, {}).value->as_string().bytes, v) << k;
    }
  }
  for (const auto& [k, s] : sets) {
    const std::string payload = c.call({"DUMP", k}).str;
    const auto r = persist::restore_payload(payload, {.set_limits = k70});
    ASSERT_TRUE(r.value.has_value()) << k << ": " << r.error;
    EXPECT_EQ(members(*r.value), sorted(s.members)) << k;
    EXPECT_EQ(r.value->encoding_name(), s.encoding) << k;
    EXPECT_EQ(persist::restore_payload(payload, {}).value->encoding_name(), s.encoding72()) << k;
    if (s.encoding == "intset") {
      // The intset blob is the same bytes (LZF or not).
      EXPECT_EQ(persist::dump_payload(*r.value, true), payload) << k;
    }
  }
  c.call({"HSET", "h", "f", "v"});
  EXPECT_EQ(persist::restore_payload(c.call({"DUMP", "h"}).str, {}).error,
            "Bad data format: setd cannot hold a hash value");

  // dump_payload -> RESTORE.
  for (const auto& [k, v] : strings) {
    for (bool compress : {true, false}) {
      const std::string key = "restored:" + k + (compress ? ":c" : ":p");
      const auto res =
          c.call({"RESTORE", key, "0", persist::dump_payload(db::Object::string(v), compress)});
      ASSERT_EQ(res.str, "OK") << key << ": " << res.str;
      EXPECT_EQ(c.call({"GET", key}).str, v) << key;
    }
  }
  for (const auto& [k, s] : sets) {
    for (const ds::SetLimits& limits : {k70, ds::SetLimits{}}) {  // listpacks too
      ds::SetObject set;
      for (const auto& m : s.members) set.add(m, limits);
      const std::string key = "restored:" + k + (limits.listpack_enabled() ? ":lp" : "");
      const auto res = c.call(
          {"RESTORE", key, "0", persist::dump_payload(db::Object::set(std::move(set)), true)});
      ASSERT_EQ(res.str, "OK") << key << ": " << res.str;
      EXPECT_EQ(as_set(c.call({"SMEMBERS", key})), sorted(s.members)) << key;
      EXPECT_EQ(c.call({"OBJECT", "ENCODING", key}).str, s.encoding) << key;
    }
  }
  // A payload with a wrong checksum: both refuse it alike.
  std::string bad = persist::dump_payload(db::Object::string("x"), true);
  bad.back() ^= 1;
  EXPECT_EQ(c.call({"RESTORE", "bad", "0", bad}).str,
            "ERR DUMP payload version or checksum are wrong");
  EXPECT_EQ("ERR " + persist::restore_payload(bad, {}).error,
            "ERR DUMP payload version or checksum are wrong");
}

}  // namespace
}  // namespace setd::testing
