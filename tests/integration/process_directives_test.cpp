// The process directives, as Redis 7.0 has them: set-proc-title and
// proc-title-template (the command line ps shows), oom-score-adj and
// oom-score-adj-values (/proc/<pid>/oom_score_adj), disable-thp
// (THP_enabled in /proc/<pid>/status), supervised (systemd's READY=1 over
// $NOTIFY_SOCKET), daemonize, always-show-logo, io-threads; and their
// CONFIG GET / SET against redis-server.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"

namespace setd::testing {
namespace {

using Args = std::vector<std::string>;

std::string proc_file(pid_t pid, const std::string& name) {
  return file_bytes("/proc/" + std::to_string(pid) + "/" + name);
}

// The first string of /proc/<pid>/cmdline: the title ps shows.
std::string title_of(pid_t pid) {
  const std::string c = proc_file(pid, "cmdline");
  return c.substr(0, c.find('\0'));
}

int oom_score_adj(pid_t pid) { return std::atoi(proc_file(pid, "oom_score_adj").c_str()); }

std::string status_field(pid_t pid, const std::string& field) {
  const std::string s = proc_file(pid, "status");
  const size_t at = s.find("\n" + field + ":");
  if (at == std::string::npos) return "<no " + field + ">";
  const size_t start = s.find_first_not_of(" \t", at + field.size() + 2);
  return s.substr(start, s.find('\n', start) - start);
}

TEST(ProcessDirectives, ConfigAsRedis) {
  if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
  Differential d(5);
  for (const Args& a : std::vector<Args>{
           {"CONFIG", "GET", "set-proc-title"},
           {"CONFIG", "GET", "proc-title-template"},
           {"CONFIG", "GET", "oom-score-adj"},
           {"CONFIG", "GET", "oom-score-adj-values"},
           {"CONFIG", "GET", "disable-thp"},
           {"CONFIG", "GET", "daemonize"},
           {"CONFIG", "GET", "supervised"},
           {"CONFIG", "GET", "always-show-logo"},
           {"CONFIG", "GET", "io-threads"},
           {"CONFIG", "GET", "io-threads-do-reads"},
           {"CONFIG", "GET", "enable-module-command"},
           {"CONFIG", "SET", "enable-module-command", "no"},
           {"CONFIG", "SET", "set-proc-title", "no"},
           {"CONFIG", "SET", "disable-thp", "no"},
           {"CONFIG", "SET", "daemonize", "yes"},
           {"CONFIG", "SET", "supervised", "systemd"},
           {"CONFIG", "SET", "always-show-logo", "yes"},
           {"CONFIG", "SET", "io-threads", "1"},
           {"CONFIG", "SET", "io-threads-do-reads", "no"},
           {"CONFIG", "SET", "proc-title-template", "{foo}"},
           {"CONFIG", "SET", "proc-title-template", ""},
           {"CONFIG", "SET", "proc-title-template", " "},
           {"CONFIG", "SET", "proc-title-template", "{title"},
           {"CONFIG", "SET", "proc-title-template", "x{"},
           {"CONFIG", "SET", "proc-title-template", "{server-mode}"},
           {"CONFIG", "SET", "proc-title-template", "{title}"},
           {"CONFIG", "SET", "proc-title-template", "{unixsocket} {tls-port}"},
           {"CONFIG", "SET", "proc-title-template", "{listen-addr}"},
           {"CONFIG", "SET", "proc-title-template", "{config-file}"},
           {"CONFIG", "SET", "proc-title-template", "{title} {listen-addr} {server-mode}"},
           {"CONFIG", "SET", "proc-title-template", "x {{ } {port} {tls-port} {unixsocket}"},
           {"CONFIG", "GET", "proc-title-template"},
           {"CONFIG", "SET", "oom-score-adj", "maybe"},
           {"CONFIG", "SET", "oom-score-adj-values", "1 2"},
           {"CONFIG", "SET", "oom-score-adj-values", "1 2 3 4"},
           {"CONFIG", "SET", "oom-score-adj-values", "1 2 3000"},
           {"CONFIG", "SET", "oom-score-adj-values", "1 2 x"},
           {"CONFIG", "SET", "oom-score-adj-values", "1 2 3.5"},
           {"CONFIG", "SET", "oom-score-adj-values", "1  2"},
           {"CONFIG", "GET", "oom-score-adj-values"},
           {"CONFIG", "SET", "oom-score-adj-values", "+10 20 -2000"},
           {"CONFIG", "GET", "oom-score-adj-values"},
           {"CONFIG", "SET", "oom-score-adj-values", "0 200 800"},
           {"CONFIG", "SET", "oom-score-adj", "relative"},
           {"CONFIG", "GET", "oom-score-adj"},
           {"CONFIG", "SET", "oom-score-adj", "ABSOLUTE"},
           {"CONFIG", "GET", "oom-score-adj"},
           {"CONFIG", "SET", "oom-score-adj", "no"},
       })
    d.run(a);
}

// The title is the template's expansion ({title} is argv[0]), as Redis's
// "redis-server 127.0.0.1:6379"; CONFIG SET proc-title-template changes it.
TEST(ProcessDirectives, ProcTitleAsRedis) {
  ServerProcess setd(setd_binary());
  EXPECT_EQ(title_of(setd.pid()), setd_binary() + " 127.0.0.1:" + std::to_string(setd.port()));
  Client c(setd.port());
  ASSERT_EQ(c.call({"CONFIG", "SET", "proc-title-template", "{title} {port} {config-file} x"}).str,
            "OK");
  EXPECT_EQ(title_of(setd.pid()), setd_binary() + " " + std::to_string(setd.port()) + " - x");
  if (redis_server_installed()) {
    ServerProcess redis("redis-server");
    EXPECT_EQ(title_of(redis.pid()), "redis-server 127.0.0.1:" + std::to_string(redis.port()));
  }
  // set-proc-title no: the command line stays as it was.
  ServerProcess plain(setd_binary(), {"--set-proc-title", "no"});
  EXPECT_EQ(title_of(plain.pid()), setd_binary());
  const std::string cmdline = proc_file(plain.pid(), "cmdline");
  EXPECT_NE(cmdline.find(std::string("--set-proc-title\0no", 19)), std::string::npos);
}

TEST(ProcessDirectives, OomScoreAdjWritesTheProcessScore) {
  const int base = oom_score_adj(::getpid());  // what the server inherits
  ServerProcess setd(setd_binary(),
                     {"--oom-score-adj", "absolute", "--oom-score-adj-values", "100 200 800"});
  EXPECT_EQ(oom_score_adj(setd.pid()), 100);
  Client c(setd.port());
  ASSERT_EQ(c.call({"CONFIG", "SET", "oom-score-adj-values", "150 250 800"}).str, "OK");
  EXPECT_EQ(oom_score_adj(setd.pid()), 150);
  // A replica takes the second value (the role changes with REPLICAOF).
  ASSERT_EQ(c.call({"REPLICAOF", "127.0.0.1", std::to_string(free_port())}).str, "OK");
  EXPECT_TRUE(wait_until([&] { return oom_score_adj(setd.pid()) == 250; }, 3000))
      << oom_score_adj(setd.pid());
  ASSERT_EQ(c.call({"REPLICAOF", "NO", "ONE"}).str, "OK");
  EXPECT_TRUE(wait_until([&] { return oom_score_adj(setd.pid()) == 150; }, 3000));
  // relative: added to the score the process had before setd changed it.
  ASSERT_EQ(c.call({"CONFIG", "SET", "oom-score-adj", "relative"}).str, "OK");
  EXPECT_EQ(oom_score_adj(setd.pid()), std::min(base + 150, 1000));
  // no: the score it had.
  ASSERT_EQ(c.call({"CONFIG", "SET", "oom-score-adj", "no"}).str, "OK");
  EXPECT_EQ(oom_score_adj(setd.pid()), base);
  // Off by default: the inherited score stays.
  ServerProcess plain(setd_binary());
  EXPECT_EQ(oom_score_adj(plain.pid()), base);
}

TEST(ProcessDirectives, DisableThp) {
  ServerProcess on(setd_binary());
  EXPECT_EQ(status_field(on.pid(), "THP_enabled"), "0");
  ServerProcess off(setd_binary(), {"--disable-thp", "no"});
  EXPECT_EQ(status_field(off.pid(), "THP_enabled"), "1");
}

// A unix datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = "/tmp/setd-notify-" + std::to_string(::getpid()) + "-" + std::to_string(++n_);
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
      throw std::runtime_error("bind " + path_);
    timeval tv{0, 200 * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  // Every datagram received until none comes for 200 ms.
  std::vector<std::string> received() {
    std::vector<std::string> out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0) break;
      out.emplace_back(buf, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  static inline int n_ = 0;
  std::string path_;
  int fd_ = -1;
};

// Sets an environment variable for the servers started in its scope.
struct ScopedEnv {
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  const char* name_;
};

TEST(ProcessDirectives, SupervisedSystemdNotifiesReadiness) {
  for (const char* mode : {"systemd", "auto"}) {
    SCOPED_TRACE(mode);
    NotifySocket sock;
    std::vector<std::string> got;
    {
      ScopedEnv env("NOTIFY_SOCKET", sock.path());
      ServerProcess setd(setd_binary(), {"--supervised", mode});
      got = sock.received();
      Client c(setd.port());
      EXPECT_EQ(config_get(c, "supervised"), mode);
      setd.stop();
    }
    const std::vector<std::string> expected = {"STATUS=setd is loading...\n",
                                               "STATUS=Ready to accept connections\n", "READY=1\n"};
    EXPECT_EQ(got, expected);
    EXPECT_EQ(sock.received(), std::vector<std::string>{"STOPPING=1\n"});
  }
  // Not supervised: nothing is sent.
  NotifySocket sock;
  ScopedEnv env("NOTIFY_SOCKET", sock.path());
  ServerProcess setd(setd_binary(), {"--supervised", "no"});
  EXPECT_TRUE(sock.received().empty());
}

TEST(ProcessDirectives, DaemonizeDetachesAndWritesThePidFile) {
  TempDir dir;
  const int port = free_port();
  const std::string pidfile = dir.file("setd.pid");
  const pid_t launched = ServerProcess::spawn(ServerProcess::command_line(
      setd_binary(), port, dir.path(), {"--daemonize", "yes", "--pidfile", pidfile}));
  int status = 0;
  ASSERT_EQ(::waitpid(launched, &status, 0), launched);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          Client c(port, 500);
          return answers_ping(c.call({"PING"}));
        } catch (const std::exception&) {
          return false;
        }
      },
      10000));
  ASSERT_TRUE(wait_until([&] { return !file_bytes(pidfile).empty(); }, 3000));
  const pid_t daemon = std::atoi(file_bytes(pidfile).c_str());
  EXPECT_NE(daemon, launched);
  EXPECT_EQ(::getsid(daemon), daemon);  // a session of its own
  Client c(port);
  EXPECT_EQ(config_get(c, "daemonize"), "yes");
  c.send({"SHUTDOWN", "NOSAVE"});
  EXPECT_TRUE(wait_until([&] { return ::kill(daemon, 0) != 0; }, 5000));
}

