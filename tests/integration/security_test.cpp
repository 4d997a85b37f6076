// Protected mode and the limits on unauthenticated clients, against
// redis-server 7.0 started the same way: the same bytes on the wire.
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

// Everything a peer connecting from 127.0.0.2 (not the loopback address
// Redis trusts) reads before the server closes.
// A connection still open after 300 ms of silence reads "...<open>".
std::string from_other_address(int port) {
  Client c(port, 3000, "127.0.0.2");
  c.send({"PING"});
  return c.read_raw_until_close(300);
}

TEST(Security, ProtectedModeDeniesNonLoopbackPeersAsRedis) {
  const std::vector<std::string> args{"--bind", "* -::*"};
  ServerProcess setd(setd_binary(), args);
  ServerProcess redis("redis-server", args);
  const std::string ours = from_other_address(setd.port());
  const std::string theirs = from_other_address(redis.port());
  EXPECT_TRUE(ours.starts_with("-DENIED Redis is running in protected mode")) << ours;
  EXPECT_TRUE(ours.ends_with("\r\n<closed>")) << ours;
  EXPECT_EQ(ours, theirs);
  Client local(setd.port());
  EXPECT_EQ(info_value(local, "rejected_connections", "stats"), "1");
  // Loopback clients are served.
  EXPECT_EQ(local.call({"PING"}).str, "PONG");
}

// The machine's first IPv4 address outside 127.0.0.0/8, or "".
std::string external_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* i = list; i != nullptr && found.empty(); i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    if (!std::string_view(buf).starts_with("127.")) found = buf;
  }
  ::freeifaddrs(list);
  return found;
}

// The same from the machine's real network address, when it has one.
TEST(Security, ProtectedModeDeniesTheMachinesOwnNetworkAddress) {
  const std::string ip = external_ipv4();
  if (ip.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  ServerProcess setd(setd_binary(), {"--bind", "* -::*"});
  Client c(setd.port(), 3000, ip.c_str());
  c.send({"PING"});
  const std::string got = c.read_raw_until_close(1000);
  EXPECT_TRUE(got.starts_with("-DENIED Redis is running in protected mode")) << got;
  EXPECT_TRUE(got.ends_with("<closed>")) << got;
}

TEST(Security, ProtectedModeStepsAsideForAPasswordOrWhenOff) {
  ServerProcess setd(setd_binary(), {"--bind", "* -::*", "--requirepass", "pw"});
  EXPECT_EQ(from_other_address(setd.port()), "-NOAUTH Authentication required.\r\n<open>");
  {
    Client c(setd.port(), 3000, "127.0.0.2");
    EXPECT_EQ(c.call({"AUTH", "pw"}).str, "OK");
    EXPECT_EQ(c.call({"PING"}).str, "PONG");
  }
  ServerProcess open(setd_binary(), {"--bind", "* -::*", "--protected-mode", "no"});
  EXPECT_EQ(from_other_address(open.port()), "+PONG\r\n<open>");
  // CONFIG SET from the loopback interface turns it off at run time.
  ServerProcess guarded(setd_binary(), {"--bind", "* -::*"});
  Client admin(guarded.port());
  EXPECT_EQ(admin.call({"CONFIG", "SET", "protected-mode", "no"}).str, "OK");
  EXPECT_EQ(from_other_address(guarded.port()), "+PONG\r\n<open>");
}

// What a client that has not authenticated reads for `bytes`, then whether
// the server closed.
std::string unauthenticated(int port, const std::string& bytes) {
  Client c(port, 3000);
  c.send_raw(bytes);
  return c.read_raw_until_close(300);
}

TEST(Security, UnauthenticatedClientsGetTightRequestLimitsAsRedis) {
  const std::vector<std::string> args{"--requirepass", "pw"};
  ServerProcess setd(setd_binary(), args);
  ServerProcess redis("redis-server", args);
  const std::vector<std::string> cases = {
      // More than 10 arguments.
      "*11\r\n",
      // A bulk string over 16 KB, announced only.
      "*3\r\n$4\r\nSADD\r\n$3\r\nbig\r\n$16385\r\n",
      // At the limits: 10 arguments, 16 KB: NOAUTH, and the connection stays.
      Client::encode({"SADD", "k", "1", "2", "3", "4", "5", "6", "7", "8"}),
      Client::encode({"SADD", "k", std::string(16384, 'x')}),
  };
  for (const auto& bytes : cases) {
    const std::string ours = unauthenticated(setd.port(), bytes);
    EXPECT_EQ(ours, unauthenticated(redis.port(), bytes)) << bytes.substr(0, 40);
  }
  EXPECT_EQ(unauthenticated(setd.port(), "*11\r\n"),
            "-ERR Protocol error: unauthenticated multibulk length\r\n<closed>");
  EXPECT_EQ(unauthenticated(setd.port(), "*3\r\n$4\r\nSADD\r\n$3\r\nbig\r\n$16385\r\n"),
            "-ERR Protocol error: unauthenticated bulk length\r\n<closed>");
  // Once authenticated (even earlier in the same packet), the limits go.
  const std::string big(100000, 'v');
  const std::string pipeline = Client::encode({"AUTH", "pw"}) +
                               Client::encode({"SET", "big", big}) +
                               Client::encode({"STRLEN", "big"});
  EXPECT_EQ(unauthenticated(setd.port(), pipeline), "+OK\r\n+OK\r\n:100000\r\n<open>");
}

TEST(Security, UnauthenticatedPeersCannotMakeSetdHoldMemory) {
  ServerProcess setd(setd_binary(), {"--requirepass", "pw"});
  Client admin(setd.port());
  ASSERT_EQ(admin.call({"AUTH", "pw"}).str, "OK");
  const long long before = std::stoll(info_value(admin, "used_memory_rss", "memory"));
  // 50 peers each announce a 16 KB argument and send half of it; 50 more
  // try a big bulk: they are cut off.
  std::vector<std::unique_ptr<Client>> peers;
  for (int i = 0; i < 50; ++i) {
    peers.push_back(std::make_unique<Client>(setd.port()));
    peers.back()->send_raw("*3\r\n$4\r\nSADD\r\n$1\r\nk\r\n$16384\r\n" + std::string(8192, 'x'));
  }
  for (int i = 0; i < 50; ++i) {
    Client c(setd.port());
    c.send_raw("*3\r\n$4\r\nSADD\r\n$1\r\nk\r\n$100000000\r\n" + std::string(1000, 'x'));
    EXPECT_TRUE(c.closed_by_peer(3000));
  }
  const long long after = std::stoll(info_value(admin, "used_memory_rss", "memory"));
  // Half a megabyte of partial requests, plus allocator slack.
  EXPECT_LT(after - before, 8LL << 20) << before << " -> " << after;
  EXPECT_EQ(admin.call({"PING"}).str, "PONG");
}

}  // namespace
}  // namespace setd::testing

