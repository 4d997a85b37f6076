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
// kContendedPerSecond or more, polling stops for kBackoff and the loop
// sleeps as soon as nothing is ready (a sleeping loop is not preempted, so
// the count falls); after the back-off the next sample decides again.
//
// Measured (2 cores, redis-benchmark -c 50 -P 1 SADD): a polling setd
// master with a setd replica is preempted ~10,000 times a second; without
// the replica (benchmark and setd, one core each) ~180.
#pragma once

#include <chrono>
#include <cstdint>

namespace setd::net {

class BusyPollGovernor {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr uint64_t kContendedPerSecond = 1000;
  static constexpr std::chrono::milliseconds kBackoff{1000};

  // True while polling is allowed.
  bool allowed(Clock::time_point now) const noexcept { return now >= backoff_until_; }

  // One sample: the thread's involuntary context switches so far
  // (cumulative), at `now`.
  void sample(uint64_t nivcsw, Clock::time_point now) noexcept {
    if (sampled_ && now > last_ && nivcsw >= last_nivcsw_) {
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - last_).count();
      const uint64_t per_second =
          (nivcsw - last_nivcsw_) * 1000000 / static_cast<uint64_t>(us > 0 ? us : 1);
      if (per_second >= kContendedPerSecond) {
        backoff_until_ = now + kBackoff;
        ++backoffs_;
      }
    }
    sampled_ = true;
    last_nivcsw_ = nivcsw;
    last_ = now;
  }

  // How many times polling was stopped (for tests and logs).
  uint64_t backoffs() const noexcept { return backoffs_; }

 private:
  bool sampled_ = false;
  uint64_t last_nivcsw_ = 0;
  Clock::time_point last_{};
  Clock::time_point backoff_until_{};
  uint64_t backoffs_ = 0;
};

}  // namespace setd::net
