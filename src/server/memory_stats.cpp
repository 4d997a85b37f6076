#include "setd/server/memory_stats.hpp"

#include <algorithm>

#include "setd/base/allocator.hpp"

namespace setd::server {

size_t MemoryStats::used() {
  const size_t u = base::alloc::allocated();
  peak_ = std::max(peak_, u);
  return u;
}

void MemoryStats::record_startup() { startup_ = used(); }

void MemoryStats::cron(int64_t now_ms) {
  used();
  if (!sampled_ || now_ms - last_sample_ms_ >= 100) {
    last_sample_ms_ = now_ms;
    take_sample();
  }
}

const MemorySample& MemoryStats::sample() {
  if (!sampled_) take_sample();
  return sample_;
}

void MemoryStats::take_sample() {
  // As Redis's cronUpdateMemoryStats: the RSS and used memory together,
  // then the allocator's figures, faked where it keeps none.
  MemorySample s;
  s.process_rss = base::alloc::process_rss();
  s.used = used();
  s.allocated = base::alloc::allocated();
  s.active = base::alloc::active();
  s.resident = base::alloc::resident();
  if (s.resident == 0) s.resident = s.process_rss;
  if (s.active == 0) s.active = s.resident;
  if (s.allocated == 0) s.allocated = s.used;
  sample_ = s;
  sampled_ = true;
}

}  // namespace setd::server
