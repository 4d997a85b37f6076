// setd entry point: `setd [config-file] [--directive value ...]`, exactly
// like redis-server's command line.
#include <fcntl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <cerrno>
#include <clocale>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "setd/base/allocator.hpp"
#include "setd/base/clock.hpp"
#include "setd/base/fd_limit.hpp"
#include "setd/base/random.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/ds/hash.hpp"
#include "setd/net/server.hpp"
#include "setd/script/engine.hpp"
#include "setd/server/process.hpp"
#include "setd/server/server_state.hpp"

namespace {

void usage() {
  std::fprintf(stderr,
               "Usage: setd [/path/to/setd.conf] [options]\n"
               "       setd - (read config from stdin)\n"
               "       setd -v or --version\n"
               "       setd -h or --help\n\n"
               "Examples:\n"
               "       setd (run the server with default config)\n"
               "       setd conf/setd.conf\n"
               "       setd --port 7777\n"
               "       setd conf/setd.conf --loglevel verbose\n");
}

spdlog::level::level_enum log_level(const std::string& name) {
  if (name == "debug") return spdlog::level::debug;
  if (name == "verbose") return spdlog::level::debug;
  if (name == "warning") return spdlog::level::warn;
  return spdlog::level::info;
}

bool setup_logging(const setd::server::Settings& s) {
  try {
    std::shared_ptr<spdlog::logger> logger;
    if (s.logfile.empty())
      logger = spdlog::stdout_logger_mt("setd");
    else
      logger = spdlog::basic_logger_mt("setd", s.logfile);
    logger->set_pattern("%P:M %d %b %Y %H:%M:%S.%e * %v");
    logger->set_level(log_level(s.loglevel));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
  } catch (const spdlog::spdlog_ex& e) {
    std::fprintf(stderr, "Can't open the log file: %s\n", e.what());
    return false;
  }
  return true;
}

// Sends `state` to systemd over $NOTIFY_SOCKET (sd_notify's protocol: one
// datagram on a unix socket; '@' names an abstract socket). Returns the
// bytes sent, 0 without a socket, -1 on error (Redis's
// redisCommunicateSystemd).
int notify_systemd(const std::string& state) {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (path == nullptr || path[0] == '\0') return 0;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const size_t len = std::strlen(path);
  if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path)) return -1;
  std::memcpy(addr.sun_path, path, len);
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<sockaddr*>(&addr), addr_len);
  ::close(fd);
  if (n < 0) spdlog::warn("Can't send notification to systemd: {}", std::strerror(errno));
  return static_cast<int>(n);
}

// supervised: which supervisor setd talks to (0 none, 1 upstart, 2
// systemd), as Redis's redisIsSupervised: auto looks at UPSTART_JOB, then
// NOTIFY_SOCKET. Upstart learns of readiness by a SIGSTOP; systemd by
// datagrams (STATUS=..., READY=1, STOPPING=1).
int start_supervision(int mode) {
  if (mode == 3) {
    if (std::getenv("UPSTART_JOB") != nullptr)
      mode = 1;
    else if (std::getenv("NOTIFY_SOCKET") != nullptr)
      mode = 2;
    else
      mode = 0;
  }
  if (mode == 1) {
    if (std::getenv("UPSTART_JOB") == nullptr) {
      spdlog::warn("upstart supervision requested, but UPSTART_JOB not found!");
      return 0;
    }
    spdlog::info("supervised by upstart, will stop to signal readiness.");
    std::raise(SIGSTOP);
    ::unsetenv("UPSTART_JOB");
    return 1;
  }
  if (mode == 2) {
    if (notify_systemd("STATUS=setd is loading...\n") <= 0) {
      spdlog::warn(
          "systemd supervision requested or auto-detected, but NOTIFY_SOCKET is not usable");
      return 0;
    }
    spdlog::info(
        "Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec "
        "and TimeoutStopSec in your service unit.");
    return 2;
  }
  return 0;
}

