// Integration-test support: twemproxy (nutcracker) in front of setd shards.
// A generated pool configuration, nutcracker started on free ports with its
// log in a directory of the test's, and the shard a key lives on.
#pragma once

#include <unistd.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {

// nutcracker's path: from PATH, else /usr/sbin/nutcracker (where Debian's
// package puts it, outside a normal user's PATH); "" when not installed.
inline std::string nutcracker_binary() {
  std::string path = shell("command -v nutcracker");
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
  if (!path.empty()) return path;
  if (::access("/usr/sbin/nutcracker", X_OK) == 0) return "/usr/sbin/nutcracker";
  return "";
}

// One nutcracker pool (YAML) as conf/twemproxy.yml has it: `name` listening
// on 127.0.0.1:`port`, Redis protocol, murmur + ketama, hash tag "{}",
// hosts never ejected; the servers 127.0.0.1:<port>:1 named setd1, setd2,
// ... (ketama places keys by these names, not by the ports, so a test's
// keys land on the same shards as with the example's servers), then
// `extra` lines ("redis_auth: pw").
inline std::string twemproxy_pool_yaml(const std::string& name, int port,
                                       const std::vector<int>& backend_ports,
                                       const std::vector<std::string>& extra = {}) {
  std::string y = name + ":\n";
  y += "  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  for (const char* line :
       {"redis: true", "hash: murmur", "hash_tag: \"{}\"", "distribution: ketama",
        "auto_eject_hosts: false", "timeout: 2000", "server_retry_timeout: 2000",
        "server_failure_limit: 1", "preconnect: true"})
    y += std::string("  ") + line + "\n";
  for (const auto& e : extra) y += "  " + e + "\n";
  y += "  servers:\n";
  for (size_t i = 0; i < backend_ports.size(); ++i)
    y += "   - 127.0.0.1:" + std::to_string(backend_ports[i]) + ":1 setd" + std::to_string(i + 1) +
         "\n";
  return y;
}

// nutcracker as a child process: one pool (twemproxy_pool_yaml) in front of
// `backend_ports`, on a free port, with a free stats port (-s, on
// 127.0.0.1); its configuration file and log (-o) are written in `dir`.
// Stopped on destruction. Throws, with a message saying how to install it,
// when nutcracker is missing, and with its log when it does not start.
class Nutcracker {
 public:
  Nutcracker(const std::string& dir, const std::vector<int>& backend_ports,
             const std::vector<std::string>& extra = {})
      : binary_(nutcracker_binary()),
        port_(free_port()),
        stats_port_(free_port()),
        config_file_(dir + "/twemproxy.yml"),
        log_file_(dir + "/nutcracker.log") {
    if (binary_.empty())
      throw std::runtime_error(
          "nutcracker (twemproxy) is not installed: neither in PATH nor /usr/sbin/nutcracker; "
          "install Debian's nutcracker package (bash .ci/deps --test does)");
    put_file_bytes(config_file_, twemproxy_pool_yaml("setd", port_, backend_ports, extra));
    pid_ = ServerProcess::spawn({binary_, "-c", config_file_, "-s", std::to_string(stats_port_),
                                 "-a", "127.0.0.1", "-o", log_file_},
                                dir + "/nutcracker.out");
    // nutcracker answers PING itself once it listens.
    const bool up = wait_until(
        [&] {
          if (!running()) return true;
          try {
            Client c(port_, 1000);
            return answers_ping(c.call({"PING"}));
          } catch (const std::exception&) {
            return false;
          }
        },
        10000);
    if (!up || !running()) {
      stop();
      throw std::runtime_error("nutcracker did not start with " + config_file_ + ":\n" +
                               file_bytes(config_file_) + "its log:\n" + log() +
                               file_bytes(dir + "/nutcracker.out"));
    }
  }
  ~Nutcracker() { stop(); }
  Nutcracker(const Nutcracker&) = delete;
  Nutcracker& operator=(const Nutcracker&) = delete;

  int port() const { return port_; }
  int stats_port() const { return stats_port_; }
  const std::string& config_file() const { return config_file_; }
  std::string log() const { return file_bytes(log_file_); }

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) pid_ = -1;
    return pid_ > 0;
  }
  void stop() {
    if (pid_ > 0) kill_and_wait(pid_, SIGTERM);
    pid_ = -1;
  }

 private:
  std::string binary_;
  int port_;
  int stats_port_;
  std::string config_file_;
  std::string log_file_;
  pid_t pid_ = -1;
};

// Which of `shards` holds `key` (asked directly, EXISTS): its index, -1 if
// none does, -2 if more than one.
inline int shard_of(const std::vector<std::unique_ptr<Client>>& shards, const std::string& key) {
  int found = -1;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i]->call({"EXISTS", key}).integer != 1) continue;
    if (found != -1) return -2;
    found = static_cast<int>(i);
  }
  return found;
}

}  // namespace setd::testing
