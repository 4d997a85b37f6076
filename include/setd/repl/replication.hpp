// Replication, Redis 7.0's protocol (PSYNC2), both roles.
//
// Dependency rule (module repl): server, persist, db, proto, base; never
// Asio. The network layer opens the link to a master (Connector) and feeds
// this module the link's bytes; commands (cmd/repl_family.cpp) call in for
// REPLICAOF, PSYNC/SYNC, REPLCONF, ROLE and WAIT.
//
// As a master. The replication stream is the propagation stream
// (server/propagation.hpp) encoded as RESP, with SELECT when the database
// changes: feed() appends it to the backlog and to every replica. A replica
// that asks PSYNC <replid> <offset> continues (+CONTINUE) when the backlog
// still holds that offset under one of our two replication IDs (PSYNC2: the
// ID we had before a promotion stays valid up to second_repl_offset);
// otherwise it gets +FULLRESYNC <replid> <offset> and a point-in-time image
// from the fork-free snapshot (persist/snapshot.hpp), taken at that offset:
//  * repl-diskless-sync yes (and the replica says capa eof): the snapshot
//    streams into the replicas' connections as "$EOF:<40 bytes>" RDB
//    "<the same 40 bytes>", after repl-diskless-sync-delay seconds spent
//    waiting for more replicas. The stream that follows is held back until
//    the replica's first REPLCONF ACK (it may read past the marker otherwise,
//    as Redis 7.0's replicas do);
//  * otherwise a BGSAVE writes the dump file, which is then sent as
//    "$<length>" RDB; replicas wait with a newline a second.
// While a replica waits for its image, the stream since the snapshot's
// offset accumulates for it (and counts against client-output-buffer-limit
// replica). The master's extra memory is that, plus the snapshot's chunks in
// flight (the snapshot pauses while a replica has more than 4 MB unsent).
//
// As a replica. REPLICAOF host port (or `replicaof` at start-up) connects,
// sends PING, AUTH (masteruser/masterauth), REPLCONF listening-port,
// REPLCONF capa eof capa psync2, then PSYNC with the cached replication ID
// and offset (ours, so a demoted master can continue with its successor). A
// full sync is received into a temporary file while the old data keeps
// being served (replica-serve-stale-data), then the databases are emptied
// and the file loaded (and kept as the dump file). Afterwards the link is a
// client whose commands run as any other, without replies and without ACL;
// each command's bytes move the offset and go on, unchanged, to our own
// backlog and replicas. A REPLCONF ACK goes up every second. Replicas never
// expire keys: an expired key reads as missing, and goes when the master's
// DEL arrives.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "setd/persist/snapshot.hpp"
#include "setd/repl/backlog.hpp"
#include "setd/server/client.hpp"
#include "setd/server/propagation.hpp"

namespace setd::server {
class ServerState;
}

namespace setd::repl {

// Opens TCP connections to a master (implemented by the network layer).
class Connector {
 public:
  virtual ~Connector() = default;
  // Connects to host:port within `timeout_ms`; then calls `done` with the
  // client of the new connection (registered, authenticated, reading), or
  // with nullptr and the reason.
  virtual void connect(const std::string& host, int port, int64_t timeout_ms,
                       std::function<void(server::Client*, const std::string& error)> done) = 0;
};

// The link's state as a replica (Redis's repl_state, coarser).
enum class LinkState : uint8_t {
  kNone,        // not a replica
  kConnect,     // must connect (the cron does it)
  kConnecting,  // TCP connect in progress
  kHandshake,   // PING ... PSYNC exchanged
  kTransfer,    // receiving the image
  kConnected,   // streaming
};

class Replication final : public server::PropagationSink {
 public:
  explicit Replication(server::ServerState& state);
  ~Replication() override;
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  void set_connector(Connector* c) { connector_ = c; }
  // Start-up: `replicaof` from the config.
  void start();
  // Once a second (the server's cron calls it every tick; it keeps time):
  // connects, ACKs, pings replicas, timeouts, backlog TTL, good replicas.
  void cron();
  // Before the loop sleeps: sends REPLCONF GETACK when WAIT is waiting.
  void before_sleep();

  // --- role ---------------------------------------------------------------
  bool is_replica() const { return link_state_ != LinkState::kNone; }
  LinkState link_state() const { return link_state_; }
  const std::string& master_host() const { return master_host_; }
  int master_port() const { return master_port_; }
  // REPLICAOF host port: "" (+OK), or "+OK Already connected to specified
  // master" as `already`.
  void replicaof(const std::string& host, int port, const std::string& who, bool* already);
  // REPLICAOF NO ONE.
  void replicaof_no_one(const std::string& who);

  // --- master side (commands) -----------------------------------------------
  // SYNC / PSYNC from `c` (args as received). Writes the reply itself.
  void sync_command(server::Client& c, std::span<const std::string_view> args);
  // REPLCONF from `c`; writes the reply (or nothing for ACK / GETACK).
  void replconf(server::Client& c, std::span<const std::string_view> args);
  // WAIT numreplicas timeout_ms (already parsed) for `c`: replies now, or
  // blocks `c` until enough replicas ACK its latest write or the time is up
  // (not when `may_block` is false: inside MULTI).
  void wait_command(server::Client& c, long long numreplicas, long long timeout_ms, bool may_block);
  // ROLE's reply.
  void role_reply(proto::ReplyBuilder& rb) const;
  // INFO replication, Redis 7.0's fields in order.
  void info(std::string& out) const;
  // The write that `c` just made is at this offset (WAIT waits for it).
  int64_t master_repl_offset() const { return offset_; }
  // min-replicas-to-write: false when a write must be refused (NOREPLICAS).
  bool enough_good_replicas() const;

