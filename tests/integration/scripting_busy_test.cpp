// Scripts that run past busy-reply-threshold, over real sockets: other
// clients get -BUSY, SCRIPT KILL / FUNCTION KILL stop a script that wrote
// nothing, a script that wrote is -UNKILLABLE and only SHUTDOWN NOSAVE ends
// it, FUNCTION STATS shows the running function, and a client that goes away
// while its script runs does not take the server with it.
//
// Each scenario returns a transcript: the raw bytes of every reply it read,
// in order, with the few that vary by nature (a duration) normalized. The
// transcript of setd must equal the expected one written here and, when
// redis-server is installed, redis-server 7.0's transcript of the same
// scenario.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "replication.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

using namespace std::chrono_literals;
using Transcript = std::vector<std::string>;

const std::string kBusyEval =
    "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
const std::string kBusyFunction =
    "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN "
    "NOSAVE.\r\n";
const std::string kUnkillable =
    "-UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN "
    "NOSAVE command.\r\n";
const std::string kNotBusy = "-NOTBUSY No scripts in execution right now.\r\n";
const std::string kOk = "+OK\r\n";
const std::string kPong = "+PONG\r\n";

constexpr std::string_view kLoop = "while true do end";
// SHA-1 of kLoop (Redis names an EVAL script by it in errors).
constexpr std::string_view kLoopSha = "694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7";
const std::string kLibrary =
    "#!lua name=busylib\n"
    "redis.register_function('loop', function(keys, args) while true do end end)\n"
    "redis.register_function('wloop', function(keys, args)\n"
    "  redis.call('set', 'y', '1') while true do end end)\n";

// A server for one scenario: setd, or redis-server 7.0.
std::unique_ptr<ServerProcess> start(bool redis, std::vector<std::string> extra) {
  return std::make_unique<ServerProcess>(redis ? "redis-server" : setd_binary(), std::move(extra));
}

// The raw reply to `args`, or "<none>" when none came (the server closed the
// connection, or said nothing within the client's timeout).
std::string raw(Client& c, const std::vector<std::string>& args) {
  try {
    return c.call_raw(args).first;
  } catch (const std::exception&) {
    return "<none>";
  }
}

// The next raw reply on `c` (to a command sent before), or "<none>".
std::string next_raw(Client& c) {
  auto r = c.read_raw();
  return r ? r->first : "<none>";
}

std::string sha1_of(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr);
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

// PINGs on `probe` until the reply is not PONG (a PING the server read
// before the script started): that reply, -BUSY once a script runs past the
// threshold.
std::string wait_busy(Client& probe) {
  for (int i = 0; i < 50; ++i) {
    std::string r = raw(probe, {"PING"});
    if (r != kPong) return r;
    std::this_thread::sleep_for(20ms);
  }
  return "<never busy>";
}

// Makes sure the server has accepted `c` (one PING) before a script
// blocks it, so that each scenario's replies come in a known order
// (ClientAcceptedDuringTheScriptGetsBusy covers the other case).
void connected(Client& c) {
  if (c.call({"PING"}).str != "PONG") throw std::runtime_error("no PONG");
}

// After a kill, PINGs on `probe` until PONG (the killed script may still
// be between two hooks, the server serving -BUSY): the last reply.
std::string wait_pong(Client& probe) {
  std::string r;
  for (int i = 0; i < 100; ++i) {
    r = raw(probe, {"PING"});
    if (r != kBusyEval && r != kBusyFunction) break;
    std::this_thread::sleep_for(10ms);
  }
  return r;
}

// Sends the script command `cmd` on `runner`, then wait_busy(probe).
std::string start_busy(Client& runner, Client& probe, const std::vector<std::string>& cmd) {
  runner.send(cmd);
  std::this_thread::sleep_for(30ms);
  return wait_busy(probe);
}

// Waits (up to 5 s) for the server to exit: "exited <status>" or "running".
std::string wait_exit(ServerProcess& s) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!s.running()) {
      const int status = s.stop();
      return WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status)) : "signalled";
    }
    std::this_thread::sleep_for(10ms);
  }
  return "running";
}

// connected_clients of INFO clients, once it is `want` (up to 3 s), else
// its last value.
std::string connected_clients(Client& c, const std::string& want) {
  std::string last;
  for (int i = 0; i < 150; ++i) {
    const std::string info = c.call({"INFO", "clients"}).str;
    const size_t at = info.find("connected_clients:");
    last = at == std::string::npos ? "?" : info.substr(at, info.find('\r', at) - at);
    if (last == want) break;
    std::this_thread::sleep_for(20ms);
  }
  return last;
}

