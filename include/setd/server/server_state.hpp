// Everything the commands share: configuration, databases, clients,
// pub/sub, statistics. One instance per server process (or per test).
//
// Dependency rule (module server): db, pubsub, proto, base, spdlog; never Asio.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "setd/acl/users.hpp"
#include "setd/db/database.hpp"
#include "setd/pubsub/hub.hpp"
#include "setd/server/client.hpp"
#include "setd/server/config.hpp"
#include "setd/server/event_loop.hpp"
#include "setd/server/eviction.hpp"
#include "setd/server/latency.hpp"
#include "setd/server/lazyfree.hpp"
#include "setd/server/memory_stats.hpp"
#include "setd/server/persistence.hpp"
#include "setd/server/propagation.hpp"
#include "setd/server/scripting.hpp"
#include "setd/server/set_events.hpp"
#include "setd/server/slowlog.hpp"
#include "setd/server/stats.hpp"
#include "setd/server/tracking.hpp"

namespace setd::server {

inline constexpr const char* kSetdVersion = "0.1.0";
// The Redis version setd reports to clients (INFO redis_version, HELLO).
inline constexpr const char* kRedisCompatVersion = "7.2.4";

// Why a client is closed from the server's side (close_async).
// What a client refused by protected mode reads before the connection
// closes (Redis 7.0's text).
inline constexpr std::string_view kProtectedModeDenied =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

// CLIENT PAUSE: what is held, from the least to the most restrictive.
enum class PauseType : uint8_t { kOff = 0, kWrite = 1, kAll = 2 };

enum class CloseReason : uint8_t {
  kKilled,             // CLIENT KILL
  kOutputBufferLimit,  // client-output-buffer-limit (or a reply too big to build)
  kQueryBufferLimit,   // client-query-buffer-limit
  kIdleTimeout,        // timeout
  kUserChanged,        // its ACL user was deleted or lost a channel it uses
  kClientEviction,     // maxmemory-clients
};

class ServerState {
 public:
  explicit ServerState(Config config = Config());

  Config& config() { return config_; }
  const Settings& settings() const { return config_.settings(); }

  // Databases 0 .. databases-1.
  db::Database& db(int index) { return *dbs_[static_cast<size_t>(index)]; }
  int db_count() const { return static_cast<int>(dbs_.size()); }
  void swap_dbs(int a, int b);
  // Empties database `index` (FLUSHDB); with `async` its table is freed by
  // the lazyfree thread (unless a snapshot is walking it). flush_all()
  // empties every database (FLUSHALL, a full resync, DEBUG RELOAD: Redis's
  // emptyData(-1)). Both count as one flush for client-side caching.
  void flush_db(int index, bool async = false);
  void flush_all(bool async = false);
  // Deletes `key` from `db` as UNLINK does: a big value is freed by the
  // lazyfree thread (Redis's dbAsyncDelete); false if absent.
  bool unlink_key(int db, std::string_view key);
  LazyFree& lazyfree() { return lazyfree_; }

  // Periodic housekeeping (hz times a second): active expiry, idle-client
  // timeouts, soft output-buffer limits, memory figures (peak, samples).
  void cron();
  // Applies output-buffer limits to `c` (its class: normal, pubsub or
  // replica); true if it must be disconnected. `extra`: output it has
  // elsewhere (a replica's stream held back during its sync).
  bool output_limit_reached(Client& c, size_t extra = 0);

  // Channels and patterns (SUBSCRIBE, PSUBSCRIBE, PUBLISH, notifications).
  pubsub::Hub& hub() { return hub_; }
  // Shard channels (SSUBSCRIBE, SPUBLISH): a namespace of their own, as in
  // Redis 7.0; its subscribers are Client::shard_subscriber().
  pubsub::Hub& shard_hub() { return shard_hub_; }
  SetEventPublisher& set_events() { return set_events_; }
  // Client-side caching (CLIENT TRACKING).
  Tracking& tracking() { return tracking_; }

