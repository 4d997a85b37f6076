// Integration-test support: Redis Sentinel (Debian's redis-sentinel 7.0,
// unmodified) watching setd. A sentinel on a free port with a config file
// and a log in a directory of its own (removed at the end), a client for
// its SENTINEL commands, and waits with deadlines for what the sentinels
// must come to see: the replicas and the other sentinels, then a new
// master. A wait that expires reports every sentinel's view and log tail.
//
// redis-sentinel must be installed (`bash .ci/deps --test` installs it):
// without it the tests fail, with a message saying so; they do not skip.
#pragma once

#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "replication.hpp"
#include "server_process.hpp"

namespace setd::testing {

// redis-sentinel's path: from PATH, else /usr/bin/redis-sentinel (Debian's
// package); "" when not installed.
inline std::string sentinel_binary() {
  std::string path = shell("command -v redis-sentinel");
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  if (!path.empty()) return path;
  if (::access("/usr/bin/redis-sentinel", X_OK) == 0) return "/usr/bin/redis-sentinel";
  return "";
}

struct SentinelOptions {
  std::string master_name = "mymaster";
  int quorum = 2;
  int down_after_ms = 2000;  // no reply for this long: subjectively down
  // Also: a sentinel that voted for another waits twice this before it
  // tries a failover of its own.
  int failover_timeout_ms = 6000;
  int parallel_syncs = 1;
};

// SENTINEL replies that describe instances (MASTER, REPLICAS, SENTINELS)
// are flat name/value arrays.
inline InfoMap flat_map(const RespValue& v) {
  InfoMap out;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    const RespValue& val = v.elements[i + 1];
    out[v.elements[i].str] =
        val.kind == RespValue::Kind::kInteger ? std::to_string(val.integer) : val.str;
  }
  return out;
}

// A redis-sentinel child process monitoring 127.0.0.1:`master_port` as
// `master_name`, on a free port, started from a config file it writes in a
// directory of its own (Sentinel rewrites that file as it learns); its log
// goes there too. Stopped (SIGTERM) on destruction.
class SentinelProcess {
 public:
  explicit SentinelProcess(int master_port, SentinelOptions o = {})
      : binary_(sentinel_binary()),
        options_(std::move(o)),
        port_(free_port()),
        config_file_(dir_.file("sentinel.conf")),
        log_file_(dir_.file("sentinel.log")) {
    if (binary_.empty())
      throw std::runtime_error(
          "redis-sentinel is not installed (neither in PATH nor /usr/bin/redis-sentinel); "
          "install Debian's redis-sentinel package (bash .ci/deps --test does)");
    const std::string& name = options_.master_name;
    std::string conf;
    conf += "port " + std::to_string(port_) + "\n";
    conf += "bind 127.0.0.1\n";
    conf += "daemonize no\n";
    conf += "dir \"" + dir_.path() + "\"\n";
    conf += "logfile \"" + log_file_ + "\"\n";
    conf += "sentinel monitor " + name + " 127.0.0.1 " + std::to_string(master_port) + " " +
            std::to_string(options_.quorum) + "\n";
    conf += "sentinel down-after-milliseconds " + name + " " +
            std::to_string(options_.down_after_ms) + "\n";
    conf += "sentinel failover-timeout " + name + " " +
            std::to_string(options_.failover_timeout_ms) + "\n";
    conf +=
        "sentinel parallel-syncs " + name + " " + std::to_string(options_.parallel_syncs) + "\n";
    put_file_bytes(config_file_, conf);
    pid_ = ServerProcess::spawn({binary_, config_file_}, dir_.file("sentinel.out"));
    const bool up = wait_until(
        [&] {
          if (!running()) return true;
          try {
            Client c(port_, 1000);
            return c.call({"PING"}).str == "PONG";
          } catch (const std::exception&) {
            return false;
          }
        },
        10000);
    if (!up || !running()) {
      stop();
      throw std::runtime_error("redis-sentinel did not start with " + config_file_ + ":\n" + conf +
                               "its output:\n" + file_bytes(dir_.file("sentinel.out")) +
                               "its log:\n" + log_tail(40));
    }
  }
  ~SentinelProcess() { stop(); }
  SentinelProcess(const SentinelProcess&) = delete;
  SentinelProcess& operator=(const SentinelProcess&) = delete;

