// The Prometheus text exposition (see include/setd/cmd/metrics.hpp): the
// figures of INFO's server, clients, memory, persistence, stats,
// replication, cpu, commandstats, errorstats, latencystats and keyspace
// sections, renamed to Prometheus's conventions.
#include "setd/cmd/metrics.hpp"

#include <sys/resource.h>

#include <charconv>
#include <cmath>
#include <iterator>

#include "setd/base/clock.hpp"
#include "setd/cmd/dispatcher.hpp"

namespace setd::cmd {

namespace {

// Appends the exposition, one family at a time.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // "# HELP" and "# TYPE" of the family `name` (without the setd_ prefix).
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP setd_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE setd_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // One sample: setd_<name><suffix>{<labels>} <value>.
  void sample(std::string_view name, std::string_view labels, std::string_view value,
              std::string_view suffix = {}) {
    out_ += "setd_";
    out_ += name;
    out_ += suffix;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void sample(std::string_view name, std::string_view labels, int64_t value) {
    sample(name, labels, std::to_string(value));
  }
  void sample_double(std::string_view name, std::string_view labels, double value) {
    sample(name, labels, number(value));
  }

  // A family of one unlabelled sample.
  void counter(std::string_view name, std::string_view help, uint64_t value) {
    family(name, "counter", help);
    sample(name, {}, value);
  }
  void counter_double(std::string_view name, std::string_view help, double value) {
    family(name, "counter", help);
    sample_double(name, {}, value);
  }
  void gauge(std::string_view name, std::string_view help, int64_t value) {
    family(name, "gauge", help);
    sample(name, {}, value);
  }
  void gauge_double(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample_double(name, {}, value);
  }

  // A float as the text format wants it: the shortest form that reads back
  // the same, +Inf / -Inf / NaN.
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
  }

