// Integration-test support: start a real setd (or redis-server) on a free
// port, talk RESP to it over a socket, stop it. Header-only, POSIX sockets.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "setd/proto/reply_reader.hpp"

namespace setd::testing {

using proto::RespValue;

// A port nobody listens on right now.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A server that replies PONG, or NOAUTH (it requires a password), or
// MASTERDOWN (a replica whose master is away, with
// replica-serve-stale-data no), is up.
inline bool answers_ping(const RespValue& r) {
  return r.str == "PONG" ||
         (r.is_error() && (r.str.starts_with("NOAUTH") || r.str.starts_with("MASTERDOWN")));
}

// A blocking RESP client with timeouts.
class Client {
 public:
  // `source_ip` binds our end first (e.g. "127.0.0.2": a peer that is not
  // the loopback address 127.0.0.1, for protected mode).
  explicit Client(int port, int timeout_ms = 5000, const char* source_ip = nullptr)
      : timeout_ms_(timeout_ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (source_ip != nullptr) {
      sockaddr_in src{};
      src.sin_family = AF_INET;
      ::inet_pton(AF_INET, source_ip, &src.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
        ::close(fd_);
        throw std::runtime_error(std::string("cannot bind to ") + source_ip);
      }
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("connect failed to port " + std::to_string(port));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  virtual ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  static std::string encode(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    return out;
  }

  void send_raw(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void send(const std::vector<std::string>& args) { send_raw(encode(args)); }

  // Next reply; nullopt on timeout or when the server closed the connection.
  // Exactly `n` raw bytes (after anything already buffered), read in big
  // gulps without parsing; shorter if the peer stops or goes quiet.
  std::string read_bytes(size_t n) {
    std::string out = std::move(buf_);
    buf_.clear();
    std::vector<char> tmp(1 << 20);
    while (out.size() < n) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms_) <= 0) break;
      const ssize_t k = ::recv(fd_, tmp.data(), std::min(tmp.size(), n - out.size()), 0);
      if (k <= 0) break;
      out.append(tmp.data(), static_cast<size_t>(k));
    }
    return out;
  }

  std::optional<RespValue> read() {
    for (;;) {
      size_t used = 0;
      if (auto v = proto::read_reply(buf_, used)) {
        buf_.erase(0, used);
        return v;
      }
      if (!fill()) return std::nullopt;
    }
  }

  RespValue call(const std::vector<std::string>& args) {
    send(args);
    auto v = read();
    if (!v) throw std::runtime_error("no reply to " + args[0]);
    return *v;
  }

  // The next reply's bytes exactly as the server sent them, and the reply.
  std::pair<std::string, RespValue> call_raw(const std::vector<std::string>& args) {
    send(args);
    auto r = read_raw();
    if (!r) throw std::runtime_error("no reply to " + args[0]);
    return std::move(*r);
  }

  // The next reply (to a command sent before) and its bytes exactly as the
  // server sent them; nullopt on timeout or when the server closed the
  // connection.
  std::optional<std::pair<std::string, RespValue>> read_raw() {
    for (;;) {
      size_t used = 0;
      if (auto v = proto::read_reply(buf_, used)) {
        std::string raw = buf_.substr(0, used);
        buf_.erase(0, used);
        return std::make_pair(std::move(raw), std::move(*v));
      }
      if (!fill()) return std::nullopt;
    }
  }

  // Everything the server sends until it closes or `ms` pass in silence.
  std::string read_raw_until_close(int ms = 1000) {
    std::string out = buf_;
    buf_.clear();
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) return out + "<open>";
      char tmp[65536];
      const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n <= 0) return out + "<closed>";
      out.append(tmp, static_cast<size_t>(n));
    }
  }

  // True if the server closed the connection (reads EOF within `ms`).
  bool closed_by_peer(int ms = 1000) { return read_raw_until_close(ms).ends_with("<closed>"); }

  int fd() const { return fd_; }

 protected:
  // A client over an already connected socket, which it then owns
  // (TlsClient: its end of the socket pair a TLS tunnel serves).
  struct Adopt {
    int fd;
  };
  Client(Adopt socket, int timeout_ms) : fd_(socket.fd), timeout_ms_(timeout_ms) {}

 private:
  bool fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms_) <= 0) return false;
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  int timeout_ms_;
  std::string buf_;
};

