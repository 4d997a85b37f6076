// Integration-test support for replication: nodes that are setd or
// redis-server (the same knobs for both), REPLICAOF and waiting for a
// replica to catch up, a digest of a whole dataset, a seeded stream of
// random writes, and a TCP proxy whose connections can be cut or frozen (a
// network cut between a replica and its master). Header-only.
//
// Every wait has a deadline of a few seconds (scaled by the environment
// variable SETD_REPL_TIME_SCALE, e.g. 5 for sanitizer builds) and, when it
// expires, reports the last INFO replication of both sides and the end of
// their logs.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "server_process.hpp"

namespace setd::testing {

// ---------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------

// `ms` times SETD_REPL_TIME_SCALE (default 1).
inline int repl_ms(int ms) {
  static const double scale = [] {
    const char* s = std::getenv("SETD_REPL_TIME_SCALE");
    const double v = s ? std::atof(s) : 1.0;
    return v > 0 ? v : 1.0;
  }();
  return static_cast<int>(ms * scale);
}

inline void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// ---------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------

enum class NodeKind { kRedis, kSetd };

inline const char* kind_name(NodeKind k) { return k == NodeKind::kRedis ? "redis" : "setd"; }
// For GoogleTest's parameter names.
inline void PrintTo(NodeKind k, std::ostream* os) { *os << kind_name(k); }

// Configuration directives, as `name value` pairs (given to the server as
// --name value, after ServerProcess's own options).
using Directives = std::vector<std::pair<std::string, std::string>>;

// Where a Node's directives go: on its command line, or into a config file
// the node writes in its own directory (node.conf) and starts from, so that
// CONFIG REWRITE works on it (Sentinel sends one after each REPLICAOF) and a
// restart reads what the rewrite left there.
enum class NodeConfig { kCommandLine, kFile };

// A setd or redis-server on a loopback port, with a directory and a log of
// its own (both removed at the end). It can be stopped and started again
// on the same port and directory (a master restart), and with
// NodeConfig::kFile the same config file.
class Node {
 public:
  explicit Node(NodeKind kind, Directives directives = {},
                NodeConfig config = NodeConfig::kCommandLine)
      : kind_(kind), dirs_(directives), config_(config) {
    start();
  }
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node() {
    client_.reset();
    process_.reset();
  }

  NodeKind kind() const { return kind_; }
  // "redis:6379" / "setd:6380", for messages.
  std::string name() const { return std::string(kind_name(kind_)) + ":" + std::to_string(port_); }
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  bool running() { return process_ && process_->running(); }
  ServerProcess& process() { return *process_; }

  // The test's own connection (opened at start, reopened after a restart,
  // and when the server has closed it: CLIENT KILL TYPE normal, which
  // Sentinel sends with every reconfiguration).
  Client& client() {
    if (client_ && closed_by_server(client_->fd())) client_.reset();
    if (!client_) client_ = std::make_unique<Client>(port_, 10000);
    return *client_;
  }
  RespValue call(const std::vector<std::string>& args) { return client().call(args); }
  // Another connection.
  std::unique_ptr<Client> connect(int timeout_ms = 5000) const {
    return std::make_unique<Client>(port_, timeout_ms);
  }

  // Starts the server (again: same port, directory and directives, plus
  // `more`, which later starts forget). With NodeConfig::kFile the
  // directives go into config_file() at the first start; later starts read
  // the file as it is then (CONFIG REWRITE may have changed it). `more`
  // always goes on the command line.
  void start(const Directives& more = {}) {
    std::vector<std::string> args{"--dir", dir_.path()};
    if (kind_ == NodeKind::kRedis) {
      // Log to standard output, which ServerProcess appends to the log file.
      for (const char* a : {"--logfile", "", "--loglevel", "notice"}) args.emplace_back(a);
    } else {
      for (const char* a : {"--loglevel", "notice"}) args.emplace_back(a);
    }
    if (config_ == NodeConfig::kFile && !file_exists(config_file())) write_config_file();
    for (const Directives* d : std::initializer_list<const Directives*>{&dirs_, &more}) {
      if (d == &dirs_ && config_ == NodeConfig::kFile) continue;
      for (const auto& [name, value] : *d) {
        args.push_back("--" + name);
        args.push_back(value);
      }
    }
    // setd with Redis 7.0's set encodings (the pairings compare datasets,
    // encodings included, with redis-server 7.0), unless the directives
    // choose set-max-listpack-entries.
    if (kind_ != NodeKind::kRedis) args = as_redis70(std::move(args));
    client_.reset();
    process_.reset();
    process_ = std::make_unique<ServerProcess>(
        binary(), args, config_ == NodeConfig::kFile ? config_file() : "", log_path(), port_);
    port_ = process_->port();
  }
  // Stops the server (SIGTERM by default) and waits for its exit.
  void stop(int sig = SIGTERM) {
    client_.reset();
    if (process_) process_->stop(sig);
  }
  void restart(const Directives& more = {}) {
    stop();
    start(more);
  }

