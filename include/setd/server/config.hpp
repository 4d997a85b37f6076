// Configuration: every directive setd understands, with its default, how it
// is parsed and printed, and whether CONFIG SET may change it at run time.
//
// One table serves the config file, the command line (--directive value),
// CONFIG GET/SET/REWRITE and conf/setd.conf's documentation. Values live in
// `Settings`, a plain struct that hot paths read directly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "setd/ds/set_object.hpp"

namespace setd::server {

enum class AppendFsync : uint8_t { kNo, kAlways, kEverysec };
enum class EnableMode : uint8_t { kNo, kYes, kLocal };
// shutdown-on-sigint / shutdown-on-sigterm flags (Redis's SHUTDOWN_*).
constexpr int kShutdownSave = 1;
constexpr int kShutdownNosave = 2;
constexpr int kShutdownNow = 4;
constexpr int kShutdownForce = 8;
// tls-auth-clients: whether TLS clients must present a certificate.
enum class TlsAuthClients : uint8_t { kNo, kYes, kOptional };

// set-events: which set.* events are published.
enum class SetEvents : uint8_t { kNone, kWrites, kAll };

// maxmemory-policy, in Redis 7.0's order of names.
enum class MaxmemoryPolicy : uint8_t {
  kVolatileLru,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,
  kAllkeysLru,
  kAllkeysLfu,
  kAllkeysRandom,
  kNoEviction,
};
const char* policy_name(MaxmemoryPolicy p) noexcept;
inline bool policy_lru(MaxmemoryPolicy p) {
  return p == MaxmemoryPolicy::kVolatileLru || p == MaxmemoryPolicy::kAllkeysLru;
}
inline bool policy_lfu(MaxmemoryPolicy p) {
  return p == MaxmemoryPolicy::kVolatileLfu || p == MaxmemoryPolicy::kAllkeysLfu;
}
inline bool policy_allkeys(MaxmemoryPolicy p) {
  return p == MaxmemoryPolicy::kAllkeysLru || p == MaxmemoryPolicy::kAllkeysLfu ||
         p == MaxmemoryPolicy::kAllkeysRandom;
}

// One class of client-output-buffer-limit (0 = no limit).
struct OutputLimit {
  unsigned long long hard = 0;
  unsigned long long soft = 0;
  long long soft_seconds = 0;
};
enum class ClientClass : uint8_t { kNormal = 0, kReplica = 1, kPubSub = 2 };

// Keyspace notification classes (notify-keyspace-events), Redis's bit values.
namespace notify {
constexpr int kKeyspace = 1 << 0;  // K
constexpr int kKeyevent = 1 << 1;  // E
constexpr int kGeneric = 1 << 2;   // g
constexpr int kString = 1 << 3;    // $
constexpr int kList = 1 << 4;      // l
constexpr int kSet = 1 << 5;       // s
constexpr int kHash = 1 << 6;      // h
constexpr int kZset = 1 << 7;      // z
constexpr int kExpired = 1 << 8;   // x
constexpr int kEvicted = 1 << 9;   // e
constexpr int kStream = 1 << 10;   // t
constexpr int kKeyMiss = 1 << 11;  // m
constexpr int kModule = 1 << 12;   // d
constexpr int kNew = 1 << 13;      // n
constexpr int kAll = kGeneric | kString | kList | kSet | kHash | kZset | kExpired | kEvicted |
                     kStream | kModule;  // A
}  // namespace notify

// Parses "KEA"-style flags; nullopt on an unknown character.
std::optional<int> parse_notify_flags(std::string_view text);
// Prints flags exactly as Redis 7.0's CONFIG GET does: "A" stands for every
// class in notify::kAll and then hides 'n'; K, E and m follow.
std::string notify_flags_to_string(int flags);

struct Settings {
  std::vector<std::string> bind{"127.0.0.1", "-::1"};
  int port = 6379;
  int tcp_backlog = 511;
  long long timeout = 0;
  long long tcp_keepalive = 300;
  long long busy_poll_us = 50;
  // Scripting: a script running longer than busy_reply_threshold ms lets
  // other clients in (they get -BUSY) and can be killed; 0 = never (Redis
  // 7.0's busy-reply-threshold, alias lua-time-limit). script_memory_limit:
  // the most the Lua heap may hold (setd's own bound; 0 = none).
  long long busy_reply_threshold = 5000;
  long long script_memory_limit = 256LL * 1024 * 1024;
  // TLS: Redis 7.0's tls-* directives and defaults ("" = not set, as
  // Redis's NULL). tls_port 0 = no TLS listener.
  int tls_port = 0;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_key_file_pass;
  std::string tls_ca_cert_file;
  std::string tls_ca_cert_dir;
  std::string tls_dh_params_file;
  std::string tls_protocols;
  std::string tls_ciphers;
  std::string tls_ciphersuites;
  TlsAuthClients tls_auth_clients = TlsAuthClients::kYes;
  bool tls_prefer_server_ciphers = false;
  bool tls_session_caching = true;
  long long tls_session_cache_size = 20 * 1024;
  long long tls_session_cache_timeout = 300;
  // setd's own: a TLS handshake not done after this many ms is cut off.
  long long tls_handshake_timeout = 10000;
  // setd's own: the Prometheus endpoint (GET /metrics over HTTP), on
  // metrics_port (0 = none) at every metrics_bind address ('-' prefix:
  // optional, as in bind). Both may change at run time (the listener moves).
  int metrics_port = 0;
  std::vector<std::string> metrics_bind{"127.0.0.1"};
  int databases = 16;
  long long maxclients = 10000;
  std::string loglevel = "notice";
  std::string logfile;
  std::string pidfile;
  long long hz = 10;
  // Process: the process title (set-proc-title, proc-title-template with
  // Redis's {title} {listen-addr} {server-mode} {port} {tls-port}
  // {unixsocket} {config-file}), Linux's OOM score (oom-score-adj: 0 no,
  // 1 yes (relative), 2 absolute; the values for master, replica and
  // background child) and transparent huge pages (disable-thp).
  bool set_proc_title = true;
  std::string proc_title_template = "{title} {listen-addr} {server-mode}";
  int oom_score_adj = 0;
  std::vector<int> oom_score_adj_values{0, 200, 800};
  bool disable_thp = true;
  // Start-up: the ASCII logo, the process supervisor told of readiness
  // (0 no, 1 upstart, 2 systemd, 3 auto), daemonizing.
  bool always_show_logo = false;
  int supervised = 0;
  bool daemonize = false;
  // What SIGINT / SIGTERM do: Redis's SHUTDOWN flags (0 = default: save
  // if save points are set; else kShutdown* bits).
  int shutdown_on_sigint = 0;
  int shutdown_on_sigterm = 0;
  // setd serves every client on one thread: io-threads 1 only.
  long long io_threads = 1;
  bool io_threads_do_reads = false;
  // Memory limit and eviction (Redis 7.0's names and defaults). maxmemory
  // 0 = no limit. maxmemory_clients: bytes, or a percentage of maxmemory
  // stored negated (-10 = "10%"); 0 = no client eviction.
  long long maxmemory = 0;
  long long maxmemory_clients = 0;
  MaxmemoryPolicy maxmemory_policy = MaxmemoryPolicy::kNoEviction;
  long long maxmemory_samples = 5;
  long long maxmemory_eviction_tenacity = 10;
  long long lfu_log_factor = 10;
  long long lfu_decay_time = 1;
  bool replica_ignore_maxmemory = true;
  // Lazy freeing (Redis 7.0's names; see server/lazyfree.hpp): DEL acts as
  // UNLINK, FLUSHDB / FLUSHALL without SYNC act as ASYNC.
  bool lazyfree_lazy_user_del = false;
  bool lazyfree_lazy_user_flush = false;
  // Evictions free big values in the background and propagate UNLINK.
  bool lazyfree_lazy_eviction = false;
  // Expired keys (active and lazy expiry, EXPIRE in the past) are freed in
  // the background and propagate UNLINK instead of DEL.
  bool lazyfree_lazy_expire = false;
  // Implicit deletes (an overwritten value, RENAME's and *STORE's
  // destination, ...) free big values in the background (Redis's dbDelete
  // and dbOverwrite).
  bool lazyfree_lazy_server_del = false;
  // A replica empties its data before loading a master's image in the
  // background (alias slave-lazy-flush).
  bool replica_lazy_flush = false;
  // The cron rehashes the keyspace tables incrementally (1 ms per database
  // and tick, as Redis's incrementallyRehash).
  bool activerehashing = true;
  // 1..10: how hard active expiry works (Redis's activeExpireCycle: keys
  // sampled per loop, acceptable stale share and time budget scale with it).
  long long active_expire_effort = 1;
  // The cron's frequency grows with the number of clients (Redis's
  // serverCron: hz doubles per 200 clients, up to 500).
  bool dynamic_hz = true;
  long long proto_max_bulk_len = 512LL * 1024 * 1024;
  long long client_query_buffer_limit = 1024LL * 1024 * 1024;
  long long set_max_intset_entries = 512;
  // Redis 7.2's small-set encoding (0 entries: none, Redis 7.0's rules).
  long long set_max_listpack_entries = 128;
  long long set_max_listpack_value = 64;
  // The three set-max-* thresholds, as ds::SetObject takes them.
  ds::SetLimits set_limits() const {
    return {.max_intset_entries = static_cast<size_t>(set_max_intset_entries),
            .max_listpack_entries = static_cast<size_t>(set_max_listpack_entries),
            .max_listpack_value = static_cast<size_t>(set_max_listpack_value)};
  }
  SetEvents set_events = SetEvents::kAll;
  int notify_keyspace_events = 0;
  OutputLimit output_limits[3] = {
      {0, 0, 0}, {256ULL << 20, 64ULL << 20, 60}, {32ULL << 20, 8ULL << 20, 60}};
  // Persistence (Redis 7.0's names and defaults). `dir` is the process's
  // working directory (setting it chdir()s, as Redis does).
  std::string save = "3600 1 300 100 60 10000";
  std::string dbfilename = "dump.rdb";
  bool rdbcompression = true;
  bool rdbchecksum = true;
  bool stop_writes_on_bgsave_error = true;
  bool rdb_save_incremental_fsync = true;
  long long rdb_key_save_delay = 0;  // µs per key saved in the background (tests)
  bool rdb_skip_unsupported_types = false;
  bool appendonly = false;
  std::string appendfilename = "appendonly.aof";
  std::string appenddirname = "appendonlydir";
  AppendFsync appendfsync = AppendFsync::kEverysec;
  bool no_appendfsync_on_rewrite = false;
  long long auto_aof_rewrite_percentage = 100;
  long long auto_aof_rewrite_min_size = 64LL * 1024 * 1024;
  bool aof_load_truncated = true;
  bool aof_use_rdb_preamble = true;
  bool aof_rewrite_incremental_fsync = true;
  // Who may run DEBUG / CONFIG SET protected directives: no, yes, local
  // (loopback connections only).
  EnableMode enable_debug_command = EnableMode::kNo;
  EnableMode enable_protected_configs = EnableMode::kNo;
  // Security (Redis 7.0's names and defaults). `users` holds the config
  // file's `user` lines (name and rules), validated as they are read.
  bool protected_mode = true;
  std::string requirepass;
  std::string aclfile;
  long long acllog_max_len = 128;
  // Instruments (Redis 7.0's names and defaults): the slow log logs commands
  // of at least slowlog_log_slower_than µs (negative: none), keeping
  // slowlog_max_len; the latency monitor samples events of at least
  // latency_monitor_threshold ms (0: off); latency_tracking keeps the
  // per-command histograms INFO latencystats reports at these percentiles.
  long long slowlog_log_slower_than = 10000;
  long long slowlog_max_len = 128;
  // Client-side caching: the most keys the tracking table remembers (0: no
  // limit); past it random keys are dropped, with invalidations.
  long long tracking_table_max_keys = 1000000;
  long long latency_monitor_threshold = 0;
  bool latency_tracking = true;
  std::vector<double> latency_tracking_info_percentiles{50.0, 99.0, 99.9};
  bool acl_pubsub_default_all = false;  // acl-pubsub-default allchannels
  std::vector<std::vector<std::string>> users;
  // Replication (Redis 7.0's names and defaults). `replicaof` is "host
  // port" or empty; REPLICAOF changes it, so CONFIG REWRITE keeps the role.
  std::string replicaof;
  std::string masterauth;
  std::string masteruser;
  long long repl_backlog_size = 1024 * 1024;
  long long repl_backlog_ttl = 3600;
  bool repl_diskless_sync = true;
  long long repl_diskless_sync_delay = 5;
  long long repl_diskless_sync_max_replicas = 0;
  long long repl_timeout = 60;
  long long repl_ping_replica_period = 10;
  bool replica_read_only = true;
  bool replica_serve_stale_data = true;
  long long replica_priority = 100;
  bool replica_announced = true;
  std::string replica_announce_ip;
  int replica_announce_port = 0;
  long long min_replicas_to_write = 0;
  long long min_replicas_max_lag = 10;
};

class Config {
 public:
  Config();