  int port() const { return port_; }
  const std::string& master_name() const { return options_.master_name; }
  const std::string& config_file() const { return config_file_; }
  std::string log() const { return file_bytes(log_file_); }
  std::string log_tail(size_t lines = 25) const { return last_lines(log(), lines); }

  Client& client() {
    if (!client_) client_ = std::make_unique<Client>(port_, 5000);
    return *client_;
  }
  RespValue call(const std::vector<std::string>& args) { return client().call(args); }

  // SENTINEL GET-MASTER-ADDR-BY-NAME: "127.0.0.1:6379", or "" (no answer).
  std::string master_addr() {
    const RespValue r = call({"SENTINEL", "GET-MASTER-ADDR-BY-NAME", master_name()});
    if (r.elements.size() != 2) return "";
    return r.elements[0].str + ":" + r.elements[1].str;
  }
  // The master's port as GET-MASTER-ADDR-BY-NAME has it (0: no answer).
  int master_port() {
    const std::string a = master_addr();
    const size_t colon = a.rfind(':');
    return colon == std::string::npos ? 0 : std::atoi(a.c_str() + colon + 1);
  }
  // SENTINEL MASTER / REPLICAS / SENTINELS of the monitored master.
  InfoMap master() { return flat_map(call({"SENTINEL", "MASTER", master_name()})); }
  std::vector<InfoMap> replicas() { return instances("REPLICAS"); }
  std::vector<InfoMap> sentinels() { return instances("SENTINELS"); }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  void stop() {
    client_.reset();
    if (pid_ > 0) kill_and_wait(pid_, SIGTERM);
    pid_ = -1;
  }

 private:
  std::vector<InfoMap> instances(const char* what) {
    std::vector<InfoMap> out;
    for (const auto& e : call({"SENTINEL", what, master_name()}).elements)
      out.push_back(flat_map(e));
    return out;
  }

  std::string binary_;
  SentinelOptions options_;
  TempDir dir_;
  int port_;
  std::string config_file_;
  std::string log_file_;
  pid_t pid_ = -1;
  std::unique_ptr<Client> client_;
};

using Sentinels = std::vector<std::unique_ptr<SentinelProcess>>;

// `n` sentinels monitoring 127.0.0.1:`master_port`.
inline Sentinels start_sentinels(int master_port, size_t n = 3, const SentinelOptions& o = {}) {
  Sentinels out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::make_unique<SentinelProcess>(master_port, o));
  return out;
}

// What each sentinel sees (its master, replicas and peers) and its log.
inline std::string sentinel_report(Sentinels& sentinels) {
  std::string out;
  for (auto& s : sentinels) {
    out += "\n--- sentinel :" + std::to_string(s->port()) + "\n";
    if (!s->running()) {
      out += "  (not running)\n";
    } else {
      try {
        auto c = std::make_unique<Client>(s->port(), 2000);
        const InfoMap m = flat_map(c->call({"SENTINEL", "MASTER", s->master_name()}));
        out += "  master " + field(m, "ip") + ":" + field(m, "port") +
               " flags=" + field(m, "flags") +
               " num-other-sentinels=" + field(m, "num-other-sentinels") +
               " failover-state=" + field(m, "failover-state") + "\n";
        for (const auto& e : c->call({"SENTINEL", "REPLICAS", s->master_name()}).elements) {
          const InfoMap r = flat_map(e);
          out += "  replica " + field(r, "ip") + ":" + field(r, "port") +
                 " flags=" + field(r, "flags") + " master-port=" + field(r, "master-port") +
                 " master-link-status=" + field(r, "master-link-status") + "\n";
        }
      } catch (const std::exception& e) {
        out += std::string("  (no answer: ") + e.what() + ")\n";
      }
    }
    out += "  log tail:\n" + s->log_tail(15);
  }
  return out;
}

