// Server commands: INFO, CONFIG, DBSIZE, TIME, FLUSHDB, FLUSHALL, SHUTDOWN.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include "setd/base/clock.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

// 40 hex digits from the system's entropy source, as Redis takes them from
// /dev/urandom (getRandomHexChars): servers started in the same millisecond
// must not share a run id, which Sentinel tells instances apart by.
const std::string& run_id() {
  static const std::string id = [] {
    std::string s;
    std::random_device entropy;
    const char* hex = "0123456789abcdef";
    while (s.size() < 40) {
      uint32_t bits = entropy();
      for (int i = 0; i < 8 && s.size() < 40; ++i, bits >>= 4) s += hex[bits & 15];
    }
    return s;
  }();
  return id;
}

// Appends "name:value\r\n".
template <class T>
void field(std::string& out, std::string_view name, const T& value) {
  out.append(name);
  out.push_back(':');
  if constexpr (std::is_arithmetic_v<T>)
    out += std::to_string(value);
  else
    out += value;
  out += "\r\n";
}

void section_server(std::string& o, server::ServerState& s) {
  o += "# Server\r\n";
  field(o, "redis_version", std::string(server::kRedisCompatVersion));
  field(o, "setd_version", std::string(server::kSetdVersion));
  field(o, "redis_git_sha1", std::string("00000000"));
  field(o, "redis_git_dirty", 0);
  field(o, "redis_build_id", std::string("0"));
  field(o, "redis_mode", std::string("standalone"));
  struct utsname u {};
  uname(&u);
  field(o, "os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  field(o, "arch_bits", 64);
  field(o, "monotonic_clock", std::string("POSIX clock_gettime"));
  field(o, "multiplexing_api", std::string("epoll"));
  field(o, "gcc_version",
        std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
            std::to_string(__GNUC_PATCHLEVEL__));
  field(o, "process_id", static_cast<long long>(getpid()));
  field(o, "process_supervised", std::string("no"));
  field(o, "run_id", run_id());
  field(o, "tcp_port", s.tcp_port ? s.tcp_port : s.settings().port);
  const int64_t now = base::system_ms();
  field(o, "server_time_usec", now * 1000);
  const int64_t up = (now - s.start_time_ms) / 1000;
  field(o, "uptime_in_seconds", up);
  field(o, "uptime_in_days", up / 86400);
  field(o, "hz", s.settings().hz);
  field(o, "configured_hz", s.settings().hz);
  field(o, "lru_clock", (now / 1000) & ((1 << 24) - 1));
  field(o, "executable", s.executable);
  field(o, "config_file", s.config_file);
  field(o, "io_threads_active", 0);
}

void section_clients(std::string& o, server::ServerState& s) {
  size_t max_in = 0, max_out = 0, pubsub = 0;
  for (const auto& [id, c] : s.clients()) {
    max_in = std::max(max_in, c->query_buffer_len);
    max_out = std::max(max_out, c->output_bytes());
    if (c->subscriptions()) ++pubsub;
  }
  o += "# Clients\r\n";
  field(o, "connected_clients", s.client_count());
  field(o, "cluster_connections", 0);
  field(o, "maxclients", s.settings().maxclients);
  field(o, "client_recent_max_input_buffer", max_in);
  field(o, "client_recent_max_output_buffer", max_out);
  field(o, "blocked_clients", 0);
  field(o, "tracking_clients", s.tracking().clients());
  field(o, "pubsub_clients", pubsub);
  field(o, "clients_in_timeout_table", 0);
}

void section_persistence(std::string& o, server::ServerState& s) { s.persistence().info(o); }

void section_stats(std::string& o, server::ServerState& s, const repl::Replication& r) {
  const auto& st = s.stats();
  o += "# Stats\r\n";
  field(o, "total_connections_received", st.connections_received);
  field(o, "total_commands_processed", st.commands_processed);
  field(o, "instantaneous_ops_per_sec", 0);
  field(o, "total_net_input_bytes", st.net_input_bytes);
  field(o, "total_net_output_bytes", st.net_output_bytes);
  field(o, "rejected_connections", st.rejected_connections);
  field(o, "sync_full", r.sync_full());
  field(o, "sync_partial_ok", r.sync_partial_ok());
  field(o, "sync_partial_err", r.sync_partial_err());
  field(o, "expired_keys", st.expired_keys);
  field(o, "evicted_keys", st.evicted_keys);
  field(o, "evicted_clients", st.evicted_clients);
  // Milliseconds memory was over maxmemory, in total and in the current
  // stretch.
  const int64_t since = st.eviction_exceeded_since_us;
  const uint64_t current_us = since ? static_cast<uint64_t>(base::monotonic_us() - since) : 0;
  field(o, "total_eviction_exceeded_time", (st.total_eviction_exceeded_us + current_us) / 1000);
  field(o, "current_eviction_exceeded_time", current_us / 1000);
  field(o, "keyspace_hits", st.keyspace_hits);
  field(o, "keyspace_misses", st.keyspace_misses);
  field(o, "pubsub_channels", s.hub().channel_count());
  field(o, "pubsub_patterns", s.hub().numpat());
  field(o, "pubsubshard_channels", s.shard_hub().channel_count());
  field(o, "tracking_total_keys", s.tracking().total_keys());
  field(o, "tracking_total_items", s.tracking().total_items());
  field(o, "tracking_total_prefixes", s.tracking().total_prefixes());
  field(o, "total_error_replies", st.total_error_replies);
  field(o, "client_query_buffer_limit_disconnections", st.client_query_buffer_limit_disconnections);
  field(o, "client_output_buffer_limit_disconnections", st.client_output_limit_disconnections);
}

void section_cpu(std::string& o, server::ServerState&) {
  o += "# CPU\r\n";
  std::ifstream stat("/proc/self/stat");
  std::string skip;
  unsigned long utime = 0, stime = 0;
  for (int i = 0; i < 13 && stat >> skip; ++i) {
  }
  stat >> utime >> stime;
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(stime) / hz);
  field(o, "used_cpu_sys", std::string(buf));
  std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(utime) / hz);
  field(o, "used_cpu_user", std::string(buf));
}