  Settings& settings() { return settings_; }
  const Settings& settings() const { return settings_; }

  // Sets one directive from its textual value. `runtime` means CONFIG SET,
  // which refuses immutable directives. Returns "" on success or the reason
  // ("argument must be a memory value", ...), phrased as Redis does.
  std::string set(std::string_view name, std::string_view value, bool runtime);

  // CONFIG SET name value [name value ...]: all or nothing, Redis's error
  // texts. Returns "" on success or the full error (without "-").
  // Protected directives (dir, dbfilename) need `allow_protected`.
  std::string set_many(std::span<const std::string_view> pairs, bool allow_protected = true);

  // A side effect of changing `name` at run time (CONFIG SET appendonly
  // yes starts the AOF): called with the new settings before they are
  // committed; an error cancels the change.
  void set_applier(const std::string& name, std::function<std::string(const Settings&)> fn);

  // CONFIG GET: (name, value) of every directive (or alias) matching one of
  // the glob patterns, each directive once.
  std::vector<std::pair<std::string, std::string>> get(
      std::span<const std::string_view> patterns) const;

  // Reads a config file's text followed by command-line arguments
  // ("--port 7000 --save ''"), like redis-server. Returns "" or a fatal
  // message naming the line.
  std::string load(const std::string& file_text, const std::vector<std::string>& cli_args);