// Sends every command in one write (as a client library's pipeline does) and
// reads back one reply per command; throws if one is missing.
inline std::vector<RespValue> pipeline(Client& c,
                                       const std::vector<std::vector<std::string>>& cmds) {
  std::string out;
  for (const auto& cmd : cmds) out += Client::encode(cmd);
  c.send_raw(out);
  std::vector<RespValue> replies;
  for (size_t i = 0; i < cmds.size(); ++i) {
    auto v = c.read();
    if (!v) throw std::runtime_error("no reply to pipelined command " + std::to_string(i));
    replies.push_back(std::move(*v));
  }
  return replies;
}

// Sends `sig` to the child `pid` and reaps it: its wait status, or -1 when
// it had to be killed with SIGKILL after `ms` milliseconds.
inline int kill_and_wait(pid_t pid, int sig = SIGTERM, int ms = 5000) {
  ::kill(pid, sig);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return -1;
}

// A server child process on a free loopback port, stopped on destruction.
// setd's options for a run compared with redis-server 7.0: Redis 7.0 has no
// listpack sets, so setd runs with set-max-listpack-entries 0 (Redis 7.0's
// encoding rules) unless `extra` already sets it.
inline std::vector<std::string> as_redis70(std::vector<std::string> extra) {
  if (std::find(extra.begin(), extra.end(), "--set-max-listpack-entries") == extra.end()) {
    extra.emplace_back("--set-max-listpack-entries");
    extra.emplace_back("0");
  }
  return extra;
}

