// Writes the seed corpus of the fuzz targets (tests/fuzz/run.sh): RDB files
// and DUMP payloads from RdbEncoder and from hand-built bytes covering every
// encoding and every skipped type, RESP requests, and Lua scripts with
// their arguments (eval_fuzz.cpp's input format). Usage:
//   setd_fuzz_seeds <rdb-dir> <resp-dir> [<eval-dir>]
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

// eval_fuzz.cpp's inputs: an options byte (bits 0-1: 0-1 EVAL, 2 EVAL_RO, 3
// a function library "fz" with a function f called by FCALL; bits 2-4: how
// many arguments are keys; bit 5: RESP3), the script, then the arguments,
// separated by NUL bytes.
void eval_seeds(const std::string& dir) {
  struct Seed {
    const char* name;
    int mode, keys;
    bool resp3;
    std::string script;
    std::vector<std::string> args;
  };
  const std::string check_and_add =
      "if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end\n"
      "redis.call('SADD', KEYS[1], ARGV[1])\nreturn 1\n";
  const std::vector<Seed> seeds = {
      {"check_and_add", 0, 1, false, check_and_add, {"s", "m"}},
      {"replies",
       0,
       0,
       false,
       "return {1, 'two', 3.99, true, false, nil, {err='E x'}, {ok='fine'}, {1, {2, {3}}}}",
       {}},
      {"resp3_replies",
       0,
       0,
       true,
       "redis.setresp(3)\n"
       "return {redis.call('HELLO', 3), {map={a=1}}, {set={x=true}}, {double=1.5}, "
       "redis.call('SMEMBERS', 'nope')}",
       {}},
      {"pcall_errors",
       0,
       1,
       false,
       "local r = redis.pcall('INCR', KEYS[1])\n"
       "redis.call('SET', KEYS[1], 'x')\n"
       "local e = redis.pcall('INCR', KEYS[1])\n"
       "return {r, e, redis.error_reply('MY err'), redis.status_reply('S')}",
       {"n"}},
      {"libraries",
       0,
       0,
       false,
       "local t = cjson.decode(ARGV[1])\n"
       "local p = cmsgpack.pack(t, {1, 2, 'x'})\n"
       "local a, b = cmsgpack.unpack(p)\n"
       "return {cjson.encode(a), struct.pack('>iH', 7, 9), bit.band(0xff, 0x0f), "
       "redis.sha1hex(ARGV[1]), string.format('%5.2f', 3.14159), tostring(#p)}",
       {"{\"a\":[1,2,{\"b\":null}],\"c\":\"d\"}"}},
      {"struct_unpack",
       0,
       0,
       false,
       "local s = struct.pack('<bhlLdc0s', -1, 300, 70000, 5, 1.25, 3, 'abc', 'z')\n"
       "return {struct.unpack('<bhlLdc0s', s)}",
       {}},
      {"sets",
       0,
       2,
       false,
       "redis.call('SADD', KEYS[1], unpack(ARGV))\n"
       "redis.call('SADD', KEYS[2], ARGV[1])\n"
       "return {redis.call('SINTER', KEYS[1], KEYS[2]), redis.call('SCARD', KEYS[1]), "
       "redis.call('SRANDMEMBER', KEYS[1], -5), redis.call('SPOP', KEYS[1])}",
       {"a", "b", "c", "1", "2"}},
      {"loop", 0, 0, false, "while true do end", {}},
      {"loop_after_write",
       0,
       1,
       false,
       "redis.call('SET', KEYS[1], '1')\nwhile true do end",
       {"x"}},
      {"tail_call_loop", 0, 0, false, "local function f() return f() end\nreturn f()", {}},
      {"pcall_loop",
       0,
       0,
       false,
       "while true do pcall(function() local t = {} for i = 1, 1e9 do t[i % 10] = i end end) end",
       {}},
      {"memory",
       0,
       0,
       false,
       "local t = {}\nfor i = 1, 1e7 do t[i] = string.rep('x', 100) .. i end\nreturn #t",
       {}},
      {"sandbox",
       0,
       0,
       false,
       "local ok, e = pcall(function() x = 1 end)\n"
       "local ok2, e2 = pcall(function() string.len = nil end)\n"
       "return {tostring(ok), e, tostring(ok2), e2, type(os), type(loadstring)}",
       {}},
      {"eval_ro", 2, 1, false, "return redis.call('SADD', KEYS[1], 'a')", {"k"}},
      {"shebang",
       0,
       1,
       false,
       "#!lua flags=no-writes,allow-stale\nreturn redis.call('GET', KEYS[1])",
       {"k"}},
      {"function",
       3,
       1,
       false,
       "redis.register_function('f', function(keys, args)\n"
       "  redis.call('SADD', keys[1], args[1])\n"
       "  return redis.call('SMEMBERS', keys[1]) end)\n",
       {"k", "v"}},
      {"function_flags",
       3,
       0,
       true,
       "redis.register_function{function_name='f', callback=function(keys, args)\n"
       "  redis.setresp(3) return redis.call('CONFIG', 'GET', 'maxmemory') end, "
       "flags={'no-writes'}}\n",
       {}},
      {"function_loop",
       3,
       0,
       false,
       "redis.register_function('f', function() while true do end end)\n",
       {}},
      {"log_and_acl",
       0,
       1,
       false,
       "redis.log(redis.LOG_WARNING, 'hi')\n"
       "return {redis.acl_check_cmd('SET', KEYS[1], 'v'), redis.REDIS_VERSION, "
       "redis.setresp(2), redis.set_repl(redis.REPL_ALL)}",
       {"k"}},
  };
  for (const auto& s : seeds) {
    std::string bytes(1, static_cast<char>(s.mode | (s.keys << 2) | (s.resp3 ? 0x20 : 0)));
    bytes += s.script;
    for (const auto& a : s.args) {
      bytes += '\0';
      bytes += a;
    }
    write(dir, s.name, bytes);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s <rdb-dir> <resp-dir> [<eval-dir>]\n", argv[0]);
    return 2;
  }
  rdb_seeds(argv[1]);
  resp_seeds(argv[2]);
  if (argc == 4) eval_seeds(argv[3]);
  return 0;
}