// daemonize: the parent exits, the child leaves the terminal's session and
// its standard streams go to /dev/null (Redis's daemonize()).
void daemonize() {
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid > 0) ::_exit(0);
  ::setsid();
  const int fd = ::open("/dev/null", O_RDWR);
  if (fd >= 0) {
    ::dup2(fd, STDIN_FILENO);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO) ::close(fd);
  }
}

// The start-up banner: with always-show-logo, or when logging to a
// terminal (as Redis's redisAsciiArt); otherwise one line.
void show_banner(const setd::server::ServerState& state) {
  const auto& s = state.settings();
  const int port = s.port != 0 ? s.port : s.tls_port;
  if (!s.always_show_logo && !(s.logfile.empty() && ::isatty(STDOUT_FILENO))) {
    spdlog::info("Running mode=standalone, port={}.", port);
    return;
  }
  spdlog::info(
      "\n"
      "     _____ ______ _______ _____\n"
      "    / ____|  ____|__   __|  __ \\     setd {} (redis {} compatible)\n"
      "   | (___ | |__     | |  | |  | |    Running in standalone mode\n"
      "    \\___ \\|  __|    | |  | |  | |    Port: {}\n"
      "    ____) | |____   | |  | |__| |    PID: {}\n"
      "   |_____/|______|  |_|  |_____/\n",
      setd::server::kSetdVersion, setd::server::kRedisCompatVersion, port, getpid());
}

}  // namespace