TEST(ProcessDirectives, AlwaysShowLogo) {
  TempDir dir;
  for (const bool logo : {true, false}) {
    const std::string log = dir.file(logo ? "logo.log" : "plain.log");
    {
      ServerProcess setd(setd_binary(),
                         {"--always-show-logo", logo ? "yes" : "no", "--loglevel", "notice"}, "",
                         log);
    }
    const std::string text = file_bytes(log);
    EXPECT_EQ(text.find("Running in standalone mode") != std::string::npos, logo) << text;
    EXPECT_EQ(text.find("Running mode=standalone, port=") != std::string::npos, !logo) << text;
  }
}

TEST(ProcessDirectives, IoThreadsOneOnly) {
  TempDir dir;
  const ServerRun four = run_server(setd_binary(), {"--dir", dir.path(), "--io-threads", "4"});
  EXPECT_TRUE(four.refused()) << four.describe();
  EXPECT_NE(four.output.find("io-threads must be 1"), std::string::npos) << four.output;
  const ServerRun one = run_server(
      setd_binary(), {"--dir", dir.path(), "--io-threads", "1", "--io-threads-do-reads", "yes"});
  EXPECT_TRUE(one.answered) << one.describe();
}

// No modules: enable-module-command no only (yes and local would promise a
// MODULE command).
TEST(ProcessDirectives, EnableModuleCommandNoOnly) {
  TempDir dir;
  const ServerRun yes =
      run_server(setd_binary(), {"--dir", dir.path(), "--enable-module-command", "yes"});
  EXPECT_TRUE(yes.refused()) << yes.describe();
  EXPECT_NE(yes.output.find("setd has no modules"), std::string::npos) << yes.output;
  const ServerRun bad =
      run_server(setd_binary(), {"--dir", dir.path(), "--enable-module-command", "maybe"});
  EXPECT_NE(bad.output.find("argument(s) must be one of the following: no, yes, local"),
            std::string::npos)
      << bad.output;
  const ServerRun no =
      run_server(setd_binary(), {"--dir", dir.path(), "--enable-module-command", "no"});
  EXPECT_TRUE(no.answered) << no.describe();
}

}  // namespace
}  // namespace setd::testing
