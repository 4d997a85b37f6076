// Pub/Sub commands, subscribed-mode rules, CLIENT REPLY with pushes and
// keyspace notifications, through the in-process runner. Expected bytes were
// taken from redis-server 7.0.15.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "runner.hpp"
#include "setd/server/config.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

// Runs one command as `c` and returns every byte it added to c's buffer
// (pushes included), leaving the buffer empty.
std::string raw(Runner& r, server::Client& c, std::vector<std::string> args) {
  std::vector<std::string_view> v(args.begin(), args.end());
  c.out.clear();
  r.dispatcher().dispatch(c, v);
  std::string out;
  out.swap(c.out);
  return out;
}

// Bytes waiting in c's buffer (messages pushed by other clients' commands).
std::string take(server::Client& c) {
  std::string out;
  out.swap(c.out);
  return out;
}

std::string msg2(std::string_view ch, std::string_view payload) {
  return "*3\r\n$7\r\nmessage\r\n$" + std::to_string(ch.size()) + "\r\n" + std::string(ch) +
         "\r\n$" + std::to_string(payload.size()) + "\r\n" + std::string(payload) + "\r\n";
}

TEST(PubSub, SubscribeConfirmsEachChannelResp2) {
  Runner r;
  auto& c = r.client();
  EXPECT_EQ(raw(r, c, {"SUBSCRIBE", "a", "b"}),
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
  // Subscribing again confirms with an unchanged count.
  EXPECT_EQ(raw(r, c, {"subscribe", "a"}), "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n");
  EXPECT_EQ(raw(r, c, {"PSUBSCRIBE", "a*", "?"}),
            "*3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:3\r\n*3\r\n$10\r\npsubscribe\r\n$1\r\n?\r\n:4"
            "\r\n");
  EXPECT_EQ(c.channels.size(), 2u);
  EXPECT_EQ(c.patterns.size(), 2u);
  EXPECT_EQ(r.state().hub().numsub("a"), 1u);
  EXPECT_EQ(r.state().hub().numpat(), 2u);
  EXPECT_EQ(raw(r, c, {"SUBSCRIBE"}), "-ERR wrong number of arguments for 'subscribe' command\r\n");
  EXPECT_EQ(raw(r, c, {"PSUBSCRIBE"}),
            "-ERR wrong number of arguments for 'psubscribe' command\r\n");
}

TEST(PubSub, UnsubscribeNamedAndAll) {
  Runner r;
  auto& c = r.client();
  raw(r, c, {"SUBSCRIBE", "a", "b"});
  raw(r, c, {"PSUBSCRIBE", "p*"});
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE", "a"}), "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n");
  // Not subscribed: confirmed all the same, count unchanged.
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE", "nope"}), "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnope\r\n:2\r\n");
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE", "nope"}),
            "*3\r\n$12\r\npunsubscribe\r\n$4\r\nnope\r\n:2\r\n");
  // All channels: the pattern still counts.
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n");
  // Nothing left to drop: one reply with a null channel and the count.
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:1\r\n");
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE"}), "*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE"}), "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"ECHO", "x"}), "$1\r\nx\r\n");  // out of subscribed mode
  EXPECT_EQ(r.state().hub().channel_count(), 0u);
  EXPECT_EQ(r.state().hub().numpat(), 0u);
}

// Redis 7.0 keeps a client's patterns in a list: PUNSUBSCRIBE without
// arguments drops them in subscription order (a re-subscribed pattern goes
// last). Recorded from redis-server 7.0.15.
TEST(PubSub, PunsubscribeAllFollowsSubscriptionOrder) {
  Runner r;
  auto& c = r.client();
  raw(r, c, {"PSUBSCRIBE", "p1", "p2", "p3", "p4", "p5"});
  raw(r, c, {"PUNSUBSCRIBE", "p3"});
  raw(r, c, {"PSUBSCRIBE", "p3", "p1"});
  raw(r, c, {"SUBSCRIBE", "c"});
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE"}),
            "*3\r\n$12\r\npunsubscribe\r\n$2\r\np1\r\n:5\r\n"
            "*3\r\n$12\r\npunsubscribe\r\n$2\r\np2\r\n:4\r\n"
            "*3\r\n$12\r\npunsubscribe\r\n$2\r\np4\r\n:3\r\n"
            "*3\r\n$12\r\npunsubscribe\r\n$2\r\np5\r\n:2\r\n"
            "*3\r\n$12\r\npunsubscribe\r\n$2\r\np3\r\n:1\r\n");
  EXPECT_TRUE(c.pattern_order.empty());
  raw(r, c, {"UNSUBSCRIBE"});
  raw(r, c, {"HELLO", "3"});
  raw(r, c, {"PSUBSCRIBE", "b", "a"});
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE"}),
            ">3\r\n$12\r\npunsubscribe\r\n$1\r\nb\r\n:1\r\n"
            ">3\r\n$12\r\npunsubscribe\r\n$1\r\na\r\n:0\r\n");
  raw(r, c, {"PSUBSCRIBE", "x", "y"});
  raw(r, c, {"RESET"});
  EXPECT_TRUE(c.pattern_order.empty());
  EXPECT_EQ(r.state().hub().numpat(), 0u);
}