  // Redis keyspace notifications (notify-keyspace-events): publishes
  // `event` about `key` on __keyspace@<db>__:<key> and/or
  // __keyevent@<db>__:<event> when the `type` class (notify::kSet, ...) is
  // enabled. Costs one bit test when notifications are off.
  void notify_keyspace_event(int type, std::string_view event, std::string_view key, int db) {
    const int flags = settings().notify_keyspace_events;
    if (!(flags & type) || !(flags & (notify::kKeyspace | notify::kKeyevent))) return;
    publish_keyspace_event(flags, event, key, db);
  }

  // WATCH support, with Redis 7.0's rules (multi.c). A client watching
  // (db, key) gets its transaction aborted (dirty_cas) by any change to that
  // key, and is then unwatched from everything. A key that was already
  // logically expired when watched is remembered as such: its deletion (by
  // expiry or a flush) is not a change.
  void watch_key(Client& c, int db, std::string_view key);
  // Signals that `key` in `db` changed (Redis's signalModifiedKey): WATCH
  // and client-side caching invalidation. `by_command`: false when no
  // client's command changed it (expiry, eviction), for BCAST's NOLOOP.
  void signal_modified_key(int db, std::string_view key, bool by_command = true) {
    if (watched_count_ != 0) touch_watched_key(db, key);
    if (tracking_.active()) tracking_.invalidate_key(key, by_command ? modifier : nullptr);
  }
  // The client whose command runs now (a script's own client inside a
  // script; set by the dispatcher): the "modifier" of the keys it changes.
  Client* modifier = nullptr;
  // FLUSHDB/FLUSHALL (also_db < 0) and SWAPDB (also_db = the other database,
  // whose contents replace db's): every watched key of `db` that exists in
  // `db` or in `also_db` counts as modified, except that an expired key
  // going away (or being replaced by another expired key) is no change
  // (Redis's touchAllWatchedKeysInDb).
  void touch_watched_keys_in_db(int db, int also_db = -1);
  // True when a key `c` watches has expired since it was watched, though it
  // may not have been deleted yet (Redis's isWatchedKeyExpired; EXEC fails).
  bool watched_key_expired(const Client& c) const;
  Stats& stats() { return stats_; }
  // maxmemory: eviction (see eviction.hpp).
  Evictor& evictor() { return evictor_; }
  // Memory was over maxmemory and could not be freed when the current
  // top-level command started (Redis's pre_command_oom_state): scripts
  // refuse their first deny-oom command then.
  bool pre_command_oom = false;
  // SLOWLOG and the latency monitor (LATENCY); the per-command histograms
  // live in the command table.
  SlowLog& slowlog() { return slowlog_; }
  LatencyMonitor& latency() { return latency_; }
  // Adds a latency-monitor sample for `event` when it reaches
  // latency-monitor-threshold (Redis's latencyAddSampleIfNeeded).
  void latency_sample(std::string_view event, int64_t ms) {
    latency_.add_if_needed(event, ms, settings().latency_monitor_threshold);
  }

  // MONITOR: clients that receive every command as it runs.
  void add_monitor(Client& c);
  void remove_monitor(Client& c);
  bool has_monitors() const { return !monitors_.empty(); }
  size_t monitor_count() const { return monitors_.size(); }
  // Sends `args`, run by `c` in database `db`, to every monitor as Redis's
  // replicationFeedMonitors formats it; nothing while loading.
  void feed_monitors(const Client& c, int db, std::span<const std::string_view> args);
  // Peak, start-up and sampled memory figures (the cron keeps them).
  MemoryStats& memory() { return memory_; }

  // Who expires keys in every database (a replica leaves it to its master;
  // see db::ExpiryMode). Set by replication, per command.
  db::ExpiryControl expiry_control;
  // How deleted values are freed in every database (lazyfree-lazy-expire,
  // lazyfree-lazy-server-del; see db::FreeControl).
  db::FreeControl free_control;
  // This server is a replica (set by replication): a TTL already past does
  // not delete a key here, the master's DEL will (Redis's
  // checkAlreadyExpired).
  bool is_replica = false;
  // The cron's active expiry runs (DEBUG SET-ACTIVE-EXPIRE, Redis's
  // server.active_expire_enabled); keys still expire when accessed.
  bool active_expire_enabled = true;
  bool deletes_when_already_expired(long long when_ms) const;

