// BusyPollGovernor: decides whether the event loop may busy-poll
// (busy-poll-us) right now.
//
// Dependency rule (module net): std only here (no Asio), so that unit tests
// can drive it without a loop.
//
// Polling pays when setd has a core to itself: the next request is found
// without the kernel waking the loop. On a machine with fewer free cores than
// busy processes (setd, its replicas and the clients on 2 cores, say) the
// polling core is one the clients or a replica needed: the scheduler then
// preempts setd while it polls. The cron feeds the governor the thread's
// count of involuntary context switches (getrusage ru_nivcsw); at
// kContendedPerSecond or more, polling stops for kBackoffMs and the loop
// sleeps as soon as nothing is ready (a sleeping loop is not preempted, so
// the count falls); after the back-off the next sample decides again.
//
// Measured (2 cores, redis-benchmark -c 50 -P 1 SADD): a polling setd
// master with a setd replica is preempted ~10,000 times a second; without
// the replica (benchmark and setd, one core each) ~180.
#pragma once

#include <cstdint>

namespace setd::net {

class BusyPollGovernor {
 public:
  static constexpr uint64_t kContendedPerSecond = 1000;
  static constexpr int64_t kBackoffMs = 1000;

  // True while polling is allowed.
  bool allowed(int64_t now_ms) const noexcept { return now_ms >= backoff_until_ms_; }

  // One sample: the thread's involuntary context switches so far
  // (cumulative), at `now_ms` (a monotonic clock).
  void sample(uint64_t nivcsw, int64_t now_ms) noexcept {
    if (last_ms_ >= 0 && now_ms > last_ms_ && nivcsw >= last_nivcsw_) {
      const uint64_t per_second =
          (nivcsw - last_nivcsw_) * 1000 / static_cast<uint64_t>(now_ms - last_ms_);
      if (per_second >= kContendedPerSecond) {
        backoff_until_ms_ = now_ms + kBackoffMs;
        ++backoffs_;
      }
    }
    last_nivcsw_ = nivcsw;
    last_ms_ = now_ms;
  }

  // How many times polling was stopped (for tests and logs).
  uint64_t backoffs() const noexcept { return backoffs_; }

 private:
  uint64_t last_nivcsw_ = 0;
  int64_t last_ms_ = -1;
  int64_t backoff_until_ms_ = 0;
  uint64_t backoffs_ = 0;
};

}  // namespace setd::net