class ServerProcess {
 public:
  // `binary` is setd or redis-server; `extra` are more command-line options.
  // With `log_file`, the server's standard output and error (setd's log)
  // are appended to that file. `port` 0 takes a free port; another value
  // (the port of a server stopped before) starts it again on that port.
  explicit ServerProcess(const std::string& binary, std::vector<std::string> extra = {},
                         const std::string& config_file = "", const std::string& log_file = "",
                         int port = 0) {
    port_ = port > 0 ? port : free_port();
    // Each server gets a working directory of its own (removed when it
    // stops) unless the test chooses one: a dump written by one test must
    // never be loaded by the next.
    if (std::find(extra.begin(), extra.end(), "--dir") == extra.end()) {
      char tmpl[] = "/tmp/setd-test-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
      own_dir_ = tmpl;
    }
    pid_ = spawn(command_line(binary, port_, own_dir_, extra, config_file), log_file);
    // Wait until it answers PING.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        Client c(port_, 1000);
        if (answers_ping(c.call({"PING"}))) return;
      } catch (const std::exception&) {
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (!own_dir_.empty()) shell_remove(own_dir_);
        std::string log;
        if (!log_file.empty()) {
          std::ifstream in(log_file, std::ios::binary);
          log = "; its output:\n" +
                std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        throw std::runtime_error("server exited during start-up: " + binary + log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop(SIGKILL);
    if (!own_dir_.empty()) shell_remove(own_dir_);
    throw std::runtime_error("server did not answer PING: " + binary);
  }

  ~ServerProcess() {
    stop();
    if (!own_dir_.empty()) shell_remove(own_dir_);
  }
  // The working directory the server was given ("" if the test chose one).
  const std::string& dir() const { return own_dir_; }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // CPU time (user + system) the server has used so far, from /proc.
  double cpu_seconds() const {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid_) + "/stat").c_str(), "r");
    if (!f) return 0;
    char buf[1024] = {};
    const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    // Fields after the ")" that closes the command name; utime and stime
    // are the 12th and 13th of them.
    const char* p = std::strrchr(buf, ')');
    if (!p || n == 0) return 0;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2)
      return 0;
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  // Resident memory of the server process in KiB (VmRSS), 0 if unknown.
  long rss_kb() const {
    FILE* f = std::fopen(("/proc/" + std::to_string(pid_) + "/status").c_str(), "r");
    if (!f) return 0;
    char line[256];
    long kb = 0;
    while (std::fgets(line, sizeof(line), f))
      if (std::sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    std::fclose(f);
    return kb;
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }
  // Sends `sig` and waits for the exit (up to `ms`); returns the wait status.
  int stop(int sig = SIGTERM, int ms = 5000) {
    if (pid_ <= 0) return exit_status_;
    exit_status_ = kill_and_wait(pid_, sig, ms);
    pid_ = -1;
    return exit_status_;
  }

  // The command line ServerProcess uses: `binary` [config_file] --port
  // `port` --bind 127.0.0.1 --save "" --appendonly no [--dir `dir`], quiet
  // logging, then `extra` (later options win).
  static std::vector<std::string> command_line(const std::string& binary, int port,
                                               const std::string& dir,
                                               const std::vector<std::string>& extra,
                                               const std::string& config_file = "") {
    std::vector<std::string> args{binary};
    if (!config_file.empty()) args.push_back(config_file);
    for (const std::string& a : {std::string("--port"), std::to_string(port), std::string("--bind"),
                                 std::string("127.0.0.1"), std::string("--save"), std::string(""),
                                 std::string("--appendonly"), std::string("no")})
      args.push_back(a);
    if (!dir.empty()) {
      args.emplace_back("--dir");
      args.push_back(dir);
    }
    if (binary.find("redis-server") != std::string::npos) {
      for (const char* a : {"--daemonize", "no", "--logfile", "/dev/null"}) args.emplace_back(a);
    } else {
      args.emplace_back("--loglevel");
      args.emplace_back("warning");
    }
    for (const auto& e : extra) args.push_back(e);
    return args;
  }

  // fork + exec `args`; standard output and error go to `log_file` if set.
  static pid_t spawn(std::vector<std::string> args, const std::string& log_file = "") {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (!log_file.empty()) {
        const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
          ::close(fd);
        }
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::perror("execvp");
      ::_exit(127);
    }
    if (pid < 0) throw std::runtime_error("fork failed");
    return pid;
  }

 private:
  static void shell_remove(const std::string& dir) {
    const std::string cmd = "rm -rf '" + dir + "'";
    if (std::system(cmd.c_str()) != 0) std::perror("rm -rf");
  }

  int port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = 0;
  std::string own_dir_;
};

// Runs a shell command and returns its standard output.
inline std::string shell(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

inline std::string setd_binary() { return SETD_BINARY; }

// True in the sanitizer build (setd is built the same way as the tests).
// AddressSanitizer's allocator keeps freed memory in a quarantine and
// ignores malloc_trim(), so tests of memory going back to the kernel skip.
constexpr bool built_with_asan() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

// A fixture whose tests share one setd, started once per test suite.
class SetdSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new ServerProcess(setd_binary()); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static int port() { return server_->port(); }
  inline static ServerProcess* server_ = nullptr;
};

// ---------------------------------------------------------------------------
// Files, directories and whole server runs (persistence tests)
// ---------------------------------------------------------------------------

// A fresh directory under /tmp, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/setd-persist-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A file's bytes ("" when it cannot be read).
inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The last `lines` lines of `text` (a log).
inline std::string last_lines(const std::string& text, size_t lines) {
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  return text.substr(pos == 0 ? 0 : pos + 1);
}