// Runs `scenario` on setd and checks its transcript against `expected`,
// then (redis-server installed) on redis-server 7.0 and checks the two
// transcripts are equal.
// Both servers start with `extra` options.
template <typename Scenario>
void check_scenario(Scenario scenario, const Transcript& expected,
                    const std::vector<std::string>& extra = {"--busy-reply-threshold", "100"}) {
  Transcript got;
  {
    auto setd = start(false, extra);
    got = scenario(*setd);
  }
  EXPECT_EQ(got, expected) << "setd's transcript";
  if (!redis_server_installed()) return;
  Transcript ref;
  {
    auto redis = start(true, extra);
    ref = scenario(*redis);
  }
  EXPECT_EQ(got, ref) << "setd and redis-server 7.0 differ";
}

std::string killed_text(std::string_view name, std::string_view where) {
  return "-ERR Script killed by user with SCRIPT KILL... script: " + std::string(name) + ", on " +
         std::string(where) + ".\r\n";
}

// FUNCTION STATS's raw reply with its duration_ms value replaced by "N",
// and whether that value was at least `min_ms`.
std::string normalize_duration(const std::string& stats, long long min_ms, bool& long_enough) {
  static const std::regex kDuration("(\\$11\r\nduration_ms\r\n:)([0-9]+)");
  std::smatch m;
  long_enough = std::regex_search(stats, m, kDuration) && std::stoll(m[2].str()) >= min_ms;
  return std::regex_replace(stats, kDuration, "$1N");
}

TEST(ScriptingBusy, NothingRunningIsNotBusy) {
  check_scenario(
      [](ServerProcess& s) {
        Client c(s.port());
        return Transcript{raw(c, {"SCRIPT", "KILL"}), raw(c, {"FUNCTION", "KILL"}),
                          raw(c, {"EVAL", "return 1", "0"}), raw(c, {"SCRIPT", "KILL"})};
      },
      {kNotBusy, kNotBusy, ":1\r\n", kNotBusy});
}

// busy-reply-threshold set with CONFIG SET (and read back by its old name),
// an EVAL that loops: BUSY for everything but what may stop it, then SCRIPT
// KILL; the killed script's client and the others carry on.
TEST(ScriptingBusy, EvalLoopKilledWithScriptKill) {
  check_scenario(
      [](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port());
        t.push_back(raw(probe, {"CONFIG", "SET", "busy-reply-threshold", "150"}));
        t.push_back(raw(probe, {"CONFIG", "GET", "lua-time-limit"}));
        t.push_back(start_busy(runner, probe, {"EVAL", std::string(kLoop), "0"}));
        t.push_back(raw(probe, {"GET", "x"}));
        t.push_back(raw(probe, {"SET", "x", "1"}));
        t.push_back(raw(probe, {"EVAL", "return 1", "0"}));
        t.push_back(raw(probe, {"FUNCTION", "STATS"}));  // of an EVAL: BUSY
        t.push_back(raw(probe, {"FUNCTION", "KILL"}));   // an EVAL: not this way
        t.push_back(raw(probe, {"SHUTDOWN"}));           // only NOSAVE
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(next_raw(runner));
        t.push_back(raw(probe, {"PING"}));
        t.push_back(raw(runner, {"PING"}));
        t.push_back(raw(probe, {"SET", "x", "1"}));
        t.push_back(raw(runner, {"GET", "x"}));
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        return t;
      },
      {kOk, "*2\r\n$14\r\nlua-time-limit\r\n$3\r\n150\r\n", kBusyEval, kBusyEval, kBusyEval,
       kBusyEval, kBusyEval, kBusyEval, kBusyEval, kOk, killed_text(kLoopSha, "@user_script:1"),
       kPong, kPong, kOk, "$1\r\n1\r\n", kNotBusy},
      {});
}

// A script that catches errors with pcall cannot survive SCRIPT KILL.
TEST(ScriptingBusy, PcallCannotCatchTheKill) {
  const std::string body =
      "local n = 0\n"
      "while true do\n"
      "  pcall(function() while true do n = n + 1 end end)\n"
      "end\n";
  check_scenario(
      [&](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port());
        connected(probe);
        t.push_back(start_busy(runner, probe, {"EVAL", body, "0"}));
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        std::string killed = next_raw(runner);
        // The line the kill lands on varies: keep the text before it.
        t.push_back(killed.substr(0, killed.find(", on @user_script:")));
        t.push_back(raw(runner, {"PING"}));
        return t;
      },
      {kBusyEval, kOk, "-ERR Script killed by user with SCRIPT KILL... script: " + sha1_of(body),
       kPong});
}

// The probe connects right before the script starts: the server accepts it
// while the script runs and must serve it -BUSY. (setd used to run a new
// connection's first requests before it armed the next accept, so a
// connection whose first request was a long script left the listener
// unwatched until the script ended.)
TEST(ScriptingBusy, ClientAcceptedDuringTheScriptGetsBusy) {
  check_scenario(
      [](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port());
        t.push_back(start_busy(runner, probe, {"EVAL", std::string(kLoop), "0"}));
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(next_raw(runner));
        return t;
      },
      {kBusyEval, kOk, killed_text(kLoopSha, "@user_script:1")});
}

