// The script engine in-process (support/runner.hpp installs it): what a
// script's commands propagate, the events they fire, the sandbox's bounds,
// function libraries, and the engine's own bookkeeping. Replies and error
// texts are compared with redis-server in
// tests/integration/scripting_differential_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/script/engine.hpp"

namespace setd::testing {
namespace {

using Capture = PropagationCapture;

class ScriptEngine : public ::testing::Test {
 protected:
  ScriptEngine() { r.state().add_propagation_sink(server::kToAll, &sink); }
  ~ScriptEngine() override { r.state().remove_propagation_sink(&sink); }
  std::vector<std::string> after(const std::vector<std::string>& args) {
    sink.take();
    r.run(args);
    return sink.take();
  }
  RespValue eval(const std::string& script, std::vector<std::string> rest = {"0"}) {
    std::vector<std::string> args{"EVAL", script};
    args.insert(args.end(), rest.begin(), rest.end());
    return r.run(args);
  }
  using V = std::vector<std::string>;
  Runner r;
  Capture sink;
};

TEST_F(ScriptEngine, EffectsPropagateAsOneTransactionAndTheEvalNever) {
  EXPECT_EQ(after({"EVAL", "redis.call('sadd', KEYS[1], 'a'); redis.call('set', 'k', ARGV[1])", "1",
                   "s", "v"}),
            (V{"0: MULTI", "0: sadd s a", "0: set k v", "0: EXEC"}));
  // One effect: no MULTI/EXEC around it.
  EXPECT_EQ(after({"EVAL", "return redis.call('sadd', 's', 'b')", "0"}), (V{"0: sadd s b"}));
  // Nothing changed: nothing at all.
  EXPECT_EQ(after({"EVAL", "return redis.call('sadd', 's', 'b')", "0"}), V{});
  EXPECT_EQ(after({"EVAL", "return redis.call('scard', 's')", "0"}), V{});
}

TEST_F(ScriptEngine, SelectInsideAScriptMovesOnlyTheScriptsDatabase) {
  EXPECT_EQ(after({"EVAL", "redis.call('select', 2); redis.call('sadd', 's', 'a')", "0"}),
            (V{"2: sadd s a"}));
  EXPECT_EQ(r.client().db, 0);
  EXPECT_EQ(S(r.run({"SCARD", "s"})), "(integer) 0");
}

TEST_F(ScriptEngine, SetReplChoosesWhereEffectsGo) {
  EXPECT_EQ(after({"EVAL", "redis.set_repl(redis.REPL_NONE); redis.call('sadd', 's', 'x')", "0"}),
            V{});
  EXPECT_EQ(S(r.run({"SISMEMBER", "s", "x"})), "(integer) 1");
  EXPECT_EQ(after({"EVAL",
                   "redis.set_repl(redis.REPL_NONE); redis.call('sadd', 's', 'y'); "
                   "redis.set_repl(redis.REPL_ALL); redis.call('sadd', 's', 'z')",
                   "0"}),
            (V{"0: sadd s z"}));
  EXPECT_EQ(S(eval("redis.set_repl(42)")).find("Invalid replication flags") != std::string::npos,
            true);
}

TEST_F(ScriptEngine, EvalInsideMultiPropagatesInsideTheTransaction) {
  sink.take();
  r.run({"MULTI"});
  r.run({"SET", "a", "1"});
  r.run({"EVAL", "redis.call('sadd', 's', 'x'); redis.call('sadd', 's', 'y')", "0"});
  r.run({"EXEC"});
  EXPECT_EQ(sink.take(), (V{"0: MULTI", "0: SET a 1", "0: sadd s x", "0: sadd s y", "0: EXEC"}));
}

TEST_F(ScriptEngine, KeyspaceNotificationsAndSetEventsFireForScriptCommands) {
  r.run({"CONFIG", "SET", "notify-keyspace-events", "KEA"});
  auto& sub = r.new_client();
  r.run_as(sub, {"SUBSCRIBE", "__keyevent@0__:sadd"});
  r.drain(sub);
  auto& events = r.new_client();
  r.run_as(events, {"SUBSCRIBE", "set.added"});
  r.drain(events);
  eval("redis.call('sadd', 'tags', 'a', 'b')");
  const auto added = r.drain(events);
  ASSERT_EQ(added.size(), 1u);
  ASSERT_EQ(added[0].elements.size(), 3u);
  EXPECT_EQ(added[0].elements[2].str,
            "{\"event\":\"set.added\",\"db\":0,\"key\":\"tags\",\"new_members_count\":2,"
            "\"total_cardinality\":2}");
  const auto msgs = r.drain(sub);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(S(msgs[0]), S(proto::RespValue{proto::RespValue::Kind::kArray,
                                           "",
                                           0,
                                           {{proto::RespValue::Kind::kBulk, "message"},
                                            {proto::RespValue::Kind::kBulk, "__keyevent@0__:sadd"},
                                            {proto::RespValue::Kind::kBulk, "tags"}}}));
}

TEST_F(ScriptEngine, WriteCommandsInReadOnlyScriptsAreRefused) {
  const auto v = r.run({"EVAL_RO", "return redis.call('sadd', 's', 'a')", "0"});
  ASSERT_TRUE(v.is_error());
  EXPECT_NE(v.str.find("Write commands are not allowed from read-only scripts."),
            std::string::npos);
  EXPECT_EQ(S(r.run({"EXISTS", "s"})), "(integer) 0");
  const auto f = eval("#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')");
  ASSERT_TRUE(f.is_error());
  EXPECT_NE(f.str.find("Write commands are not allowed"), std::string::npos);
}

TEST_F(ScriptEngine, TheLuaHeapIsBoundedByScriptMemoryLimit) {
  r.run({"CONFIG", "SET", "script-memory-limit", "4mb"});
  const auto v = eval("local t = {} for i = 1, 10000000 do t[i] = string.rep('x', 100) .. i end");
  ASSERT_TRUE(v.is_error());
  EXPECT_NE(v.str.find("not enough memory"), std::string::npos) << v.str;
  // The state is usable afterwards, and its garbage was collected.
  EXPECT_EQ(S(eval("return 1 + 1")), "(integer) 2");
  auto* host = r.state().scripts;
  ASSERT_NE(host, nullptr);
  EXPECT_LT(host->figures().vm_eval, 4u << 20);
  // Without the bound the same script runs (smaller, to stay quick).
  r.run({"CONFIG", "SET", "script-memory-limit", "0"});
  EXPECT_EQ(S(eval("local t = {} for i = 1, 100000 do t[i] = string.rep('x', 100) .. i end "
                   "return #t")),
            "(integer) 100000");
}

TEST_F(ScriptEngine, ScriptsAreCachedUntilFlushed) {
  const auto sha = r.run({"SCRIPT", "LOAD", "return 'hi'"});
  ASSERT_EQ(sha.kind, proto::RespValue::Kind::kBulk);
  EXPECT_EQ(sha.str, script::sha1_hex("return 'hi'"));
  EXPECT_EQ(S(r.run({"EVALSHA", sha.str, "0"})), "\"hi\"");
  std::string upper = sha.str;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(S(r.run({"EVALSHA", upper, "0"})), "\"hi\"");
  EXPECT_EQ(r.state().scripts->figures().cached_scripts, 1u);
  r.run({"SCRIPT", "FLUSH"});
  EXPECT_EQ(r.state().scripts->figures().cached_scripts, 0u);
  const auto gone = r.run({"EVALSHA", sha.str, "0"});
  ASSERT_TRUE(gone.is_error());
  EXPECT_EQ(gone.str, "NOSCRIPT No matching script. Please use EVAL.");
}

TEST_F(ScriptEngine, GlobalsDoNotLeakBetweenScripts) {
  EXPECT_TRUE(eval("x = 1").is_error());
  EXPECT_TRUE(eval("string.format = nil").is_error());
  EXPECT_TRUE(eval("rawset(string, 'format', 1)").is_error());
  EXPECT_TRUE(eval("setmetatable(string, {})").is_error());
  EXPECT_EQ(S(eval("return string.format('%d', 7)")), "\"7\"");
  // Loaded chunks get the same read-only globals.
  EXPECT_TRUE(eval("loadstring('y = 2')()").is_error());
  EXPECT_TRUE(eval("return y").is_error());
  // pairs / next see through the read-only tables.
  EXPECT_EQ(S(eval("local n = 0 for k in pairs(math) do n = n + 1 end return n > 10")),
            "(integer) 1");
  EXPECT_EQ(S(eval("return type(rawget(string, 'rep'))")), "\"function\"");
}

TEST_F(ScriptEngine, FunctionLibrariesRoundTripThroughTheirCodes) {
  const std::string code =
      "#!lua name=lib\nredis.register_function('add', function(keys, args) return "
      "redis.call('sadd', keys[1], args[1]) end)";
  EXPECT_EQ(S(r.run({"FUNCTION", "LOAD", code})), "\"lib\"");
  EXPECT_EQ(S(r.run({"FCALL", "add", "1", "s", "m"})), "(integer) 1");
  auto* host = r.state().scripts;
  const auto codes = host->function_codes();
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0], code);
  host->flush_functions();
  EXPECT_TRUE(r.run({"FCALL", "add", "1", "s", "m"}).is_error());
  EXPECT_EQ(host->load_function(code, false), "");
  EXPECT_EQ(host->load_function(code, false), "Library 'lib' already exists");
  EXPECT_EQ(host->load_function(code, true), "");
  EXPECT_EQ(S(r.run({"FCALL", "add", "1", "s", "n"})), "(integer) 1");
  // FUNCTION DUMP / RESTORE through the same records.
  const auto dump = r.run({"FUNCTION", "DUMP"});
  ASSERT_EQ(dump.kind, proto::RespValue::Kind::kBulk);
  r.run({"FUNCTION", "FLUSH"});
  EXPECT_EQ(S(r.run({"FUNCTION", "RESTORE", dump.str})), "OK");
  EXPECT_EQ(S(r.run({"FCALL", "add", "1", "s", "o"})), "(integer) 1");
  EXPECT_EQ(r.run({"FUNCTION", "RESTORE", dump.str}).str, "ERR Library lib already exists");
  EXPECT_EQ(S(r.run({"FUNCTION", "RESTORE", dump.str, "REPLACE"})), "OK");
}

