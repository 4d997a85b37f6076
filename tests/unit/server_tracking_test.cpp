// The client-side caching tables (server::Tracking) on their own: what each
// client's output buffer receives.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "setd/server/tracking.hpp"

namespace setd::server {
namespace {

class TrackingTest : public ::testing::Test {
 protected:
  Client& add(int resp = 3) {
    const uint64_t id = next_id_++;
    auto c = std::make_unique<Client>(id, 0);
    c->set_resp(resp);
    Client& ref = *c;
    clients_[id] = std::move(c);
    return ref;
  }
  void remove(Client& c) {
    t_.client_removed(c);
    clients_.erase(c.id());
  }
  static std::string take(Client& c) {
    std::string out = std::move(c.out);
    c.out.clear();
    return out;
  }

  std::map<uint64_t, std::unique_ptr<Client>> clients_;
  uint64_t next_id_ = 1;
  Tracking t_{[this](uint64_t id) -> Client* {
    auto it = clients_.find(id);
    return it == clients_.end() ? nullptr : it->second.get();
  }};
};

const std::string kInvA = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n";

TEST_F(TrackingTest, DefaultModeRemembersAndForgets) {
  Client& c = add();
  t_.enable(c, {});
  const std::vector<std::string_view> keys = {"a", "b", "a"};
  t_.remember_keys(c, keys);
  EXPECT_EQ(t_.total_keys(), 2u);
  EXPECT_EQ(t_.total_items(), 2u);
  t_.invalidate_key("a", nullptr);
  EXPECT_EQ(take(c), kInvA);
  t_.invalidate_key("a", nullptr);  // forgotten
  EXPECT_EQ(take(c), "");
  EXPECT_EQ(t_.total_keys(), 1u);
  // RESP2 without a redirect: nowhere to send, still forgotten.
  Client& r2 = add(2);
  t_.enable(r2, {});
  const std::vector<std::string_view> b = {"b"};
  t_.remember_keys(r2, b);
  t_.invalidate_key("b", nullptr);
  EXPECT_EQ(take(r2), "");
  EXPECT_EQ(t_.total_keys(), 0u);
  EXPECT_EQ(t_.clients(), 2u);
  remove(c);
  EXPECT_EQ(t_.clients(), 1u);
}

TEST_F(TrackingTest, CurrentClientGetsItsInvalidationsAfterItsCommand) {
  Client& c = add();
  Client& nl = add();
  t_.enable(c, {});
  Tracking::Options o;
  o.noloop = true;
  t_.enable(nl, o);
  const std::vector<std::string_view> a = {"a"};
  t_.remember_keys(c, a);
  t_.remember_keys(nl, a);
  t_.set_current(&c);
  t_.set_executing(true);
  t_.invalidate_key("a", &c);
  EXPECT_EQ(take(c), "");
  EXPECT_EQ(take(nl), kInvA);  // not its own change
  t_.set_executing(false);
  t_.flush_pending();
  EXPECT_EQ(take(c), kInvA);
  // NOLOOP: nothing about its own change.
  t_.remember_keys(nl, a);
  t_.set_current(&nl);
  t_.invalidate_key("a", &nl);
  EXPECT_EQ(take(nl), "");
}

TEST_F(TrackingTest, OptinAndOptout) {
  Client& in = add();
  Tracking::Options o;
  o.optin = true;
  t_.enable(in, o);
  const std::vector<std::string_view> a = {"a"};
  t_.remember_keys(in, a);
  EXPECT_EQ(t_.total_keys(), 0u);
  in.tracking.caching = true;
  t_.remember_keys(in, a);
  EXPECT_EQ(t_.total_keys(), 1u);
  Client& out = add();
  Tracking::Options p;
  p.optout = true;
  t_.enable(out, p);
  const std::vector<std::string_view> b = {"b"};
  out.tracking.caching = true;
  t_.remember_keys(out, b);
  EXPECT_EQ(t_.total_keys(), 1u);
}

TEST_F(TrackingTest, RedirectAndBrokenRedirect) {
  Client& sub = add(2);
  sub.channels.insert("__redis__:invalidate");
  Client& c = add(3);
  Tracking::Options o;
  o.redirect = sub.id();
  t_.enable(c, o);
  const std::vector<std::string_view> a = {"a"};
  t_.remember_keys(c, a);
  t_.invalidate_key("a", nullptr);
  EXPECT_EQ(take(sub), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\na\r\n");
  EXPECT_EQ(take(c), "");
  const uint64_t gone = sub.id();
  remove(sub);
  t_.remember_keys(c, a);
  t_.invalidate_key("a", nullptr);
  EXPECT_EQ(take(c), ">2\r\n$21\r\ntracking-redir-broken\r\n:" + std::to_string(gone) + "\r\n");
  EXPECT_TRUE(c.tracking.broken_redirect);
}

TEST_F(TrackingTest, BroadcastBatchesPerPrefix) {
  Client& b = add();
  Client& nl = add();
  int queued = 0;
  t_.on_broadcast_queued = [&] { ++queued; };
  Tracking::Options o;
  o.bcast = true;
  o.prefixes = {"u:", "o:"};
  t_.enable(b, o);
  Tracking::Options n;
  n.bcast = true;
  n.noloop = true;
  t_.enable(nl, n);  // every key
  EXPECT_EQ(t_.total_prefixes(), 3u);
  t_.invalidate_key("u:2", nullptr);
  t_.invalidate_key("u:1", &nl);
  t_.invalidate_key("u:2", nullptr);
  t_.invalidate_key("x", &nl);
  EXPECT_EQ(queued, 1);
  t_.broadcast();
  EXPECT_EQ(take(b), ">2\r\n$10\r\ninvalidate\r\n*2\r\n$3\r\nu:1\r\n$3\r\nu:2\r\n");
  EXPECT_EQ(take(nl), ">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nu:2\r\n");
  t_.broadcast();
  EXPECT_EQ(take(b), "");
  t_.disable(b);
  EXPECT_EQ(t_.total_prefixes(), 1u);
  EXPECT_TRUE(b.tracking.prefixes.empty());
}

TEST_F(TrackingTest, PrefixCollisions) {
  Client& c = add();
  bool anyway = false;
  const std::vector<std::string_view> first = {"ab", "a"};
  EXPECT_EQ(t_.prefix_collision(c, first, anyway).value_or(""),
            "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single "
            "client must not overlap.");
  EXPECT_FALSE(anyway);
  const std::vector<std::string_view> later = {"q", "r", "rs"};
  EXPECT_TRUE(t_.prefix_collision(c, later, anyway).has_value());
  EXPECT_TRUE(anyway);
  Tracking::Options o;
  o.bcast = true;
  o.prefixes = {"foo"};
  t_.enable(c, o);
  const std::vector<std::string_view> fo = {"fo"};
  EXPECT_EQ(t_.prefix_collision(c, fo, anyway).value_or(""),
            "ERR Prefix 'fo' overlaps with an existing prefix 'foo'. Prefixes for a single client "
            "must not overlap.");
}

TEST_F(TrackingTest, FlushAndLimit) {
  Client& c = add(3);
  Client& d = add(2);
  t_.enable(c, {});
  t_.enable(d, {});
  const std::vector<std::string_view> keys = {"k1", "k2", "k3", "k4", "k5"};
  t_.remember_keys(c, keys);
  t_.limit_used_slots(2);
  EXPECT_EQ(t_.total_keys(), 2u);
  std::string out = take(c);
  size_t pushes = 0;
  for (size_t at = out.find("invalidate"); at != std::string::npos;
       at = out.find("invalidate", at + 1))
    ++pushes;
  EXPECT_EQ(pushes, 3u);
  t_.limit_used_slots(0);  // no limit
  EXPECT_EQ(t_.total_keys(), 2u);
  t_.invalidate_on_flush();
  EXPECT_EQ(take(c), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
  EXPECT_EQ(take(d), "");  // RESP2, no redirect
  EXPECT_EQ(t_.total_keys(), 0u);
  EXPECT_EQ(t_.total_items(), 0u);
}

}  // namespace
}  // namespace setd::server