void section_keyspace(std::string& o, server::ServerState& s) {
  o += "# Keyspace\r\n";
  for (int i = 0; i < s.db_count(); ++i) {
    auto& db = s.db(i);
    if (db.size() == 0) continue;
    o += "db" + std::to_string(i) + ":keys=" + std::to_string(db.size()) +
         ",expires=" + std::to_string(db.expires_size()) +
         ",avg_ttl=" + std::to_string(db.avg_ttl()) + "\r\n";
  }
}

void section_commandstats(std::string& o, const Registry& reg) {
  o += "# Commandstats\r\n";
  auto one = [&](const CommandSpec& c) {
    if (c.stats.calls == 0 && c.stats.rejected_calls == 0 && c.stats.failed_calls == 0) return;
    char per[32];
    std::snprintf(per, sizeof(per), "%.2f",
                  c.stats.calls
                      ? static_cast<double>(c.stats.usec) / static_cast<double>(c.stats.calls)
                      : 0.0);
    o += "cmdstat_" + c.name + ":calls=" + std::to_string(c.stats.calls) +
         ",usec=" + std::to_string(c.stats.usec) + ",usec_per_call=" + per +
         ",rejected_calls=" + std::to_string(c.stats.rejected_calls) +
         ",failed_calls=" + std::to_string(c.stats.failed_calls) + "\r\n";
  };
  for (const auto& c : reg.all()) {
    one(*c);
    for (const auto& sub : c->subcommands) one(sub);
  }
}

// Per-command latency percentiles (latency-tracking), as Redis's
// fillPercentileDistributionLatencies: "p<percentile>=<µs with 3 decimals>".
void section_latencystats(std::string& o, server::ServerState& s, const Registry& reg) {
  o += "# Latencystats\r\n";
  if (!s.settings().latency_tracking) return;
  const auto& percentiles = s.settings().latency_tracking_info_percentiles;
  auto one = [&](const CommandSpec& c) {
    const server::LatencyHistogram* h = c.stats.histogram.get();
    if (h == nullptr) return;
    o += "latency_percentiles_usec_" + c.name + ":";
    for (size_t j = 0; j < percentiles.size(); ++j) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "=%.3f",
                    static_cast<double>(h->value_at_percentile(percentiles[j])) / 1000.0);
      o += "p" + server::format_percentile(percentiles[j]) + buf;
      if (j + 1 != percentiles.size()) o += ",";
    }
    o += "\r\n";
  };
  for (const auto& c : reg.all()) {
    one(*c);
    for (const auto& sub : c->subcommands) one(sub);
  }
}

