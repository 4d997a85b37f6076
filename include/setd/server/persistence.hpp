// Persistence: RDB snapshots, the append-only file, and loading at start-up,
// as Redis 7.0 does them, on top of the fork-free snapshot
// (persist/snapshot.hpp) and the propagation stream (propagation.hpp).
//
// Dependency rule (module server): db, persist, base; never Asio (the loop
// is reached through EventLoop).
//
// RDB. SAVE runs a snapshot to completion before returning; BGSAVE starts one
// that the event loop advances in slices (background_step(): about 1 ms of
// serialization at a time, paused while the file writer's thread has more
// than 4 MB to write) while clients are served. The file goes to
// `dir`/temp-<pid>.rdb and is renamed over `dbfilename` once complete and
// fsynced. `save` points, `stop-writes-on-bgsave-error` (MISCONF),
// SHUTDOWN/SIGTERM saving and FLUSHALL saving follow Redis 7.0.
//
// AOF (Redis 7.0 multi-part). Effects reach feed() through the propagation
// stream and are buffered; flush_before_replies() writes the buffer before
// any reply of the same event-loop batch is sent, and with `appendfsync
// always` fsyncs it too, so no reply to a write leaves before the write is
// on disk (one fsync per batch, whatever the number of writes in it).
// `everysec` fsyncs from a thread of its own once a second; `no` leaves it
// to the kernel. BGREWRITEAOF opens a new INCR file (recorded in the
// manifest at once) and writes a new BASE from a point-in-time snapshot
// taken at the same instant; when it completes the manifest switches to the
// new BASE and INCR and the older files are deleted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "setd/persist/aof_format.hpp"
#include "setd/persist/file_writer.hpp"
#include "setd/persist/snapshot.hpp"
#include "setd/server/propagation.hpp"

namespace setd::server {

class ServerState;
class Client;

class Persistence final : public PropagationSink {
 public:
  explicit Persistence(ServerState& state);
  ~Persistence() override;
  Persistence(const Persistence&) = delete;
  Persistence& operator=(const Persistence&) = delete;

  // --- start-up ---------------------------------------------------------
  // Loads the AOF (appendonly yes) or the RDB dump, as Redis 7.0 chooses,
  // and opens the AOF for appending. Returns "" or a fatal message.
  std::string load_at_startup();

  // --- RDB --------------------------------------------------------------
  // SAVE: a point-in-time dump, written before returning. Returns "" or the
  // reason it failed (logged; SAVE replies -ERR). Also serves SHUTDOWN,
  // FLUSHALL and DEBUG RELOAD, which (as in Redis) do not count in
  // rdb_saves: the SAVE command counts itself (count_save()).
  std::string save();
  void count_save() { ++rdb_saves_; }
  enum class BgsaveStart { kStarted, kScheduled, kInProgress, kBusy, kFailed };
  // BGSAVE [SCHEDULE]: `schedule` waits for a running AOF rewrite instead of
  // refusing (kBusy).
  BgsaveStart bgsave(bool schedule);
  bool bgsave_in_progress() const { return rdb_job_ != nullptr; }
  // BGSAVE inside EXEC: runs when the cron next looks.
  void schedule_bgsave() { bgsave_scheduled_ = true; }
  int64_t lastsave() const { return lastsave_; }
  // INFO persistence's figures (the metrics endpoint reads them too).
  bool last_bgsave_ok() const { return lastbgsave_ok_; }
  uint64_t rdb_saves() const { return rdb_saves_; }
  uint64_t aof_rewrites() const { return aof_rewrites_; }
  bool aof_last_write_ok() const { return aof_last_write_ok_ && fsync_ok(); }
  bool aof_last_rewrite_ok() const { return aof_lastbgrewrite_ok_; }
  uint64_t aof_current_size() const { return aof_current_size_; }
  // Loads an RDB file into the databases (start-up, DEBUG RELOAD); a key
  // already present is an error unless `replace`. Keys whose time has
  // passed are dropped unless `keep_expired` (a replica keeps them: its
  // master's DELs will come). "" or the error.
  std::string load_rdb_file(const std::string& path, bool replace = false,
                            bool keep_expired = false);

