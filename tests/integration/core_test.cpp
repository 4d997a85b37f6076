// setd core over real sockets: protocol, pipelining, connection and server
// commands, configuration, shutdown.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net_scenarios.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

class Core : public SetdSuite {
 protected:
  static std::string cli(const std::string& args) {
    return shell("redis-cli -p " + std::to_string(port()) + " " + args + " 2>&1");
  }
};

TEST_F(Core, PingThroughRedisCli) {
  EXPECT_EQ(cli("ping"), "PONG\n");
  EXPECT_EQ(cli("ping hello"), "hello\n");
  EXPECT_EQ(cli("echo 'a b'"), "a b\n");
}

TEST_F(Core, ProtocolErrorsGetRedisTextAndClose) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\n$600000000\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\nx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"},
      {"*1\r\n\r\n", "-ERR Protocol error: expected '$', got ' '\r\n"},
      {"set \"a b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
      {std::string(70000, 'A'), "-ERR Protocol error: too big inline request\r\n"},
      {"*" + std::string(70000, '1'), "-ERR Protocol error: too big mbulk count string\r\n"},
      {"*1\r\n$" + std::string(70000, '1'), "-ERR Protocol error: too big bulk count string\r\n"},
  };
  for (const auto& [input, expected] : cases) {
    Client c(port());
    c.send_raw(input);
    EXPECT_EQ(c.read_raw_until_close(), expected + "<closed>") << "input: " << input.substr(0, 40);
  }
  // The server is still fine afterwards.
  EXPECT_EQ(cli("ping"), "PONG\n");
}

