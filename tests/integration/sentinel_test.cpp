// Redis Sentinel in front of setd: Debian's redis-sentinel 7.0, unmodified.
//
// SentinelFailover: three sentinels watch a setd master with two setd
// replicas; the master is killed (SIGKILL); a replica is promoted, the
// other follows it, no write that WAIT confirmed on the replicas is lost,
// the old master restarted on its port and config file rejoins as a
// replica, and all three end with the same data. A redis-py application
// using Sentinel discovery (tests/clients/redis_py_sentinel_check.py) runs
// across the failover.
//
// SentinelCommands (and SentinelInfo, SentinelClientKill,
// SentinelScriptKill): what Sentinel sends to the instances it watches (INFO,
// ROLE, PUBLISH/SUBSCRIBE on __sentinel__:hello, CLIENT KILL, SLAVEOF,
// CONFIG REWRITE, SCRIPT KILL, and its MULTI ... EXEC failover block) gets
// the same answers from setd as from redis-server 7.0: each test runs on
// both kinds of node (the redis rows check the tests themselves) with the
// same expectations, or sends the same commands to both and compares.
//
// MasterLinkDownSince: INFO's master_link_down_since_seconds, which
// Sentinel reads: -1 until a link that was up is lost, then seconds.
//
// redis-sentinel and python3-redis must be installed (`bash .ci/deps
// --test` installs them): without them these tests fail, they do not skip.
#include "sentinel.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "replication.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

using Args = std::vector<std::string>;
using K = RespValue::Kind;

std::string str(int n) { return std::to_string(n); }

// ROLE, as far as Sentinel and these tests care.
struct Role {
  std::string role;     // "master" / "slave" / the error or reply text
  int master_port = 0;  // a replica's master
  std::string state;    // a replica's link state ("connected", ...)
};
Role role_of(Node& n) {
  Role out;
  try {
    const RespValue r = n.call({"ROLE"});
    if (r.elements.empty()) return {r.to_string()};
    out.role = r.elements[0].str;
    if (out.role == "slave" && r.elements.size() == 5) {
      out.master_port = static_cast<int>(r.elements[2].integer);
      out.state = r.elements[3].str;
    }
  } catch (const std::exception& e) {
    out.role = e.what();
  }
  return out;
}

// Whether a config file has a `replicaof` line, and which.
std::vector<std::string> replicaof_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    if (line.starts_with("replicaof ") || line.starts_with("slaveof ")) out.push_back(line);
    pos = end + 1;
  }
  return out;
}

std::set<std::string> members(const RespValue& v) {
  std::set<std::string> out;
  for (const auto& e : v.elements) out.insert(e.str);
  return out;
}

// ---------------------------------------------------------------------------
// SentinelFailover
// ---------------------------------------------------------------------------