  // --- replication (repl module) ------------------------------------------
  // A BGSAVE whose image goes to `sink` (diskless sync to replicas) instead
  // of the dump file: it counts as a BGSAVE in progress but leaves lastsave
  // and the save status alone, as Redis's socket target.
  BgsaveStart bgsave_to_sink(persist::SnapshotSink* sink);
  // The running BGSAVE writes to a sink (kind of Redis's RDB_CHILD_TYPE_SOCKET).
  bool bgsave_to_sink_in_progress() const { return rdb_job_ && rdb_job_->sink != nullptr; }
  // A BGSAVE or an AOF rewrite is running (one snapshot at a time).
  bool snapshot_busy() const { return rdb_job_ || aof_job_; }
  // Told when a BGSAVE ends (after its own bookkeeping): whether it
  // succeeded and whether it went to a sink.
  std::function<void(bool ok, bool to_sink)> on_bgsave_end;
  // Stops a running BGSAVE (a replica about to load its master's image).
  void abort_bgsave();
  // Replication's place in an image (RDB AUX fields repl-stream-db, repl-id,
  // repl-offset); stream_db -1 = none.
  struct ReplInfo {
    int stream_db = -1;
    std::string replid;
    long long offset = -1;
  };
  // Asked when an image starts (set by the repl module).
  std::function<ReplInfo()> repl_aux;
  // What the last RDB loaded said (stream_db -1 if nothing).
  ReplInfo loaded_repl_info;

  // The MISCONF error for write commands (and PING), without the leading
  // '-', or nullopt when writes are allowed.
  std::optional<std::string> write_error() const;

  // --- AOF --------------------------------------------------------------
  bool aof_enabled() const { return aof_state_ != AofState::kOff; }
  // BGREWRITEAOF: "" when started, "scheduled" when it waits for a BGSAVE,
  // or the error text.
  std::string bgrewriteaof();
  bool aof_rewrite_in_progress() const { return aof_job_ != nullptr; }
  void schedule_aof_rewrite() {
    aof_rewrite_scheduled_ = true;
    aof_rewrites_consecutive_failures_ = 0;
  }
  // DEBUG LOADAOF: flushes the AOF, empties the databases and loads the AOF
  // back. "" or the error.
  std::string reload_aof();
  // CONFIG SET appendonly yes|no.
  std::string set_appendonly(bool on);

  // PropagationSink: an effect to append.
  void feed(int db, std::span<const std::string> args) override;
  // True when the next flush will fsync (appendfsync always with effects
  // buffered): worth waiting for more effects to share it.
  bool wants_group_commit() const { return !aof_buf_.empty() && state_settings_fsync_always(); }
  // Writes (and with appendfsync always, fsyncs) what feed() buffered.
  // Called before replies are sent; cheap when there is nothing.
  void flush_before_replies() {
    if (!aof_buf_.empty()) flush_aof(false);
  }

  // --- lifecycle --------------------------------------------------------
  // Periodic work (hz): save points, finished and scheduled jobs, AOF
  // fsync everysec and retries, automatic rewrites.
  void cron();
  // Advances background jobs by one slice; the event loop calls it while
  // something runs (it reschedules itself).
  void background_step();
  // Before exit (SHUTDOWN, SIGTERM): stops background jobs, flushes and
  // fsyncs the AOF, saves the dump when `save` (or, by default, when save
  // points exist and `nosave` is not set). Returns "" or the error.
  std::string prepare_for_shutdown(bool save, bool nosave);
  // FLUSHALL: a running BGSAVE is abandoned and, with save points, a fresh
  // (empty) dump is saved at once, as Redis 7.0 does.
  void after_flushall();

  // Bytes of the AOF buffer while the AOF is on (INFO mem_aof_buffer).
  size_t aof_buffer_memory() const { return aof_enabled() ? aof_buf_.capacity() : 0; }

  // INFO persistence, Redis 7.0's fields in order.
  void info(std::string& out) const;