void section_errorstats(std::string& o, server::ServerState& s) {
  o += "# Errorstats\r\n";
  for (const auto& [code, n] : s.stats().errors)
    o += "errorstat_" + code + ":count=" + std::to_string(n) + "\r\n";
}

void info(Context& ctx) {
  static const std::vector<std::string> kDefault = {"server",      "clients",    "memory",
                                                    "persistence", "stats",      "replication",
                                                    "cpu",         "errorstats", "keyspace"};
  static const std::vector<std::string> kAll = {
      "server", "clients",      "memory",     "persistence",  "stats",   "replication",
      "cpu",    "commandstats", "errorstats", "latencystats", "keyspace"};
  std::set<std::string> wanted;
  if (ctx.argc() == 1) wanted.insert(kDefault.begin(), kDefault.end());
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string s(ctx.arg(i));
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "default")
      wanted.insert(kDefault.begin(), kDefault.end());
    else if (s == "all" || s == "everything")
      wanted.insert(kAll.begin(), kAll.end());
    else
      wanted.insert(s);
  }
  std::string out;
  auto emit = [&](const std::string& name, auto&& fn) {
    if (!wanted.count(name)) return;
    if (!out.empty()) out += "\r\n";
    fn(out);
  };
  auto& s = ctx.server;
  emit("server", [&](std::string& o) { section_server(o, s); });
  emit("clients", [&](std::string& o) { section_clients(o, s); });
  emit("memory", [&](std::string& o) { info_memory_section(o, s, ctx.dispatcher.replication()); });
  emit("persistence", [&](std::string& o) { section_persistence(o, s); });
  emit("stats", [&](std::string& o) { section_stats(o, s, ctx.dispatcher.replication()); });
  emit("replication", [&](std::string& o) { ctx.dispatcher.replication().info(o); });
  emit("cpu", [&](std::string& o) { section_cpu(o, s); });
  emit("commandstats", [&](std::string& o) { section_commandstats(o, ctx.dispatcher.registry()); });
  emit("errorstats", [&](std::string& o) { section_errorstats(o, s); });
  emit("latencystats",
       [&](std::string& o) { section_latencystats(o, s, ctx.dispatcher.registry()); });
  emit("keyspace", [&](std::string& o) { section_keyspace(o, s); });
  ctx.rb.verbatim(out);
}

void dbsize(Context& ctx) { ctx.rb.integer(static_cast<long long>(ctx.db().size())); }

void time_cmd(Context& ctx) {
  const int64_t us = base::system_ms() * 1000 + (base::monotonic_us() % 1000);
  ctx.rb.array(2);
  ctx.rb.bulk_ll(us / 1000000);
  ctx.rb.bulk_ll(us % 1000000);
}

// FLUSHDB / FLUSHALL [ASYNC|SYNC]: whether to free in the background
// (without an argument: lazyfree-lazy-user-flush); nullopt after a syntax
// error.
std::optional<bool> parse_flush_mode(Context& ctx) {
  if (ctx.argc() == 1) return ctx.server.settings().lazyfree_lazy_user_flush;
  if (ctx.argc() == 2 && is(ctx.arg(1), "ASYNC")) return true;
  if (ctx.argc() == 2 && is(ctx.arg(1), "SYNC")) return false;
  ctx.syntax_error();
  return std::nullopt;
}

// FLUSHDB and FLUSHALL count every key they drop as a change and are always
// propagated, even when nothing was there (Redis 7.0).
void flushdb(Context& ctx) {
  const auto async = parse_flush_mode(ctx);
  if (!async) return;
  ctx.dirty(ctx.db().size());
  ctx.server.flush_db(ctx.client.db, *async);
  ctx.force_propagation(server::kToAll);
  ctx.rb.ok();
}

