// CLIENT PAUSE / UNPAUSE beside redis-server 7.0: which commands wait
// under WRITE and ALL, that they run (in order) when the pause ends or is
// lifted, that nothing expires meanwhile, and the replies and errors.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

class PauseVsRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
    setd_ = std::make_unique<ServerProcess>(setd_binary());
    redis_ = std::make_unique<ServerProcess>("redis-server");
  }
  std::vector<ServerProcess*> both() { return {setd_.get(), redis_.get()}; }
  std::unique_ptr<ServerProcess> setd_, redis_;
};

std::string text(const std::optional<RespValue>& v) { return v ? v->to_string() : "(waiting)"; }

TEST_F(PauseVsRedis, ArgumentsAndReplies) {
  Client s(setd_->port()), r(redis_->port());
  for (const auto& cmd :
       std::vector<std::vector<std::string>>{{"CLIENT", "PAUSE"},
                                             {"CLIENT", "PAUSE", "abc"},
                                             {"CLIENT", "PAUSE", "-1"},
                                             {"CLIENT", "PAUSE", "10", "READ"},
                                             {"CLIENT", "PAUSE", "10", "WRITE", "x"},
                                             {"CLIENT", "PAUSE", "0"},
                                             {"CLIENT", "PAUSE", "0", "write"},
                                             {"CLIENT", "UNPAUSE"},
                                             {"CLIENT", "UNPAUSE", "x"},
                                             {"CLIENT", "UNPAUSE"}}) {
    EXPECT_EQ(s.call(cmd).to_string(), r.call(cmd).to_string()) << cmd.back();
  }
}

// Under WRITE, reads run and writes (and may-replicate commands) wait until
// UNPAUSE; then they run in the order they came.
TEST_F(PauseVsRedis, WritePauseHoldsWritesUntilUnpause) {
  for (ServerProcess* p : both()) {
    SCOPED_TRACE(p == setd_.get() ? "setd" : "redis");
    Client admin(p->port()), c(p->port(), 300), w(p->port(), 300);
    ASSERT_EQ(admin.call({"SET", "k", "v0"}).str, "OK");
    ASSERT_EQ(admin.call({"CLIENT", "PAUSE", "100000", "WRITE"}).str, "OK");
    EXPECT_EQ(text(c.call({"GET", "k"})), "\"v0\"");
    EXPECT_EQ(text(c.call({"SMEMBERS", "s"})), "[]");
    EXPECT_EQ(text(c.call({"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"})), "\"v0\"");
    w.send({"SET", "k", "v1"});
    w.send({"GET", "k"});  // behind the write: waits too
    EXPECT_EQ(text(w.read()), "(waiting)");
    // Others still read; PUBLISH and EVAL may replicate: they wait too.
    Client pub(p->port(), 300);
    pub.send({"PUBLISH", "ch", "x"});
    EXPECT_EQ(text(pub.read()), "(waiting)");
    EXPECT_EQ(text(c.call({"GET", "k"})), "\"v0\"");
    // The waiting client shows as blocked.
    const std::string list = admin.call({"CLIENT", "LIST"}).str;
    EXPECT_NE(list.find("flags=b "), std::string::npos) << list;
    EXPECT_EQ(admin.call({"CLIENT", "UNPAUSE"}).str, "OK");
    EXPECT_EQ(text(w.read()), "OK");
    EXPECT_EQ(text(w.read()), "\"v1\"");
    EXPECT_EQ(text(pub.read()), "(integer) 0");
  }
}

// ALL holds everything, until the timeout.
TEST_F(PauseVsRedis, AllPauseHoldsEverythingUntilItEnds) {
  for (ServerProcess* p : both()) {
    SCOPED_TRACE(p == setd_.get() ? "setd" : "redis");
    Client admin(p->port()), c(p->port(), 5000);
    ASSERT_EQ(admin.call({"CLIENT", "PAUSE", "400"}).str, "OK");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(text(c.call({"PING"})), "PONG");
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_GE(waited, 300);
    EXPECT_LT(waited, 2000);
  }
}

// A pause is never shortened nor weakened by a later one (and under ALL
// even CLIENT UNPAUSE waits, as in Redis).
TEST_F(PauseVsRedis, PausesOnlyGrow) {
  for (ServerProcess* p : both()) {
    SCOPED_TRACE(p == setd_.get() ? "setd" : "redis");
    Client admin(p->port()), c(p->port(), 300);
    ASSERT_EQ(admin.call({"MULTI"}).str, "OK");
    ASSERT_EQ(admin.call({"CLIENT", "PAUSE", "900", "ALL"}).str, "QUEUED");
    ASSERT_EQ(admin.call({"CLIENT", "PAUSE", "10", "WRITE"}).str, "QUEUED");
    ASSERT_EQ(admin.call({"EXEC"}).to_string(), "[OK, OK]");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    c.send({"GET", "k"});
    EXPECT_EQ(text(c.read()), "(waiting)");
    admin.send({"CLIENT", "UNPAUSE"});
    EXPECT_EQ(text(c.read()), "(waiting)");
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_EQ(text(c.read()), "(nil)");
    EXPECT_EQ(text(admin.read()), "OK");
  }
}

// MULTI: queuing a write waits under WRITE; nothing expires while paused
// (reads see the key as gone, the key stays until the pause ends).
TEST_F(PauseVsRedis, TransactionsAndExpiryWhilePaused) {
  for (ServerProcess* p : both()) {
    SCOPED_TRACE(p == setd_.get() ? "setd" : "redis");
    Client admin(p->port()), c(p->port(), 300);
    ASSERT_EQ(admin.call({"SET", "t", "v", "PX", "100"}).str, "OK");
    ASSERT_EQ(admin.call({"CLIENT", "PAUSE", "100000", "WRITE"}).str, "OK");
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    EXPECT_EQ(text(c.call({"GET", "t"})), "(nil)");
    EXPECT_EQ(admin.call({"DBSIZE"}).integer, 1);
    EXPECT_EQ(text(c.call({"MULTI"})), "OK");
    EXPECT_EQ(text(c.call({"GET", "t"})), "QUEUED");
    c.send({"SET", "x", "1"});
    EXPECT_EQ(text(c.read()), "(waiting)");
    ASSERT_EQ(admin.call({"CLIENT", "UNPAUSE"}).str, "OK");
    EXPECT_EQ(text(c.read()), "QUEUED");
    EXPECT_EQ(text(c.call({"EXEC"})), "[(nil), OK]");
    EXPECT_TRUE(wait_until([&] { return admin.call({"EXISTS", "t"}).integer == 0; }, 3000));
  }
}

}  // namespace
}  // namespace setd::testing
