// Lazy freeing, as Redis 7.0's lazyfree.c: big values and whole keyspaces
// are freed by a background thread instead of the event loop.
//
// Dependency rule (module server): db, base and the C++ standard library
// (std::thread); never Asio.
//
// What goes to the thread: a value whose freeing is real work (Redis's
// lazyfreeGetFreeEffort above LAZYFREE_THRESHOLD: a hashtable set of more
// than 64 members) and a database's whole table (FLUSHDB / FLUSHALL ASYNC,
// lazyfree-lazy-user-flush). Anything else is freed at once, as Redis does.
// The thread only runs destructors: what it frees is out of the keyspace
// and belongs to nobody else (a snapshot's walk of a set is finished on
// the loop's thread first; a flushed table goes to the thread only when no
// snapshot observes the database). INFO memory's lazyfree_pending_objects and
// lazyfreed_objects count objects (a table counts its keys).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "setd/db/keyspace.hpp"
#include "setd/db/value.hpp"

namespace setd::server {

class LazyFree {
 public:
  // Redis's LAZYFREE_THRESHOLD.
  static constexpr size_t kThreshold = 64;

  LazyFree() = default;
  ~LazyFree();
  LazyFree(const LazyFree&) = delete;
  LazyFree& operator=(const LazyFree&) = delete;

  // Redis's lazyfreeGetFreeEffort: how many allocations freeing `o` takes.
  static size_t free_effort(const db::Object& o);
  // Frees `o` in the background when its effort is above kThreshold, now
  // otherwise; true if it went to the background. `bytes`: what it holds,
  // noted as freed once it is (so that the cron gives the pages back).
  bool free_object(db::Object&& o, size_t bytes = 0);
  // Frees a whole table in the background (or now when it is empty).
  void free_keyspace(db::Keyspace&& ks, size_t bytes = 0);

  uint64_t pending() const { return pending_.load(std::memory_order_relaxed); }
  uint64_t freed() const { return freed_.load(std::memory_order_relaxed); }
  void reset_stats() { freed_.store(0, std::memory_order_relaxed); }
  // Waits until the queue is empty (tests, shutdown).
  void drain();

 private:
  void submit(std::function<void()> job, uint64_t objects, size_t bytes);
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  struct Job {
    std::function<void()> run;
    uint64_t objects;
    size_t bytes;
  };
  std::deque<Job> jobs_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;  // started with the first job
  std::atomic<uint64_t> pending_{0};
  std::atomic<uint64_t> freed_{0};
};

}  // namespace setd::server
