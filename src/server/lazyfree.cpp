#include "setd/server/lazyfree.hpp"

#include <memory>

#include "setd/base/memory.hpp"

namespace setd::server {

LazyFree::~LazyFree() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t LazyFree::free_effort(const db::Object& o) {
  if (o.type() != db::Type::kSet) return 1;
  const ds::SetObject& s = o.as_set();
  return s.as_hash_set() != nullptr ? s.size() : 1;
}

bool LazyFree::free_object(db::Object&& o, size_t bytes) {
  if (free_effort(o) <= kThreshold) return false;  // the caller's scope frees it
  // A snapshot walking the set is fed here, on the loop's thread, before
  // the set leaves (its destructor would report the rest from the thread).
  if (ds::HashSet* hs = o.as_set().as_hash_set(); hs != nullptr && hs->walking()) hs->finish_walk();
  auto owned = std::make_shared<db::Object>(std::move(o));
  submit([owned]() mutable { owned.reset(); }, 1, bytes);
  return true;
}

void LazyFree::free_keyspace(db::Keyspace&& ks, size_t bytes) {
  const uint64_t keys = ks.size();
  if (keys == 0) return;
  auto owned = std::make_shared<db::Keyspace>(std::move(ks));
  submit([owned]() mutable { owned.reset(); }, keys, bytes);
}

void LazyFree::submit(std::function<void()> job, uint64_t objects, size_t bytes) {
  pending_.fetch_add(objects, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    jobs_.push_back({std::move(job), objects, bytes});
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_one();
}

void LazyFree::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, nothing left
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    job.run();  // the last reference goes here: the destructors run now
    job.run = nullptr;
    base::note_freed(job.bytes);
    pending_.fetch_sub(job.objects, std::memory_order_relaxed);
    freed_.fetch_add(job.objects, std::memory_order_relaxed);
    lock.lock();
    busy_ = false;
    if (jobs_.empty()) idle_cv_.notify_all();
  }
}

void LazyFree::drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

}  // namespace setd::server