TEST_F(ScriptEngine, FunctionLoadAndDeletePropagate) {
  const std::string code = "#!lua name=l2\nredis.register_function('f', function() return 1 end)";
  EXPECT_EQ(after({"FUNCTION", "LOAD", code}), (V{"0: FUNCTION LOAD " + code}));
  EXPECT_EQ(after({"FCALL", "f", "0"}), V{});
  EXPECT_EQ(after({"FUNCTION", "DELETE", "l2"}), (V{"0: FUNCTION DELETE l2"}));
}

TEST_F(ScriptEngine, ALibraryThatFailsLeavesNothingBehind) {
  const auto v = r.run({"FUNCTION", "LOAD",
                        "#!lua name=bad\nredis.register_function('g', function() end)\n"
                        "error('late')"});
  ASSERT_TRUE(v.is_error());
  EXPECT_NE(v.str.find("Error registering functions"), std::string::npos);
  EXPECT_EQ(r.state().scripts->figures().functions, 0u);
  EXPECT_EQ(r.run({"FCALL", "g", "0"}).str, "ERR Function not found");
}

// A script's own commands run through call() for the engine's client: they
// must not move the calling command's failed-call mark (an EVALSHA after an
// earlier error on the connection is not failed).
TEST_F(ScriptEngine, CommandsOfAScriptDoNotMakeTheEvalFail) {
  r.run({"EVALSHA", std::string(40, 'a'), "0"});  // NOSCRIPT: one failed call
  const auto sha = r.run({"SCRIPT", "LOAD", "return redis.call('sadd', 's', ARGV[1])"}).str;
  for (const char* m : {"a", "b", "a"}) r.run({"EVALSHA", sha, "0", m});
  const auto info = r.run({"INFO", "commandstats"}).str;
  EXPECT_NE(info.find("cmdstat_evalsha:calls=4,"), std::string::npos) << info;
  EXPECT_NE(info.find("rejected_calls=0,failed_calls=1"), std::string::npos) << info;
  EXPECT_NE(info.find("cmdstat_sadd:calls=3,"), std::string::npos) << info;
}

