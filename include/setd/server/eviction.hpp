// maxmemory: keeping the dataset under the memory limit by evicting keys,
// as Redis 7.0's evict.c.
//
// Dependency rule (module server): db and base; never Asio.
//
// Before each command (and when maxmemory is lowered) the server asks
// perform(). While the memory in use -- base::alloc::allocated(), less what
// Redis does not count (replica output buffers, the AOF buffer) -- is over
// maxmemory, keys are deleted one at a time, chosen by maxmemory-policy:
//
//  * *-lru, *-lfu, volatile-ttl: Redis's approximation. Each round samples
//    maxmemory-samples keys per database (ds::ChainTable::sample, Redis's
//    dictGetSomeKeys) into a 16-entry pool kept sorted by "idle" (LRU idle
//    ms, 255 - the LFU counter, or ULLONG_MAX - the expire time) across
//    calls, and evicts the best candidate that still exists.
//  * *-random: a uniformly random key (of those with a TTL for volatile-*)
//    from the databases in turn.
//
// volatile-* policies consider keys with a TTL only. setd keeps TTLs inside
// keyspace entries rather than in a second dict, so they are sampled from
// the keyspace and filtered (falling back to walking it from a cursor when
// few keys have one).
//
// Each eviction counts in INFO (Stats::evicted_keys), fires the "evicted" keyspace
// event, touches WATCHers and propagates a DEL to the AOF and replicas.
// Eviction stops after a time budget set by maxmemory-eviction-tenacity;
// the rest continues from the event loop (Redis's evictionTimeProc), and
// commands that may grow memory are refused meanwhile only when it fails.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "setd/base/random.hpp"

namespace setd::server {

class ServerState;

class Evictor {
 public:
  enum class Result : uint8_t { kOk, kRunning, kFail };

  explicit Evictor(ServerState& s);

  // Evicts until memory is under maxmemory, the time budget is spent
  // (kRunning: the loop goes on later) or nothing can be evicted (kFail:
  // the policy is noeviction, or no key qualifies).
  Result perform();

  // Memory not counted against maxmemory (Redis's
  // freeMemoryGetNotCountedMemory): replica buffers (told by replication)
  // and the AOF buffer.
  size_t not_counted_memory() const;
  std::function<size_t()> replica_buffer_memory;

  // Whether memory is over maxmemory, and by how much (tofree).
  bool over_limit(size_t* tofree = nullptr) const;

  // The pool, cleared when the databases are emptied or swapped wholesale.
  void clear_pool();

 private:
  struct PoolEntry {
    uint64_t idle = 0;
    std::string key;
    int db = 0;
    bool used = false;
  };
  static constexpr size_t kPoolSize = 16;

  bool safe_to_evict();
  // Fills the pool from one database; returns the keys it could consider.
  void populate(int db);
  void pool_insert(uint64_t idle, std::string_view key, int db);
  // The next key to evict (its database in `db`), or false.
  bool pick(std::string& key, int& db);
  bool pick_random(std::string& key, int& db);
  void evict(int db, const std::string& key);
  uint64_t eviction_time_limit_us() const;
  void schedule();
  void run_later();

  ServerState& s_;
  std::vector<PoolEntry> pool_;
  base::Rng rng_{0xE71C7};
  std::vector<uint64_t> cursors_;  // per database: the walk for volatile-*
  unsigned next_db_ = 0;
  bool proc_running_ = false;
};

}  // namespace setd::server