  // Changes since the last successful save (Redis's server.dirty): handlers
  // add what they changed; save points and INFO read it; call() propagates
  // a command whose run moved it.
  uint64_t dirty = 0;

  // Propagation (see propagation.hpp). also_propagate() queues an effect;
  // propagate_pending() hands the queue to the sinks, wrapped in MULTI/EXEC
  // when it holds more than one effect and `wrap` is set (Redis 7.0's
  // propagatePendingCommands), and empties it. Nothing is queued while
  // `loading` (replaying an AOF, loading a dump).
  void also_propagate(int db, std::vector<std::string> args, uint8_t targets = kToAll);
  void propagate_pending(bool wrap = true);
  bool has_pending_propagation() const { return !pending_ops_.empty(); }
  // True when effects are being collected (some sink listens, not loading).
  bool propagating() const { return !loading && !sinks_.empty(); }
  void add_propagation_sink(uint8_t targets, PropagationSink* sink);
  void remove_propagation_sink(PropagationSink* sink);
  bool loading = false;
  // Loading a dump or an AOF: nothing propagates and nothing expires.
  void begin_loading();
  void end_loading();

  // RDB, AOF and start-up loading.
  Persistence& persistence() { return *persistence_; }
  // The event loop (set by the network layer; nullptr in unit tests).
  EventLoop* loop = nullptr;
  // Runs commands for AOF replay (set by the dispatcher).
  CommandExecutor* command_executor = nullptr;
  // The script engine (set by module script; nullptr without one).
  ScriptHost* scripts = nullptr;
  bool script_running() const { return scripts != nullptr && scripts->running(); }

  // CLIENT PAUSE (Redis 7.0's pauseClients for the command's purpose): a
  // new pause never shortens nor weakens the one in force. While paused,
  // commands of that kind from everyone but replicas wait (postpone()),
  // and keys neither expire nor get evicted (reads see expired keys as
  // missing). pause_type() first ends a pause whose time has passed
  // (checkClientPauseTimeoutAndReturnIfPaused); a pause that ends or
  // weakens runs the postponed clients again.
  void pause_clients(int64_t end_ms, PauseType type);
  void unpause_clients();
  PauseType pause_type();
  bool paused() { return pause_type() != PauseType::kOff; }
  // `c`'s request waits for the pause to end (Client::postponed).
  void postpone(Client& c);

  // Client registry (the network layer adds and removes its clients).
  Client& add_client();
  void remove_client(Client& c);
  // Told first when a client goes (replication forgets its links).
  std::function<void(Client&)> on_client_removed;
  Client* find_client(uint64_t id);
  const std::map<uint64_t, std::unique_ptr<Client>>& clients() const { return clients_; }

  // maxmemory-clients (Redis 7.0's client eviction). The memory of normal
  // and pub/sub clients (Client::memory_usage) is summed as it changes: the
  // network layer and the dispatcher call note_client_memory() when buffers
  // move. Once the sum reaches the limit, the biggest clients without
  // CLIENT NO-EVICT (by Redis's power-of-two buckets, in the order they
  // entered them) are closed until it is below, or none is left:
  // evict_clients() runs before each command, and note_client_memory()
  // schedules it when a client's growth crossed the limit outside one.
  size_t client_eviction_limit() const;  // 0: no client eviction
  void note_client_memory(Client& c);
  void evict_clients();
  // All clients counted again (maxmemory-clients or maxmemory changed).
  void recount_client_memory();
  size_t counted_clients_memory() const { return clients_memory_; }
  // Describes a client for the eviction log line (CLIENT LIST's line; set
  // by the command layer).
  std::function<std::string(const Client&)> describe_client;

  // Closes `c` as soon as possible, whatever it is doing: marks it killed
  // (it runs nothing more), drops its pending output when it went over an
  // output limit, counts and logs the reason as Redis does, and asks its
  // transport to close the connection once the current work is done.
  void close_async(Client& c, CloseReason why);

  // Drops every channel, pattern and shard-channel subscription of `c` (no
  // replies).
  void drop_subscriptions(Client& c);
  // Forgets every key `c` WATCHes.
  void unwatch_all(Client& c);
  size_t client_count() const { return clients_.size(); }