namespace setd::testing {
namespace {

TEST(Security, ConfigRewriteKeepsUsersAndPassword) {
  TempDir dir;
  const std::string conf = dir.path() + "/setd.conf";
  put_file_bytes(conf, "port 0\nuser old on nopass ~* +@all\n");
  std::vector<std::string> before;
  {
    ServerProcess s(setd_binary(), {"--dir", dir.path()}, conf);
    Client c(s.port());
    EXPECT_EQ(c.call({"ACL", "SETUSER", "alice", "on", ">pw", "~app:*", "&news", "+@set"}).str,
              "OK");
    EXPECT_EQ(c.call({"ACL", "DELUSER", "old"}).integer, 1);
    EXPECT_EQ(c.call({"CONFIG", "SET", "requirepass", "topsecret"}).str, "OK");
    EXPECT_EQ(c.call({"CONFIG", "REWRITE"}).str, "OK");
    for (const auto& e : c.call({"ACL", "LIST"}).elements) before.push_back(e.str);
  }
  const std::string text = file_bytes(conf);
  EXPECT_EQ(text.find("user old"), std::string::npos) << text;
  EXPECT_NE(text.find("user alice on #"), std::string::npos) << text;
  EXPECT_NE(text.find("requirepass \"topsecret\""), std::string::npos) << text;
  ServerProcess s(setd_binary(), {"--dir", dir.path()}, conf);
  Client c(s.port());
  EXPECT_EQ(c.call({"PING"}).str, "NOAUTH Authentication required.");
  EXPECT_EQ(c.call({"AUTH", "alice", "pw"}).str, "OK");
  EXPECT_EQ(c.call({"SADD", "app:1", "x"}).integer, 1);
  EXPECT_EQ(c.call({"GET", "app:1"}).str,
            "NOPERM this user has no permissions to run the 'get' command");
  EXPECT_EQ(c.call({"AUTH", "topsecret"}).str, "OK");
  std::vector<std::string> after;
  for (const auto& e : c.call({"ACL", "LIST"}).elements) after.push_back(e.str);
  // A `user default` line resets the default user first, which (as in
  // Redis) marks it sanitize-payload.
  ASSERT_EQ(before.size(), 2u);
  before[1].replace(before[1].find("on "), 3, "on sanitize-payload ");
  EXPECT_EQ(before, after);
}

TEST(Security, BadUserLinesAndAclFileStopStartUp) {
  TempDir dir;
  auto run = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"--dir", dir.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_server(setd_binary(), args, 5000);
  };
  // Redis's config loader names the word two places early.
  auto r = run({"--user", "alice", "on", "badrule"});
  EXPECT_TRUE(r.refused()) << r.describe();
  EXPECT_NE(r.output.find("Error in user declaration 'alice': Syntax error"), std::string::npos)
      << r.output;
  r = run({"--user", "alice", "on", "+nosuchcommand"});
  EXPECT_TRUE(r.refused()) << r.describe();
  EXPECT_NE(r.output.find("Error loading ACL rule '+nosuchcommand' for the user named 'alice': "
                          "Unknown command or category name in ACL"),
            std::string::npos)
      << r.output;
  r = run({"--aclfile", dir.path() + "/missing.acl"});
  EXPECT_TRUE(r.refused()) << r.describe();
  EXPECT_NE(r.output.find("Aborting Redis startup because of ACL errors: Error loading ACLs, "
                          "opening file '" +
                          dir.path() + "/missing.acl': No such file or directory"),
            std::string::npos)
      << r.output;
  put_file_bytes(dir.path() + "/users.acl", "user bob on >pw ~* +@all\n");
  r = run({"--aclfile", dir.path() + "/users.acl", "--user", "x", "on"});
  EXPECT_TRUE(r.refused()) << r.describe();
  EXPECT_NE(r.output.find("define either an ACL file or declare users directly"), std::string::npos)
      << r.output;
}

}  // namespace
}  // namespace setd::testing

