// The cron's directives through the in-process runner: activerehashing
// (the keyspace table is rehashed in the background, or only as it is
// used) and active-expire-effort (how many expired keys one tick reclaims).
#include <gtest/gtest.h>

#include <string>

#include "runner.hpp"
#include "setd/base/clock.hpp"
#include "setd/db/value.hpp"

namespace setd::testing {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;  // the pinned "now" (ms)

class Cron : public ::testing::Test {
 protected:
  void SetUp() override { base::pin_now(kT0); }
  void TearDown() override { base::pin_now(-1); }
  Runner r;
};

// Fills db 0 until its table is in the middle of a growth (rehashing).
void fill_until_rehashing(db::Database& d) {
  for (int i = 0; i < 1'000'000; ++i) {
    d.set("k" + std::to_string(i), db::Object::string("v"));
    if (i > 5000 && d.key_table().rehashing()) return;
  }
  FAIL() << "the table never rehashed";
}

TEST_F(Cron, ActiveRehashingFinishesATableTheClientsLeftHalfDone) {
  auto& d = r.state().db(0);
  ASSERT_EQ(r.run({"CONFIG", "SET", "activerehashing", "no"}).str, "OK");
  fill_until_rehashing(d);
  for (int i = 0; i < 20; ++i) r.state().cron();
  EXPECT_TRUE(d.key_table().rehashing()) << "rehashed with activerehashing no";
  ASSERT_EQ(r.run({"CONFIG", "SET", "activerehashing", "yes"}).str, "OK");
  for (int i = 0; i < 20 && d.key_table().rehashing(); ++i) r.state().cron();
  EXPECT_FALSE(d.key_table().rehashing());
}

// Another database's table is found too (up to 16 a tick).
TEST_F(Cron, ActiveRehashingVisitsEveryDatabase) {
  auto& d = r.state().db(5);
  fill_until_rehashing(d);
  for (int i = 0; i < 20 && d.key_table().rehashing(); ++i) r.state().cron();
  EXPECT_FALSE(d.key_table().rehashing());
}

// One tick with every key expired: effort 1 samples 20 keys a round, effort
// 10 65 (rounds are capped), so effort 10 reclaims about three times as
// many keys.
TEST_F(Cron, ActiveExpireEffortScalesOneTick) {
  auto expired_in_one_tick = [&](const char* effort) {
    auto& d = r.state().db(0);
    r.run({"FLUSHALL"});
    for (int i = 0; i < 20000; ++i) {
      d.set("k" + std::to_string(i), db::Object::string("v"));
      d.set_expire("k" + std::to_string(i), kT0 + 10);
    }
    base::pin_now(kT0 + 1000);
    EXPECT_EQ(r.run({"CONFIG", "SET", "active-expire-effort", effort}).str, "OK");
    const size_t before = d.size();
    r.state().cron();
    base::pin_now(kT0);
    return before - d.size();
  };
  const size_t low = expired_in_one_tick("1");
  const size_t high = expired_in_one_tick("10");
  EXPECT_GT(low, 500u);
  EXPECT_LT(low, 2000u);
  EXPECT_GT(high, 2 * low) << "effort 1: " << low << ", effort 10: " << high;
}

}  // namespace
}  // namespace setd::testing