  // Rewrites `path` with the current values, keeping comments and the order
  // of existing lines (CONFIG REWRITE). Returns "" or an error. The file's
  // `user` lines become `user_lines` (ACL users, "user <name> <rules>"): in
  // place of the old ones, in order, the rest at the end, the old ones left
  // over dropped (as Redis's rewriteConfigUserOption; with an aclfile Redis
  // passes no users, dropping them all).
  std::string rewrite(const std::string& path,
                      const std::vector<std::string>& user_lines = {}) const;

  // Called after a directive changed at run time (its canonical name),
  // once the new settings are in place; every listener added is called.
  void on_change(std::function<void(const std::string&)> fn) {
    listeners_.push_back(std::move(fn));
  }

  // Names of all directives, for documentation checks.
  std::vector<std::string> names() const;

 private:
  struct Directive {
    std::string name;
    std::vector<std::string> aliases;
    bool immutable = false;
    bool multi_line = false;    // file lines accumulate (client-output-buffer-limit)
    bool is_protected = false;  // enable-protected-configs guards CONFIG SET
    std::function<std::string(Settings&, std::string_view)> parse;
    std::function<std::string(const Settings&)> format;
    std::string default_value;
    // Listed by CONFIG GET for its exact name only, never for a pattern
    // (Redis's HIDDEN_CONFIG: test-only knobs such as rdb-key-save-delay).
    bool hidden = false;
  };
  const Directive* find(std::string_view name) const;
  void add(Directive d);

  void add_bool(const std::string& name, bool Settings::*field, bool immutable = false,
                std::vector<std::string> aliases = {});
  template <class T>
  void add_int(const std::string& name, T Settings::*field, long long lo, long long hi,
               std::vector<std::string> aliases = {});
  void add_string(const std::string& name, std::string Settings::*field, bool immutable,
                  bool is_protected = false, bool base_name_only = false);
  void add_enable_mode(const std::string& name, EnableMode Settings::*field);

  Settings settings_;
  std::vector<std::function<void(const std::string&)>> listeners_;
  std::vector<Directive> directives_;
  std::map<std::string, std::function<std::string(const Settings&)>> appliers_;
};

// A percentile as Redis prints it ("%f" without trailing zeros: "99.9").
std::string format_percentile(double p);

// Memory amounts like "512mb", "1gb", "100" -> bytes; nullopt if malformed.
std::optional<long long> parse_memory(std::string_view text);

}  // namespace setd::server