// A script that wrote cannot be killed: SCRIPT KILL and FUNCTION KILL say
// UNKILLABLE, SHUTDOWN (it would save) is BUSY, SHUTDOWN NOSAVE stops the
// server.
TEST(ScriptingBusy, ScriptThatWroteIsUnkillableUntilShutdownNosave) {
  check_scenario(
      [](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port());
        connected(probe);
        t.push_back(start_busy(runner, probe,
                               {"EVAL", "redis.call('set','x','1') while true do end", "0"}));
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(raw(probe, {"FUNCTION", "KILL"}));
        t.push_back(raw(probe, {"SHUTDOWN"}));
        t.push_back(raw(probe, {"SHUTDOWN", "SAVE"}));
        t.push_back(raw(probe, {"GET", "x"}));
        t.push_back(raw(probe, {"SHUTDOWN", "NOSAVE"}));  // no reply: it exits
        t.push_back(next_raw(runner));                    // nor to the script
        t.push_back(wait_exit(s));
        return t;
      },
      {kBusyEval, kUnkillable, kUnkillable, kBusyEval, kBusyEval, kBusyEval, "<none>", "<none>",
       "exited 0"});
}

// FCALL of a looping function: BUSY names FUNCTION KILL, SCRIPT KILL is the
// wrong way, FUNCTION STATS shows the running function, FUNCTION KILL stops
// it.
TEST(ScriptingBusy, FunctionLoopKilledWithFunctionKill) {
  bool long_enough = false;
  check_scenario(
      [&](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port());
        t.push_back(raw(probe, {"FUNCTION", "LOAD", kLibrary}));
        t.push_back(raw(probe, {"FUNCTION", "STATS"}));
        t.push_back(start_busy(runner, probe, {"FCALL", "loop", "0", "a1"}));
        t.push_back(normalize_duration(raw(probe, {"FUNCTION", "STATS"}), 100, long_enough));
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(raw(probe, {"FCALL", "loop", "0"}));
        t.push_back(raw(probe, {"FUNCTION", "KILL"}));
        t.push_back(next_raw(runner));
        t.push_back(raw(probe, {"FUNCTION", "STATS"}));
        t.push_back(raw(runner, {"FCALL_RO", "loop", "0"}));
        return t;
      },
      {"$7\r\nbusylib\r\n",
       "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\n"
       "libraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
       kBusyFunction,
       "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nloop\r\n$7\r\ncommand\r\n*4\r\n"
       "$5\r\nFCALL\r\n$4\r\nloop\r\n$1\r\n0\r\n$2\r\na1\r\n$11\r\nduration_ms\r\n:N\r\n$7\r\n"
       "engines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\nlibraries_count\r\n:1\r\n$15\r\n"
       "functions_count\r\n:2\r\n",
       kBusyFunction, kBusyFunction, kOk, killed_text("loop", "@user_function:2"),
       "*4\r\n$14\r\nrunning_script\r\n$-1\r\n$7\r\nengines\r\n*2\r\n$3\r\nLUA\r\n*4\r\n$15\r\n"
       "libraries_count\r\n:1\r\n$15\r\nfunctions_count\r\n:2\r\n",
       "-ERR Can not execute a script with write flag using *_ro command.\r\n"});
  EXPECT_TRUE(long_enough) << "FUNCTION STATS duration_ms below busy-reply-threshold";
}

// A function that wrote: UNKILLABLE both ways; SHUTDOWN NOSAVE ends it.
TEST(ScriptingBusy, FunctionThatWroteIsUnkillable) {
  check_scenario(
      [](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port());
        t.push_back(raw(probe, {"FUNCTION", "LOAD", kLibrary}));
        t.push_back(start_busy(runner, probe, {"FCALL", "wloop", "0"}));
        t.push_back(raw(probe, {"FUNCTION", "KILL"}));
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(raw(probe, {"SHUTDOWN"}));
        t.push_back(raw(probe, {"SHUTDOWN", "NOSAVE"}));
        t.push_back(wait_exit(s));
        return t;
      },
      {"$7\r\nbusylib\r\n", kBusyFunction, kUnkillable, kUnkillable, kBusyFunction, "<none>",
       "exited 0"});
}