TEST_F(Core, LenientInputLikeRedis) {
  Client c(port());
  // Empty multibulk and blank lines are skipped; inline with extra spaces.
  c.send_raw("*0\r\n*-1\r\n\r\n\r\n  PING  \r\n");
  EXPECT_EQ(c.read()->str, "PONG");
  // The two bytes after a bulk payload are skipped, not checked.
  c.send_raw("*1\r\n$4\r\nPINGxx");
  EXPECT_EQ(c.read()->str, "PONG");
  c.send_raw("PING\n");
  EXPECT_EQ(c.read()->str, "PONG");
  c.send_raw("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
  auto r = c.read();
  EXPECT_EQ(r->kind, RespValue::Kind::kBulk);
  EXPECT_EQ(r->str, "");
}

TEST_F(Core, FramesSplitAtEveryByte) {
  Client c(port());
  const std::string frame =
      "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n*1\r\n$4\r\nPING\r\nECHO \"x y\"\r\n";
  for (char ch : frame) {
    c.send_raw(std::string(1, ch));
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  EXPECT_EQ(c.read()->str, "hello world");
  EXPECT_EQ(c.read()->str, "PONG");
  EXPECT_EQ(c.read()->str, "x y");
}

TEST_F(Core, UnknownCommandAndArity) {
  Client c(port());
  EXPECT_EQ(c.call({"foo", "bar"}).str,
            "ERR unknown command 'foo', with args beginning with: 'bar' ");
  EXPECT_EQ(c.call({"foo"}).str, "ERR unknown command 'foo', with args beginning with: ");
  EXPECT_EQ(c.call({"echo"}).str, "ERR wrong number of arguments for 'echo' command");
  EXPECT_EQ(c.call({"client", "nope"}).str, "ERR unknown subcommand 'nope'. Try CLIENT HELP.");
  EXPECT_EQ(c.call({"config", "get"}).str,
            "ERR wrong number of arguments for 'config|get' command");
}

TEST_F(Core, PipeHundredThousandCommands) {
  const auto dir = std::filesystem::temp_directory_path() / ("setd-pipe-" + std::to_string(port()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "cmds.txt";
  {
    std::ofstream out(file, std::ios::binary);
    for (int i = 0; i < 100000; ++i) out << Client::encode({"ECHO", "value:" + std::to_string(i)});
  }
  const std::string out =
      shell("redis-cli -p " + std::to_string(port()) + " --pipe < " + file.string() + " 2>&1");
  EXPECT_NE(out.find("errors: 0, replies: 100000"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST_F(Core, Hello3SpeaksResp3) {
  Client c(port());
  auto r = c.call({"HELLO", "3"});
  ASSERT_EQ(r.kind, RespValue::Kind::kMap);
  ASSERT_EQ(r.elements.size(), 14u);
  EXPECT_EQ(r.elements[0].str, "server");
  EXPECT_EQ(r.elements[4].str, "proto");
  EXPECT_EQ(r.elements[5].integer, 3);
  EXPECT_EQ(r.elements[13].kind, RespValue::Kind::kArray);
  EXPECT_EQ(c.call({"HELLO", "4"}).str, "NOPROTO unsupported protocol version");
  // In RESP3 CONFIG GET answers a map, CLIENT INFO a verbatim string.
  EXPECT_EQ(c.call({"CONFIG", "GET", "port"}).kind, RespValue::Kind::kMap);
  EXPECT_EQ(c.call({"CLIENT", "INFO"}).kind, RespValue::Kind::kVerbatim);
  EXPECT_EQ(c.call({"HELLO", "2"}).kind, RespValue::Kind::kArray);
}

TEST_F(Core, ClientListShowsNamesAndLibInfo) {
  Client a(port());
  EXPECT_EQ(a.call({"CLIENT", "SETNAME", "worker-1"}).str, "OK");
  EXPECT_EQ(a.call({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}).str, "OK");
  EXPECT_EQ(a.call({"CLIENT", "SETINFO", "LIB-VER", "5.0.1"}).str, "OK");
  const std::string list = cli("client list");
  EXPECT_NE(list.find("name=worker-1"), std::string::npos) << list;
  EXPECT_NE(list.find("lib-name=redis-py lib-ver=5.0.1"), std::string::npos) << list;
  EXPECT_NE(list.find("cmd=client|list"), std::string::npos) << list;
  EXPECT_EQ(a.call({"CLIENT", "SETNAME", "a b"}).str,
            "ERR Client names cannot contain spaces, newlines or special characters.");
  const long long id = a.call({"CLIENT", "ID"}).integer;
  Client b(port());
  EXPECT_EQ(b.call({"CLIENT", "KILL", "ID", std::to_string(id)}).integer, 1);
  EXPECT_TRUE(a.closed_by_peer());
}

TEST_F(Core, ConfigGetSetRoundTrip) {
  Client c(port());
  EXPECT_EQ(c.call({"CONFIG", "SET", "maxclients", "500", "timeout", "30"}).str, "OK");
  EXPECT_EQ(config_get(c, "maxclients"), "500");
  EXPECT_EQ(c.call({"CONFIG", "SET", "maxclients", "abc"}).str,
            "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument "
            "couldn't be parsed into an integer");
  EXPECT_EQ(c.call({"CONFIG", "SET", "databases", "1"}).str,
            "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set "
            "immutable config");
  EXPECT_EQ(c.call({"CONFIG", "SET", "nosuch", "1"}).str,
            "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  EXPECT_EQ(c.call({"CONFIG", "SET", "maxclients", "10000", "timeout", "0"}).str, "OK");
  const std::string all = cli("config get '*'");
  EXPECT_NE(all.find("set-max-intset-entries"), std::string::npos);
}

TEST_F(Core, InfoHasTheFieldsClientsRead) {
  const std::string info = cli("info");
  for (const char* f : {"redis_version:7.2.4", "setd_version:", "process_id:", "tcp_port:",
                        "uptime_in_seconds:", "connected_clients:", "used_memory:", "# Keyspace"})
    EXPECT_NE(info.find(f), std::string::npos) << f;
  EXPECT_NE(cli("info commandstats").find("cmdstat_info:calls="), std::string::npos);
}

// INFO's run_id comes from the system's entropy, as Redis's: servers
// started together (pids in a row, the same millisecond), asked together,
// each have their own (Sentinel tells instances apart by it). A seed of
// the clock and the pid gave some of them the same one.
TEST(CoreStandalone, RunIdsDifferBetweenServersStartedTogether) {
  std::vector<std::unique_ptr<ServerProcess>> servers;
  for (int i = 0; i < 16; ++i) servers.push_back(std::make_unique<ServerProcess>(setd_binary()));
  std::vector<std::unique_ptr<Client>> clients;
  for (auto& s : servers) clients.push_back(std::make_unique<Client>(s->port()));
  for (auto& c : clients) c->send({"INFO", "server"});
  std::set<std::string> ids;
  for (auto& c : clients) {
    const auto r = c->read();
    ASSERT_TRUE(r.has_value());
    std::smatch id;
    ASSERT_TRUE(std::regex_search(r->str, id, std::regex("\r\nrun_id:([0-9a-f]{40})\r\n")))
        << r->str;
    ids.insert(id[1].str());
  }
  EXPECT_EQ(ids.size(), servers.size());
}

TEST_F(Core, CommandDocsGivesRedisCliItsHints) {
  Client c(port());
  auto docs = c.call({"COMMAND", "DOCS", "client"});
  ASSERT_EQ(docs.elements.size(), 2u);
  EXPECT_EQ(docs.elements[0].str, "client");
  EXPECT_GT(c.call({"COMMAND", "COUNT"}).integer, 10);
  // As redis-server 7.0.15: GETKEYS has arity -4, then PING has no keys.
  EXPECT_EQ(c.call({"COMMAND", "GETKEYS", "ping"}).str,
            "ERR wrong number of arguments for 'command|getkeys' command");
  EXPECT_EQ(c.call({"COMMAND", "GETKEYS", "ping", "x"}).str,
            "ERR The command has no key arguments");
}

TEST_F(Core, SlowReaderDoesNotStallOthers) {
  Client slow(port());
  // Ask for far more output than the socket buffers hold and never read it.
  // The server stops reading from such a client, so the sender may block:
  // it runs in a thread that is released by shutting the socket down.
  std::string burst;
  const std::string big(64 * 1024, 'x');
  for (int i = 0; i < 200; ++i) burst += Client::encode({"ECHO", big});
  std::thread sender([&] {
    try {
      slow.send_raw(burst);
    } catch (const std::exception&) {
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(cli("ping"), "PONG\n");
  ::shutdown(slow.fd(), SHUT_RDWR);
  sender.join();
}

TEST_F(Core, SlowReaderGetsEveryReplyOnceItReads) {
  expect_slow_reader_gets_every_reply(plain_clients(port()));
}

TEST_F(Core, FastReaderOfHugePipelineGetsEveryReply) {
  expect_fast_reader_gets_every_reply(plain_clients(port()));
}

TEST_F(Core, HalfClosedClientStillGetsItsReplies) {
  // Like `printf 'PING\r\nPING\r\n' | nc`: the requests and the end of the
  // client's stream arrive together; the replies still go out before we close.
  Client c(port());
  c.send_raw("PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n");
  ::shutdown(c.fd(), SHUT_WR);
  EXPECT_EQ(c.read_raw_until_close(), "+PONG\r\n$2\r\nhi\r\n<closed>");
}

TEST_F(Core, ManyClientsAtOnceEachGetTheirOwnReplies) {
  expect_many_clients_get_their_own_replies(plain_clients(port()));
}

TEST(CoreStandalone, WithoutBusyPollingTheLoopSleepsBetweenRequests) {
  // busy-poll-us 0: every request finds the loop asleep. Same traffic,
  // same replies.
  ServerProcess s(setd_binary(), {"--busy-poll-us", "0"});
  Client c(s.port());
  EXPECT_EQ(config_get(c, "busy-poll-us"), "0");
  for (int i = 0; i < 50; ++i)
    ASSERT_EQ(c.call({"ECHO", std::to_string(i)}).str, std::to_string(i));
  expect_many_clients_get_their_own_replies(plain_clients(s.port()));
  expect_slow_reader_gets_every_reply(plain_clients(s.port()));
  expect_fast_reader_gets_every_reply(plain_clients(s.port()));
}

TEST(CoreStandalone, BusyPollingStopsWhenTrafficStops) {
  ServerProcess s(setd_binary(), {"--busy-poll-us", "1000", "--hz", "1"});
  Client c(s.port());
  EXPECT_EQ(config_get(c, "busy-poll-us"), "1000");
  EXPECT_EQ(c.call({"CONFIG", "SET", "busy-poll-us", "-1"}).str,
            "ERR CONFIG SET failed (possibly related to argument 'busy-poll-us') - argument must "
            "be between 0 and 1000000 inclusive");
  for (int i = 0; i < 200; ++i) ASSERT_EQ(c.call({"PING"}).str, "PONG");
  // Idle for a second: a loop still polling would use all of it.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double before = s.cpu_seconds();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_LT(s.cpu_seconds() - before, 0.3);
}

TEST(CoreStandalone, MaxClientsRefusesWithRedisText) {
  ServerProcess s(setd_binary(), {"--maxclients", "2"});
  Client a(s.port());
  Client b(s.port());
  EXPECT_EQ(a.call({"PING"}).str, "PONG");
  EXPECT_EQ(b.call({"PING"}).str, "PONG");
  Client c(s.port());
  EXPECT_EQ(c.read_raw_until_close(), "-ERR max number of clients reached\r\n<closed>");
}

TEST(CoreStandalone, MaxClientsCountsAClientThatLeftBeforeTheNextCame) {
  // A client that closed before the next one connected is gone when that
  // one is counted (redis-server 7.0: 0 refused in 500 such rounds; a
  // level-triggered listening socket refused 70-130 of them).
  ServerProcess s(setd_binary(), {"--maxclients", "1"});
  for (int i = 0; i < 300; ++i) {
    Client c(s.port());
    ASSERT_EQ(c.call({"PING"}).str, "PONG") << "round " << i;
  }
}

// Sends `request` to [::1]:port and returns what comes back (one read).
std::string ask_over_ipv6(int port, const std::string& request) {
  const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET6, "::1", &a.sin6_addr);
  std::string reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) reply.assign(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST(CoreStandalone, Ipv6ClientAddressesAreBracketedAsRedis) {
  // Redis's anetFormatAddr: "[::1]:port" in CLIENT LIST / INFO, and ::1 is
  // local for protected mode.
  for (const char* binary : {"redis-server", "setd"}) {
    SCOPED_TRACE(binary);
    ServerProcess s(binary == std::string("setd") ? setd_binary() : binary,
                    {"--bind", "127.0.0.1", "::1"});
    const std::string info = ask_over_ipv6(s.port(), "CLIENT INFO\r\n");
    EXPECT_NE(info.find(" addr=[::1]:"), std::string::npos) << info;
    EXPECT_NE(info.find(" laddr=[::1]:" + std::to_string(s.port()) + " "), std::string::npos)
        << info;
  }
}

TEST(CoreStandalone, SigtermShutsDownCleanly) {
  ServerProcess s(setd_binary());
  Client a(s.port());
  EXPECT_EQ(a.call({"PING"}).str, "PONG");
  const int status = s.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(CoreStandalone, ShutdownCommandStopsTheServer) {
  ServerProcess s(setd_binary());
  Client a(s.port());
  a.send({"SHUTDOWN", "NOSAVE"});
  EXPECT_TRUE(a.closed_by_peer(3000));
  for (int i = 0; i < 100 && s.running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(s.running());
}

TEST(CoreStandalone, BadConfigStopsStartupWithLineNumber) {
  const auto file = std::filesystem::temp_directory_path() / "setd-bad.conf";
  {
    std::ofstream out(file);
    out << "# comment\nport 7000\nnot-a-directive 1\n";
  }
  const std::string out = shell(setd_binary() + " " + file.string() + " 2>&1; echo \"exit=$?\"");
  EXPECT_NE(out.find("at line 3"), std::string::npos) << out;
  EXPECT_NE(out.find("not-a-directive"), std::string::npos) << out;
  EXPECT_NE(out.find("exit=1"), std::string::npos) << out;
  std::filesystem::remove(file);
}

// conf/setd.conf documents every directive setd has (CONFIG GET * lists
// them): each appears as a line of its own, set or commented out.
TEST_F(Core, ConfSetdConfDocumentsEveryDirective) {
  std::ifstream in(SETD_SOURCE_DIR "/conf/setd.conf");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  Client c(port());
  const auto all = c.call({"CONFIG", "GET", "*"});
  ASSERT_GT(all.elements.size(), 20u);
  for (size_t i = 0; i < all.elements.size(); i += 2) {
    const std::string& name = all.elements[i].str;
    const bool documented = text.find("\n" + name + " ") != std::string::npos ||
                            text.find("\n# " + name + " ") != std::string::npos;
    EXPECT_TRUE(documented) << name << " is not in conf/setd.conf";
  }
}

TEST(CoreStandalone, ConfigRewriteKeepsComments) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("setd-rewrite-" + std::to_string(::getpid()) + ".conf");
  std::filesystem::copy_file(SETD_SOURCE_DIR "/conf/setd.conf", file,
                             std::filesystem::copy_options::overwrite_existing);
  // CONFIG REWRITE writes `dir` too: one that outlives both servers.
  const auto dir =
      std::filesystem::temp_directory_path() / ("setd-rewrite-dir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    ServerProcess s(setd_binary(), {"--dir", dir.string()}, file.string());
    Client c(s.port());
    EXPECT_EQ(c.call({"CONFIG", "SET", "set-max-intset-entries", "1000"}).str, "OK");
    EXPECT_EQ(c.call({"CONFIG", "SET", "notify-keyspace-events", "KEs"}).str, "OK");
    EXPECT_EQ(c.call({"CONFIG", "REWRITE"}).str, "OK");
  }
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("set-max-intset-entries 1000"), std::string::npos);
  EXPECT_NE(text.find("# setd configuration file"), std::string::npos);
  EXPECT_NE(text.find("notify-keyspace-events \"sKE\""), std::string::npos) << text;
  EXPECT_NE(text.find("dir \"" + dir.string() + "\""), std::string::npos) << text;
  // And the rewritten file starts a server again.
  {
    ServerProcess again(setd_binary(), {"--dir", dir.string()}, file.string());
    Client c(again.port());
    EXPECT_EQ(config_get(c, "set-max-intset-entries"), "1000");
  }
  std::filesystem::remove(file);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace setd::testing