 private:
  std::string& out_;
};

std::string label(std::string_view name, std::string_view value) {
  std::string s(name);
  s += "=\"";
  s += escape_label_value(value);
  s += '"';
  return s;
}

template <class T>
int64_t as_i64(T v) {
  return static_cast<int64_t>(v);
}

void server_section(Writer& w, server::ServerState& s) {
  w.family("build_info", "gauge", "setd's version and the Redis version it behaves like.");
  w.sample("build_info",
           label("version", server::kSetdVersion) + "," +
               label("redis_version", server::kRedisCompatVersion),
           int64_t{1});
  const int64_t now = base::system_ms();
  w.gauge_double("start_time_seconds", "When the server started (Unix time, seconds).",
                 static_cast<double>(s.start_time_ms) / 1000.0);
  w.gauge_double("uptime_seconds", "Seconds since the server started.",
                 static_cast<double>(now - s.start_time_ms) / 1000.0);
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  w.counter_double("cpu_user_seconds_total", "User CPU time the process used (INFO used_cpu_user).",
                   secs(ru.ru_utime));
  w.counter_double("cpu_system_seconds_total",
                   "System CPU time the process used (INFO used_cpu_sys).", secs(ru.ru_stime));
}

void clients_section(Writer& w, server::ServerState& s) {
  size_t pubsub = 0;
  for (const auto& [id, c] : s.clients())
    if (c->subscriptions()) ++pubsub;
  w.gauge("connected_clients", "Client connections open (INFO connected_clients).",
          as_i64(s.client_count()));
  w.gauge("max_clients", "The maxclients limit.", s.settings().maxclients);
  w.gauge("pubsub_clients", "Clients subscribed to a channel or pattern.", as_i64(pubsub));
}

void memory_section(Writer& w, server::ServerState& s, const repl::Replication& r) {
  const MemoryFigures m = memory_figures(s, r);
  w.gauge("memory_used_bytes", "Bytes allocated (INFO used_memory).", as_i64(m.used));
  w.gauge("memory_rss_bytes", "Resident set size of the process (INFO used_memory_rss).",
          as_i64(m.rss));
  w.gauge("memory_peak_bytes", "Highest used_memory seen (INFO used_memory_peak).", as_i64(m.peak));
  w.gauge("memory_startup_bytes", "used_memory at start-up (INFO used_memory_startup).",
          as_i64(m.startup));
  w.gauge("memory_overhead_bytes",
          "Memory spent on the server's own structures (INFO used_memory_overhead).",
          as_i64(m.overhead));
  w.gauge("memory_dataset_bytes", "used_memory minus the overhead (INFO used_memory_dataset).",
          as_i64(m.dataset));
  w.gauge("memory_max_bytes", "The maxmemory limit (0 = none).", s.settings().maxmemory);
  w.gauge_double("memory_fragmentation_ratio",
                 "RSS over used memory (INFO mem_fragmentation_ratio).", m.fragmentation_ratio);
  w.gauge("memory_replication_backlog_bytes",
          "The replication backlog (INFO mem_replication_backlog).", as_i64(m.replication_backlog));
  w.gauge("memory_clients_normal_bytes",
          "Buffers and structures of the clients that are not replicas (INFO mem_clients_normal).",
          as_i64(m.clients_normal));
  w.gauge("memory_clients_replicas_bytes", "Replicas' output buffers (INFO mem_clients_slaves).",
          as_i64(m.clients_replicas));
  w.gauge("memory_aof_buffer_bytes", "The AOF buffer (INFO mem_aof_buffer).", as_i64(m.aof_buffer));
  w.gauge("memory_scripts_bytes",
          "Cached scripts and function libraries (INFO used_memory_scripts).", as_i64(m.scripts));
  w.gauge("lazyfree_pending_objects", "Objects waiting to be freed in the background.",
          as_i64(s.lazyfree().pending()));
  w.counter("lazyfreed_objects_total", "Objects freed in the background.", s.lazyfree().freed());
}

void persistence_section(Writer& w, server::ServerState& s) {
  const server::Persistence& p = s.persistence();
  w.gauge("loading", "1 while a dump or AOF is being loaded.", s.loading ? 1 : 0);
  w.gauge("rdb_changes_since_last_save", "Changes since the last successful save.",
          as_i64(s.dirty));
  w.gauge("rdb_bgsave_in_progress", "1 while a BGSAVE runs.", p.bgsave_in_progress() ? 1 : 0);
  w.gauge("rdb_last_save_timestamp_seconds", "When the last successful save ended (Unix time).",
          p.lastsave());
  w.gauge("rdb_last_bgsave_ok", "1 if the last BGSAVE succeeded, 0 if it failed.",
          p.last_bgsave_ok() ? 1 : 0);
  w.counter("rdb_saves_total", "Saves made since start-up (INFO rdb_saves).", p.rdb_saves());
  w.gauge("aof_enabled", "1 when the append-only file is on.", p.aof_enabled() ? 1 : 0);
  w.gauge("aof_rewrite_in_progress", "1 while an AOF rewrite runs.",
          p.aof_rewrite_in_progress() ? 1 : 0);
  w.counter("aof_rewrites_total", "AOF rewrites since start-up.", p.aof_rewrites());
  w.gauge("aof_last_rewrite_ok", "1 if the last AOF rewrite succeeded.",
          p.aof_last_rewrite_ok() ? 1 : 0);
  w.gauge("aof_last_write_ok", "1 if the last AOF write (and fsync) succeeded.",
          p.aof_last_write_ok() ? 1 : 0);
  if (p.aof_enabled())
    w.gauge("aof_current_size_bytes", "Size of the AOF (INFO aof_current_size).",
            as_i64(p.aof_current_size()));
}

void stats_section(Writer& w, server::ServerState& s) {
  const server::Stats& st = s.stats();
  w.counter("connections_received_total", "Connections accepted (INFO total_connections_received).",
            st.connections_received);
  w.counter("connections_rejected_total", "Connections refused by maxclients.",
            st.rejected_connections);
  w.counter("commands_processed_total", "Commands run (INFO total_commands_processed).",
            st.commands_processed);
  w.counter("net_input_bytes_total", "Bytes read from clients.", st.net_input_bytes);
  w.counter("net_output_bytes_total", "Bytes written to clients.", st.net_output_bytes);
  w.counter("expired_keys_total", "Keys deleted because their TTL passed.", st.expired_keys);
  w.counter("evicted_keys_total", "Keys evicted by maxmemory.", st.evicted_keys);
  w.counter("evicted_clients_total", "Clients evicted by maxmemory-clients.", st.evicted_clients);
  const int64_t since = st.eviction_exceeded_since_us;
  const uint64_t current_us = since ? static_cast<uint64_t>(base::monotonic_us() - since) : 0;
  w.counter_double("eviction_exceeded_seconds_total",
                   "Time used memory was over maxmemory (INFO total_eviction_exceeded_time).",
                   static_cast<double>(st.total_eviction_exceeded_us + current_us) / 1e6);
  w.counter("keyspace_hits_total", "Key lookups that found the key.", st.keyspace_hits);
  w.counter("keyspace_misses_total", "Key lookups that did not find the key.", st.keyspace_misses);
  w.counter("pubsub_messages_total", "Messages published.", st.pubsub_messages);
  w.gauge("pubsub_channels", "Channels with subscribers.", as_i64(s.hub().channel_count()));
  w.gauge("pubsub_patterns", "Pattern subscriptions.", as_i64(s.hub().numpat()));
  w.gauge("pubsub_shard_channels", "Shard channels with subscribers.",
          as_i64(s.shard_hub().channel_count()));
  w.counter("error_replies_total", "Error replies sent (INFO total_error_replies).",
            st.total_error_replies);
  w.counter("client_query_buffer_limit_disconnections_total",
            "Clients closed for exceeding client-query-buffer-limit.",
            st.client_query_buffer_limit_disconnections);
  w.counter("client_output_buffer_limit_disconnections_total",
            "Clients closed for exceeding client-output-buffer-limit.",
            st.client_output_limit_disconnections);
  w.family("errors_total", "counter", "Error replies by error code (INFO errorstats).");
  for (const auto& [code, n] : st.errors) w.sample("errors_total", label("code", code), n);
}

void replication_section(Writer& w, server::ServerState&, const repl::Replication& r) {
  w.family("replication_role", "gauge",
           "1 for the server's role (master or replica), 0 otherwise.");
  w.sample("replication_role", label("role", "master"), int64_t{r.is_replica() ? 0 : 1});
  w.sample("replication_role", label("role", "replica"), int64_t{r.is_replica() ? 1 : 0});
  w.gauge("replication_connected_replicas", "Replicas connected (INFO connected_slaves).",
          r.replica_count());
  w.gauge("replication_offset_bytes", "The replication offset (INFO master_repl_offset).",
          r.master_repl_offset());
  w.counter("replication_full_syncs_total", "Full resynchronizations served (INFO sync_full).",
            r.sync_full());
  w.counter("replication_partial_syncs_accepted_total",
            "Partial resynchronizations accepted (INFO sync_partial_ok).", r.sync_partial_ok());
  w.counter("replication_partial_syncs_denied_total",
            "Partial resynchronizations refused (INFO sync_partial_err).", r.sync_partial_err());
  if (r.is_replica()) {
    w.gauge("replication_master_link_up", "1 when the link to the master is up.",
            r.link_state() == repl::LinkState::kConnected ? 1 : 0);
    w.gauge("replication_master_sync_in_progress", "1 while the master's image is received.",
            r.link_state() == repl::LinkState::kTransfer ? 1 : 0);
  }
}

void keyspace_section(Writer& w, server::ServerState& s) {
  w.family("db_keys", "gauge", "Keys in each database.");
  for (int i = 0; i < s.db_count(); ++i)
    w.sample("db_keys", label("db", std::to_string(i)), as_i64(s.db(i).size()));
  w.family("db_keys_expiring", "gauge", "Keys with a TTL in each database.");
  for (int i = 0; i < s.db_count(); ++i)
    w.sample("db_keys_expiring", label("db", std::to_string(i)), as_i64(s.db(i).expires_size()));
  w.family("db_avg_ttl_seconds", "gauge",
           "Average TTL of the keys with one, from samples (INFO keyspace avg_ttl).");
  for (int i = 0; i < s.db_count(); ++i)
    w.sample_double("db_avg_ttl_seconds", label("db", std::to_string(i)),
                    static_cast<double>(s.db(i).avg_ttl()) / 1000.0);
}

// Calls the function for every command and subcommand of the table.
template <class Fn>
void each_command(const Registry& reg, Fn&& fn) {
  for (const auto& c : reg.all()) {
    fn(*c);
    for (const auto& sub : c->subcommands) fn(sub);
  }
}

void commands_section(Writer& w, server::ServerState& s, const Registry& reg) {
  // INFO commandstats: the commands that were called, rejected or failed.
  std::vector<const CommandSpec*> used;
  each_command(reg, [&](const CommandSpec& c) {
    if (c.stats.calls || c.stats.rejected_calls || c.stats.failed_calls) used.push_back(&c);
  });
  w.family("command_calls_total", "counter", "Calls of each command (INFO commandstats calls).");
  for (const auto* c : used) w.sample("command_calls_total", label("cmd", c->name), c->stats.calls);
  w.family("command_duration_seconds_total", "counter",
           "Time spent running each command (INFO commandstats usec).");
  for (const auto* c : used)
    w.sample_double("command_duration_seconds_total", label("cmd", c->name),
                    static_cast<double>(c->stats.usec) / 1e6);
  w.family("command_rejected_calls_total", "counter",
           "Calls refused before running (unknown arguments, ACL, OOM...).");
  for (const auto* c : used)
    w.sample("command_rejected_calls_total", label("cmd", c->name), c->stats.rejected_calls);
  w.family("command_failed_calls_total", "counter", "Calls that ran and answered an error.");
  for (const auto* c : used)
    w.sample("command_failed_calls_total", label("cmd", c->name), c->stats.failed_calls);

  // INFO latencystats' histograms (latency-tracking yes), cumulative.
  if (!s.settings().latency_tracking) return;
  constexpr size_t kN = std::size(kLatencyBuckets);
  int64_t limits[kN];
  for (size_t i = 0; i < kN; ++i) limits[i] = kLatencyBuckets[i].ns;
  w.family("command_latency_seconds", "histogram",
           "Latency of each command (latency-tracking; resolution: 2 significant digits).");
  each_command(reg, [&](const CommandSpec& c) {
    const server::LatencyHistogram* h = c.stats.histogram.get();
    if (h == nullptr || h->total() == 0) return;
    uint64_t counts[kN];
    h->cumulative_counts(limits, kN, counts);
    const std::string cmd = label("cmd", c.name);
    for (size_t i = 0; i < kN; ++i)
      w.sample("command_latency_seconds", cmd + ",le=\"" + kLatencyBuckets[i].le + "\"",
               std::to_string(counts[i]), "_bucket");
    w.sample("command_latency_seconds", cmd + ",le=\"+Inf\"", std::to_string(h->total()),
             "_bucket");
    w.sample("command_latency_seconds", cmd, Writer::number(static_cast<double>(h->sum()) / 1e9),
             "_sum");
    w.sample("command_latency_seconds", cmd, std::to_string(h->total()), "_count");
  });
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (const char ch : v) {
    if (ch == '\\')
      out += "\\\\";
    else if (ch == '"')
      out += "\\\"";
    else if (ch == '\n')
      out += "\\n";
    else
      out += ch;
  }
  return out;
}

std::string render_metrics(server::ServerState& s, const Registry& reg,
                           const repl::Replication& r) {
  std::string out;
  out.reserve(16384);
  Writer w(out);
  server_section(w, s);
  clients_section(w, s);
  memory_section(w, s, r);
  persistence_section(w, s);
  stats_section(w, s);
  replication_section(w, s, r);
  keyspace_section(w, s);
  commands_section(w, s, reg);
  return out;
}

}  // namespace setd::cmd