int main(int argc, char** argv) {
  // As redis-server: strcoll() (SORT ... ALPHA) follows the environment's
  // collation.
  std::setlocale(LC_COLLATE, "");
  // Room for a process title (set-proc-title) before argv is read.
  setd::server::proc_title_init(argc, argv);
  const std::string title = argc > 0 ? argv[0] : "setd";
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-v" || args[0] == "--version")) {
    std::printf("setd v=%s (redis compatibility %s)\n", setd::server::kSetdVersion,
                setd::server::kRedisCompatVersion);
    return 0;
  }
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    usage();
    return 0;
  }

  std::string config_path;
  std::string config_text;
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    config_path = args[0];
    args.erase(args.begin());
    std::stringstream text;
    if (config_path == "-") {
      text << std::cin.rdbuf();
      config_path.clear();
    } else {
      std::ifstream in(config_path);
      if (!in) {
        std::fprintf(stderr, "Fatal error, can't open config file '%s': %s\n", config_path.c_str(),
                     std::strerror(errno));
        return 1;
      }
      text << in.rdbuf();
      config_path = std::filesystem::absolute(config_path).string();
    }
    config_text = text.str();
  }

  setd::server::Config config;
  if (const std::string err = config.load(config_text, args); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  if (!setup_logging(config.settings())) return 1;
  // Supervision and daemonizing come first, before any thread starts
  // (Redis: a supervised server does not daemonize).
  const int supervised = start_supervision(config.settings().supervised);
  const bool background = config.settings().daemonize && supervised == 0;
  if (background) {
    daemonize();
    // A daemon always has a pid file (Redis's createPidFile default).
    if (config.settings().pidfile.empty()) config.settings().pidfile = "/var/run/setd.pid";
  }
  if (const std::string err = setd::base::alloc::init(); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }

  std::signal(SIGPIPE, SIG_IGN);
  const auto seed = static_cast<uint64_t>(setd::base::system_ms()) * 0x9E3779B97F4A7C15ULL ^
                    static_cast<uint64_t>(getpid()) ^ setd::base::monotonic_us();
  setd::base::rng().reseed(seed);
  setd::ds::set_hash_seed(setd::base::rng().next());

  setd::server::ServerState state(std::move(config));
  state.config_file = config_path;
  // The process title (set-proc-title, proc-title-template), now and after
  // CONFIG SET proc-title-template.
  auto update_title = [&state, title, config_path] {
    if (!state.settings().set_proc_title) return;
    std::string t;
    if (setd::server::expand_proc_title(
            state.settings().proc_title_template,
            setd::server::proc_title_vars(state.settings(), title, config_path), t))
      setd::server::set_proc_title(t);
  };
  // Transparent huge pages make fork-less snapshots and big sets costly
  // in latency (Redis's THPDisable).
  if (state.settings().disable_thp) {
    if (const std::string err = setd::server::disable_transparent_huge_pages(); !err.empty())
      spdlog::warn("WARNING: could not disable transparent huge pages: {}", err);
  }
  if (const std::string err =
          setd::server::apply_oom_score_adj(state.settings(), !state.settings().replicaof.empty());
      !err.empty())
    spdlog::warn("{}", err);
  {
    std::error_code ec;
    state.executable = std::filesystem::canonical("/proc/self/exe", ec).string();
  }
  // Room for maxclients connections (Redis's adjustOpenFilesLimit).
  {
    const auto fd = setd::base::adjust_fd_limit(state.settings().maxclients);
    for (const auto& w : fd.warnings) spdlog::warn("{}", w);
    if (!fd.notice.empty()) spdlog::info("{}", fd.notice);
    if (fd.fatal) return 1;
    state.config().settings().maxclients = fd.maxclients;
  }
  if (const long long mm = state.settings().maxmemory; mm > 0 && mm < 1024 * 1024)
    spdlog::warn(
        "WARNING: You specified a maxmemory value that is less than 1MB (current value is {} "
        "bytes). Are you sure this is what you really want?",
        mm);
  state.config().on_change([&state, &update_title](const std::string& name) {
    if (name == "loglevel") spdlog::set_level(log_level(state.settings().loglevel));
    if (name == "proc-title-template") update_title();
  });
  if (const std::string err = state.load_users_at_startup(); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    spdlog::critical("{}", err);
    return 1;
  }
  setd::cmd::Dispatcher dispatcher(state);
  // Scripting (EVAL, FUNCTION): its commands join the dispatcher's table.
  const auto scripts = setd::script::install(dispatcher);

  boost::asio::io_context io(1);
  setd::net::Server server(io, state, dispatcher);
  if (const std::string err = server.listen(); !err.empty()) {
    spdlog::critical("{}", err);
    return 1;
  }
  if (!state.settings().pidfile.empty()) {
    std::ofstream pid(state.settings().pidfile);
    pid << getpid() << "\n";
  }
  update_title();
  show_banner(state);
  // Memory in use before any data: INFO's used_memory_startup (Redis takes
  // it at the end of its initialisation too).
  state.memory().record_startup();
  // The dataset, before the first client is accepted (they wait in the
  // listen backlog meanwhile).
  if (const std::string err = state.persistence().load_at_startup(); !err.empty()) {
    spdlog::critical("{}", err);
    if (!state.settings().pidfile.empty()) std::remove(state.settings().pidfile.c_str());
    return 1;
  }
  spdlog::info("setd {} (redis {} compatible) started, pid={}, port={}, config file={}",
               setd::server::kSetdVersion, setd::server::kRedisCompatVersion, getpid(),
               state.tcp_port, config_path.empty() ? "(none)" : config_path);
  // One line per kind of listener, as Redis 7.2 logs them.
  if (state.settings().port != 0) spdlog::info("Ready to accept connections tcp");
  if (state.settings().tls_port != 0) spdlog::info("Ready to accept connections tls");
  server.start();
  dispatcher.replication().start();  // `replicaof`: connect to the master
  if (supervised == 2) {
    notify_systemd(state.settings().replicaof.empty()
                       ? "STATUS=Ready to accept connections\n"
                       : "STATUS=Ready to accept connections in read-only mode. Waiting for "
                         "MASTER <-> REPLICA sync\n");
    notify_systemd("READY=1\n");
  }
  if (!server.run()) {
    spdlog::warn("Could not start the event loop: {}", std::strerror(errno));
    return 1;
  }
  if (supervised == 2) notify_systemd("STOPPING=1\n");
  if (!state.settings().pidfile.empty()) std::remove(state.settings().pidfile.c_str());
  spdlog::info("setd stopped.");
  return 0;
}
