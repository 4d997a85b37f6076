// The server's memory figures over time, as Redis keeps them: the peak of
// used memory (stat_peak_memory), what was in use once start-up was done
// (initial_memory_usage) and the cron's samples of the allocator and the
// process (cron_malloc_stats). INFO memory, MEMORY STATS and MEMORY DOCTOR
// read them (src/cmd/memory_family.cpp).
//
// Dependency rule (module server): base only here (base/allocator.hpp gives
// the figures).
#pragma once

#include <cstddef>
#include <cstdint>

namespace setd::server {

// One sample, taken together so that their ratios mean something.
struct MemorySample {
  size_t process_rss = 0;  // the process's resident set
  size_t used = 0;         // used memory when the RSS was read
  // The allocator's figures; where it has none, Redis's stand-ins: resident
  // = the process's RSS, active = resident, allocated = used.
  size_t allocated = 0;
  size_t active = 0;
  size_t resident = 0;
};

class MemoryStats {
 public:
  // Used memory now (base::alloc::allocated()); raises the peak, as INFO
  // does in Redis.
  size_t used();
  size_t peak() const { return peak_; }
  // Used memory once the server was set up, before loading data.
  size_t startup() const { return startup_; }
  void record_startup();

  // Every cron tick: the peak; every 100 ms: a new sample.
  void cron(int64_t now_ms);
  // The latest sample (taken now if the cron has taken none yet).
  const MemorySample& sample();
  // Takes a sample now.
  void take_sample();

 private:
  size_t peak_ = 0;
  size_t startup_ = 0;
  MemorySample sample_;
  bool sampled_ = false;
  int64_t last_sample_ms_ = 0;
};

}  // namespace setd::server
