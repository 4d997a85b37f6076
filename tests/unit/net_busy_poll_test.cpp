#include <gtest/gtest.h>

#include "setd/net/busy_poll.hpp"

namespace setd::net {
namespace {

// A time point `ms` milliseconds after the clock's epoch.
BusyPollGovernor::Clock::time_point T(int64_t ms) {
  return BusyPollGovernor::Clock::time_point(std::chrono::milliseconds(ms));
}

TEST(BusyPollGovernor, AllowsPollingUntilPreempted) {
  BusyPollGovernor g;
  EXPECT_TRUE(g.allowed(T(0)));
  g.sample(100, T(0));  // the first sample only sets the baseline
  EXPECT_TRUE(g.allowed(T(0)));
  g.sample(120, T(100));  // 200 a second: an idle machine's noise (measured ~180)
  EXPECT_TRUE(g.allowed(T(100)));
  EXPECT_EQ(g.backoffs(), 0u);
}

TEST(BusyPollGovernor, BacksOffWhenContendedThenRetries) {
  BusyPollGovernor g;
  g.sample(0, T(1000));
  g.sample(1000, T(1100));  // 10,000 a second: preempted while polling
  EXPECT_FALSE(g.allowed(T(1100)));
  EXPECT_FALSE(g.allowed(T(1100 + BusyPollGovernor::kBackoff.count() - 1)));
  // While backed off the loop sleeps: the count stays, nothing changes.
  g.sample(1001, T(1200));
  EXPECT_FALSE(g.allowed(T(1200)));
  EXPECT_TRUE(g.allowed(T(1100 + BusyPollGovernor::kBackoff.count())));
  EXPECT_EQ(g.backoffs(), 1u);
  // Contended again once polling resumed: backs off again.
  g.sample(3000, T(2200));
  EXPECT_FALSE(g.allowed(T(2200)));
  EXPECT_EQ(g.backoffs(), 2u);
}

TEST(BusyPollGovernor, IgnoresClockOrCounterGoingBack) {
  BusyPollGovernor g;
  g.sample(500, T(1000));
  g.sample(10, T(1100));  // counter reset (another thread's): a new baseline
  EXPECT_TRUE(g.allowed(T(1100)));
  g.sample(1000, T(1100));  // no time passed: no rate
  EXPECT_TRUE(g.allowed(T(1100)));
}

}  // namespace
}  // namespace setd::net