 private:
  enum class AofState { kOff, kOn, kWaitRewrite };
  // A snapshot being written to a file (BGSAVE, SAVE, AOF rewrite).
  struct Job {
    std::unique_ptr<persist::FileWriter> writer;
    persist::SnapshotSink* sink = nullptr;  // instead of a writer (replication)
    std::unique_ptr<persist::Snapshot> snapshot;
    bool aof_base = false;
    std::string final_path;
    int64_t start_ms = 0;
  };
  struct Fsyncer;  // aof.cpp

  persist::SnapshotOptions snapshot_options(bool aof_base) const;
  std::string rdb_path() const;
  std::string temp_rdb_path() const;
  // Starts a snapshot into `writer`; the loop advances it.
  std::unique_ptr<Job> start_job(std::unique_ptr<persist::FileWriter> writer, bool aof_base,
                                 persist::SnapshotSink* sink = nullptr);
  // Runs `job` to completion here (SAVE, shutdown).
  bool run_to_completion(Job& job, std::string& error);
  void finish_rdb_job(bool ok, const std::string& error);
  void finish_aof_job(bool ok, const std::string& error);
  void schedule_background();
  bool check_save_points();

  // Reads an RDB stream into the databases; an AOF's preamble (and a
  // replica's image) keeps keys that have expired (the AOF may still touch
  // them).
  std::string load_rdb_source(persist::Source& src, const std::string& name, bool keep_expired,
                              bool replace);

  bool state_settings_fsync_always() const;

  // AOF internals.
  std::string aof_dir() const;
  std::string aof_path(const std::string& name) const;
  std::string manifest_name() const;
  std::string persist_manifest(const persist::AofManifest& m);
  std::string open_new_incr(bool temporary);
  std::string start_aof_rewrite();
  void flush_aof(bool force_fsync);
  std::string load_aof();
  std::string load_aof_file(const std::string& name, bool last, bool* truncated);
  std::string create_base_at_startup();
  void delete_history_files();
  void close_aof();
  void aof_cron();
  bool fsync_ok() const;
  bool fsync_pending() const;
  uint64_t file_size(const std::string& path) const;

  ServerState& state_;

  // RDB state.
  std::unique_ptr<Job> rdb_job_;
  // An abandoned snapshot still marking its keys (see Snapshot::abort()).
  std::vector<std::unique_ptr<Job>> finishing_;
  bool bgsave_scheduled_ = false;
  int64_t lastsave_ = 0;         // unix seconds of the last successful save
  int64_t last_bgsave_try_ = 0;  // unix seconds of the last BGSAVE attempt
  bool lastbgsave_ok_ = true;
  int64_t rdb_save_time_last_ = -1;  // seconds the last BGSAVE took
  int64_t rdb_save_time_start_ = 0;
  uint64_t rdb_saves_ = 0;
  uint64_t dirty_before_bgsave_ = 0;
  uint64_t rdb_last_load_keys_loaded_ = 0;
  uint64_t rdb_last_load_keys_expired_ = 0;
  bool background_posted_ = false;

  // AOF state.
  AofState aof_state_ = AofState::kOff;
  int aof_fd_ = -1;
  std::string aof_buf_;
  int aof_selected_db_ = -1;
  persist::AofManifest manifest_;
  std::string aof_incr_name_;  // the INCR file being appended to
  std::string aof_temp_incr_;  // WAIT_REWRITE: the temporary INCR
  uint64_t aof_current_size_ = 0;
  uint64_t aof_base_size_ = 0;
  uint64_t aof_fsync_offset_ = 0;  // aof_current_size_ when last fsynced
  bool aof_last_write_ok_ = true;
  int aof_last_write_errno_ = 0;
  std::unique_ptr<Job> aof_job_;
  bool aof_rewrite_scheduled_ = false;
  bool aof_lastbgrewrite_ok_ = true;
  int64_t aof_rewrite_time_last_ = -1;
  int64_t aof_rewrite_time_start_ = 0;
  uint64_t aof_rewrites_ = 0;
  uint64_t aof_rewrites_consecutive_failures_ = 0;
  uint64_t aof_delayed_fsync_ = 0;
  int64_t aof_last_fsync_ms_ = 0;
  std::unique_ptr<Fsyncer> fsyncer_;
};

}  // namespace setd::server