  // ACL users, the ACL log, requirepass.
  acl::Users& users() { return users_; }
  // A client must authenticate before running commands without no_auth
  // (Redis's authRequired).
  bool auth_required(const Client& c) const {
    return !c.authenticated && users_.auth_required_by_default();
  }
  // Moves every client of `u` to the default user, unauthenticated, and
  // closes it (`current` after its reply), as Redis does when a user is
  // deleted or replaced.
  void disconnect_user_clients(const acl::User* u, Client* current);
  // Protected mode: a non-loopback client while the default user has no
  // password is refused with kProtectedModeDenied.
  bool protected_mode_denies(const Client& c) const {
    return config_.settings().protected_mode && users_.default_user().nopass() && !c.is_local();
  }
  // `user` lines of the config and the aclfile, at start-up: "" or the
  // fatal error.
  std::string load_users_at_startup();
  // Reads the aclfile (ACL LOAD): nullopt on success, else Redis's error
  // text and nothing changed. Replaced users are handed back in `removed`.
  std::optional<std::string> load_acl_file(std::vector<std::unique_ptr<acl::User>>& removed);

  // Process facts shown by INFO.
  int64_t start_time_ms = 0;
  std::string config_file;  // absolute path, empty if none
  std::string executable;
  int tcp_port = 0;  // the port actually bound

  // Set by the network layer: stop the event loop (SHUTDOWN, signals).
  std::function<void()> request_shutdown;

 private:
  static void apply_access_tracking(const Settings& s);
  // Active rehashing's next database (Redis's databasesCron rehash_db).
  int rehash_db_ = 0;
  // Recomputes the pause in force; releases postponed clients when it ends
  // or weakens (updateClientPauseTypeAndEndTime).
  void update_pause();
  PauseType pause_cmd_type_ = PauseType::kOff;  // the CLIENT PAUSE purpose
  int64_t pause_cmd_end_ms_ = 0;
  PauseType pause_type_ = PauseType::kOff;  // in force
  std::vector<Client*> postponed_;
  void publish_keyspace_event(int flags, std::string_view event, std::string_view key, int db);
  void touch_watched_key(int db, std::string_view key);
  // Empties one database (WATCH included), without the tracking flush.
  void empty_db(int index, bool async);

  Config config_;
  acl::Users users_;
  pubsub::Hub hub_;
  pubsub::Hub shard_hub_;
  SetEventPublisher set_events_{hub_, config_.settings()};
  Tracking tracking_{[this](uint64_t id) { return find_client(id); }};
  // One client watching one key; `expired`: the key was logically expired
  // (but not yet deleted) when watched.
  struct Watcher {
    Client* client;
    bool expired;
  };
  // Whether `key` is in `db` at all, expired or not (Redis's dictFind).
  bool key_present(int db, std::string_view key) const;
  // Marks each client dirty and unwatches it.
  void dirty_and_unwatch(const std::vector<Client*>& clients);
  // db -> key -> clients watching it
  std::vector<std::map<std::string, std::vector<Watcher>, std::less<>>> watched_;
  size_t watched_count_ = 0;
  std::vector<std::unique_ptr<db::Database>> dbs_;
  Stats stats_;
  MemoryStats memory_;
  Evictor evictor_{*this};
  LazyFree lazyfree_;
  SlowLog slowlog_;
  LatencyMonitor latency_;
  std::vector<Client*> monitors_;
  std::map<uint64_t, std::unique_ptr<Client>> clients_;
  // maxmemory-clients: the normal and pub/sub clients' memory, the bucket
  // entry stamp, and whether an eviction pass is already posted.
  size_t clients_memory_ = 0;
  uint64_t memory_bucket_seq_ = 0;
  bool client_eviction_posted_ = false;
  uint64_t next_client_id_ = 1;
  int64_t last_trim_ms_ = 0;
  std::vector<PropagatedOp> pending_ops_;
  std::vector<std::pair<uint8_t, PropagationSink*>> sinks_;
  // Last: destroyed first, while the databases its jobs observe still exist.
  std::unique_ptr<Persistence> persistence_;
};

}  // namespace setd::server
