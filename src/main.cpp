// setd entry point: `setd [config-file] [--directive value ...]`, exactly
// like redis-server's command line.
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

// clang-format off
#include <utility>  // before Asio: Boost 1.74 misses it under C++20
#include <boost/asio.hpp>
// clang-format on
#include <clocale>
#include <csignal>
#include <cstdio>
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

}  // namespace

int main(int argc, char** argv) {
  // As redis-server: strcoll() (SORT ... ALPHA) follows the environment's
  // collation.
  std::setlocale(LC_COLLATE, "");
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

  if (const std::string err = setd::base::alloc::init(); !err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
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

  std::signal(SIGPIPE, SIG_IGN);
  const auto seed = static_cast<uint64_t>(setd::base::system_ms()) * 0x9E3779B97F4A7C15ULL ^
                    static_cast<uint64_t>(getpid()) ^ setd::base::monotonic_us();
  setd::base::rng().reseed(seed);
  setd::ds::set_hash_seed(setd::base::rng().next());

  setd::server::ServerState state(std::move(config));
  state.config_file = config_path;
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
  state.config().on_change([&state](const std::string& name) {
    if (name == "loglevel") spdlog::set_level(log_level(state.settings().loglevel));
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
  io.run();
  if (!state.settings().pidfile.empty()) std::remove(state.settings().pidfile.c_str());
  spdlog::info("setd stopped.");
  return 0;
}