// The script's client goes away: before the script times out, and after.
// The server kills the script when told and drops the client afterwards.
TEST(ScriptingBusy, ClientThatDisconnectsWhileItsScriptRuns) {
  check_scenario(
      [](ServerProcess& s) {
        Transcript t;
        Client probe(s.port());
        for (bool wait_first : {false, true}) {
          auto runner = std::make_unique<Client>(s.port());
          if (wait_first) {
            t.push_back(start_busy(*runner, probe, {"EVAL", std::string(kLoop), "0"}));
            runner.reset();
          } else {
            runner->send({"EVAL", std::string(kLoop), "0"});
            std::this_thread::sleep_for(30ms);
            runner.reset();
            t.push_back(wait_busy(probe));
          }
          t.push_back(raw(probe, {"SET", "k", "v"}));
          t.push_back(raw(probe, {"SCRIPT", "KILL"}));
          t.push_back(wait_pong(probe));
          t.push_back(connected_clients(probe, "connected_clients:1"));
        }
        // A script that wrote, whose client left: SHUTDOWN NOSAVE still works.
        {
          Client runner(s.port());
          t.push_back(
              start_busy(runner, probe, {"EVAL", "redis.call('incr','n') while true do end", "0"}));
        }
        std::this_thread::sleep_for(50ms);
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(raw(probe, {"SHUTDOWN", "NOSAVE"}));
        t.push_back(wait_exit(s));
        return t;
      },
      {kBusyEval, kBusyEval, kOk, kPong, "connected_clients:1", kBusyEval, kBusyEval, kOk, kPong,
       "connected_clients:1", kBusyEval, kUnkillable, "<none>", "exited 0"});
}

// Requests pipelined after a long script, in the same read, survive while
// other clients' requests are read during the script (setd reads most
// requests into one buffer shared by every connection).
TEST(ScriptingBusy, RequestsPipelinedAfterTheScriptSurvive) {
  check_scenario(
      [](ServerProcess& s) {
        Transcript t;
        Client runner(s.port()), probe(s.port()), chatty(s.port());
        connected(probe);
        connected(chatty);
        runner.send_raw(Client::encode({"EVAL", std::string(kLoop), "0"}) +
                        Client::encode({"PING"}) + Client::encode({"SADD", "s", "a"}) +
                        Client::encode({"ECHO", std::string(300, 'r')}));
        std::this_thread::sleep_for(30ms);
        t.push_back(wait_busy(probe));
        // Pipelines of other bytes, read (and answered -BUSY) meanwhile.
        for (int i = 0; i < 20; ++i) {
          std::string burst;
          for (int j = 0; j < 50; ++j) burst += Client::encode({"ECHO", std::string(200, 'x')});
          chatty.send_raw(burst);
          for (int j = 0; j < 50; ++j) {
            const std::string r = next_raw(chatty);
            if (r != kBusyEval) t.push_back("chatty got " + r);
          }
        }
        t.push_back(raw(probe, {"SCRIPT", "KILL"}));
        t.push_back(next_raw(runner));
        t.push_back(next_raw(runner));
        t.push_back(next_raw(runner));
        t.push_back(next_raw(runner));
        return t;
      },
      {kBusyEval, kOk, killed_text(kLoopSha, "@user_script:1"), "+PONG\r\n", ":1\r\n",
       "$300\r\n" + std::string(300, 'r') + "\r\n"});
}

// A replica that runs a long read-only script holds its master's stream
// back until the script ends (Redis accumulates it meanwhile): the script
// reads the same value throughout, and the write lands afterwards.
TEST(ScriptingBusy, ReplicaAppliesItsMastersStreamAfterTheScript) {
  for (const NodeKind kind : {NodeKind::kSetd, NodeKind::kRedis}) {
    if (kind == NodeKind::kRedis && !redis_server_installed()) continue;
    SCOPED_TRACE(kind_name(kind));
    Node master(kind, {{"repl-diskless-sync-delay", "0"}});
    Node replica(kind, {{"busy-reply-threshold", "100"}});
    ASSERT_TRUE(replicaof(replica, master));
    ASSERT_TRUE(wait_synced(master, replica));
    master.call({"SET", "k", "1"});
    ASSERT_TRUE(wait_until([&] { return replica.call({"GET", "k"}).str == "1"; }, 5000));
    auto runner = replica.connect(10000);
    // Reads k, spins for 700 ms (by the server's clock), reads k again.
    runner->send({"EVAL_RO",
                  "local a = redis.call('get', KEYS[1]) "
                  "local t = redis.call('time') local t0 = t[1] * 1000 + t[2] / 1000 "
                  "repeat t = redis.call('time') until t[1] * 1000 + t[2] / 1000 - t0 > 700 "
                  "return {a, redis.call('get', KEYS[1])}",
                  "1", "k"});
    std::this_thread::sleep_for(250ms);
    master.call({"SET", "k", "2"});
    const auto r = runner->read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->to_string(), "[\"1\", \"1\"]");
    EXPECT_TRUE(wait_until([&] { return replica.call({"GET", "k"}).str == "2"; }, 5000));
  }
}

}  // namespace
}  // namespace setd::testing
