// Snapshot: a point-in-time RDB image of live databases, written without
// fork and without stopping the event loop.
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// How it stays point-in-time. At start (time T) the snapshot attaches itself
// to every database as its db::SnapshotObserver with a fresh mark (the
// opposite of the last one). From then on:
//  * step() walks each database's key table with a SCAN cursor (Redis's
//    dictScan: every key present for the whole walk is visited at least
//    once, whatever the table does meanwhile) and writes every key whose
//    Value::snap_mark is not the mark yet, then marks it;
//  * before any change to an unmarked key (in-place write, overwrite,
//    delete, TTL change, expiry) the database calls save_before_change(),
//    which writes the key as it still is and marks it;
//  * keys created after T are born marked, so the walk skips them;
//  * FLUSHDB/FLUSHALL: before_clear() takes the database's tables away
//    (no copy) and the walk goes on over them, then frees them;
//  * SWAPDB: before_swap() exchanges which database object each logical
//    database is read from.
// So every key present at T is written exactly once, with its value and TTL
// at T, and nothing created after T is.
//
// Big sets are not written whole when a write touches them first: saving
// 25,000 members costs ~0.3 ms, and a pipeline of writes to many big sets
// would pay that for each. A hashtable set of more than kWalkThreshold
// members is instead walked (ds::HashSet::begin_walk): its header goes to a
// buffer of its own, the write that triggered it pays only for the bucket
// it changes, step() finishes walks before anything else, and a finished
// walk's bytes join the stream as one key. A key written out of walking order
// (by a change) goes under its own SELECTDB: Redis's loader (and
// redis-check-rdb) accept SELECTDB anywhere, and RESIZEDB is only a hint.
//
// Memory: besides the sink's buffered chunks (bounded by the caller through
// backlog()), a snapshot holds only the tables of databases flushed while
// it runs. Cost on the event loop: the serialization itself, spread over
// step() calls; a change to an unsaved key pays for saving that one key.
//
// Every key must be marked before the next snapshot starts (the mark only
// flips). A snapshot that is abandoned early therefore keeps marking, in
// abort mode, without writing: call step() until done() as for a normal
// one (each step marks a bounded number of keys).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "setd/db/database.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace setd::persist {

// Where a snapshot's bytes go. write() takes a chunk of RDB bytes; finish()
// follows the last chunk (which ends with the EOF opcode): the sink appends
// the 8-byte CRC-64 of everything (or zeros without checksums) and
// completes. backlog() is how many bytes it holds that are not written out
// yet (the producer pauses above a limit).
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void write(std::string&& chunk) = 0;
  virtual void finish() = 0;
  virtual size_t backlog() const = 0;
  // True once nothing more can be delivered (every reader gone): the
  // snapshot is then abandoned.
  virtual bool failed() const { return false; }
};

// What the image is written as: an RDB file, or (an AOF base with
// aof-use-rdb-preamble no) the commands that rebuild it: SELECT, SET,
// SADD in batches of 64 members, PEXPIREAT.
enum class SnapshotFormat : uint8_t { kRdb, kAofCommands };

struct SnapshotOptions {
  SnapshotFormat format = SnapshotFormat::kRdb;
  EncodeOptions encode;
  // AUX fields written after the magic, in order.
  std::vector<std::pair<std::string, std::string>> aux;
  // Function libraries' code, written before the databases: one
  // RDB_OPCODE_FUNCTION2 each (RDB), or a FUNCTION LOAD command each (an AOF
  // base without the RDB preamble), as Redis 7.0's rdbSaveFunctions /
  // rewriteFunctions.
  std::vector<std::string> functions;
  // Chunks handed to the sink are about this big.
  size_t chunk_bytes = 1 << 20;
};

class Snapshot final : public db::SnapshotObserver {
 public:
  // Hashtable sets bigger than this are walked rather than written at once
  // when a write touches them before the snapshot reached them.
  static constexpr size_t kWalkThreshold = 1024;

  // Starts the image of `dbs` (index = database number) as they are now.
  // Nothing else may observe them meanwhile. `mark` must differ from the
  // databases' current mark (Snapshot::next_mark()).
  Snapshot(std::vector<db::Database*> dbs, SnapshotSink* sink, SnapshotOptions opts);
  ~Snapshot() override;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // Works until `max_keys` keys have been visited or about `max_bytes` of
  // output has been produced, whichever first. Returns done().
  bool step(size_t max_keys, size_t max_bytes);
  // True once every key has been written (or, after abort(), marked) and
  // the sink finished; the databases are detached then.
  bool done() const { return done_; }

  // Stops writing: nothing more reaches the sink (it is forgotten), and the
  // remaining keys are only marked by the following step() calls.
  void abort();
  bool aborted() const { return sink_ == nullptr && !done_; }

  uint64_t keys_written() const { return keys_written_; }
  uint64_t bytes_produced() const { return bytes_produced_; }

  // db::SnapshotObserver
  void save_before_change(db::Database& db, std::string_view key, db::Value& v,
                          int64_t expire_ms) override;
  void before_clear(db::Database& db) override;
  void before_swap(db::Database& a, db::Database& b) override;

 private:
  // One logical database: where its keys are read from now.
  struct Job {
    int index = 0;                 // database number written in the file
    db::Database* live = nullptr;  // the database object holding its keys
    db::Keyspace* keys = nullptr;  // the keyspace being walked
    uint64_t cursor = 0;
    bool started = false;  // the walk has begun
    bool finished = false;
    uint64_t size_at_start = 0, expires_at_start = 0;
    // The keyspace taken from the database by a FLUSH, walked instead.
    std::unique_ptr<db::Keyspace> taken_keys;
  };

  // A big set being written a bucket at a time (see the top of this file).
  struct SetWalk final : ds::HashSet::WalkSink {
    Snapshot* owner = nullptr;
    size_t job = 0;
    ds::HashSet* set = nullptr;
    std::string buf;
    bool over = false;
    void member(std::string_view m) override;
    void relocated(ds::HashSet* now) override { set = now; }
    void ended() override;
  };

  Job* job_of(db::Database& d);
  bool start_walk(size_t job, std::string_view key, db::Value& v, int64_t expire_ms);
  void write_key(const Job& job, std::string_view key, const db::Value& v, int64_t expire_ms);
  void switch_db(const Job& job);
  void write_commands(std::string_view key, const db::Value& v, int64_t expire_ms);
  void flush_chunk(bool force);
  void complete();

  std::vector<Job> jobs_;
  std::vector<std::unique_ptr<SetWalk>> walks_;
  std::vector<db::Database*> dbs_;
  SnapshotSink* sink_;
  SnapshotOptions opts_;
  bool mark_;
  std::string buf_;
  RdbEncoder enc_;
  int stream_db_ = -1;              // database of the last SELECTDB written
  std::vector<bool> section_open_;  // SELECTDB + RESIZEDB written for that db
  size_t next_job_ = 0;
  bool done_ = false;
  uint64_t keys_written_ = 0;
  uint64_t bytes_produced_ = 0;
};

}  // namespace setd::persist