// Flags of an instance that Sentinel finds healthy: exactly the role
// ("slave", "sentinel"), with no s_down, o_down, disconnected, ...
inline bool healthy(const InfoMap& m, const std::string& role) { return field(m, "flags") == role; }

// Waits until every sentinel monitors a master on `master_port` that it
// finds healthy, lists exactly the replicas on `replica_ports` as healthy
// replicas of it with their link to it up, and knows every other sentinel
// (hello messages over the instances' __sentinel__:hello channel).
inline ::testing::AssertionResult wait_sentinels_see(Sentinels& sentinels, int master_port,
                                                     const std::vector<int>& replica_ports,
                                                     int ms) {
  const std::set<int> want_replicas(replica_ports.begin(), replica_ports.end());
  std::set<int> want_peers;
  for (auto& s : sentinels) want_peers.insert(s->port());
  std::string last;
  const bool ok = wait_until(
      [&] {
        try {
          for (auto& s : sentinels) {
            const std::string who = "sentinel :" + std::to_string(s->port());
            const InfoMap m = s->master();
            if (field(m, "port") != std::to_string(master_port) || field(m, "flags") != "master") {
              last = who + " master " + field(m, "port") + " flags " + field(m, "flags");
              return false;
            }
            std::set<int> seen;
            for (const auto& r : s->replicas()) {
              if (!healthy(r, "slave") || field(r, "master-link-status") != "ok" ||
                  field(r, "master-port") != std::to_string(master_port)) {
                last = who + " replica " + field(r, "port") + " flags " + field(r, "flags") +
                       " master-port " + field(r, "master-port") + " master-link-status " +
                       field(r, "master-link-status");
                return false;
              }
              seen.insert(std::atoi(field(r, "port").c_str()));
            }
            if (seen != want_replicas) {
              last = who + " sees " + std::to_string(seen.size()) + " healthy replicas";
              return false;
            }
            std::set<int> peers{s->port()};
            for (const auto& p : s->sentinels())
              if (healthy(p, "sentinel")) peers.insert(std::atoi(field(p, "port").c_str()));
            if (peers != want_peers) {
              last = who + " knows " + std::to_string(peers.size() - 1) + " other sentinels";
              return false;
            }
          }
          return true;
        } catch (const std::exception& e) {
          last = e.what();
          return false;
        }
      },
      repl_ms(ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "sentinels did not come to see master :" << master_port << " with "
         << replica_ports.size() << " replicas within " << repl_ms(ms) << " ms; last: " << last
         << sentinel_report(sentinels);
}

// Waits until every sentinel's GET-MASTER-ADDR-BY-NAME names the same
// master, not on `old_port`; sets `new_port` to its port.
inline ::testing::AssertionResult wait_new_master(Sentinels& sentinels, int old_port, int& new_port,
                                                  int ms) {
  std::string last;
  const bool ok = wait_until(
      [&] {
        try {
          std::set<int> ports;
          last.clear();
          for (auto& s : sentinels) {
            const int p = s->master_port();
            ports.insert(p);
            last += " " + std::to_string(p);
          }
          if (ports.size() != 1 || *ports.begin() == old_port || *ports.begin() == 0) return false;
          new_port = *ports.begin();
          return true;
        } catch (const std::exception& e) {
          last = e.what();
          return false;
        }
      },
      repl_ms(ms));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "the sentinels did not agree on a new master within " << repl_ms(ms)
         << " ms (master ports:" << last << ")" << sentinel_report(sentinels);
}

}  // namespace setd::testing
