#include <gtest/gtest.h>

#include "setd/net/busy_poll.hpp"

namespace setd::net {
namespace {

TEST(BusyPollGovernor, AllowsPollingUntilPreempted) {
  BusyPollGovernor g;
  EXPECT_TRUE(g.allowed(0));
  g.sample(100, 0);  // the first sample only sets the baseline
  EXPECT_TRUE(g.allowed(0));
  g.sample(120, 100);  // 200 a second: an idle machine's noise (measured ~180)
  EXPECT_TRUE(g.allowed(100));
  EXPECT_EQ(g.backoffs(), 0u);
}

TEST(BusyPollGovernor, BacksOffWhenContendedThenRetries) {
  BusyPollGovernor g;
  g.sample(0, 1000);
  g.sample(1000, 1100);  // 10,000 a second: preempted while polling
  EXPECT_FALSE(g.allowed(1100));
  EXPECT_FALSE(g.allowed(1100 + BusyPollGovernor::kBackoffMs - 1));
  // While backed off the loop sleeps: the count stays, nothing changes.
  g.sample(1001, 1200);
  EXPECT_FALSE(g.allowed(1200));
  EXPECT_TRUE(g.allowed(1100 + BusyPollGovernor::kBackoffMs));
  EXPECT_EQ(g.backoffs(), 1u);
  // Contended again once polling resumed: backs off again.
  g.sample(3000, 2200);
  EXPECT_FALSE(g.allowed(2200));
  EXPECT_EQ(g.backoffs(), 2u);
}

TEST(BusyPollGovernor, IgnoresClockOrCounterGoingBack) {
  BusyPollGovernor g;
  g.sample(500, 1000);
  g.sample(10, 1100);  // counter reset (another thread's): a new baseline
  EXPECT_TRUE(g.allowed(1100));
  g.sample(1000, 1100);  // no time passed: no rate
  EXPECT_TRUE(g.allowed(1100));
}

}  // namespace
}  // namespace setd::net