// Inputs that crash redis-server 7.0 (or Debian's Lua) get an error here.
TEST_F(ScriptEngine, HostileLibraryCallsFailCleanly) {
  const auto deep = eval("return string.match(string.rep('a', 200000), string.rep('.?', 200000))");
  ASSERT_TRUE(deep.is_error());
  EXPECT_NE(deep.str.find("pattern too complex"), std::string::npos) << deep.str;
  const auto unpacked = eval("return unpack({}, -2147483648, 2147483647)");
  ASSERT_TRUE(unpacked.is_error());
  EXPECT_NE(unpacked.str.find("too many results to unpack"), std::string::npos);
  EXPECT_EQ(eval("return bit.tohex(65535, -2147483648)").str, "0000FFFF");
  const auto bytecode =
      eval("local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}");
  ASSERT_EQ(bytecode.elements.size(), 2u);
  EXPECT_EQ(bytecode.elements[0].str, "nil");
  EXPECT_NE(bytecode.elements[1].str.find("unexpected symbol near 'char(27)'"), std::string::npos);
  EXPECT_EQ(S(eval("return 1")), "(integer) 1");
}

TEST(ScriptShebang, FlagsAndErrors) {
  uint32_t flags = 0;
  size_t len = 0;
  EXPECT_EQ(script::parse_shebang("return 1", flags, len), "");
  EXPECT_EQ(flags, script::kFlagEvalCompat);
  EXPECT_EQ(len, 0u);
  EXPECT_EQ(script::parse_shebang("#!lua flags=no-writes,allow-stale\nreturn 1", flags, len), "");
  EXPECT_EQ(flags, script::kFlagNoWrites | script::kFlagAllowStale);
  EXPECT_EQ(len, 33u);
  EXPECT_EQ(script::parse_shebang("#!lua\nreturn 1", flags, len), "");
  EXPECT_EQ(flags, 0u);
  EXPECT_EQ(script::parse_shebang("#!lua flags=\nreturn 1", flags, len), "");
  EXPECT_EQ(flags, 0u);
  EXPECT_EQ(script::parse_shebang("#!lua", flags, len), "Invalid script shebang");
  EXPECT_EQ(script::parse_shebang("#!js\n", flags, len),
            "Unexpected engine in script shebang: #!js");
  EXPECT_EQ(script::parse_shebang("#!lua flags=bogus\n", flags, len),
            "Unexpected flag in script shebang: bogus");
  EXPECT_EQ(script::parse_shebang("#!lua x=1\n", flags, len), "Unknown lua shebang option: x=1");
}

}  // namespace
}  // namespace setd::testing