inline void put_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline bool file_exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// The names of the entries of `dir`, sorted (none if it cannot be read).
inline std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Polls `pred` every 10 ms until it holds or `ms` pass; its last result.
inline bool wait_until(const std::function<bool()>& pred, int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// INFO `section` as (field, value) pairs, in the server's order.
inline std::vector<std::pair<std::string, std::string>> info_fields(Client& c,
                                                                    const std::string& section) {
  const RespValue r = c.call({"INFO", section});
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < r.str.size()) {
    size_t end = r.str.find("\r\n", pos);
    if (end == std::string::npos) end = r.str.size();
    const std::string line = r.str.substr(pos, end - pos);
    pos = end + 2;
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
    out.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return out;
}

// One INFO field's value, or "<no field NAME>" (which no value equals).
inline std::string info_value(Client& c, const std::string& name,
                              const std::string& section = "persistence") {
  for (const auto& [k, v] : info_fields(c, section))
    if (k == name) return v;
  return "<no field " + name + ">";
}

// CONFIG GET of one parameter: its value, or a text no value can equal.
inline std::string config_get(Client& c, const std::string& name) {
  const auto r = c.call({"CONFIG", "GET", name});
  if (r.elements.size() != 2) return "<CONFIG GET " + name + ": " + r.to_string() + ">";
  return r.elements[1].str;
}

// Waits (up to `ms`) until no BGSAVE and no AOF rewrite runs or is
// scheduled; false on time-out.
inline bool wait_persistence_idle(Client& c, int ms = 20000) {
  return wait_until(
      [&] {
        const auto f = info_fields(c, "persistence");
        auto get = [&](const std::string& n) {
          for (const auto& [k, v] : f)
            if (k == n) return v;
          return std::string("?");
        };
        return get("rdb_bgsave_in_progress") == "0" && get("aof_rewrite_in_progress") == "0" &&
               get("aof_rewrite_scheduled") == "0";
      },
      ms);
}

// How a server run to its end went (see run_server()).
struct ServerRun {
  bool answered = false;  // it answered PING: it started (then it was killed)
  bool exited = false;    // it exited by itself within the time given
  int status = 0;         // its wait status when `exited`
  std::string output;     // standard output and error (setd's log)
  // Exited by itself with a non-zero exit code (not killed by a signal).
  bool refused() const {
    return exited && !answered && WIFEXITED(status) && WEXITSTATUS(status) != 0;
  }
  std::string describe() const {
    std::string d = answered  ? "started and answered PING"
                    : !exited ? "neither exited nor answered"
                    : WIFSIGNALED(status)
                        ? "killed by signal " + std::to_string(WTERMSIG(status))
                        : "exited with code " + std::to_string(WEXITSTATUS(status));
    return d + "; output:\n" + output;
  }
};

// Runs `binary` with ServerProcess's command line on a free port (`extra`
// must hold --dir; `config_file` is optional) until it exits by itself,
// answers PING (then it is killed: it started), or `ms` pass; with its
// output captured.
inline ServerRun run_server(const std::string& binary, const std::vector<std::string>& extra,
                            int ms = 10000, const std::string& config_file = "") {
  if (std::find(extra.begin(), extra.end(), "--dir") == extra.end())
    throw std::runtime_error("run_server needs --dir");
  char log_tmpl[] = "/tmp/setd-run-log-XXXXXX";
  const int log_fd = ::mkstemp(log_tmpl);
  if (log_fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(log_fd);
  const int port = free_port();
  const pid_t pid = ServerProcess::spawn(
      ServerProcess::command_line(binary, port, "", extra, config_file), log_tmpl);
  ServerRun run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      run.exited = true;
      run.status = status;
      break;
    }
    try {
      Client c(port, 500);
      if (answers_ping(c.call({"PING"}))) {
        run.answered = true;
        break;
      }
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!run.exited) {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  run.output = file_bytes(log_tmpl);
  ::unlink(log_tmpl);
  return run;
}

}  // namespace setd::testing