void flushall(Context& ctx) {
  const auto async = parse_flush_mode(ctx);
  if (!async) return;
  for (int i = 0; i < ctx.server.db_count(); ++i) ctx.dirty(ctx.server.db(i).size());
  ctx.server.flush_all(*async);
  // A running BGSAVE is dropped; with save points an empty dump is written.
  ctx.server.persistence().after_flushall();
  ctx.force_propagation(server::kToAll);
  ctx.rb.ok();
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] (Redis 7.0): saves the dump
// when save points are set (or SAVE) unless NOSAVE, fsyncs the AOF, then
// stops. A failed save keeps the server running (-ERR), unless FORCE.
void shutdown(Context& ctx) {
  bool nosave = false, save = false, force = false, abort = false, now = false;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const auto a = ctx.arg(i);
    if (is(a, "NOSAVE"))
      nosave = true;
    else if (is(a, "SAVE"))
      save = true;
    else if (is(a, "NOW"))
      now = true;
    else if (is(a, "FORCE"))
      force = true;
    else if (is(a, "ABORT"))
      abort = true;
    else
      return ctx.syntax_error();
  }
  if ((abort && (nosave || save || now || force)) || (nosave && save)) return ctx.syntax_error();
  // No shutdown ever waits (setd has no replicas to wait for): nothing to abort.
  if (abort) return ctx.rb.error("ERR No shutdown in progress.");
  // A script past busy-reply-threshold: only SHUTDOWN NOSAVE stops the
  // server (and the script) then, as in Redis.
  if (ctx.server.scripts != nullptr && ctx.server.scripts->busy()) {
    if (!nosave) return ctx.rb.error(std::string(ctx.server.scripts->busy_error()));
    ctx.server.scripts->abort_for_shutdown();
  }
  const std::string err = ctx.server.persistence().prepare_for_shutdown(save, nosave);
  if (!err.empty() && !force) return ctx.rb.error("ERR Errors trying to SHUTDOWN. Check logs.");
  if (ctx.server.request_shutdown) ctx.server.request_shutdown();
  ctx.client.close_after_reply = true;
}

// --- CONFIG -----------------------------------------------------------------

void config_get(Context& ctx) {
  const auto pairs = ctx.server.config().get(ctx.args.subspan(2));
  ctx.rb.map(pairs.size());
  for (const auto& [k, v] : pairs) {
    ctx.rb.bulk(k);
    ctx.rb.bulk(v);
  }
}

void config_set(Context& ctx) {
  if ((ctx.argc() - 2) % 2 != 0) {  // the arity (-4) already ensured one pair
    ctx.syntax_error();
    return;
  }
  // dir and dbfilename: only where enable-protected-configs allows it.
  const auto mode = ctx.server.settings().enable_protected_configs;
  const bool allow_protected = mode == server::EnableMode::kYes ||
                               (mode == server::EnableMode::kLocal && ctx.client.is_local());
  // Secrets never show in the slow log (Redis's SENSITIVE_CONFIG), even
  // when the change fails.
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    const auto name = ctx.arg(i);
    if (is(name, "requirepass") || is(name, "masterauth") || is(name, "masteruser"))
      ctx.redact(i + 1);
  }
  const std::string err = ctx.server.config().set_many(ctx.args.subspan(2), allow_protected);
  if (err.empty())
    ctx.rb.ok();
  else
    ctx.rb.error(err);
}

void config_resetstat(Context& ctx) {
  ctx.server.stats().reset();
  ctx.server.lazyfree().reset_stats();
  for (const auto& c : ctx.dispatcher.registry().all()) {
    c->stats = {};
    for (const auto& sub : c->subcommands) sub.stats = {};
  }
  ctx.rb.ok();
}

void config_rewrite(Context& ctx) {
  if (ctx.server.config_file.empty()) {
    ctx.rb.error("ERR The server is running without a config file");
    return;
  }
  // The ACL users go into the config file unless they live in an aclfile.
  std::vector<std::string> users;
  if (ctx.server.settings().aclfile.empty()) users = ctx.server.users().user_lines();
  const std::string err = ctx.server.config().rewrite(ctx.server.config_file, users);
  if (err.empty())
    ctx.rb.ok();
  else
    ctx.rb.error(err);
}

void config_help(Context& ctx) {
  reply_help(
      ctx, "config",
      {"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
       "SET <directive> <value>", "    Set the configuration <directive> to <value>.", "RESETSTAT",
       "    Reset statistics reported by the INFO command.", "REWRITE",
       "    Rewrite the configuration file."});
}

CommandSpec config_sub(std::string name, int arity, std::string flags, Handler h,
                       std::string summary, std::string since, std::string args,
                       std::string complexity = "O(1)") {
  return make_command("config|" + name, arity, std::move(flags), h, "server", std::move(summary),
                      std::move(since), std::move(complexity), std::move(args));
}

}  // namespace