namespace setd::testing {
namespace {

// The AOF is replayed whatever the password: its client needs no AUTH.
TEST(Security, AofLoadsWithAPasswordSet) {
  TempDir dir;
  const std::vector<std::string> args{"--dir",         dir.path(), "--appendonly", "yes",
                                      "--requirepass", "pw",       "--save",       ""};
  {
    ServerProcess s(setd_binary(), args);
    Client c(s.port());
    ASSERT_EQ(c.call({"AUTH", "pw"}).str, "OK");
    EXPECT_EQ(c.call({"SADD", "k", "a", "b"}).integer, 2);
  }
  ServerProcess s(setd_binary(), args);
  Client c(s.port());
  ASSERT_EQ(c.call({"AUTH", "pw"}).str, "OK");
  EXPECT_EQ(c.call({"SCARD", "k"}).integer, 2);
}

}  // namespace
}  // namespace setd::testing

namespace setd::testing {
namespace {

// setd's own channels obey the user's channel rules like any other.
TEST(Security, SetEventChannelsNeedChannelPermission) {
  ServerProcess s(setd_binary());
  Client admin(s.port());
  ASSERT_EQ(admin
                .call({"ACL", "SETUSER", "watcher", "on", ">pw", "&set.added", "+@pubsub",
                       "+@connection"})
                .str,
            "OK");
  Client sub(s.port());
  ASSERT_EQ(sub.call({"AUTH", "watcher", "pw"}).str, "OK");
  EXPECT_EQ(sub.call({"SUBSCRIBE", "set.removed"}).str,
            "NOPERM this user has no permissions to access one of the channels used as "
            "arguments");
  // A pattern is compared literally with the user's channel patterns.
  EXPECT_EQ(sub.call({"PSUBSCRIBE", "set.*"}).str,
            "NOPERM this user has no permissions to access one of the channels used as "
            "arguments");
  const auto ok = sub.call({"SUBSCRIBE", "set.added"});
  ASSERT_EQ(ok.elements.size(), 3u);
  EXPECT_EQ(ok.elements[0].str, "subscribe");
  EXPECT_EQ(admin.call({"SADD", "k", "x"}).integer, 1);
  const auto msg = sub.read();
  ASSERT_TRUE(msg);
  ASSERT_EQ(msg->elements.size(), 3u);
  EXPECT_EQ(msg->elements[1].str, "set.added");
  // Taking the channel away disconnects the subscriber, as in Redis.
  EXPECT_EQ(admin.call({"ACL", "SETUSER", "watcher", "resetchannels"}).str, "OK");
  EXPECT_TRUE(sub.closed_by_peer(2000));
  const auto log = admin.call({"ACL", "LOG", "1"});
  ASSERT_EQ(log.elements.size(), 1u);
}

}  // namespace
}  // namespace setd::testing