  // The config file (NodeConfig::kFile), "" otherwise, and its text now.
  std::string config_file() const {
    return config_ == NodeConfig::kFile ? dir_.file("node.conf") : "";
  }
  std::string config_text() const { return file_bytes(config_file()); }

  std::string log_path() const { return dir_.file("node.log"); }
  // The last `lines` lines of the server's log.
  std::string log_tail(size_t lines = 25) const {
    return last_lines(file_bytes(log_path()), lines);
  }

 private:
  std::string binary() const {
    return kind_ == NodeKind::kRedis ? std::string("redis-server") : setd_binary();
  }
  // The peer closed the socket: it reads end-of-file (or an error) now.
  static bool closed_by_server(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char c;
    const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
  }
  // One `name value` line per directive: a value of several words stays
  // several words (`replicaof 127.0.0.1 6379`, `save 900 1`), an empty one
  // is written "".
  void write_config_file() const {
    std::string text = "# Written by the test (tests/support/replication.hpp)\n";
    for (const auto& [name, value] : dirs_)
      text += name + " " + (value.empty() ? "\"\"" : value) + "\n";
    put_file_bytes(config_file(), text);
  }

  NodeKind kind_;
  Directives dirs_;
  NodeConfig config_;
  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<ServerProcess> process_;
  std::unique_ptr<Client> client_;
};

// ---------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------

using InfoMap = std::map<std::string, std::string>;

// INFO `section` as a map; {"<error>": text} if the command failed.
inline InfoMap info_map(Client& c, const std::string& section) {
  InfoMap out;
  try {
    for (auto& [k, v] : info_fields(c, section)) out[k] = v;
  } catch (const std::exception& e) {
    out["<error>"] = e.what();
  }
  return out;
}

// A field of `m`, or "<no NAME>".
inline std::string field(const InfoMap& m, const std::string& name) {
  const auto it = m.find(name);
  return it == m.end() ? "<no " + name + ">" : it->second;
}

// An integer INFO field (LLONG_MIN when missing or not a number).
inline long long info_int(Client& c, const std::string& name, const std::string& section) {
  const std::string v = field(info_map(c, section), name);
  try {
    size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (...) {
  }
  return LLONG_MIN;
}

// The master side's sync counters (INFO stats).
struct SyncStats {
  long long full = 0;
  long long partial_ok = 0;
  long long partial_err = 0;
  std::string str() const {
    return "sync_full:" + std::to_string(full) + " sync_partial_ok:" + std::to_string(partial_ok) +
           " sync_partial_err:" + std::to_string(partial_err);
  }
};
inline SyncStats sync_stats(Node& master) {
  const InfoMap m = info_map(master.client(), "stats");
  auto num = [&](const char* n) {
    const std::string v = field(m, n);
    return v.starts_with("<") ? LLONG_MIN : std::atoll(v.c_str());
  };
  return {num("sync_full"), num("sync_partial_ok"), num("sync_partial_err")};
}

inline std::string info_text(const InfoMap& m) {
  std::string out;
  for (const auto& [k, v] : m) out += "    " + k + ":" + v + "\n";
  return out;
}

// What a failed wait reports: both sides' INFO replication and log tails.
inline std::string replication_report(Node& master, Node& replica) {
  std::string out;
  for (Node* n : {&master, &replica}) {
    out += "\n--- " + std::string(n == &master ? "master " : "replica ") + n->name() + "\n";
    if (n->running()) {
      try {
        auto c = n->connect(2000);
        out += "  INFO replication:\n" + info_text(info_map(*c, "replication"));
      } catch (const std::exception& e) {
        out += std::string("  (no INFO: ") + e.what() + ")\n";
      }
    } else {
      out += "  (not running)\n";
    }
    out += "  log tail:\n" + n->log_tail();
  }
  return out;
}

// ---------------------------------------------------------------------------
// REPLICAOF and waiting
// ---------------------------------------------------------------------------

// REPLICAOF 127.0.0.1 `master_port` (+OK expected).
inline ::testing::AssertionResult replicaof(Node& replica, int master_port) {
  const RespValue r = replica.call({"REPLICAOF", "127.0.0.1", std::to_string(master_port)});
  if (r.is_error() || !r.str.starts_with("OK"))
    return ::testing::AssertionFailure()
           << replica.name() << ": REPLICAOF 127.0.0.1 " << master_port << " -> " << r.to_string();
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult replicaof(Node& replica, const Node& master) {
  return replicaof(replica, master.port());
}

// REPLICAOF NO ONE.
inline ::testing::AssertionResult replicaof_no_one(Node& replica) {
  const RespValue r = replica.call({"REPLICAOF", "NO", "ONE"});
  if (r.str != "OK")
    return ::testing::AssertionFailure()
           << replica.name() << ": REPLICAOF NO ONE -> " << r.to_string();
  return ::testing::AssertionSuccess();
}

// Waits until the replica's INFO replication shows master_link_status:up,
// no sync in progress, and slave_repl_offset equal to the master's
// master_repl_offset. Fails at once when a side shows no replication
// fields at all (replication missing), else after `ms`.
inline ::testing::AssertionResult wait_synced(Node& master, Node& replica, int ms = 5000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(repl_ms(ms));
  std::string last;
  for (;;) {
    const InfoMap m = info_map(master.client(), "replication");
    const InfoMap r = info_map(replica.client(), "replication");
    if (!m.count("master_repl_offset") || !r.count("master_link_status") ||
        field(r, "role") != "slave") {
      return ::testing::AssertionFailure()
             << "no replication in INFO (master has master_repl_offset: "
             << m.count("master_repl_offset") << ", replica has role:slave and master_link_status: "
             << (r.count("master_link_status") && field(r, "role") == "slave") << ")"
             << replication_report(master, replica);
    }
    if (field(r, "master_link_status") == "up" && field(r, "master_sync_in_progress") == "0" &&
        field(r, "slave_repl_offset") == field(m, "master_repl_offset"))
      return ::testing::AssertionSuccess();
    last = "master_link_status:" + field(r, "master_link_status") +
           " master_sync_in_progress:" + field(r, "master_sync_in_progress") +
           " slave_repl_offset:" + field(r, "slave_repl_offset") +
           " (master_repl_offset:" + field(m, "master_repl_offset") + ")";
    if (std::chrono::steady_clock::now() >= deadline) break;
    sleep_ms(20);
  }
  return ::testing::AssertionFailure()
         << "replica " << replica.name() << " not in sync with " << master.name() << " after "
         << repl_ms(ms) << " ms: " << last << replication_report(master, replica);
}

// wait_synced(), then a write (SET warm-up 1 in db 0) and wait_synced()
// again: after a diskless full sync Redis 7.0 holds the stream until the
// replica's next REPLCONF ACK (up to a second), while both offsets already
// match; tests that time something from their first write start after
// this.
inline ::testing::AssertionResult wait_streaming(Node& master, Node& replica, int ms = 5000) {
  if (auto r = wait_synced(master, replica, ms); !r) return r;
  const RespValue w = master.call({"SET", "warm-up", "1"});
  if (w.str != "OK") return ::testing::AssertionFailure() << "SET warm-up: " << w.to_string();
  return wait_synced(master, replica, ms);
}

// Waits until the replica's master_link_status is `status` ("up"/"down").
inline ::testing::AssertionResult wait_link(Node& master, Node& replica, const std::string& status,
                                            int ms = 3000) {
  std::string seen;
  const bool ok = wait_until(
      [&] {
        seen = field(info_map(replica.client(), "replication"), "master_link_status");
        return seen == status;
      },
      repl_ms(ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "master_link_status stayed " << seen << ", expected "
                                       << status << replication_report(master, replica);
}

// Waits until the master lists `replicas` replicas (INFO replication
// slaveN lines) whose acked offset (offset=, from REPLCONF ACK, sent once a
// second) equals its master_repl_offset.
inline ::testing::AssertionResult wait_acked(Node& master, size_t replicas, int ms = 3000) {
  InfoMap m;
  const bool ok = wait_until(
      [&] {
        m = info_map(master.client(), "replication");
        const std::string want = "offset=" + field(m, "master_repl_offset") + ",";
        for (size_t i = 0; i < replicas; ++i)
          if (field(m, "slave" + std::to_string(i)).find(want) == std::string::npos) return false;
        return !m.count("slave" + std::to_string(replicas));
      },
      repl_ms(ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "replicas did not ack master_repl_offset:\n"
                                       << info_text(m);
}

// CLIENT KILL TYPE master, on a replica: drops its link to the master.
inline long long kill_master_link(Node& replica) {
  return replica.call({"CLIENT", "KILL", "TYPE", "master"}).integer;
}
// CLIENT KILL TYPE replica, on a master: drops its replicas' links.
inline long long kill_replica_links(Node& master) {
  return master.call({"CLIENT", "KILL", "TYPE", "replica"}).integer;
}

// ---------------------------------------------------------------------------
// Digest: the whole dataset, read with SCAN/TYPE/GET/SMEMBERS/PTTL
// ---------------------------------------------------------------------------

// Every key of every database (SELECT 0.. until it fails): type, value or
// sorted members, and PTTL (only whether it has a TTL is compared). Keys
// that TYPE calls "none" (expired between SCAN and TYPE, or logically
// expired on a replica) are left out. The client is left on database 0.
inline Dataset capture_digest(Client& c, int max_dbs = 16) {
  Dataset out;
  for (int db = 0; db < max_dbs; ++db) {
    if (c.call({"SELECT", std::to_string(db)}).is_error()) break;
    std::set<std::string> keys;
    std::string cursor = "0";
    do {
      const RespValue r = c.call({"SCAN", cursor, "COUNT", "1000"});
      if (r.is_error() || r.elements.size() != 2)
        throw std::runtime_error("SCAN -> " + r.to_string());
      cursor = r.elements[0].str;
      for (const auto& k : r.elements[1].elements) keys.insert(k.str);
    } while (cursor != "0");
    const std::vector<std::string> names(keys.begin(), keys.end());
    for (size_t base = 0; base < names.size(); base += 256) {
      const size_t end = std::min(names.size(), base + 256);
      std::string burst;
      for (size_t i = base; i < end; ++i) burst += Client::encode({"TYPE", names[i]});
      c.send_raw(burst);
      std::vector<std::string> types;
      for (size_t i = base; i < end; ++i) types.push_back(c.read().value_or(RespValue{}).str);
      burst.clear();
      for (size_t i = base; i < end; ++i) {
        burst += Client::encode({types[i - base] == "set" ? "SMEMBERS" : "GET", names[i]});
        burst += Client::encode({"PTTL", names[i]});
      }
      c.send_raw(burst);
      for (size_t i = base; i < end; ++i) {
        KeyState st;
        st.type = types[i - base];
        const RespValue v = c.read().value_or(RespValue{});
        st.pttl = c.read().value_or(RespValue{}).integer;
        if (st.type == "none" || st.pttl == -2) continue;
        if (st.type == "set") {
          for (const auto& m : v.elements) st.members.push_back(m.str);
          std::sort(st.members.begin(), st.members.end());
        } else if (v.is_null() || v.is_error()) {
          st.value = "<" + v.to_string() + ">";
        } else {
          st.value = v.str;
        }
        out[db][names[i]] = std::move(st);
      }
    }
  }
  c.call({"SELECT", "0"});
  return out;
}

// The digests of both nodes are equal (else the first differences).
inline ::testing::AssertionResult same_digest(Node& master, Node& replica) {
  auto mc = master.connect(20000);
  auto rc = replica.connect(20000);
  const Dataset want = capture_digest(*mc);
  const Dataset got = capture_digest(*rc);
  DiffOptions o;
  o.encodings = false;
  o.expire_times = false;
  o.ttl_presence = true;
  const std::string diff = dataset_diff(want, got, o);
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "replica " << replica.name() << " (" << dataset_size(got)
                                       << " keys) differs from master " << master.name() << " ("
                                       << dataset_size(want) << " keys):\n"
                                       << diff << replication_report(master, replica);
}

// ---------------------------------------------------------------------------
// A seeded stream of random writes
// ---------------------------------------------------------------------------

struct StreamOptions {
  int dbs = 3;               // SELECT 0..dbs-1
  int keys = 40;             // s:N (sets) and k:N (strings) per database
  double multi = 0.04;       // a MULTI/EXEC block of 2-6 commands
  double flushdb = 0.0007;   // FLUSHDB
  double select = 0.03;      // SELECT another database
  double short_ttl = 0.03;   // SET PX 50 / PEXPIRE 50: keys gone soon
  double big_set = 0.003;    // SADD of thousands of members
  double wrong_type = 0.02;  // a set command on a string key or back
  size_t pipeline = 100;     // commands per pipelined burst
  int short_ttl_ms = 50;
};

// The replies a stream may get: WRONGTYPE and INCR on a non-number.
inline bool expected_stream_error(const std::string& e) {
  return e.starts_with("WRONGTYPE") || e == "ERR value is not an integer or out of range" ||
         e == "ERR increment or decrement would overflow";
}

class WriteStream {
 public:
  explicit WriteStream(uint64_t seed, StreamOptions o = {}) : seed_(seed), o_(o), rng_(seed) {}

  uint64_t seed() const { return seed_; }
  int db() const { return db_; }
  size_t errors() const { return errors_; }
  // The first reply that expected_stream_error() does not allow ("" if none).
  const std::string& unexpected_error() const { return unexpected_; }

  // The next command or transaction block (MULTI ... EXEC) of the stream.
  std::vector<std::vector<std::string>> next() {
    std::vector<std::vector<std::string>> out;
    if (chance(o_.multi)) {
      out.push_back({"MULTI"});
      const int n = static_cast<int>(between(2, 6));
      for (int i = 0; i < n; ++i) out.push_back(chance(0.1) ? select_cmd() : one());
      out.push_back({"EXEC"});
      return out;
    }
    if (chance(o_.select)) return {select_cmd()};
    if (chance(o_.flushdb)) return {{"FLUSHDB"}};
    return {one()};
  }

  // At least `n` commands (whole blocks), starting with a SELECT of the
  // current database (the client may have been used for something else).
  std::vector<std::vector<std::string>> commands(size_t n) {
    std::vector<std::vector<std::string>> out{{"SELECT", std::to_string(db_)}};
    while (out.size() < n + 1)
      for (auto& c : next()) out.push_back(std::move(c));
    return out;
  }

  // Sends `n` commands to `c`, pipelined; counts the error replies and
  // throws if a reply does not come. `progress` (if set) is told how many
  // commands were answered so far after each burst.
  void run(Client& c, size_t n, const std::function<void(size_t)>& progress = {}) {
    const auto cmds = commands(n);
    size_t done = 0;
    for (size_t i = 0; i < cmds.size(); i += o_.pipeline) {
      const size_t end = std::min(cmds.size(), i + o_.pipeline);
      std::string burst;
      for (size_t j = i; j < end; ++j) burst += Client::encode(cmds[j]);
      c.send_raw(burst);
      for (size_t j = i; j < end; ++j) {
        auto r = c.read();
        if (!r) throw std::runtime_error("write stream: no reply to " + cmds[j][0]);
        check(*r);
      }
      done = end;
      if (progress) progress(done);
    }
  }

 private:
  void check(const RespValue& r) {
    if (r.is_error()) {
      ++errors_;
      if (!expected_stream_error(r.str) && unexpected_.empty()) unexpected_ = r.str;
    }
    for (const auto& e : r.elements) check(e);
  }

  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  long long between(long long lo, long long hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng_);
  }
  std::string set_key() {
    if (chance(o_.wrong_type)) return "k:" + std::to_string(between(0, o_.keys - 1));
    return "s:" + std::to_string(between(0, o_.keys - 1));
  }
  std::string str_key() {
    if (chance(o_.wrong_type)) return "s:" + std::to_string(between(0, o_.keys - 1));
    return "k:" + std::to_string(between(0, o_.keys - 1));
  }
  std::string any_key() { return chance(0.5) ? set_key() : str_key(); }
  // Integers most of the time (intsets), words now and then (hashtables).
  std::string member() {
    if (chance(0.15)) return "m" + std::to_string(between(0, 300));
    return std::to_string(between(-50, 300));
  }
  std::string value() {
    switch (between(0, 4)) {
      case 0:
        return std::to_string(between(-1000, 1000));
      case 1:
        return std::string(static_cast<size_t>(between(50, 600)),
                           'a' + static_cast<char>(between(0, 25)));
      default:
        return "v" + std::to_string(between(0, 1000000));
    }
  }
  std::vector<std::string> select_cmd() {
    db_ = static_cast<int>(between(0, o_.dbs - 1));
    return {"SELECT", std::to_string(db_)};
  }

  std::vector<std::string> one() {
    if (chance(o_.short_ttl)) {
      const std::string ms = std::to_string(o_.short_ttl_ms);
      if (chance(0.5)) return {"SET", "tmp:" + std::to_string(between(0, 20)), value(), "PX", ms};
      return {"PEXPIRE", any_key(), ms};
    }
    if (chance(o_.big_set)) {
      std::vector<std::string> a{"SADD", "big:" + std::to_string(between(0, 3))};
      const long long n = between(1500, 6000);
      const bool words = chance(0.5);
      const long long base = between(0, 100000);
      for (long long i = 0; i < n; ++i)
        a.push_back(words ? "member:" + std::to_string(base + i) : std::to_string(base * 7 + i));
      return a;
    }
    const int w = static_cast<int>(between(0, 99));
    if (w < 20) {  // SADD 1-5 members
      std::vector<std::string> a{"SADD", set_key()};
      for (long long i = between(1, 5); i > 0; --i) a.push_back(member());
      return a;
    }
    if (w < 28) {
      std::vector<std::string> a{"SREM", set_key()};
      for (long long i = between(1, 4); i > 0; --i) a.push_back(member());
      return a;
    }
    if (w < 32) {
      if (chance(0.5)) return {"SPOP", set_key()};
      return {"SPOP", set_key(), std::to_string(between(1, 6))};
    }
    if (w < 36) return {"SMOVE", set_key(), set_key(), member()};
    if (w < 42) {
      static const char* kStores[] = {"SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"};
      std::vector<std::string> a{kStores[between(0, 2)],
                                 chance(0.2) ? "big:" + std::to_string(between(0, 3)) : set_key()};
      for (long long i = between(1, 3); i > 0; --i)
        a.push_back(chance(0.1) ? "big:" + std::to_string(between(0, 3)) : set_key());
      return a;
    }
    if (w < 54) {
      std::vector<std::string> a{"SET", str_key(), value()};
      if (chance(0.1)) {
        a.push_back("EX");
        a.push_back(std::to_string(between(100, 10000)));
      }
      return a;
    }
    if (w < 61) return {"INCR", str_key()};
    if (w < 66) return {"APPEND", str_key(), value()};
    if (w < 71) {
      std::vector<std::string> a{"DEL"};
      for (long long i = between(1, 3); i > 0; --i) a.push_back(any_key());
      return a;
    }
    if (w < 77) return {"EXPIRE", any_key(), std::to_string(between(100, 100000))};
    if (w < 83) return {"PEXPIRE", any_key(), std::to_string(between(100000, 10000000))};
    if (w < 90) return {"PERSIST", any_key()};
    if (w < 94) return {"SREM", set_key(), member()};
    return {"SADD", set_key(), member(), member()};
  }

  uint64_t seed_;
  StreamOptions o_;
  std::mt19937_64 rng_;
  int db_ = 0;
  size_t errors_ = 0;
  std::string unexpected_;
};

// ---------------------------------------------------------------------------
// A cuttable TCP link
// ---------------------------------------------------------------------------

// Listens on a free loopback port and forwards each connection to the
// target port (the master), in a thread of its own. The test can cut every
// open connection (both ends closed), freeze them (no byte moves either
// way, the sockets stay open: a network partition), refuse new ones, or
// arm a cut that fires when a connection has carried a number of bytes
// from the target (in the middle of a full sync).
class LinkProxy {
 public:
  explicit LinkProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      ::close(listen_fd_);
      throw std::runtime_error("LinkProxy: cannot listen");
    }
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    if (::pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    thread_ = std::thread([this] { loop(); });
  }
  ~LinkProxy() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    wake();
    thread_.join();
    for (auto& c : conns_) close_conn(c);
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
  }
  LinkProxy(const LinkProxy&) = delete;
  LinkProxy& operator=(const LinkProxy&) = delete;

  int port() const { return port_; }
  void set_target(int port) { target_port_ = port; }

  // Closes every open connection, both ends; returns when done.
  void cut() {
    cut_wanted_ = true;
    sync();
  }
  // While frozen no byte moves, either way (connections stay open).
  // Returns once the proxy's thread has seen it.
  void freeze(bool on) {
    frozen_ = on;
    sync();
  }
  // While refusing, new connections are accepted and closed at once.
  void refuse(bool on) { refusing_ = on; }
  // Once: the next connection to carry `bytes` bytes from the target
  // delivers exactly those and is cut.
  void cut_after(size_t bytes) {
    cut_after_ = bytes;
    wake();
  }
  bool cut_after_pending() const { return cut_after_.load() != 0; }
  // Every open connection delivers `bytes` more bytes from the target, and
  // is cut (e.g. inside the next command of a replication stream).
  void cut_after_more(size_t bytes) {
    more_ = bytes;
    sync();
  }

  size_t accepted() const { return accepted_; }        // connections accepted
  size_t refused() const { return refused_; }          // of which refused
  size_t open() const { return open_; }                // open right now
  size_t cuts() const { return cuts_; }                // cut() and cut_after() cuts
  uint64_t bytes_down() const { return bytes_down_; }  // target -> client, total
  uint64_t bytes_up() const { return bytes_up_; }      // client -> target, total

 private:
  struct Conn {
    int a = -1;  // the client's side (the replica)
    int b = -1;  // the target's side (the master)
    std::string to_a, to_b;
    uint64_t down = 0;     // bytes from the target on this connection
    uint64_t cut_at = 0;   // cut when `down` reaches this (0: never)
    bool closing = false;  // cut once to_a is written
    bool dead = false;
  };
  static constexpr size_t kMaxPending = 1 << 20;

  // Returns once the thread has started a new turn of its loop (where it
  // applies cuts and reads the flags).
  void sync() {
    std::unique_lock lk(mu_);
    const uint64_t ticket = ++turn_requests_;
    wake();
    cv_.wait(lk, [&] { return turns_done_ >= ticket; });
  }
  void wake() {
    const char x = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_[1], &x, 1);
  }
  void close_conn(Conn& c) {
    if (c.a >= 0) ::close(c.a);
    if (c.b >= 0) ::close(c.b);
    c.a = c.b = -1;
    c.dead = true;
  }
  int connect_target() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(target_port_.load()));
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  static void nodelay_nonblock(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  // Reads what `fd` has into `into` (up to kMaxPending); false on EOF/error.
  static bool pull(int fd, std::string& into, size_t limit, size_t& got) {
    char buf[65536];
    got = 0;
    while (into.size() < limit) {
      const ssize_t n = ::recv(fd, buf, std::min(sizeof(buf), limit - into.size()), 0);
      if (n > 0) {
        into.append(buf, static_cast<size_t>(n));
        got += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    return true;
  }
  static bool push(int fd, std::string& from) {
    while (!from.empty()) {
      const ssize_t n = ::send(fd, from.data(), from.size(), MSG_NOSIGNAL);
      if (n > 0) {
        from.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    return true;
  }

  void loop() {
    for (;;) {
      {
        std::lock_guard lk(mu_);
        if (stop_) return;
        if (cut_wanted_.exchange(false))
          for (auto& c : conns_)
            if (!c.dead) {
              close_conn(c);
              ++cuts_;
            }
        if (const size_t more = more_.exchange(0); more != 0)
          for (auto& c : conns_) c.cut_at = c.down + more;
        if (turn_requests_ > turns_done_) {
          turns_done_ = turn_requests_;
          cv_.notify_all();
        }
      }
      std::erase_if(conns_, [](const Conn& c) { return c.dead; });
      open_ = conns_.size();
      const bool frozen = frozen_;
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (auto& c : conns_) {
        short ea = 0, eb = 0;
        if (!frozen) {
          if (c.to_b.size() < kMaxPending && !c.closing) ea |= POLLIN;
          if (!c.to_a.empty()) ea |= POLLOUT;
          if (c.to_a.size() < kMaxPending && !c.closing) eb |= POLLIN;
          if (!c.to_b.empty()) eb |= POLLOUT;
        }
        // Frozen: not polled at all (a hang-up would make poll spin).
        fds.push_back({frozen ? -1 : c.a, ea, 0});
        fds.push_back({frozen ? -1 : c.b, eb, 0});
      }
      ::poll(fds.data(), fds.size(), 100);
      if (fds[0].revents) {
        char buf[64];
        while (::read(wake_[0], buf, sizeof(buf)) > 0) {
        }
      }
      if (fds[1].revents & POLLIN) accept_all();
      if (frozen) continue;
      for (size_t i = 0; i < conns_.size() && 2 + 2 * i + 1 < fds.size(); ++i) {
        Conn& c = conns_[i];
        if (c.dead) continue;
        const short ra = fds[2 + 2 * i].revents, rb = fds[2 + 2 * i + 1].revents;
        size_t got = 0;
        if ((ra & (POLLIN | POLLHUP | POLLERR)) && !c.closing) {
          if (!pull(c.a, c.to_b, kMaxPending, got)) {
            close_conn(c);
            continue;
          }
          bytes_up_ += got;
        }
        if ((rb & (POLLIN | POLLHUP | POLLERR)) && !c.closing) {
          const bool alive = pull(c.b, c.to_a, kMaxPending, got);
          // An armed cut: deliver exactly up to the mark, then cut.
          const uint64_t once = cut_after_;
          uint64_t mark = once;
          if (c.cut_at != 0 && (mark == 0 || c.cut_at < mark)) mark = c.cut_at;
          if (mark != 0 && c.down + got >= mark) {
            const uint64_t keep = mark > c.down ? mark - c.down : 0;
            c.to_a.resize(c.to_a.size() - static_cast<size_t>(got - keep));
            got = static_cast<size_t>(keep);
            c.closing = true;
            if (mark == once) cut_after_ = 0;
            c.cut_at = 0;
          }
          c.down += got;
          bytes_down_ += got;
          if (!alive && !c.closing) {
            push(c.a, c.to_a);
            close_conn(c);
            continue;
          }
        }
        if (!push(c.b, c.to_b) || !push(c.a, c.to_a)) {
          close_conn(c);
          continue;
        }
        if (c.closing && c.to_a.empty()) {
          close_conn(c);
          ++cuts_;
        }
      }
    }
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      ++accepted_;
      if (refusing_) {
        ++refused_;
        ::close(fd);
        continue;
      }
      const int up = connect_target();
      if (up < 0) {
        ++refused_;
        ::close(fd);
        continue;
      }
      nodelay_nonblock(fd);
      nodelay_nonblock(up);
      Conn c;
      c.a = fd;
      c.b = up;
      conns_.push_back(std::move(c));
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<int> target_port_;
  std::atomic<bool> frozen_{false};
  std::atomic<bool> refusing_{false};
  std::atomic<size_t> cut_after_{0};
  std::atomic<size_t> more_{0};
  std::atomic<size_t> accepted_{0}, refused_{0}, open_{0}, cuts_{0};
  std::atomic<uint64_t> bytes_down_{0}, bytes_up_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> cut_wanted_{false};
  uint64_t turn_requests_ = 0, turns_done_ = 0;
  std::vector<Conn> conns_;  // the thread's alone
  std::thread thread_;
};

}  // namespace setd::testing