void register_server_commands(Registry& r) {
  const std::vector<std::pair<std::string, std::string>> kFlushHistory = {
      {"4.0.0", "Added the `ASYNC` flushing mode modifier."},
      {"6.2.0", "Added the `SYNC` flushing mode modifier."}};
  r.add({.name = "info",
         .arity = -1,
         .flags = "loading stale",
         .acl = "@dangerous",
         .handler = info,
         .doc = {"Get information and statistics about the server",
                 "1.0.0",
                 "server",
                 "O(1)",
                 "[section...]",
                 {{"7.0.0", "Added support for taking multiple section arguments."}}},
         .tips = {"nondeterministic_output", "request_policy:all_shards",
                  "response_policy:special"}});
  r.add(
      {.name = "dbsize",
       .arity = 1,
       .flags = "readonly fast",
       .acl = "@keyspace",
       .handler = dbsize,
       .doc = {"Return the number of keys in the selected database", "1.0.0", "server", "O(1)", ""},
       .tips = {"request_policy:all_shards", "response_policy:agg_sum"}});
  r.add({.name = "time",
         .arity = 1,
         .flags = "loading stale fast",
         .handler = time_cmd,
         .doc = {"Return the current server time", "2.6.0", "server", "O(1)", ""},
         .tips = {"nondeterministic_output"}});
  r.add({.name = "flushdb",
         .arity = -1,
         .flags = "write",
         .acl = "@keyspace @dangerous",
         .handler = flushdb,
         .doc = {"Remove all keys from the current database", "1.0.0", "server",
                 "O(N) where N is the number of keys in the selected database",
                 "[async= ASYNC@4.0.0 | SYNC@6.2.0]", kFlushHistory},
         .tips = {"request_policy:all_shards", "response_policy:all_succeeded"}});
  r.add({.name = "flushall",
         .arity = -1,
         .flags = "write",
         .acl = "@keyspace @dangerous",
         .handler = flushall,
         .doc = {"Remove all keys from all databases", "1.0.0", "server",
                 "O(N) where N is the total number of keys in all databases",
                 "[async= ASYNC@4.0.0 | SYNC@6.2.0]", kFlushHistory},
         .tips = {"request_policy:all_shards", "response_policy:all_succeeded"}});
  r.add({.name = "shutdown",
         .arity = -1,
         .flags = "admin noscript loading stale no_multi sentinel allow_busy",
         .handler = shutdown,
         .doc = {"Synchronously save the dataset to disk and then shut down the server",
                 "1.0.0",
                 "server",
                 "O(N) when saving, where N is the total number of keys in all databases when "
                 "saving data, otherwise O(1)",
                 "[nosave_save= NOSAVE | SAVE] [NOW]@7.0.0 [FORCE]@7.0.0 [ABORT]@7.0.0",
                 {{"7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."}}}});
  CommandSpec config{.name = "config",
                     .arity = -2,
                     .flags = "",
                     .acl = "",
                     .handler = nullptr,
                     .doc = {"A container for server configuration commands", "2.0.0", "server",
                             "Depends on subcommand.", ""}};
  auto get =
      config_sub("get", -3, "admin noscript loading stale", config_get,
                 "Get the values of configuration parameters", "2.0.0", "(parameter= parameter)...",
                 "O(N) when N is the number of configuration parameters provided");
  get.doc.history = {
      {"7.0.0", "Added the ability to pass multiple pattern parameters in one call"}};
  auto set = config_sub("set", -4, "admin noscript loading stale", config_set,
                        "Set configuration parameters to the given values", "2.0.0",
                        "(parameter_value= parameter value)...",
                        "O(N) when N is the number of configuration parameters provided");
  set.doc.history = {{"7.0.0", "Added the ability to set multiple parameters in one call."}};
  set.tips = {"request_policy:all_nodes", "response_policy:all_succeeded"};
  config.subcommands = {
      std::move(get),
      std::move(set),
      config_sub("resetstat", 2, "admin noscript loading stale", config_resetstat,
                 "Reset the stats returned by INFO", "2.0.0", ""),
      config_sub("rewrite", 2, "admin noscript loading stale", config_rewrite,
                 "Rewrite the configuration file with the in memory configuration", "2.8.0", ""),
      config_sub("help", 2, "loading stale", config_help,
                 "Show helpful text about the different subcommands", "5.0.0", ""),
  };
  r.add(std::move(config));
}

}  // namespace setd::cmd
