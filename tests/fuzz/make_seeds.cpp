// Writes the seed corpus of the fuzz targets (tests/fuzz/run.sh): RDB files
// and DUMP payloads from RdbEncoder and from hand-built bytes covering every
// encoding and every skipped type, and RESP requests. Usage:
//   setd_fuzz_seeds <rdb-dir> <resp-dir>
// Nothing binary is committed: the corpus is made at run time.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "rdb_test_util.hpp"
#include "setd/db/value.hpp"
#include "setd/ds/set_object.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace {

using setd::db::Object;
using setd::ds::SetObject;
using setd::persist::RdbEncoder;
using setd::testing::ListpackBuilder;
using setd::testing::rdb_file;
using setd::testing::RdbBytes;
namespace rdb = setd::persist::rdb;

void write(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Object set_of(const std::vector<std::string>& ms) {
  SetObject s;
  for (const auto& m : ms) s.add(m, setd::ds::SetLimits::redis70());
  return Object::set(std::move(s));
}

std::vector<Object> sample_values() {
  std::vector<Object> v;
  for (const char* s : {"", "0", "-129", "70000", "2147483648", "007", "hello"})
    v.push_back(Object::string(s));
  v.push_back(Object::string(std::string(40, 'z') + "tail"));
  v.push_back(set_of({"1", "2", "3"}));
  v.push_back(set_of({"1", "-70000"}));
  v.push_back(set_of({"1", "9223372036854775807"}));
  v.push_back(set_of({"a", "b", "1"}));
  std::vector<std::string> many;
  for (int i = 0; i < 20; ++i) many.push_back("m" + std::to_string(i));
  v.push_back(set_of(many));
  return v;
}

void rdb_seeds(const std::string& dir) {
  const auto values = sample_values();
  for (bool compress : {true, false}) {
    std::string out;
    RdbEncoder enc(&out, {.compress = compress});
    enc.aux("redis-ver", "7.0.15");
    enc.aux("redis-bits", 64);
    enc.select_db(0);
    enc.resize_db(values.size(), 1);
    for (size_t i = 0; i < values.size(); ++i)
      enc.key_value("k" + std::to_string(i), values[i], i == 0 ? 1700000000000LL : -1);
    enc.select_db(7);
    enc.key_value("other", values[1], -1);
    write(dir, compress ? "encoder_lzf.rdb" : "encoder_plain.rdb", rdb_file(out));
  }
  for (size_t i = 0; i < values.size(); ++i) {
    write(dir, "dump_" + std::to_string(i) + ".bin", setd::persist::dump_payload(values[i], true));
  }
  // Listpack sets with every entry encoding, as a file and as a payload.
  const std::string lp = ListpackBuilder()
                             .uint7(5)
                             .str6("abc")
                             .int13(-100)
                             .str12(std::string(70, 'q'))
                             .int16(-30000)
                             .int24(8000000)
                             .int32(-2000000000)
                             .int64(1LL << 50)
                             .str32("w")
                             .bytes();
  write(dir, "listpack_set.rdb",
        rdb_file(RdbBytes().u8(rdb::kTypeSetListpack).str("lp").raw_str(lp).bytes(), 11));
  // Old opcodes and every skipped type.
  RdbBytes b;
  b.u8(rdb::kOpExpireTime).le(1700000000, 4).u8(rdb::kOpIdle).len(10).u8(rdb::kOpFreq).u8(3);
  b.u8(rdb::kTypeSetIntset).str("is").raw_str(std::string("\x02\0\0\0\x02\0\0\0\x01\0\x02\0", 12));
  b.u8(rdb::kOpFunction2).str("#!lua name=l\n");
  b.u8(rdb::kOpModuleAux).len(1 << 10).len(2).len(1).len(5).str("aux").len(0);
  b.u8(rdb::kOpSlotInfo).len(1).len(2).len(3);
  b.u8(rdb::kTypeList).str("l").len(1).str("a");
  b.u8(rdb::kTypeZset).str("z").len(1).str("a").u8(3).raw("1.5");
  b.u8(rdb::kTypeHash).str("h").len(1).str("f").str("v");
  b.u8(rdb::kTypeZset2).str("z2").len(1).str("a").le(0, 8);
  b.u8(rdb::kTypeModule2).str("m").len(1 << 10).len(1).len(5).len(3).le(0, 4).len(4).le(0, 8);
  b.len(5).str("s").len(0);
  b.u8(rdb::kTypeHashListpack).str("hl").raw_str(ListpackBuilder().str6("f").str6("v").bytes());
  b.u8(rdb::kTypeListQuicklist2).str("q").len(1).len(2).raw_str(ListpackBuilder().uint7(1).bytes());
  b.u8(rdb::kTypeStreamListpacks3).str("st").len(1).raw_str(std::string(16, '\0'));
  b.raw_str(ListpackBuilder().uint7(1).bytes()).len(1).len(1).len(0);
  b.len(0).len(0).len(0).len(0).len(1);
  b.len(1).str("g").len(0).len(0).len(1).len(1).raw(std::string(16, 'i')).le(1, 8).len(1);
  b.len(1).str("c").le(1, 8).le(1, 8).len(1).raw(std::string(16, 'i'));
  b.u8(rdb::kTypeHashMetadata).str("hm").le(1, 8).len(1).len(0).str("f").str("v");
  b.u8(rdb::kTypeHashListpackEx).str("hx").le(1, 8).raw_str(ListpackBuilder().bytes());
  write(dir, "skipped_types.rdb", rdb_file(b.bytes(), 12));
  write(dir, "old_version.rdb",
        rdb_file(RdbBytes().u8(rdb::kOpSelectDb).len(0).u8(0).str("k").str("v").bytes(), 3));
}

void resp_seeds(const std::string& dir) {
  // First byte: the split seed.
  write(dir, "multibulk", "\x01*3\r\n$4\r\nSADD\r\n$1\r\nk\r\n$3\r\nabc\r\n");
  write(dir, "inline", "\x02PING\r\nSET k \"a b\" 'c'\r\n\r\n");
  write(dir, "pipeline", "\x03*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*0\r\n*-1\r\n");
  write(dir, "bigbulk", "\x04*2\r\n$3\r\nSET\r\n$300\r\n" + std::string(300, 'x') + "\r\n");
  write(dir, "errors", "\x05*1\r\n$-5\r\n*2\r\nfoo\r\n\"unbalanced\r\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <rdb-dir> <resp-dir>\n", argv[0]);
    return 2;
  }
  rdb_seeds(argv[1]);
  resp_seeds(argv[2]);
  return 0;
}