  // --- replica side (from the network layer) ---------------------------------
  // A command from our master ran; `raw` is its bytes in the stream.
  void master_command_done(server::Client& master, std::string_view raw);
  // REPLCONF GETACK from our master: the ACK goes out after the command.
  void ack_requested() { ack_requested_ = true; }

  // A client is going away (ServerState calls this first).
  void client_removed(server::Client& c);

  // PropagationSink: an effect for the replicas.
  void feed(int db, std::span<const std::string> args) override;

  // Memory (INFO memory, MEMORY STATS): the backlog's bytes, and what the
  // replicas' links hold beyond the backlog (their output buffers and the
  // stream kept for them during a full sync).
  size_t backlog_memory() const;
  size_t replica_buffers_memory() const;

  // DEBUG CHANGE-REPL-ID: a new replication ID, and no second one.
  void debug_change_replid();

  uint64_t sync_full() const { return stat_sync_full_; }
  // INFO's connected_slaves: replicas past the handshake.
  int replica_count() const;
  uint64_t sync_partial_ok() const { return stat_sync_partial_ok_; }
  uint64_t sync_partial_err() const { return stat_sync_partial_err_; }

 private:
  struct ReplicaLink;
  class MasterLink;
  class SocketSink;

  // --- common
  void change_replid();
  void clear_replid2();
  // A promotion: the current ID becomes the second one, valid up to our
  // offset, and a new one starts (PSYNC2).
  void shift_replid();
  void create_backlog();
  void free_backlog();
  // Appends stream bytes: the offset, the backlog and every replica (online
  // ones get them now, the others keep them for later).
  void feed_raw(std::string_view bytes);
  void update_sink_registration();

  // --- master side
  ReplicaLink* find_link(const server::Client& c);
  ReplicaLink& link_of(server::Client& c);
  bool try_partial(server::Client& c, ReplicaLink& link, std::string_view replid, int64_t offset);
  void start_full_sync(ReplicaLink& link);
  void begin_full_resync(ReplicaLink& link, int64_t offset);
  // Starts the image for the replicas waiting for one, if nothing else
  // snapshots and (diskless, unless `now`) the delay has passed.
  void maybe_start_bgsave(bool now);
  void on_bgsave_end(bool ok, bool to_sink);
  void put_online(ReplicaLink& link);
  void send_to_replica(ReplicaLink& link, std::string_view bytes);
  void pump_disk_transfers();
  void disconnect_replicas();
  void drop_replica(ReplicaLink& link, const std::string& why);
  void check_waiters();
  void unblock_waiters(const std::string& error);
  int count_acked(int64_t offset) const;
  void update_good_replicas();
  std::string replica_name(const server::Client& c) const;

  // --- replica side
  void connect_to_master();
  void on_connected(server::Client* c, const std::string& error, uint64_t attempt);
  // Closes the link to the master (any stage), keeping what we hold as the
  // cached master state.
  void drop_link();
  void master_link_lost(server::Client& c);
  void become_connected(server::Client& c, int db);
  void partial_accepted(const std::string& new_id);
  void image_received(const std::string& temp_path);
  void send_ack();
  void replica_cron(int64_t now_s);
  // Empties the databases and loads the image at `path`. "" or the error.
  std::string load_image(const std::string& path);

  server::ServerState& state_;
  Connector* connector_ = nullptr;

  // Replication IDs and offset (ours as a master, our master's as a replica).
  std::string replid_;
  std::string replid2_;
  int64_t offset_ = 0;  // master_repl_offset
  int64_t second_offset_ = -1;
  std::unique_ptr<Backlog> backlog_;
  int stream_db_ = -1;  // database of the last SELECT in the stream
  bool sink_registered_ = false;
  std::string scratch_;

  // Master side.
  std::vector<std::unique_ptr<ReplicaLink>> replicas_;
  std::unique_ptr<SocketSink> socket_sink_;
  bool disk_bgsave_for_replicas_ = false;  // the running BGSAVE serves replicas
  bool pump_posted_ = false;
  int64_t no_replicas_since_s_ = 0;
  int good_replicas_ = 0;
  int64_t start_s_ = 0;  // PINGs go out on the multiples of the period from here
  bool getack_needed_ = false;
  struct Waiter {
    server::Client* client;
    int64_t offset;
    long long numreplicas;
    int64_t deadline_ms;  // 0: none
  };
  std::vector<Waiter> waiters_;
  uint64_t stat_sync_full_ = 0;
  uint64_t stat_sync_partial_ok_ = 0;
  uint64_t stat_sync_partial_err_ = 0;

  // Replica side.
  LinkState link_state_ = LinkState::kNone;
  std::string master_host_;
  int master_port_ = 0;
  std::unique_ptr<MasterLink> link_;
  server::Client* master_ = nullptr;  // once streaming
  int cached_db_ = 0;                 // the master link's database when it dropped
  bool have_cached_ = false;          // replid_/offset_ describe the data we hold
  std::string fullresync_replid_;
  int64_t fullresync_offset_ = 0;
  int64_t master_lastio_s_ = 0;
  int64_t link_down_since_s_ = 0;
  int64_t handshake_started_s_ = 0;
  bool ack_requested_ = false;
  std::string multi_bytes_;  // our master's MULTI ... so far, not applied yet
  uint64_t connect_attempt_ = 0;
  int64_t last_cron_s_ = 0;
};

}  // namespace setd::repl