TEST(PubSub, UnsubscribeAllDropsEveryChannel) {
  Runner r;
  auto& c = r.client();
  raw(r, c, {"SUBSCRIBE", "a", "b", "c"});
  const std::string out = raw(r, c, {"UNSUBSCRIBE"});
  // Three confirmations (in no promised order), counts 2, 1, 0.
  std::string_view buf = out;
  std::vector<std::string> names;
  std::vector<long long> counts;
  while (!buf.empty()) {
    size_t used = 0;
    auto v = proto::read_reply(buf, used);
    ASSERT_TRUE(v);
    buf.remove_prefix(used);
    ASSERT_EQ(v->elements.size(), 3u);
    EXPECT_EQ(v->elements[0].str, "unsubscribe");
    names.push_back(v->elements[1].str);
    counts.push_back(v->elements[2].integer);
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(counts, (std::vector<long long>{2, 1, 0}));
  EXPECT_TRUE(c.channels.empty());
}

TEST(PubSub, Resp3ConfirmationsArePushes) {
  Runner r;
  auto& c = r.client();
  r.run({"HELLO", "3"});
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE"}), ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE"}), ">3\r\n$12\r\npunsubscribe\r\n_\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"SUNSUBSCRIBE"}), ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"SUBSCRIBE", "a"}), ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n");
  // RESP3 clients keep running ordinary commands while subscribed.
  EXPECT_EQ(raw(r, c, {"ECHO", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(raw(r, c, {"PING"}), "+PONG\r\n");
  EXPECT_EQ(raw(r, c, {"PSUBSCRIBE", "*"}), ">3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:2\r\n");
  // Publishing to itself: the pushes come before PUBLISH's own reply.
  EXPECT_EQ(raw(r, c, {"PUBLISH", "a", "m"}),
            ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$1\r\nm\r\n>4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$1\r\n"
            "a\r\n$1\r\nm\r\n:2\r\n");
  EXPECT_EQ(raw(r, c, {"PUBSUB", "NUMSUB", "a"}), "*2\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE"}), ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(raw(r, c, {"PUNSUBSCRIBE"}), ">3\r\n$12\r\npunsubscribe\r\n$1\r\n*\r\n:0\r\n");
}

TEST(PubSub, Resp2SubscribedModeAllowsOnlyPubSubCommands) {
  Runner r;
  auto& c = r.client();
  raw(r, c, {"SUBSCRIBE", "a"});
  const std::string tail =
      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
      "context\r\n";
  EXPECT_EQ(raw(r, c, {"echo", "x"}), "-ERR Can't execute 'echo" + tail);
  EXPECT_EQ(raw(r, c, {"SELECT", "1"}), "-ERR Can't execute 'select" + tail);
  EXPECT_EQ(raw(r, c, {"CLIENT", "REPLY", "OFF"}), "-ERR Can't execute 'client|reply" + tail);
  EXPECT_EQ(raw(r, c, {"PUBSUB", "NUMSUB", "a"}), "-ERR Can't execute 'pubsub|numsub" + tail);
  EXPECT_EQ(raw(r, c, {"PUBLISH", "a", "b"}), "-ERR Can't execute 'publish" + tail);
  EXPECT_EQ(raw(r, c, {"PING"}), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
  EXPECT_EQ(raw(r, c, {"PING", "hi"}), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
  EXPECT_EQ(raw(r, c, {"PING", "hi", "x"}),
            "-ERR wrong number of arguments for 'ping' command\r\n");
  EXPECT_EQ(raw(r, c, {"SSUBSCRIBE", "s"}), "*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n");
  // Shard subscriptions alone keep the client in subscribed mode.
  EXPECT_EQ(raw(r, c, {"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"ECHO", "x"}), "-ERR Can't execute 'echo" + tail);
  EXPECT_EQ(raw(r, c, {"SUNSUBSCRIBE"}), "*3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n");
  EXPECT_EQ(raw(r, c, {"ECHO", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(raw(r, c, {"PING"}), "+PONG\r\n");
}

TEST(PubSub, Resp3ClientSwitchingToResp2EntersSubscribedMode) {
  Runner r;
  auto& c = r.client();
  r.run({"HELLO", "3"});
  raw(r, c, {"SUBSCRIBE", "x"});
  raw(r, c, {"HELLO", "2"});
  EXPECT_EQ(raw(r, c, {"ECHO", "x"}).substr(0, 23), "-ERR Can't execute 'ech");
  EXPECT_EQ(raw(r, c, {"RESET"}), "+RESET\r\n");
  EXPECT_EQ(raw(r, c, {"ECHO", "x"}), "$1\r\nx\r\n");
  EXPECT_EQ(r.state().hub().channel_count(), 0u);
}

TEST(PubSub, PublishReachesChannelsAndPatternsOncePerSubscription) {
  Runner r;
  auto& sub = r.new_client();
  raw(r, sub, {"SUBSCRIBE", "dup"});
  raw(r, sub, {"PSUBSCRIBE", "d*", "*p", "dup", "x*"});
  EXPECT_EQ(S(r.run({"PUBLISH", "dup", "1"})), "(integer) 4");
  const std::string got = take(sub);
  EXPECT_EQ(got, msg2("dup", "1") +
                     "*4\r\n$8\r\npmessage\r\n$2\r\nd*\r\n$3\r\ndup\r\n$1\r\n1\r\n"
                     "*4\r\n$8\r\npmessage\r\n$2\r\n*p\r\n$3\r\ndup\r\n$1\r\n1\r\n"
                     "*4\r\n$8\r\npmessage\r\n$3\r\ndup\r\n$3\r\ndup\r\n$1\r\n1\r\n");
  EXPECT_EQ(S(r.run({"PUBLISH", "nobody", "1"})), "(integer) 0");
  EXPECT_EQ(take(sub), "");
  EXPECT_EQ(r.state().stats().pubsub_messages, 4u);
  // Binary-safe channel and payload.
  auto& bin = r.new_client();
  const std::string ch("a\0b", 3), payload("\r\n\0", 3);
  raw(r, bin, {"SUBSCRIBE", ch});
  EXPECT_EQ(S(r.run({"PUBLISH", ch, payload})), "(integer) 1");
  EXPECT_EQ(take(bin), msg2(ch, payload));
  EXPECT_EQ(S(r.run({"PUBLISH", "a"})),
            "(error) ERR wrong number of arguments for 'publish' command");
}

TEST(PubSub, PatternsUseRedisGlob) {
  Runner r;
  auto& sub = r.new_client();
  raw(r, sub, {"PSUBSCRIBE", "news.[ab]?", "h\\*llo", "[^x]"});
  EXPECT_EQ(S(r.run({"PUBLISH", "news.az", "m"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PUBLISH", "news.cz", "m"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"PUBLISH", "h*llo", "m"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PUBLISH", "hello", "m"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"PUBLISH", "y", "m"})), "(integer) 1");
  EXPECT_EQ(S(r.run({"PUBLISH", "x", "m"})), "(integer) 0");
  // '*' never matches the empty channel (Redis's stringmatchlen).
  auto& star = r.new_client();
  raw(r, star, {"PSUBSCRIBE", "*"});
  EXPECT_EQ(S(r.run({"PUBLISH", "", "m"})), "(integer) 0");
}

TEST(PubSub, PubsubIntrospection) {
  Runner r;
  auto& a = r.new_client();
  auto& b = r.new_client();
  raw(r, a, {"SUBSCRIBE", "a", "b"});
  raw(r, b, {"SUBSCRIBE", "b"});
  raw(r, a, {"PSUBSCRIBE", "p*", "q*"});
  raw(r, b, {"PSUBSCRIBE", "p*"});
  EXPECT_EQ(S(r.run({"PUBSUB", "NUMSUB", "a", "b", "c"})),
            "[\"a\", (integer) 1, \"b\", (integer) 2, \"c\", (integer) 0]");
  EXPECT_EQ(S(r.run({"PUBSUB", "NUMSUB"})), "[]");
  EXPECT_EQ(S(r.run({"PUBSUB", "NUMPAT"})), "(integer) 2");  // distinct patterns
  EXPECT_EQ(S(r.run({"PUBSUB", "CHANNELS", "b"})), "[\"b\"]");
  EXPECT_EQ(S(r.run({"PUBSUB", "CHANNELS", "[b]"})), "[\"b\"]");
  auto all = r.run({"pubsub", "channels"});
  ASSERT_EQ(all.elements.size(), 2u);
  EXPECT_EQ(S(r.run({"PUBSUB", "NUMPAT", "x"})),
            "(error) ERR wrong number of arguments for 'pubsub|numpat' command");
  EXPECT_EQ(S(r.run({"PUBSUB", "channels", "a", "b"})),
            "(error) ERR unknown subcommand or wrong number of arguments for 'channels'. Try "
            "PUBSUB HELP.");
  EXPECT_EQ(S(r.run({"PUBSUB", "SHARDCHANNELS", "a", "b"})),
            "(error) ERR unknown subcommand or wrong number of arguments for 'SHARDCHANNELS'. Try "
            "PUBSUB HELP.");
  EXPECT_EQ(S(r.run({"PUBSUB"})), "(error) ERR wrong number of arguments for 'pubsub' command");
  EXPECT_EQ(S(r.run({"PUBSUB", "foo"})), "(error) ERR unknown subcommand 'foo'. Try PUBSUB HELP.");
  EXPECT_EQ(S(r.run({"PUBSUB", "HELP", "x"})),
            "(error) ERR wrong number of arguments for 'pubsub|help' command");
  EXPECT_EQ(
      raw(r, r.client(), {"PUBSUB", "HELP"}),
      "*14\r\n+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CHANNELS "
      "[<pattern>]\r\n+    Return the currently active channels matching a <pattern> (default: "
      "'*').\r\n+NUMPAT\r\n+    Return number of subscriptions to patterns.\r\n+NUMSUB [<channel> "
      "...]\r\n+    Return the number of subscribers for the specified channels, excluding\r\n+   "
      " pattern subscriptions(default: no channels).\r\n+SHARDCHANNELS [<pattern>]\r\n+    Return "
      "the currently active shard level channels matching a <pattern> (default: '*').\r\n+"
      "SHARDNUMSUB [<shardchannel> ...]\r\n+    Return the number of subscribers for the specified "
      "shard level channel(s)\r\n+HELP\r\n+    Prints this help.\r\n");
  // INFO's stats section counts distinct channels and patterns.
  const auto info = r.run({"INFO", "stats"}).str;
  EXPECT_NE(info.find("pubsub_channels:2\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("pubsub_patterns:2\r\n"), std::string::npos) << info;
  EXPECT_NE(info.find("pubsubshard_channels:0\r\n"), std::string::npos) << info;
}

TEST(PubSub, ShardChannelsAreTheirOwnNamespace) {
  Runner r;
  auto& h = r.new_client();
  EXPECT_EQ(raw(r, h, {"SSUBSCRIBE", "s1", "s2"}),
            "*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2"
            "\r\n");
  EXPECT_EQ(S(r.run({"SPUBLISH", "s1", "hi"})), "(integer) 1");
  EXPECT_EQ(take(h), "*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$2\r\nhi\r\n");
  EXPECT_EQ(S(r.run({"PUBLISH", "s1", "hi"})), "(integer) 0");
  // Channel/pattern counts and shard counts are kept apart.
  EXPECT_EQ(raw(r, h, {"PSUBSCRIBE", "s*"}), "*3\r\n$10\r\npsubscribe\r\n$2\r\ns*\r\n:1\r\n");
  EXPECT_EQ(S(r.run({"SPUBLISH", "s1", "hi"})), "(integer) 1");  // patterns do not see it
  EXPECT_EQ(take(h), "*3\r\n$8\r\nsmessage\r\n$2\r\ns1\r\n$2\r\nhi\r\n");
  EXPECT_EQ(raw(r, h, {"SUBSCRIBE", "s1"}), "*3\r\n$9\r\nsubscribe\r\n$2\r\ns1\r\n:2\r\n");
  EXPECT_EQ(S(r.run({"PUBSUB", "SHARDNUMSUB", "s1", "zz"})),
            "[\"s1\", (integer) 1, \"zz\", (integer) 0]");
  EXPECT_EQ(S(r.run({"PUBSUB", "NUMSUB", "s1"})), "[\"s1\", (integer) 1]");
  EXPECT_EQ(r.run({"PUBSUB", "SHARDCHANNELS"}).elements.size(), 2u);
  EXPECT_EQ(S(r.run({"PUBSUB", "SHARDCHANNELS", "*2"})), "[\"s2\"]");
  EXPECT_NE(r.run({"INFO", "stats"}).str.find("pubsubshard_channels:2\r\n"), std::string::npos);
  EXPECT_EQ(raw(r, h, {"SUNSUBSCRIBE", "s1"}), "*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:1\r\n");
  EXPECT_EQ(raw(r, h, {"SUNSUBSCRIBE"}), "*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:0\r\n");
  EXPECT_EQ(raw(r, h, {"SUNSUBSCRIBE"}), "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(raw(r, h, {"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$2\r\ns1\r\n:1\r\n");
  EXPECT_EQ(S(r.run({"SSUBSCRIBE"})),
            "(error) ERR wrong number of arguments for 'ssubscribe' command");
}

TEST(PubSub, ClientReplyOffStillDeliversPushes) {
  // Redis 7.0.15: confirmations and messages bypass CLIENT REPLY OFF|SKIP,
  // ordinary replies do not.
  Runner r;
  auto& d = r.new_client();
  EXPECT_EQ(raw(r, d, {"CLIENT", "REPLY", "OFF"}), "");
  EXPECT_EQ(raw(r, d, {"SUBSCRIBE", "r"}), "*3\r\n$9\r\nsubscribe\r\n$1\r\nr\r\n:1\r\n");
  EXPECT_EQ(S(r.run({"PUBLISH", "r", "x"})), "(integer) 1");
  EXPECT_EQ(take(d), msg2("r", "x"));
  EXPECT_EQ(raw(r, d, {"PING"}), "");
  EXPECT_EQ(raw(r, d, {"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$1\r\nr\r\n:0\r\n");
  EXPECT_EQ(raw(r, d, {"UNSUBSCRIBE"}), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n");
  EXPECT_EQ(raw(r, d, {"CLIENT", "REPLY", "ON"}), "+OK\r\n");

  // RESP3, publishing to itself while replies are off: the message push
  // survives, PUBLISH's own reply does not.
  auto& e = r.new_client();
  raw(r, e, {"HELLO", "3"});
  raw(r, e, {"SUBSCRIBE", "r"});
  EXPECT_EQ(raw(r, e, {"CLIENT", "REPLY", "SKIP"}), "");
  EXPECT_EQ(raw(r, e, {"PING"}), "");
  EXPECT_EQ(raw(r, e, {"PING"}), "+PONG\r\n");
  raw(r, e, {"CLIENT", "REPLY", "OFF"});
  EXPECT_EQ(raw(r, e, {"PUBLISH", "r", "self"}),
            ">3\r\n$7\r\nmessage\r\n$1\r\nr\r\n$4\r\nself\r\n");
  raw(r, e, {"CLIENT", "REPLY", "SKIP"});  // ignored while OFF
  EXPECT_EQ(raw(r, e, {"PUBLISH", "r", "z"}), ">3\r\n$7\r\nmessage\r\n$1\r\nr\r\n$1\r\nz\r\n");
  EXPECT_EQ(raw(r, e, {"UNSUBSCRIBE"}), ">3\r\n$11\r\nunsubscribe\r\n$1\r\nr\r\n:0\r\n");
  EXPECT_EQ(raw(r, e, {"CLIENT", "REPLY", "ON"}), "+OK\r\n");
  EXPECT_FALSE(e.keep_pushes);
  EXPECT_TRUE(e.kept_pushes.empty());
}

TEST(PubSub, SubscribeInsideMulti) {
  Runner r;
  auto& f = r.new_client();
  if (raw(r, f, {"MULTI"}) != "+OK\r\n") GTEST_SKIP() << "MULTI not merged yet";
  EXPECT_EQ(raw(r, f, {"SUBSCRIBE", "m"}), "+QUEUED\r\n");
  EXPECT_EQ(raw(r, f, {"EXEC"}), "*1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nm\r\n:1\r\n");
  EXPECT_EQ(raw(r, f, {"ECHO", "x"}).substr(0, 23), "-ERR Can't execute 'ech");
  EXPECT_EQ(raw(r, f, {"MULTI"}).substr(0, 23), "-ERR Can't execute 'mul");
}

TEST(PubSub, ResetAndDisconnectDropSubscriptions) {
  Runner r;
  auto& a = r.new_client();
  raw(r, a, {"SUBSCRIBE", "a", "b"});
  raw(r, a, {"PSUBSCRIBE", "p*"});
  raw(r, a, {"SSUBSCRIBE", "s"});
  EXPECT_EQ(raw(r, a, {"RESET"}), "+RESET\r\n");
  EXPECT_EQ(a.subscriptions(), 0u);
  EXPECT_EQ(r.state().hub().channel_count(), 0u);
  EXPECT_EQ(r.state().hub().numpat(), 0u);
  EXPECT_EQ(r.state().shard_hub().channel_count(), 0u);

  auto& b = r.new_client();
  raw(r, b, {"SUBSCRIBE", "a"});
  raw(r, b, {"PSUBSCRIBE", "*"});
  raw(r, b, {"SSUBSCRIBE", "s"});
  r.state().remove_client(b);
  EXPECT_EQ(S(r.run({"PUBLISH", "a", "x"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"SPUBLISH", "s", "x"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"PUBSUB", "NUMPAT"})), "(integer) 0");
}

TEST(PubSub, CommandInfoMatchesRedis) {
  Runner r;
  auto line = [&](std::string_view name) { return S(r.run({"COMMAND", "INFO", name})); };
  // Shapes from redis-server 7.0.15's COMMAND INFO.
  EXPECT_NE(line("subscribe")
                .find("\"subscribe\", (integer) -2, [pubsub, noscript, loading, stale], "
                      "(integer) 0, (integer) 0, (integer) 0, [@pubsub, @slow]"),
            std::string::npos)
      << line("subscribe");
  EXPECT_NE(line("publish").find("\"publish\", (integer) 3, [pubsub, loading, stale, fast], "
                                 "(integer) 0, (integer) 0, (integer) 0, [@pubsub, @fast]"),
            std::string::npos)
      << line("publish");
  EXPECT_NE(line("ssubscribe")
                .find("(integer) -2, [pubsub, noscript, loading, stale], (integer) 1, "
                      "(integer) -1, (integer) 1, [@pubsub, @slow], [], [[\"flags\", "
                      "[not_key], \"begin_search\", [\"type\", \"index\", \"spec\", "
                      "[\"index\", (integer) 1]], \"find_keys\", [\"type\", \"range\", "
                      "\"spec\", [\"lastkey\", (integer) -1, \"keystep\", (integer) 1, "
                      "\"limit\", (integer) 0]]]]"),
            std::string::npos)
      << line("ssubscribe");
  EXPECT_NE(line("spublish")
                .find("(integer) 3, [pubsub, loading, stale, fast], (integer) 1, "
                      "(integer) 1, (integer) 1, [@pubsub, @fast]"),
            std::string::npos)
      << line("spublish");
  EXPECT_NE(line("pubsub|help")
                .find("(integer) 2, [loading, stale], (integer) 0, (integer) 0, "
                      "(integer) 0, [@slow]"),
            std::string::npos)
      << line("pubsub|help");
  // PSUBSCRIBE documents a block of one pattern, as Redis does.
  const std::string docs = S(r.run({"COMMAND", "DOCS", "psubscribe"}));
  EXPECT_NE(docs.find("[[\"name\", \"pattern\", \"type\", \"block\", \"flags\", [multiple], "
                      "\"arguments\", [[\"name\", \"pattern\", \"type\", \"pattern\"]]]]"),
            std::string::npos)
      << docs;
  // Shard channels are not keys.
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYS", "spublish", "a", "b"})),
            "(error) ERR The command has no key arguments");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYS", "ssubscribe", "a"})),
            "(error) ERR The command has no key arguments");
}

TEST(OutputLimits, ClassFollowsSubscriptionsAndHardLimitIsImmediate) {
  Runner r;
  ASSERT_EQ(S(r.run({"CONFIG", "SET", "client-output-buffer-limit",
                     "normal 1000 0 0 pubsub 100 50 3600"})),
            "OK");
  auto& c = r.new_client();
  c.out.assign(500, 'x');
  EXPECT_FALSE(r.state().output_limit_reached(c));  // normal: 500 < 1000
  c.out.clear();
  raw(r, c, {"SUBSCRIBE", "ch"});
  c.out.assign(60, 'x');
  EXPECT_FALSE(r.state().output_limit_reached(c));  // over soft: the clock starts
  EXPECT_NE(c.obuf_soft_since_ms, 0);
  EXPECT_FALSE(r.state().output_limit_reached(c));  // ... but 3600 s have not passed
  c.out.assign(40, 'x');
  EXPECT_FALSE(r.state().output_limit_reached(c));  // back under soft: reset
  EXPECT_EQ(c.obuf_soft_since_ms, 0);
  c.pending_write = 60;                            // in-flight bytes count too
  EXPECT_TRUE(r.state().output_limit_reached(c));  // 100 >= hard
  // Deliveries to a killed client are dropped.
  c.out.clear();
  c.killed = true;
  EXPECT_EQ(S(r.run({"PUBLISH", "ch", "m"})), "(integer) 1");
  EXPECT_EQ(c.out, "");
}

// --- keyspace notifications --------------------------------------------------

struct Received {
  std::string pattern, channel, payload;
  bool operator==(const Received&) const = default;
};

std::vector<Received> messages(server::Client& c) {
  std::vector<Received> out;
  std::string_view buf = c.out;
  while (!buf.empty()) {
    size_t used = 0;
    auto v = proto::read_reply(buf, used);
    if (!v) break;
    buf.remove_prefix(used);
    if (v->elements.size() == 3)
      out.push_back({"", v->elements[1].str, v->elements[2].str});
    else if (v->elements.size() == 4)
      out.push_back({v->elements[1].str, v->elements[2].str, v->elements[3].str});
  }
  c.out.clear();
  return out;
}

// One event of every class setd emits, sent through notify_keyspace_event.
struct Event {
  int type;
  const char* name;
};
constexpr Event kEvents[] = {
    {server::notify::kGeneric, "del"},     {server::notify::kString, "set"},
    {server::notify::kSet, "sadd"},        {server::notify::kExpired, "expired"},
    {server::notify::kKeyMiss, "keymiss"}, {server::notify::kNew, "new"},
};

// Which of kEvents' names arrive, on which channel kinds, for `flags`.
std::vector<std::string> delivered(std::string_view flags, int resp) {
  Runner r;
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", flags})), "OK");
  auto& sub = r.new_client();
  if (resp == 3) raw(r, sub, {"HELLO", "3"});
  raw(r, sub, {"PSUBSCRIBE", "__key*__:*"});
  for (const auto& e : kEvents) r.state().notify_keyspace_event(e.type, e.name, "k", 0);
  std::vector<std::string> out;
  const std::string prefix = resp == 3 ? ">4\r\n" : "*4\r\n";
  EXPECT_EQ(sub.out.substr(0, 4), sub.out.empty() ? "" : prefix);
  for (const auto& m : messages(sub)) {
    EXPECT_EQ(m.pattern, "__key*__:*");
    if (m.channel == "__keyspace@0__:k")
      out.push_back("K:" + m.payload);
    else if (m.channel.starts_with("__keyevent@0__:"))
      out.push_back("E:" + m.channel.substr(15) + (m.payload == "k" ? "" : "?" + m.payload));
    else
      out.push_back("?" + m.channel);
  }
  return out;
}

using V = std::vector<std::string>;

TEST(KeyspaceNotifications, FlagCombinations) {
  for (int resp : {2, 3}) {
    SCOPED_TRACE(resp);
    EXPECT_EQ(delivered("", resp), V{});
    // K or E alone selects no class: nothing.
    EXPECT_EQ(delivered("K", resp), V{});
    EXPECT_EQ(delivered("E", resp), V{});
    // A class without K or E: nothing either.
    EXPECT_EQ(delivered("A", resp), V{});
    EXPECT_EQ(delivered("KA", resp), (V{"K:del", "K:set", "K:sadd", "K:expired"}));
    EXPECT_EQ(delivered("EA", resp), (V{"E:del", "E:set", "E:sadd", "E:expired"}));
    EXPECT_EQ(delivered("KEA", resp), (V{"K:del", "E:del", "K:set", "E:set", "K:sadd", "E:sadd",
                                         "K:expired", "E:expired"}));
    EXPECT_EQ(delivered("Kg", resp), V{"K:del"});
    EXPECT_EQ(delivered("E$", resp), V{"E:set"});
    EXPECT_EQ(delivered("Ks", resp), V{"K:sadd"});
    EXPECT_EQ(delivered("Ex", resp), V{"E:expired"});
    // m and n are not part of A.
    EXPECT_EQ(delivered("KEm", resp), (V{"K:keymiss", "E:keymiss"}));
    EXPECT_EQ(delivered("En", resp), V{"E:new"});
    EXPECT_EQ(delivered("KEAmn", resp),
              (V{"K:del", "E:del", "K:set", "E:set", "K:sadd", "E:sadd", "K:expired", "E:expired",
                 "K:keymiss", "E:keymiss", "K:new", "E:new"}));
    EXPECT_EQ(delivered("Kgs$", resp), (V{"K:del", "K:set", "K:sadd"}));
  }
}

TEST(KeyspaceNotifications, ChannelsPerDatabaseAndDirectSubscriptions) {
  Runner r;
  r.run({"CONFIG", "SET", "notify-keyspace-events", "KEs"});
  auto& space = r.new_client();
  auto& event = r.new_client();
  raw(r, space, {"HELLO", "3"});
  raw(r, space, {"SUBSCRIBE", "__keyspace@5__:my key"});
  raw(r, event, {"SUBSCRIBE", "__keyevent@5__:srem"});
  r.state().notify_keyspace_event(server::notify::kSet, "srem", "my key", 5);
  r.state().notify_keyspace_event(server::notify::kSet, "srem", "my key", 0);  // other db
  EXPECT_EQ(take(space), ">3\r\n$7\r\nmessage\r\n$21\r\n__keyspace@5__:my key\r\n$4\r\nsrem\r\n");
  EXPECT_EQ(take(event), msg2("__keyevent@5__:srem", "my key"));
  EXPECT_EQ(r.state().stats().pubsub_messages, 2u);
}

TEST(KeyspaceNotifications, ExpiryPublishesExpired) {
  Runner r;
  r.run({"CONFIG", "SET", "notify-keyspace-events", "Ex"});
  auto& sub = r.new_client();
  raw(r, sub, {"SUBSCRIBE", "__keyevent@0__:expired"});
  auto& db = r.state().db(0);
  db.set("k", db::Object::string("v"));
  db.set_expire("k", 1);  // long past
  EXPECT_EQ(db.find("k"), nullptr);
  EXPECT_EQ(take(sub), msg2("__keyevent@0__:expired", "k"));
}

TEST(KeyspaceNotifications, ConfigRoundTripsLikeRedis) {
  // (set, get) pairs observed on redis-server 7.0.15.
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"A", "A"},
      {"K", "K"},
      {"E", "E"},
      {"KA", "AK"},
      {"KEA", "AKE"},
      {"AKE", "AKE"},
      {"g$", "g$"},
      {"Ag", "A"},
      {"Am", "Am"},
      {"An", "A"},
      {"nA", "A"},
      {"Amn", "Am"},
      {"KEAmn", "AKEm"},
      {"Kx", "xK"},
      {"Ems", "sEm"},
      {"AAA", "A"},
      {"n", "n"},
      {"Kn", "nK"},
      {"$n", "$n"},
      {"KEg$lshzxetdmn", "AKEm"},
      {"lhzetd", "lhzetd"},
      {"mEKsg", "gsKEm"},
  };
  Runner r;
  for (const auto& [set, get] : cases) {
    SCOPED_TRACE(set);
    EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", set})), "OK");
    EXPECT_EQ(S(r.run({"CONFIG", "GET", "notify-keyspace-events"})),
              std::string("[\"notify-keyspace-events\", \"") + get + "\"]");
  }
  // "An" still delivers 'new' events although it reads back as "A".
  r.run({"CONFIG", "SET", "notify-keyspace-events", "KAn"});
  EXPECT_NE(r.state().settings().notify_keyspace_events & server::notify::kNew, 0);
  for (const char* bad : {"X", "KEAX", "g n", "K,E"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(S(r.run({"CONFIG", "SET", "notify-keyspace-events", bad})),
              "(error) ERR CONFIG SET failed (possibly related to argument "
              "'notify-keyspace-events') - Invalid event class character. Use "
              "'Ag$lshzxeKEtmdn'.");
  }
  // A failed SET leaves the value alone.
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "notify-keyspace-events"})),
            "[\"notify-keyspace-events\", \"AK\"]");
}

}  // namespace
}  // namespace setd::testing
