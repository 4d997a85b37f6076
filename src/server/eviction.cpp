#include "setd/server/eviction.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <climits>
#include <cmath>

#include "setd/base/allocator.hpp"
#include "setd/base/clock.hpp"
#include "setd/base/memory.hpp"
#include "setd/server/server_state.hpp"

namespace setd::server {

namespace {

// Buckets a volatile-* walk may visit per database and round when sampling
// found no key with a TTL.
constexpr size_t kWalkBudget = 400;

}  // namespace

Evictor::Evictor(ServerState& s) : s_(s), pool_(kPoolSize) {}

size_t Evictor::not_counted_memory() const {
  size_t n = s_.persistence().aof_buffer_memory();
  if (replica_buffer_memory) n += replica_buffer_memory();
  return n;
}

bool Evictor::over_limit(size_t* tofree) const {
  const long long max = s_.settings().maxmemory;
  if (max <= 0) return false;
  const auto limit = static_cast<size_t>(max);
  size_t used = base::alloc::allocated();
  if (used <= limit) return false;
  const size_t nc = not_counted_memory();
  used = used > nc ? used - nc : 0;
  if (used <= limit) return false;
  if (tofree != nullptr) *tofree = used - limit;
  return true;
}

bool Evictor::safe_to_evict() {
  if (s_.loading) return false;
  if (s_.scripts != nullptr && s_.scripts->busy()) return false;
  if (s_.is_replica && s_.settings().replica_ignore_maxmemory) return false;
  // The dataset stays as it is while clients are paused.
  if (s_.paused()) return false;
  return true;
}

uint64_t Evictor::eviction_time_limit_us() const {
  const long long t = s_.settings().maxmemory_eviction_tenacity;
  if (t <= 10) return 50ULL * static_cast<uint64_t>(t);
  if (t < 100) return static_cast<uint64_t>(500.0 * std::pow(1.15, static_cast<double>(t) - 10.0));
  return ULLONG_MAX;
}

void Evictor::clear_pool() {
  for (auto& e : pool_) {
    e.used = false;
    e.idle = 0;
  }
}

void Evictor::pool_insert(uint64_t idle, std::string_view key, int db) {
  // Kept ascending by idle: the best candidate is the rightmost.
  size_t k = 0;
  while (k < kPoolSize && pool_[k].used && pool_[k].idle < idle) ++k;
  if (k == 0 && pool_[kPoolSize - 1].used) return;  // worse than all, pool full
  if (k < kPoolSize && !pool_[k].used) {
    // An empty slot right where it belongs.
  } else if (!pool_[kPoolSize - 1].used) {
    // Room on the right: shift [k, end-1) right by one.
    std::rotate(pool_.begin() + static_cast<long>(k), pool_.end() - 1, pool_.end());
  } else {
    // Full: drop the leftmost (least idle) and shift [1, k) left.
    --k;
    std::rotate(pool_.begin(), pool_.begin() + 1, pool_.begin() + static_cast<long>(k) + 1);
  }
  PoolEntry& e = pool_[k];
  e.idle = idle;
  e.key.assign(key);
  e.db = db;
  e.used = true;
}

void Evictor::populate(int db) {
  const Settings& st = s_.settings();
  const MaxmemoryPolicy policy = st.maxmemory_policy;
  const bool allkeys = policy_allkeys(policy);
  const uint32_t now_clock = db::lru_clock();
  auto idle_of = [&](const db::Value& v) -> uint64_t {
    if (policy_lru(policy)) return v.idle_seconds(now_clock) * 1000;
    if (policy_lfu(policy)) return 255 - static_cast<uint64_t>(v.lfu_counter());
    return ULLONG_MAX - static_cast<uint64_t>(v.expire_ms());  // volatile-ttl
  };
  db::Keyspace& ks = s_.db(db).key_table();
  const auto samples = static_cast<size_t>(st.maxmemory_samples);
  // Gathered first: sampling must not see the pool change the keyspace
  // (it does not), and keys are copied into the pool only when they enter.
  size_t found = 0;
  ks.sample(rng_, samples, [&](db::Value& v) {
    if (!allkeys && !v.has_expire()) return;
    ++found;
    pool_insert(idle_of(v), v.key(), db);
  });
  if (found > 0 || allkeys) return;
  // Few keys have a TTL: walk on from where the last walk stopped, a bounded
  // number of buckets, until some turn up (the caller comes back while
  // there are any).
  if (cursors_.size() < static_cast<size_t>(s_.db_count()))
    cursors_.resize(static_cast<size_t>(s_.db_count()), 0);
  uint64_t& cursor = cursors_[static_cast<size_t>(db)];
  size_t buckets = 0;
  do {
    cursor = ks.scan(cursor, [&](db::Value& v) {
      if (!v.has_expire() || found >= samples) return;
      ++found;
      pool_insert(idle_of(v), v.key(), db);
    });
    ++buckets;
  } while (found == 0 && cursor != 0 && buckets < kWalkBudget);
}

bool Evictor::pick(std::string& key, int& db) {
  const bool allkeys = policy_allkeys(s_.settings().maxmemory_policy);
  for (;;) {
    size_t total = 0;
    for (int i = 0; i < s_.db_count(); ++i) {
      db::Database& d = s_.db(i);
      const size_t keys = allkeys ? d.size() : d.expires_size();
      if (keys == 0) continue;
      populate(i);
      total += keys;
    }
    if (total == 0) return false;
    // The best candidate that still exists (a pooled key may have been
    // deleted or lost its TTL since).
    for (size_t k = kPoolSize; k-- > 0;) {
      PoolEntry& e = pool_[k];
      if (!e.used) continue;
      e.used = false;
      e.idle = 0;
      if (e.db >= s_.db_count()) continue;
      const db::Value* v = s_.db(e.db).key_table().find(e.key);
      if (v == nullptr || (!allkeys && !v->has_expire())) continue;
      key.swap(e.key);
      db = e.db;
      return true;
    }
  }
}

bool Evictor::pick_random(std::string& key, int& db) {
  const bool allkeys = policy_allkeys(s_.settings().maxmemory_policy);
  const int dbs = s_.db_count();
  for (int i = 0; i < dbs; ++i) {
    const int j = static_cast<int>(++next_db_ % static_cast<unsigned>(dbs));
    db::Database& d = s_.db(j);
    db::Keyspace& ks = d.key_table();
    if (allkeys) {
      const db::Value* v = d.size() == 0 ? nullptr : ks.random(rng_);
      if (v == nullptr) continue;
      key.assign(v->key());
      db = j;
      return true;
    }
    if (d.expires_size() == 0) continue;
    // A random key with a TTL: draws while they are common enough, then a
    // walk from the database's cursor (which finds one: there are some).
    for (int tries = 0; tries < 64; ++tries) {
      const db::Value* v = ks.random(rng_);
      if (v != nullptr && v->has_expire()) {
        key.assign(v->key());
        db = j;
        return true;
      }
    }
    if (cursors_.size() < static_cast<size_t>(dbs)) cursors_.resize(static_cast<size_t>(dbs), 0);
    uint64_t& cursor = cursors_[static_cast<size_t>(j)];
    bool found = false;
    for (int wraps = 0; !found && wraps < 2;) {
      cursor = ks.scan(cursor, [&](db::Value& v) {
        if (found || !v.has_expire()) return;
        key.assign(v.key());
        found = true;
      });
      if (cursor == 0) ++wraps;
    }
    if (found) {
      db = j;
      return true;
    }
  }
  return false;
}

void Evictor::evict(int db, const std::string& key) {
  const bool lazy = s_.settings().lazyfree_lazy_eviction;
  if (lazy) {
    db::Database& d = s_.db(db);
    const db::Value* v = d.key_table().find(key);
    const size_t bytes = v != nullptr ? v->heap_bytes() : 0;
    auto taken = d.evict_take(key);
    if (!taken) return;
    if (!s_.lazyfree().free_object(std::move(*taken), bytes)) base::note_freed(bytes);
  } else if (!s_.db(db).evict(key)) {
    return;
  }
  ++s_.stats().evicted_keys;
  s_.signal_modified_key(db, key, false);
  s_.notify_keyspace_event(notify::kEvicted, "evicted", key, db);
  // Replicas and the AOF learn of it as a DEL, or an UNLINK when evictions
  // free lazily (Redis's propagateDeletion).
  s_.also_propagate(db, {lazy ? "UNLINK" : "DEL", key});
}

void Evictor::schedule() {
  if (proc_running_ || s_.loop == nullptr) return;
  proc_running_ = true;
  s_.loop->post_after(0, [this] { run_later(); });
}

void Evictor::run_later() {
  if (perform() == Result::kRunning) {
    s_.loop->post_after(0, [this] { run_later(); });
    return;
  }
  proc_running_ = false;
}

Evictor::Result Evictor::perform() {
  if (!safe_to_evict()) return Result::kOk;
  Result result = Result::kFail;
  size_t tofree = 0;
  if (!over_limit(&tofree)) {
    result = Result::kOk;
  } else if (s_.settings().maxmemory_policy != MaxmemoryPolicy::kNoEviction) {
    const MaxmemoryPolicy policy = s_.settings().maxmemory_policy;
    const bool pooled =
        policy_lru(policy) || policy_lfu(policy) || policy == MaxmemoryPolicy::kVolatileTtl;
    const uint64_t limit = eviction_time_limit_us();
    const int64_t start = base::monotonic_us();
    long long freed = 0;
    uint64_t keys_freed = 0;
    std::string key;
    bool stuck = false;
    while (freed < static_cast<long long>(tofree)) {
      int db = 0;
      if (!(pooled ? pick(key, db) : pick_random(key, db))) {
        stuck = true;  // nothing left to evict
        break;
      }
      const auto before = static_cast<long long>(base::alloc::allocated());
      const int64_t del_start = base::monotonic_us();
      evict(db, key);
      s_.latency_sample("eviction-del", (base::monotonic_us() - del_start) / 1000);
      const long long delta = before - static_cast<long long>(base::alloc::allocated());
      if (delta > 0) base::note_freed(static_cast<size_t>(delta));
      freed += delta;
      ++keys_freed;
      if (keys_freed % 16 == 0) {
        // Lazily freed values leave memory later: look at the real figure.
        if (s_.settings().lazyfree_lazy_eviction && !over_limit()) break;
        if (static_cast<uint64_t>(base::monotonic_us() - start) > limit) {
          schedule();  // still over: go on from the event loop
          break;
        }
      }
    }
    if (!stuck) result = proc_running_ ? Result::kRunning : Result::kOk;
    // Each DEL on its own, as Redis (propagate_no_multi).
    s_.propagate_pending(false);
    s_.latency_sample("eviction-cycle", (base::monotonic_us() - start) / 1000);
  }
  // How long memory has been over the limit (INFO stats).
  Stats& st = s_.stats();
  if (result != Result::kOk) {
    if (st.eviction_exceeded_since_us == 0) st.eviction_exceeded_since_us = base::monotonic_us();
  } else if (st.eviction_exceeded_since_us != 0) {
    st.total_eviction_exceeded_us +=
        static_cast<uint64_t>(base::monotonic_us() - st.eviction_exceeded_since_us);
    st.eviction_exceeded_since_us = 0;
  }
  return result;
}

}  // namespace setd::server
