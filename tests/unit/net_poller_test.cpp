#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <vector>

#include "setd/net/poller.hpp"

namespace setd::net {
namespace {

// A connected pair of non-blocking stream sockets, closed at the end.
struct Pair {
  int a = -1;
  int b = -1;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~Pair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  void send(const char* s) const { ASSERT_GT(::write(b, s, std::strlen(s)), 0); }
  size_t drain() const {
    char buf[256];
    size_t total = 0;
    ssize_t n;
    while ((n = ::read(a, buf, sizeof(buf))) > 0) total += static_cast<size_t>(n);
    return total;
  }
};

// Counts the events it gets and runs `then` on each.
struct Recorder final : Poller::Target {
  std::vector<uint32_t> events;
  std::function<void()> then;
  void on_poll_event(uint32_t ev) override {
    events.push_back(ev);
    if (then) then();
  }
  size_t inputs() const {
    size_t n = 0;
    for (uint32_t ev : events) n += (ev & EPOLLIN) != 0;
    return n;
  }
};

TEST(Poller, EdgeTriggeredReportsEachArrivalOnce) {
  Poller p;
  ASSERT_TRUE(p.ok());
  Pair s;
  Recorder r;
  ASSERT_EQ(p.add(s.a, &r), 0);
  p.poll(0);  // the first edge: writable
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.events[0] & EPOLLOUT);
  EXPECT_EQ(r.inputs(), 0u);
  r.events.clear();
  EXPECT_EQ(p.poll(0), 0);  // nothing new, nothing reported
  s.send("one");
  EXPECT_EQ(p.poll(0), 1);
  EXPECT_EQ(r.inputs(), 1u);
  // Not read: no new edge, so no second report (the owner latches it).
  EXPECT_EQ(p.poll(0), 0);
  s.send("two");  // more data is a new edge
  EXPECT_EQ(p.poll(0), 1);
  EXPECT_EQ(r.inputs(), 2u);
  EXPECT_EQ(s.drain(), 6u);
  EXPECT_EQ(p.poll(0), 0);
}

TEST(Poller, LevelTriggeredReportsUntilDrained) {
  Poller p;
  Pair s;
  Recorder r;
  ASSERT_EQ(p.add_level(s.a, &r), 0);
  EXPECT_EQ(p.poll(0), 0);  // input only: writable is not reported
  s.send("x");
  EXPECT_EQ(p.poll(0), 1);
  EXPECT_EQ(p.poll(0), 1);
  EXPECT_EQ(r.inputs(), 2u);
  s.drain();
  EXPECT_EQ(p.poll(0), 0);
}

TEST(Poller, PeerCloseIsReportedAsHangUp) {
  Poller p;
  Pair s;
  Recorder r;
  ASSERT_EQ(p.add(s.a, &r), 0);
  p.poll(0);
  r.events.clear();
  ::close(s.b);
  s.b = -1;
  EXPECT_EQ(p.poll(0), 1);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.events[0] & EPOLLRDHUP);
}

TEST(Poller, RemovedTargetGetsNoMoreEventsOfTheSameBatch) {
  Poller p;
  Pair s1, s2;
  Recorder r1, r2;
  ASSERT_EQ(p.add_level(s1.a, &r1), 0);
  ASSERT_EQ(p.add_level(s2.a, &r2), 0);
  // Whichever runs first removes the other (as a command closing another
  // client), which then must not be called with a dangling pointer.
  r1.then = [&] { p.remove(s2.a, &r2); };
  r2.then = [&] { p.remove(s1.a, &r1); };
  s1.send("a");
  s2.send("b");
  EXPECT_EQ(p.poll(0), 1);  // both were ready in the batch, one was called
  EXPECT_EQ(r1.events.size() + r2.events.size(), 1u);
}

TEST(Poller, NestedPollFirstCallsWhatTheEnclosingBatchStillHolds) {
  // Edge-triggered, an event taken from the kernel in the outer batch is
  // not reported again: a nested poll (a long command serving the other
  // clients meanwhile) must call its target, once.
  Poller p;
  Pair s1, s2;
  Recorder r1, r2;
  ASSERT_EQ(p.add(s1.a, &r1), 0);
  ASSERT_EQ(p.add(s2.a, &r2), 0);
  p.poll(0);  // the first (writable) edges
  r1.events.clear();
  r2.events.clear();
  int depth = 0;
  size_t called_nested = 0;
  const auto nest = [&] {
    if (depth > 0) {
      ++called_nested;
      return;
    }
    ++depth;
    EXPECT_EQ(p.poll(0), 1);
    --depth;
  };
  r1.then = nest;
  r2.then = nest;
  s1.send("a");
  s2.send("b");
  EXPECT_EQ(p.poll(0), 1);  // the other call was the nested poll's
  EXPECT_EQ(r1.inputs(), 1u);
  EXPECT_EQ(r2.inputs(), 1u);
  EXPECT_EQ(called_nested, 1u);
}

TEST(Poller, NestedPollsDispatchAndUnwind) {
  Poller p;
  Pair outer, inner;
  Recorder ro, ri;
  ASSERT_EQ(p.add_level(outer.a, &ro), 0);
  ASSERT_EQ(p.add_level(inner.a, &ri), 0);
  outer.send("o");
  // The outer target runs a long command that polls meanwhile (as
  // processEventsWhileBlocked); the inner target arrives then.
  ro.then = [&] {
    if (outer.drain() == 0) return;
    inner.send("i");
    p.poll(0);
    // A removal inside the nested poll also reaches the outer batch.
    p.remove(inner.a, &ri);
  };
  EXPECT_GE(p.poll(0), 1);
  EXPECT_EQ(ro.events.size(), 1u);
  EXPECT_EQ(ri.events.size(), 1u);
  inner.send("again");
  EXPECT_EQ(p.poll(0), 0);  // removed: nothing more
  EXPECT_EQ(ri.events.size(), 1u);
}

}  // namespace
}  // namespace setd::net