// The interpreter with Debian's python3-redis (as tests/clients/run.sh).
std::string python() {
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

// tests/clients/redis_py_sentinel_check.py as a child process, its output
// in a file.
class PyCheck {
 public:
  PyCheck(const std::string& master_name, const Sentinels& sentinels)
      : out_(dir_.file("redis_py_sentinel_check.out")) {
    Args args{python(), std::string(SETD_SOURCE_DIR) + "/tests/clients/redis_py_sentinel_check.py",
              master_name};
    for (const auto& s : sentinels) args.push_back(str(s->port()));
    pid_ = ServerProcess::spawn(args, out_);
  }
  ~PyCheck() {
    if (pid_ > 0) kill_and_wait(pid_, SIGKILL);
  }
  std::string output() const { return file_bytes(out_); }
  bool said(const std::string& word) const {
    return output().find("] " + word + "\n") != std::string::npos;
  }
  // Its exit status once it exited (-1: still running).
  int exit_code() {
    if (pid_ > 0) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
    return code_;
  }
  // Waits until the script says `word` ("ready") or exits.
  ::testing::AssertionResult wait_said(const std::string& word, int ms) {
    wait_until([&] { return said(word) || exit_code() != -1; }, ms);
    if (said(word)) return ::testing::AssertionSuccess();
    return failure("did not say " + word);
  }
  ::testing::AssertionResult wait_exit_ok(int ms) {
    wait_until([&] { return exit_code() != -1; }, ms);
    if (exit_code() == 0 && said("ok")) return ::testing::AssertionSuccess();
    return failure("did not end well");
  }

 private:
  ::testing::AssertionResult failure(const std::string& what) {
    const int code = exit_code();
    std::string why = code == -1 ? "still running" : "exit code " + str(code);
    if (code == 77)
      why +=
          " (redis-py is not installed: install Debian's python3-redis; bash .ci/deps --test "
          "does)";
    return ::testing::AssertionFailure()
           << "redis_py_sentinel_check.py " << what << " (" << why << "); its output:\n"
           << output();
  }

  TempDir dir_;
  std::string out_;
  pid_t pid_ = -1;
  int code_ = -1;
};

long long elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

TEST(SentinelFailover, MasterKilledReplicaPromotedOldMasterRejoins) {
  const auto t0 = std::chrono::steady_clock::now();
  // Config files, so that Sentinel's CONFIG REWRITE works and the old
  // master restarts from its own; diskless syncs start at once.
  const Directives common{{"repl-diskless-sync-delay", "0"}};
  auto master = std::make_unique<Node>(NodeKind::kSetd, common, NodeConfig::kFile);
  Directives follow = common;
  follow.push_back({"replicaof", "127.0.0.1 " + str(master->port())});
  std::vector<std::unique_ptr<Node>> replicas;
  for (int i = 0; i < 2; ++i)
    replicas.push_back(std::make_unique<Node>(NodeKind::kSetd, follow, NodeConfig::kFile));
  for (auto& r : replicas) ASSERT_TRUE(wait_synced(*master, *r, 10000));

  const std::string name = "mymaster";
  Sentinels sentinels = start_sentinels(master->port());
  ASSERT_TRUE(wait_sentinels_see(sentinels, master->port(),
                                 {replicas[0]->port(), replicas[1]->port()}, 30000));
  const long long t_watching = elapsed_ms(t0);

  // Writes that WAIT confirms on both replicas: none may be lost.
  std::map<std::string, std::set<std::string>> confirmed;
  for (int i = 0; i < 100; ++i) {
    Args sadd{"SADD", "set:" + str(i)};
    for (int m = 0; m <= i % 7; ++m) sadd.push_back("m" + str(m * i));
    ASSERT_EQ(master->call(sadd).integer, static_cast<long long>(sadd.size() - 2));
    confirmed[sadd[1]] = std::set<std::string>(sadd.begin() + 2, sadd.end());
  }
  ASSERT_EQ(master->call({"WAIT", "2", "5000"}).integer, 2);

  // redis-py, through the sentinels: writes, reads from a replica.
  PyCheck py(name, sentinels);
  ASSERT_TRUE(py.wait_said("ready", repl_ms(20000)));

  // A writer that goes on until the master dies, each write followed by
  // WAIT 2: those WAIT confirmed must survive.
  std::atomic<int> written{0};
  std::vector<std::string> live_confirmed;  // the writer's until joined
  std::thread writer([&, port = master->port()] {
    try {
      Client c(port, 2000);
      for (int i = 0;; ++i) {
        if (c.call({"SADD", "live", str(i)}).integer != 1) break;
        if (c.call({"WAIT", "2", "1000"}).integer == 2) live_confirmed.push_back(str(i));
        ++written;
      }
    } catch (const std::exception&) {
      // The master is gone.
    }
  });
  ASSERT_TRUE(wait_until([&] { return written >= 50; }, repl_ms(10000)));
  const int old_port = master->port();
  master->stop(SIGKILL);
  const long long t_killed = elapsed_ms(t0);
  writer.join();
  ASSERT_GE(live_confirmed.size(), 50u);

  // A replica is promoted: the sentinels name it, it says it is a master.
  int new_port = 0;
  ASSERT_TRUE(wait_new_master(sentinels, old_port, new_port, 30000));
  const long long t_promoted = elapsed_ms(t0);
  const size_t n = replicas[0]->port() == new_port ? 0 : 1;
  ASSERT_EQ(replicas[n]->port(), new_port) << "the new master is not one of the replicas";
  Node& promoted = *replicas[n];
  Node& other = *replicas[1 - n];
  EXPECT_EQ(role_of(promoted).role, "master");
  // Sentinel's MULTI / SLAVEOF NO ONE / CONFIG REWRITE / ... / EXEC left
  // no replicaof line in its config file.
  EXPECT_TRUE(replicaof_lines(promoted.config_text()).empty()) << promoted.config_text();

  // Every confirmed write is on the new master.
  for (const auto& [key, want] : confirmed) {
    const RespValue got = promoted.call({"SMEMBERS", key});
    EXPECT_EQ(members(got), want) << key;
  }
  {
    Args smis{"SMISMEMBER", "live"};
    smis.insert(smis.end(), live_confirmed.begin(), live_confirmed.end());
    const RespValue r = promoted.call(smis);
    ASSERT_EQ(r.elements.size(), live_confirmed.size()) << r.to_string();
    size_t missing = 0;
    for (const auto& e : r.elements) missing += e.integer == 1 ? 0 : 1;
    EXPECT_EQ(missing, 0u) << "of " << live_confirmed.size() << " WAIT-confirmed writes";
  }

  // The other replica follows the new master (Sentinel sent it SLAVEOF and
  // a CONFIG REWRITE) and catches up.
  Role r;
  EXPECT_TRUE(wait_until(
      [&] {
        r = role_of(other);
        return r.role == "slave" && r.master_port == new_port;
      },
      repl_ms(20000)))
      << "the other replica: ROLE " << r.role << " " << r.master_port << sentinel_report(sentinels);
  EXPECT_EQ(field(info_map(other.client(), "replication"), "master_port"), str(new_port));
  EXPECT_TRUE(wait_synced(promoted, other, 15000));
  EXPECT_EQ(replicaof_lines(other.config_text()),
            std::vector<std::string>{"replicaof 127.0.0.1 " + str(new_port)});
  const long long t_followed = elapsed_ms(t0);

  // redis-py found the new master and reads from its replica.
  EXPECT_TRUE(py.wait_exit_ok(repl_ms(60000)));
  const long long t_py = elapsed_ms(t0);

  // The old master comes back on its port, directory and config file (no
  // replicaof line: it was a master). Sentinel turns it into a replica of
  // the new master (SLAVEOF + CONFIG REWRITE), and it syncs.
  EXPECT_TRUE(replicaof_lines(master->config_text()).empty()) << master->config_text();
  master->start();
  ASSERT_EQ(master->port(), old_port);
  EXPECT_TRUE(wait_until(
      [&] {
        r = role_of(*master);
        return r.role == "slave" && r.master_port == new_port;
      },
      repl_ms(30000)))
      << "the old master: ROLE " << r.role << " " << r.master_port << "\n"
      << master->log_tail() << sentinel_report(sentinels);
  EXPECT_EQ(replicaof_lines(master->config_text()),
            std::vector<std::string>{"replicaof 127.0.0.1 " + str(new_port)});
  EXPECT_TRUE(wait_synced(promoted, *master, 15000));
  // The sentinels see both as healthy replicas of the new master.
  EXPECT_TRUE(wait_sentinels_see(sentinels, new_port, {old_port, other.port()}, 30000));
  const long long t_rejoined = elapsed_ms(t0);

  // The same data everywhere: the WAIT-confirmed sets, the writer's and
  // redis-py's.
  EXPECT_TRUE(same_digest(promoted, other));
  EXPECT_TRUE(same_digest(promoted, *master));
  EXPECT_EQ(promoted.call({"EXISTS", "py:before", "py:during", "py:after", "live"}).integer, 4);

  RecordProperty("watching_ms", t_watching);
  RecordProperty("killed_ms", t_killed);
  RecordProperty("promoted_ms", t_promoted);
  RecordProperty("followed_ms", t_followed);
  RecordProperty("redis_py_ms", t_py);
  RecordProperty("rejoined_ms", t_rejoined);
  std::printf(
      "sentinels watching at %lld ms, master killed at %lld, new master at %lld, other replica "
      "following at %lld, redis-py done at %lld, old master rejoined at %lld\n",
      t_watching, t_killed, t_promoted, t_followed, t_py, t_rejoined);
  std::printf("redis_py_sentinel_check.py:\n%s", py.output().c_str());
}

// ---------------------------------------------------------------------------
// SentinelCommands
// ---------------------------------------------------------------------------

// A reply as text, with each scalar's kind (+simple, -error, :integer,
// $bulk) and the values named in `names` (ports, offsets: they differ from
// run to run) replaced by their names: "[$slave, $127.0.0.1, :<master>]".
std::string shape(const RespValue& v, const std::map<std::string, std::string>& names = {}) {
  if (v.is_aggregate()) {
    std::string out = "[";
    for (size_t i = 0; i < v.elements.size(); ++i)
      out += (i ? ", " : "") + shape(v.elements[i], names);
    return out + "]";
  }
  if (v.is_null()) return "nil";
  std::string text = v.kind == K::kInteger ? std::to_string(v.integer) : v.str;
  if (const auto it = names.find(text); it != names.end()) text = it->second;
  switch (v.kind) {
    case K::kSimple:
      return "+" + text;
    case K::kError:
      return "-" + text;
    case K::kInteger:
      return ":" + text;
    case K::kBulk:
      return "$" + text;
    default:
      return v.to_string();
  }
}

std::vector<std::string> shapes(const std::vector<RespValue>& replies) {
  std::vector<std::string> out;
  for (const auto& r : replies) out.push_back(shape(r));
  return out;
}

// A master and a replica of one kind, both from config files (NodeConfig),
// the replica pointed at the master by its file's replicaof line.
struct NodePair {
  std::unique_ptr<Node> master;
  std::unique_ptr<Node> replica;
};
NodePair node_pair(NodeKind k, NodeConfig config = NodeConfig::kFile) {
  NodePair p;
  p.master = std::make_unique<Node>(k, Directives{{"repl-diskless-sync-delay", "0"}}, config);
  p.replica = std::make_unique<Node>(
      k, Directives{{"replicaof", "127.0.0.1 " + str(p.master->port())}}, config);
  return p;
}

std::string master_offset(Node& n) {
  return field(info_map(n.client(), "replication"), "master_repl_offset");
}

// A connection subscribed to `channel`.
std::unique_ptr<Client> subscriber(Node& n, const std::string& channel) {
  auto c = n.connect(3000);
  const RespValue r = c->call({"SUBSCRIBE", channel});
  if (shape(r) != "[$subscribe, $" + channel + ", :1]")
    throw std::runtime_error("SUBSCRIBE -> " + r.to_string());
  return c;
}
// The next message a subscriber gets, as a shape ("<none>" if none comes).
std::string next_message(Client& c) {
  const auto v = c.read();
  return v ? shape(*v) : "<none>";
}

const char kHello[] = "__sentinel__:hello";

class SentinelCommands : public ::testing::TestWithParam<NodeKind> {
 protected:
  void SetUp() override {
    if (GetParam() == NodeKind::kRedis && !redis_server_installed())
      GTEST_SKIP() << "redis-server not installed";
  }
};

// INFO replication as Sentinel reads it (role, master_host, master_port,
// master_link_status, slave_priority, slave_repl_offset, replica_announced,
// the slaveN lines) and run_id in INFO server: the same field names in the
// same order as redis-server 7.0, and the same values.
TEST(SentinelInfo, ReplicationFieldsAsRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  NodePair redis = node_pair(NodeKind::kRedis);
  NodePair setd = node_pair(NodeKind::kSetd);
  auto names = [](Node& n, const std::string& section) {
    std::vector<std::string> out;
    for (const auto& [k, v] : info_fields(n.client(), section)) out.push_back(k);
    return out;
  };
  for (NodePair* p : {&redis, &setd}) {
    Node& m = *p->master;
    Node& r = *p->replica;
    SCOPED_TRACE(m.name());
    ASSERT_TRUE(wait_synced(m, r));
    ASSERT_TRUE(wait_acked(m, 1));
    // Redis shows the replica online once it has reaped the child that
    // streamed the image (serverCron), which may come after the replica
    // says its link is up: polled.
    const std::regex slave0("ip=127\\.0\\.0\\.1,port=" + str(r.port()) +
                            ",state=online,offset=[0-9]+,lag=[0-9]+");
    InfoMap mi;
    EXPECT_TRUE(wait_until(
        [&] {
          mi = info_map(m.client(), "replication");
          return std::regex_match(field(mi, "slave0"), slave0);
        },
        repl_ms(5000)))
        << field(mi, "slave0");
    EXPECT_EQ(field(mi, "role"), "master");
    EXPECT_EQ(field(mi, "connected_slaves"), "1");
    const InfoMap ri = info_map(r.client(), "replication");
    EXPECT_EQ(field(ri, "role"), "slave");
    EXPECT_EQ(field(ri, "master_host"), "127.0.0.1");
    EXPECT_EQ(field(ri, "master_port"), str(m.port()));
    EXPECT_EQ(field(ri, "master_link_status"), "up");
    EXPECT_EQ(field(ri, "master_link_down_since_seconds"), "<no master_link_down_since_seconds>");
    EXPECT_EQ(field(ri, "slave_priority"), "100");
    EXPECT_EQ(field(ri, "slave_repl_offset"), field(mi, "master_repl_offset"));
    EXPECT_EQ(field(ri, "replica_announced"), "1");
    // run_id: 40 hex digits, in INFO server and in a plain INFO (what
    // Sentinel sends), which has the replication section too.
    for (Node* n : {&m, &r}) {
      const std::string plain = n->call({"INFO"}).str;
      std::smatch id;
      EXPECT_TRUE(std::regex_search(plain, id, std::regex("\r\nrun_id:([0-9a-f]{40})\r\n")))
          << plain;
      EXPECT_EQ(field(info_map(n->client(), "server"), "run_id"), id[1].str());
      EXPECT_NE(plain.find("\r\n# Replication\r\nrole:"), std::string::npos);
    }
    EXPECT_NE(field(info_map(m.client(), "server"), "run_id"),
              field(info_map(r.client(), "server"), "run_id"));
    // What Sentinel uses to choose a replica, and to hide one.
    EXPECT_EQ(r.call({"CONFIG", "SET", "replica-priority", "0"}).str, "OK");
    EXPECT_EQ(field(info_map(r.client(), "replication"), "slave_priority"), "0");
    EXPECT_EQ(r.call({"CONFIG", "SET", "slave-priority", "7"}).str, "OK");
    EXPECT_EQ(field(info_map(r.client(), "replication"), "slave_priority"), "7");
    EXPECT_EQ(r.call({"CONFIG", "SET", "replica-announced", "no"}).str, "OK");
    EXPECT_EQ(field(info_map(r.client(), "replication"), "replica_announced"), "0");
    EXPECT_TRUE(wait_acked(m, 1));  // still listed by its master
  }
  // The same fields, in the same order, on both.
  EXPECT_EQ(names(*setd.master, "replication"), names(*redis.master, "replication"));
  EXPECT_EQ(names(*setd.replica, "replication"), names(*redis.replica, "replication"));
  // With the link down (the master gone), master_link_down_since_seconds
  // comes in, in the same place.
  redis.master->stop(SIGKILL);
  setd.master->stop(SIGKILL);
  ASSERT_TRUE(wait_link(*redis.master, *redis.replica, "down"));
  ASSERT_TRUE(wait_link(*setd.master, *setd.replica, "down"));
  EXPECT_EQ(names(*setd.replica, "replication"), names(*redis.replica, "replication"));
}

// ROLE, on a master with a replica, on that replica, and on the replica
// once its master is gone.
TEST_P(SentinelCommands, Role) {
  NodePair p = node_pair(GetParam());
  Node& m = *p.master;
  Node& r = *p.replica;
  ASSERT_TRUE(wait_synced(m, r));
  auto names = [&] {
    return std::map<std::string, std::string>{{str(m.port()), "<master-port>"},
                                              {str(r.port()), "<replica-port>"},
                                              {master_offset(m), "<offset>"}};
  };
  std::string got;
  // The replica's offset in the master's ROLE is the one it last acked
  // (REPLCONF ACK, once a second): polled.
  const std::string want_master =
      "[$master, :<offset>, [[$127.0.0.1, $<replica-port>, $<offset>]]]";
  EXPECT_TRUE(wait_until(
      [&] {
        got = shape(m.call({"ROLE"}), names());
        return got == want_master;
      },
      repl_ms(5000)))
      << got;
  const std::string want_replica = "[$slave, $127.0.0.1, :<master-port>, $connected, :<offset>]";
  EXPECT_TRUE(wait_until(
      [&] {
        got = shape(r.call({"ROLE"}), names());
        return got == want_replica;
      },
      repl_ms(5000)))
      << got;
  const auto last = names();
  m.stop(SIGKILL);
  EXPECT_TRUE(wait_until(
      [&] {
        got = shape(r.call({"ROLE"}), last);
        return got == "[$slave, $127.0.0.1, :<master-port>, $connect, :-1]";
      },
      repl_ms(5000)))
      << got;
  EXPECT_EQ(shape(r.call({"REPLICAOF", "NO", "ONE"})), "+OK");
  EXPECT_EQ(shape(r.call({"ROLE"}), {{master_offset(r), "<offset>"}}), "[$master, :<offset>, []]");
}

// Sentinels find each other through hello messages PUBLISHed on
// __sentinel__:hello to every instance, masters and replicas, which they
// also SUBSCRIBE to there. A PUBLISH on the master reaches subscribers on
// its replicas (it goes down the replication stream, once); one on a
// replica stays there.
TEST_P(SentinelCommands, HelloReachesSubscribersOnReplicas) {
  NodePair p = node_pair(GetParam());
  Node& m = *p.master;
  Node& r = *p.replica;
  ASSERT_TRUE(wait_streaming(m, r));
  auto on_replica = subscriber(r, kHello);
  auto on_master = subscriber(m, kHello);
  const std::string hello = "127.0.0.1,26379,0123456789abcdef0123456789abcdef01234567,0,mymaster," +
                            std::string("127.0.0.1,") + str(m.port()) + ",0";
  const std::string msg = std::string("[$message, $") + kHello + ", $";
  EXPECT_EQ(shape(m.call({"PUBLISH", kHello, hello})), ":1");  // the master's own subscriber
  EXPECT_EQ(next_message(*on_master), msg + hello + "]");
  EXPECT_EQ(next_message(*on_replica), msg + hello + "]");
  EXPECT_EQ(shape(r.call({"PUBLISH", kHello, "from the replica"})), ":1");
  EXPECT_EQ(next_message(*on_replica), msg + "from the replica]");
  // The next message each gets is the next one the master publishes: the
  // first came once, and the replica's did not go up.
  EXPECT_EQ(shape(m.call({"PUBLISH", kHello, "second"})), ":1");
  EXPECT_EQ(next_message(*on_master), msg + "second]");
  EXPECT_EQ(next_message(*on_replica), msg + "second]");
  EXPECT_EQ(shape(m.call({"PUBSUB", "NUMSUB", kHello})), std::string("[$") + kHello + ", :1]");
  // The PUBLISHes are in the stream: the offsets still agree.
  EXPECT_TRUE(wait_synced(m, r));
}

// SLAVEOF (what Sentinel sends) and REPLICAOF: their replies.
TEST_P(SentinelCommands, SlaveofReplies) {
  NodePair p = node_pair(GetParam());
  Node& m = *p.master;
  Node& r = *p.replica;
  ASSERT_TRUE(wait_synced(m, r));
  const std::string mport = str(m.port());
  EXPECT_EQ(shape(m.call({"SLAVEOF", "NO", "ONE"})), "+OK");
  EXPECT_EQ(shape(m.call({"REPLICAOF", "NO", "ONE"})), "+OK");
  EXPECT_EQ(shape(r.call({"SLAVEOF", "127.0.0.1", mport})),
            "+OK Already connected to specified master");
  EXPECT_EQ(shape(r.call({"REPLICAOF", "127.0.0.1", mport})),
            "+OK Already connected to specified master");
  EXPECT_EQ(shape(r.call({"SLAVEOF", "NO", "ONE"})), "+OK");
  EXPECT_EQ(role_of(r).role, "master");
  EXPECT_EQ(shape(r.call({"SLAVEOF", "127.0.0.1", mport})), "+OK");
  EXPECT_TRUE(wait_synced(m, r));
  const int nowhere = free_port();
  EXPECT_EQ(shape(r.call({"SLAVEOF", "127.0.0.1", str(nowhere)})), "+OK");
  const Role role = role_of(r);
  EXPECT_EQ(role.role, "slave");
  EXPECT_EQ(role.master_port, nowhere);
  EXPECT_EQ(shape(r.call({"SLAVEOF", "127.0.0.1", "notaport"})), "-ERR Invalid master port");
}

// CONFIG REWRITE (Sentinel sends one after each SLAVEOF): an error
// without a config file; with one, the replicaof line follows the role,
// and a restart reads it back.
TEST_P(SentinelCommands, ConfigRewrite) {
  {
    Node plain(GetParam());
    EXPECT_EQ(shape(plain.call({"CONFIG", "REWRITE"})),
              "-ERR The server is running without a config file");
  }
  Node m(GetParam(), {{"repl-diskless-sync-delay", "0"}}, NodeConfig::kFile);
  Node n(GetParam(), {}, NodeConfig::kFile);
  EXPECT_EQ(shape(m.call({"CONFIG", "REWRITE"})), "+OK");
  EXPECT_NE(m.config_text().find("\nrepl-diskless-sync-delay 0\n"), std::string::npos)
      << m.config_text();
  EXPECT_TRUE(replicaof_lines(m.config_text()).empty()) << m.config_text();

  EXPECT_EQ(shape(n.call({"SLAVEOF", "127.0.0.1", str(m.port())})), "+OK");
  EXPECT_EQ(shape(n.call({"CONFIG", "REWRITE"})), "+OK");
  EXPECT_EQ(replicaof_lines(n.config_text()),
            std::vector<std::string>{"replicaof 127.0.0.1 " + str(m.port())});
  n.restart();
  EXPECT_TRUE(wait_synced(m, n));

  EXPECT_EQ(shape(n.call({"SLAVEOF", "NO", "ONE"})), "+OK");
  EXPECT_EQ(shape(n.call({"CONFIG", "REWRITE"})), "+OK");
  EXPECT_TRUE(replicaof_lines(n.config_text()).empty()) << n.config_text();
  n.restart();
  EXPECT_EQ(role_of(n).role, "master");
}

// The block Sentinel sends to reconfigure an instance: MULTI, SLAVEOF,
// CONFIG REWRITE, CLIENT KILL TYPE normal, CLIENT KILL TYPE pubsub, EXEC
// (sentinelSendSlaveOf), in one write as hiredis does; from a connection of
// its own, which the kills skip.
std::vector<std::string> sentinel_block(Client& link, const Args& slaveof) {
  Args so{"SLAVEOF"};
  so.insert(so.end(), slaveof.begin(), slaveof.end());
  return shapes(pipeline(link, {{"MULTI"},
                                so,
                                {"CONFIG", "REWRITE"},
                                {"CLIENT", "KILL", "TYPE", "normal"},
                                {"CLIENT", "KILL", "TYPE", "pubsub"},
                                {"EXEC"}}));
}

std::vector<std::string> queued_then(const std::string& exec) {
  return {"+OK", "+QUEUED", "+QUEUED", "+QUEUED", "+QUEUED", exec};
}

// Promotion (SLAVEOF NO ONE on the replica Sentinel chose), then the old
// master made a replica of it; with config files, and without.
TEST_P(SentinelCommands, FailoverTransaction) {
  for (NodeConfig config : {NodeConfig::kFile, NodeConfig::kCommandLine}) {
    const bool file = config == NodeConfig::kFile;
    SCOPED_TRACE(file ? "config file" : "no config file");
    NodePair p = node_pair(GetParam(), config);
    Node& m = *p.master;
    Node& r = *p.replica;
    ASSERT_TRUE(wait_synced(m, r));
    const std::string rewrite = file ? "+OK" : "-ERR The server is running without a config file";

    // Promotion. The normal clients: the test's own and an application's.
    auto link = r.connect();
    auto app = r.connect();
    ASSERT_EQ(app->call({"CLIENT", "SETNAME", "app"}).str, "OK");
    auto sub = subscriber(r, kHello);
    EXPECT_EQ(sentinel_block(*link, {"NO", "ONE"}), queued_then("[+OK, " + rewrite + ", :2, :1]"));
    EXPECT_TRUE(app->closed_by_peer());
    EXPECT_TRUE(sub->closed_by_peer());
    EXPECT_EQ(shape(link->call({"PING"})), "+PONG");
    EXPECT_EQ(role_of(r).role, "master");
    if (file) {
      EXPECT_TRUE(replicaof_lines(r.config_text()).empty()) << r.config_text();
    }

    // The old master follows the new one.
    auto mlink = m.connect();
    auto mapp = m.connect();
    auto msub = subscriber(m, kHello);
    ASSERT_EQ(shape(m.call({"PING"})), "+PONG");
    EXPECT_EQ(sentinel_block(*mlink, {"127.0.0.1", str(r.port())}),
              queued_then("[+OK, " + rewrite + ", :2, :1]"));
    EXPECT_TRUE(mapp->closed_by_peer());
    EXPECT_TRUE(msub->closed_by_peer());
    if (file) {
      EXPECT_EQ(replicaof_lines(m.config_text()),
                std::vector<std::string>{"replicaof 127.0.0.1 " + str(r.port())});
    }
    const Role role = role_of(m);
    EXPECT_EQ(role.role, "slave");
    EXPECT_EQ(role.master_port, r.port());
    EXPECT_TRUE(wait_synced(r, m));
  }
}

// CLIENT KILL TYPE normal / pubsub, and again on the same clients (gone:
// 0), one at a time, pipelined, and in a transaction; by address twice.
TEST(SentinelClientKill, AsRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(12);
  const int ports[2] = {d.setd_server().port(), d.redis_server().port()};
  // `normal` plain connections and `pubsub` subscribers on both servers.
  auto clients = [&](int normal, int pubsub) {
    std::vector<std::unique_ptr<Client>> out;
    for (int port : ports) {
      for (int i = 0; i < normal; ++i) {
        out.push_back(std::make_unique<Client>(port, 2000));
        out.back()->call({"PING"});
      }
      for (int i = 0; i < pubsub; ++i) {
        out.push_back(std::make_unique<Client>(port, 2000));
        out.back()->call({"SUBSCRIBE", kHello});
      }
    }
    return out;
  };
  auto all_closed = [](std::vector<std::unique_ptr<Client>>& cs) {
    size_t open = 0;
    for (auto& c : cs) open += c->closed_by_peer() ? 0 : 1;
    return open;
  };
  auto expect = [&](const Args& cmd, const std::string& want) {
    const auto [x, y] = d.run(cmd);
    EXPECT_EQ(shape(x), want);
  };

  auto a = clients(2, 1);
  expect({"CLIENT", "KILL", "TYPE", "pubsub"}, ":1");
  expect({"CLIENT", "KILL", "TYPE", "pubsub"}, ":0");
  expect({"CLIENT", "KILL", "TYPE", "normal"}, ":2");
  expect({"CLIENT", "KILL", "TYPE", "normal"}, ":0");
  EXPECT_EQ(all_closed(a), 0u);

  auto b = clients(2, 2);
  const std::vector<std::vector<std::string>> twice{{"CLIENT", "KILL", "TYPE", "normal"},
                                                    {"CLIENT", "KILL", "TYPE", "normal"},
                                                    {"CLIENT", "KILL", "TYPE", "pubsub"},
                                                    {"CLIENT", "KILL", "TYPE", "pubsub"}};
  const auto xs = shapes(pipeline(d.setd(), twice));
  const auto ys = shapes(pipeline(d.redis(), twice));
  EXPECT_EQ(xs, ys);
  EXPECT_EQ(xs, (std::vector<std::string>{":2", ":0", ":2", ":0"}));
  EXPECT_EQ(all_closed(b), 0u);

  auto c = clients(1, 1);
  std::vector<std::vector<std::string>> tx{{"MULTI"}};
  tx.insert(tx.end(), twice.begin(), twice.end());
  tx.push_back({"EXEC"});
  const auto xt = shapes(pipeline(d.setd(), tx));
  const auto yt = shapes(pipeline(d.redis(), tx));
  EXPECT_EQ(xt, yt);
  EXPECT_EQ(xt.back(), "[:1, :0, :1, :0]");
  EXPECT_EQ(all_closed(c), 0u);

  // By address: the old form says OK then "No such client"; the new form
  // counts.
  Client xa(ports[0]), ya(ports[1]);
  auto addr = [](Client& cl) {
    const std::string info = cl.call({"CLIENT", "INFO"}).str;
    const size_t at = info.find(" addr=") + 6;
    return info.substr(at, info.find(' ', at) - at);
  };
  const std::string x_addr = addr(xa), y_addr = addr(ya);
  auto by_addr = [&](const Args& pre, const std::string& want) {
    Args xc = pre, yc = pre;
    xc.push_back(x_addr);
    yc.push_back(y_addr);
    const RespValue x = d.setd().call(xc), y = d.redis().call(yc);
    EXPECT_EQ(shape(x), shape(y));
    EXPECT_EQ(shape(x), want);
  };
  by_addr({"CLIENT", "KILL"}, "+OK");
  by_addr({"CLIENT", "KILL"}, "-ERR No such client");
  by_addr({"CLIENT", "KILL", "ADDR"}, ":0");
  EXPECT_TRUE(xa.closed_by_peer());
  EXPECT_TRUE(ya.closed_by_peer());

  // SKIPME no: the connection that asks goes too, after its reply.
  ClientPair self(d);
  const auto [x, y] = self.run({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"});
  EXPECT_EQ(shape(x), ":2");  // itself and d's own connection
  EXPECT_EQ(self.closed(), std::make_pair(true, true));
}

// SCRIPT KILL: Sentinel sends it when a master it finds subjectively down
// answers its PING with -BUSY (a script running past busy-reply-threshold).
// On both kinds of master the looping script ends with Sentinel's kill,
// and the master serves again without a failover.
TEST(SentinelScriptKill, SentinelKillsABusyScript) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(14);
  EXPECT_EQ(shape(d.redis().call({"SCRIPT", "KILL"})),
            "-NOTBUSY No scripts in execution right now.");
  EXPECT_EQ(shape(d.setd().call({"SCRIPT", "KILL"})),
            "-NOTBUSY No scripts in execution right now.");
  for (const int port : {d.setd_server().port(), d.redis_server().port()}) {
    SCOPED_TRACE(port == d.setd_server().port() ? "setd" : "redis");
    Client admin(port, 5000);
    ASSERT_EQ(shape(admin.call({"CONFIG", "SET", "busy-reply-threshold", "100"})), "+OK");
    SentinelOptions o;
    o.quorum = 1;
    o.down_after_ms = 1000;
    SentinelProcess sentinel(port, o);
    // Sentinel watches the master (its first INFO) before the script starts.
    ASSERT_TRUE(wait_until(
        [&] {
          return field(flat_map(sentinel.client().call({"SENTINEL", "MASTER", "mymaster"})),
                       "role-reported") == "master";
        },
        10000));
    Client runner(port, 30000);
    const auto start = std::chrono::steady_clock::now();
    const RespValue r = runner.call({"EVAL", "while true do end", "0"});
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r.is_error()) << r.to_string();
    EXPECT_NE(r.str.find("Script killed by user with SCRIPT KILL..."), std::string::npos) << r.str;
    EXPECT_LT(waited, std::chrono::seconds(20));
    EXPECT_EQ(shape(admin.call({"PING"})), "+PONG");
    // It was Sentinel's doing: it had found the master down.
    EXPECT_NE(sentinel.log().find("+sdown master mymaster"), std::string::npos)
        << sentinel.log_tail();
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, SentinelCommands,
                         ::testing::Values(NodeKind::kRedis, NodeKind::kSetd),
                         [](const auto& param_info) {
                           return std::string(kind_name(param_info.param));
                         });

// ---------------------------------------------------------------------------
// MasterLinkDownSince
// ---------------------------------------------------------------------------

class MasterLinkDownSince : public SentinelCommands {};

std::string link_down_since(Node& n) {
  return field(info_map(n.client(), "replication"), "master_link_down_since_seconds");
}

// Seconds as a number, or -2 when the field is not a number >= 0.
long long seconds(const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos) return -2;
  return std::stoll(v);
}

TEST_P(MasterLinkDownSince, MinusOneUntilALinkThatWasUpIsLost) {
  const int nowhere = free_port();
  Node n(GetParam());
  // A master made a replica of nothing: -1, also after a few attempts to
  // connect (once a second).
  ASSERT_EQ(shape(n.call({"REPLICAOF", "127.0.0.1", str(nowhere)})), "+OK");
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(link_down_since(n), "-1");
    sleep_ms(100);
  }

  // While a link is up, no such field.
  Node m(GetParam(), {{"repl-diskless-sync-delay", "0"}});
  ASSERT_TRUE(replicaof(n, m));
  ASSERT_TRUE(wait_synced(m, n));
  EXPECT_EQ(link_down_since(n), "<no master_link_down_since_seconds>");

  // The master dies: seconds since the link went down, counting up.
  m.stop(SIGKILL);
  ASSERT_TRUE(wait_link(m, n, "down"));
  std::string v = link_down_since(n);
  EXPECT_TRUE(seconds(v) >= 0 && seconds(v) <= 2) << v;
  EXPECT_TRUE(wait_until(
      [&] {
        v = link_down_since(n);
        return seconds(v) >= 2;
      },
      repl_ms(4000)))
      << v;

  // Up again, then pointed elsewhere: the link that was up is lost.
  m.start();
  ASSERT_TRUE(wait_synced(m, n, 10000));
  ASSERT_EQ(shape(n.call({"REPLICAOF", "127.0.0.1", str(nowhere)})), "+OK");
  v = link_down_since(n);
  EXPECT_TRUE(seconds(v) >= 0 && seconds(v) <= 1) << v;

  // A master again, then a replica of nothing: -1 again.
  ASSERT_EQ(shape(n.call({"REPLICAOF", "NO", "ONE"})), "+OK");
  ASSERT_EQ(shape(n.call({"REPLICAOF", "127.0.0.1", str(nowhere)})), "+OK");
  EXPECT_EQ(link_down_since(n), "-1");
}

INSTANTIATE_TEST_SUITE_P(Kinds, MasterLinkDownSince,
                         ::testing::Values(NodeKind::kRedis, NodeKind::kSetd),
                         [](const auto& param_info) {
                           return std::string(kind_name(param_info.param));
                         });

}  // namespace
}  // namespace setd::testing
