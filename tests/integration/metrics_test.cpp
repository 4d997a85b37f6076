// The metrics endpoint (metrics-port): real scrapes over HTTP, their figures
// against INFO's, Debian's promtool (`promtool check metrics`: the format
// and the naming lint) on what setd serves, hostile clients (garbage,
// oversized heads, a slowloris, too many connections, other paths and
// methods) that must neither crash setd nor disturb its RESP clients, and
// CONFIG SET moving, opening and closing the listener.
//
// promtool comes with Debian's prometheus package (.ci/deps --test): the
// tests that need it fail, not skip, without it.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

using Args = std::vector<std::string>;

// A connected TCP socket to 127.0.0.1:port, or -1.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads until the peer closes or `ms` pass without a byte; `closed` says
// which.
std::string read_until_close(int fd, int ms, bool* closed) {
  std::string out;
  *closed = false;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return out;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *closed = true;
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

struct HttpReply {
  bool connected = false;
  bool closed = false;  // the server closed the connection after answering
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string raw;
};

HttpReply parse_reply(std::string raw, bool connected, bool closed) {
  HttpReply r;
  r.connected = connected;
  r.closed = closed;
  r.raw = raw;
  const size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || !raw.starts_with("HTTP/1.1 ")) return r;
  r.status = std::atoi(raw.c_str() + 9);
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(colon + 2);
  }
  r.body = raw.substr(end + 4);
  return r;
}

// Sends `request` as is and reads the answer until the server closes.
HttpReply http_raw(int port, std::string_view request, int ms = 5000) {
  const int fd = connect_to(port);
  if (fd < 0) return {};
  send_all(fd, request);
  bool closed = false;
  std::string raw = read_until_close(fd, ms, &closed);
  ::close(fd);
  return parse_reply(std::move(raw), true, closed);
}

HttpReply scrape(int port, const std::string& method = "GET",
                 const std::string& path = "/metrics") {
  return http_raw(port,
                  method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n");
}

// The samples of an exposition: "name{labels}" -> value.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return out;
}

std::string sample(const std::map<std::string, std::string>& m, const std::string& series) {
  auto it = m.find(series);
  return it == m.end() ? "<no sample " + series + ">" : it->second;
}

// INFO's "k1=v1,k2=v2" value (commandstats, keyspace): one key's value.
std::string subfield(const std::string& value, const std::string& key) {
  size_t pos = 0;
  while (pos < value.size()) {
    size_t end = value.find(',', pos);
    if (end == std::string::npos) end = value.size();
    const std::string kv = value.substr(pos, end - pos);
    if (kv.starts_with(key + "=")) return kv.substr(key.size() + 1);
    pos = end + 1;
  }
  return "<no " + key + " in " + value + ">";
}

// `promtool check metrics` on `text`: its exit status (-1: could not run)
// and what it printed (problems, lint warnings).
std::pair<int, std::string> promtool_check(const std::string& text) {
  TempDir dir;
  const std::string file = dir.file("scrape.txt");
  put_file_bytes(file, text);
  FILE* p = ::popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

bool have_promtool() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

class Metrics : public ::testing::Test {
 protected:
  Metrics()
      : mport_(free_port()),
        server_(setd_binary(), {"--metrics-port", std::to_string(mport_), "--latency-tracking",
                                "yes", "--save", ""}) {}
  int mport_;
  ServerProcess server_;
};

TEST_F(Metrics, ScrapeMatchesInfoAndPassesPromtool) {
  Client c(server_.port());
  for (int i = 0; i < 7; ++i) c.call({"SADD", "s", std::to_string(i)});
  for (int i = 0; i < 3; ++i) c.call({"SISMEMBER", "s", "1"});
  c.call({"SET", "k", "v", "EX", "1000"});
  EXPECT_TRUE(c.call({"INCR", "s"}).is_error());
  c.call({"SELECT", "5"});
  c.call({"SADD", "t", "x"});
  c.call({"CLIENT", "SETNAME", "x\"y"});  // a subcommand: cmd="client|setname"

  HttpReply r = scrape(mport_);
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.headers["content-length"], std::to_string(r.body.size()));
  EXPECT_EQ(r.headers["connection"], "close");
  const auto m = samples(r.body);

  // Figures as INFO gives them (nothing ran in between but INFO itself).
  const auto keyspace = info_fields(c, "keyspace");
  std::map<std::string, std::string> ks(keyspace.begin(), keyspace.end());
  EXPECT_EQ(sample(m, "setd_db_keys{db=\"0\"}"), subfield(ks["db0"], "keys"));
  EXPECT_EQ(sample(m, "setd_db_keys{db=\"0\"}"), "2");
  EXPECT_EQ(sample(m, "setd_db_keys_expiring{db=\"0\"}"), subfield(ks["db0"], "expires"));
  EXPECT_EQ(sample(m, "setd_db_keys{db=\"5\"}"), subfield(ks["db5"], "keys"));
  EXPECT_EQ(sample(m, "setd_db_keys{db=\"6\"}"), "0");
  const auto cmdstats = info_fields(c, "commandstats");
  std::map<std::string, std::string> cs(cmdstats.begin(), cmdstats.end());
  EXPECT_EQ(sample(m, "setd_command_calls_total{cmd=\"sadd\"}"),
            subfield(cs["cmdstat_sadd"], "calls"));
  EXPECT_EQ(sample(m, "setd_command_calls_total{cmd=\"sadd\"}"), "8");
  EXPECT_EQ(sample(m, "setd_command_calls_total{cmd=\"sismember\"}"), "3");
  EXPECT_EQ(sample(m, "setd_command_calls_total{cmd=\"client|setname\"}"), "1");
  EXPECT_EQ(sample(m, "setd_command_failed_calls_total{cmd=\"incr\"}"),
            subfield(cs["cmdstat_incr"], "failed_calls"));
  EXPECT_EQ(sample(m, "setd_errors_total{code=\"WRONGTYPE\"}"), "1");
  EXPECT_EQ(sample(m, "setd_error_replies_total"), info_value(c, "total_error_replies", "stats"));
  EXPECT_EQ(sample(m, "setd_evicted_keys_total"), info_value(c, "evicted_keys", "stats"));
  EXPECT_EQ(sample(m, "setd_expired_keys_total"), info_value(c, "expired_keys", "stats"));
  EXPECT_EQ(sample(m, "setd_connected_clients"), info_value(c, "connected_clients", "clients"));
  EXPECT_EQ(sample(m, "setd_replication_role{role=\"master\"}"), "1");
  EXPECT_EQ(sample(m, "setd_aof_enabled"), "0");
  EXPECT_EQ(sample(m, "setd_rdb_last_save_timestamp_seconds"), info_value(c, "rdb_last_save_time"));
  EXPECT_GT(std::stoll(sample(m, "setd_memory_used_bytes")), 100000);
  EXPECT_GT(std::stoll(sample(m, "setd_memory_rss_bytes")), 100000);
  // commands_processed counts what ran before the scrape: every command
  // above (and the server start-up's PING), not the INFO calls after it.
  const long long processed = std::stoll(sample(m, "setd_commands_processed_total"));
  EXPECT_GE(processed, 16);
  EXPECT_LT(processed, std::stoll(info_value(c, "total_commands_processed", "stats")));

  // The histogram of sadd: cumulative buckets, +Inf = _count = calls.
  EXPECT_EQ(sample(m, "setd_command_latency_seconds_count{cmd=\"sadd\"}"), "8");
  EXPECT_EQ(sample(m, "setd_command_latency_seconds_bucket{cmd=\"sadd\",le=\"+Inf\"}"), "8");
  EXPECT_EQ(sample(m, "setd_command_latency_seconds_bucket{cmd=\"sadd\",le=\"1\"}"), "8");
  EXPECT_GT(std::stod(sample(m, "setd_command_latency_seconds_sum{cmd=\"sadd\"}")), 0.0);

  // promtool: the format and the best-practice lint, without a word.
  ASSERT_TRUE(have_promtool()) << "promtool is missing: bash .ci/deps --test installs it";
  const auto [status, out] = promtool_check(r.body);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "") << out;

  // HEAD: the headers only, the length of the GET's body.
  HttpReply h = scrape(mport_, "HEAD");
  EXPECT_EQ(h.status, 200) << h.raw;
  EXPECT_EQ(h.body, "");
  EXPECT_GT(std::stoll(h.headers["content-length"]), 1000);
}

TEST_F(Metrics, EvictionsAndPersistenceShowUp) {
  Client c(server_.port());
  c.call({"CONFIG", "SET", "maxmemory-policy", "allkeys-random"});
  const long long used = std::stoll(info_value(c, "used_memory", "memory"));
  c.call({"CONFIG", "SET", "maxmemory", std::to_string(used + 2 * 1024 * 1024)});
  const std::string big(1000, 'x');
  for (int i = 0; i < 6000; ++i) c.call({"SET", "k" + std::to_string(i), big});
  c.call({"CONFIG", "SET", "maxmemory", "0"});
  EXPECT_EQ(c.call({"BGSAVE"}).str, "Background saving started");
  ASSERT_TRUE(wait_persistence_idle(c));
  const auto m = samples(scrape(mport_).body);
  const std::string evicted = info_value(c, "evicted_keys", "stats");
  EXPECT_GT(std::stoll(evicted), 0);
  EXPECT_EQ(sample(m, "setd_evicted_keys_total"), evicted);
  EXPECT_EQ(sample(m, "setd_db_keys{db=\"0\"}"), std::to_string(c.call({"DBSIZE"}).integer));
  EXPECT_EQ(sample(m, "setd_rdb_saves_total"), info_value(c, "rdb_saves"));
  EXPECT_GT(std::stoll(sample(m, "setd_rdb_saves_total")), 0);
  EXPECT_EQ(sample(m, "setd_rdb_last_bgsave_ok"), "1");
  EXPECT_EQ(sample(m, "setd_rdb_changes_since_last_save"),
            info_value(c, "rdb_changes_since_last_save"));
  EXPECT_GE(std::stod(sample(m, "setd_eviction_exceeded_seconds_total")), 0.0);

  c.call({"CONFIG", "SET", "appendonly", "yes"});
  ASSERT_TRUE(wait_persistence_idle(c));
  c.call({"SADD", "after", "a"});
  const auto m2 = samples(scrape(mport_).body);
  EXPECT_EQ(sample(m2, "setd_aof_enabled"), "1");
  EXPECT_GT(std::stoll(sample(m2, "setd_aof_current_size_bytes")), 0);
}

TEST_F(Metrics, ReplicationStateOnBothSides) {
  const int replica_mport = free_port();
  ServerProcess replica(
      setd_binary(), {"--metrics-port", std::to_string(replica_mport), "--replicaof", "127.0.0.1",
                      std::to_string(server_.port()), "--save", ""});
  Client rc(replica.port());
  ASSERT_TRUE(wait_until(
      [&] { return info_value(rc, "master_link_status", "replication") == "up"; }, 20000));
  const auto m = samples(scrape(replica_mport).body);
  EXPECT_EQ(sample(m, "setd_replication_role{role=\"replica\"}"), "1");
  EXPECT_EQ(sample(m, "setd_replication_role{role=\"master\"}"), "0");
  EXPECT_EQ(sample(m, "setd_replication_master_link_up"), "1");
  const auto mm = samples(scrape(mport_).body);
  EXPECT_EQ(sample(mm, "setd_replication_connected_replicas"), "1");
  EXPECT_EQ(sample(mm, "setd_replication_full_syncs_total"), "1");
  EXPECT_EQ(sample(mm, "setd_replication_master_link_up"),
            "<no sample setd_replication_master_link_up>");
  ASSERT_TRUE(have_promtool()) << "promtool is missing: bash .ci/deps --test installs it";
  const auto [status, out] = promtool_check(scrape(replica_mport).body);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "") << out;
}

TEST_F(Metrics, OtherPathsMethodsAndVersionsAreRefused) {
  HttpReply notfound = scrape(mport_, "GET", "/");
  EXPECT_EQ(notfound.status, 404) << notfound.raw;
  EXPECT_TRUE(notfound.closed);
  EXPECT_EQ(scrape(mport_, "GET", "/metrics/../x").status, 404);
  HttpReply post =
      http_raw(mport_, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(post.status, 405) << post.raw;
  EXPECT_EQ(post.headers["allow"], "GET, HEAD");
  EXPECT_TRUE(post.closed);
  EXPECT_EQ(scrape(mport_, "PUT").status, 405);
  EXPECT_EQ(http_raw(mport_, "GET /metrics HTTP/2.0\r\n\r\n").status, 505);
  // HTTP/1.0, a query string, bare LF line ends: still a scrape.
  EXPECT_EQ(http_raw(mport_, "GET /metrics?x=1 HTTP/1.0\n\n").status, 200);
}

TEST_F(Metrics, HostileClientsNeitherCrashNorDisturbRespClients) {
  Client c(server_.port());
  // Binary garbage, RESP and a TLS hello: 400 at once, connection closed.
  for (const std::string& junk :
       {std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11),
        std::string("*1\r\n$4\r\nPING\r\n"), std::string("\0\0\0\0", 4),
        std::string("GET /metrics HTTP/1.1\r\nbad header line\r\n\r\n")}) {
    HttpReply r = http_raw(mport_, junk, 3000);
    EXPECT_EQ(r.status, 400) << ::testing::PrintToString(junk) << " -> " << r.raw;
    EXPECT_TRUE(r.closed);
  }
  // A head that never ends (1 MB of headers): 431 and closed, without
  // setd reading it all.
  {
    const int fd = connect_to(mport_);
    ASSERT_GE(fd, 0);
    std::string big = "GET /metrics HTTP/1.1\r\n";
    while (big.size() < 1024 * 1024) big += "X-Big: " + std::string(1000, 'a') + "\r\n";
    send_all(fd, big);  // may fail midway: setd closed after its 431
    bool closed = false;
    std::string raw = read_until_close(fd, 5000, &closed);
    HttpReply r = parse_reply(std::move(raw), true, closed);
    ::close(fd);
    EXPECT_EQ(r.status, 431) << r.raw.substr(0, 200);
    EXPECT_TRUE(r.closed);
  }
  // A slowloris: a byte every 200 ms never completes the head; setd closes
  // it once the head timeout (5 s) passes, meanwhile serving RESP clients.
  {
    const int fd = connect_to(mport_);
    ASSERT_GE(fd, 0);
    const std::string head = "GET /metrics HTTP/1.1\r\nX-Slow: ";
    send_all(fd, head);
    const auto start = std::chrono::steady_clock::now();
    bool cut = false;
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(9)) {
      if (!send_all(fd, "a")) {
        cut = true;
        break;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char b[256];
        const ssize_t n = ::recv(fd, b, sizeof(b), 0);
        EXPECT_LE(n, 0) << "answered a request that never ended: " << std::string(b, n > 0 ? n : 0);
        cut = true;
        break;
      }
      EXPECT_EQ(c.call({"PING"}).str, "PONG");
    }
    const auto took = std::chrono::steady_clock::now() - start;
    ::close(fd);
    EXPECT_TRUE(cut) << "the slow client was not cut off";
    EXPECT_GE(took, std::chrono::milliseconds(4500));
  }
  // More idle connections than the endpoint takes: the extra ones are
  // closed at once, the RESP side does not notice, and once they go a
  // scrape works again.
  {
    std::vector<int> fds;
    for (int i = 0; i < 40; ++i) fds.push_back(connect_to(mport_));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int closed_at_once = 0;
    for (int fd : fds) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        char b[16];
        if (::recv(fd, b, sizeof(b), 0) <= 0) ++closed_at_once;
      }
    }
    EXPECT_GE(closed_at_once, 40 - 32);
    EXPECT_EQ(c.call({"SADD", "s", "a"}).integer, 1);
    for (int fd : fds) ::close(fd);
  }
  // A client that goes away mid-request or right after asking.
  for (int i = 0; i < 20; ++i) {
    const int fd = connect_to(mport_);
    send_all(fd, i % 2 ? "GET /metr" : "GET /metrics HTTP/1.1\r\n\r\n");
    ::close(fd);
  }
  ASSERT_TRUE(wait_until([&] { return scrape(mport_).status == 200; }, 3000));
  EXPECT_TRUE(server_.running());
  EXPECT_EQ(c.call({"PING"}).str, "PONG");
  EXPECT_EQ(c.call({"SCARD", "s"}).integer, 1);
}

TEST(MetricsConfig, ConfigSetOpensMovesAndClosesTheListener) {
  ServerProcess s(setd_binary(), {"--save", ""});
  Client c(s.port());
  EXPECT_EQ(config_get(c, "metrics-port"), "0");
  EXPECT_EQ(config_get(c, "metrics-bind"), "127.0.0.1");
  const int p1 = free_port();
  EXPECT_FALSE(scrape(p1).connected);
  EXPECT_EQ(c.call({"CONFIG", "SET", "metrics-port", std::to_string(p1)}).str, "OK");
  EXPECT_EQ(scrape(p1).status, 200);
  EXPECT_EQ(config_get(c, "metrics-port"), std::to_string(p1));

  // Moved: the old port no longer answers.
  const int p2 = free_port();
  EXPECT_EQ(c.call({"CONFIG", "SET", "metrics-port", std::to_string(p2)}).str, "OK");
  EXPECT_EQ(scrape(p2).status, 200);
  EXPECT_FALSE(scrape(p1).connected);

  // A port that is taken: refused, the listener stays where it was.
  const auto taken = c.call({"CONFIG", "SET", "metrics-port", std::to_string(s.port())});
  EXPECT_TRUE(taken.is_error()) << taken.str;
  EXPECT_NE(taken.str.find("Unable to listen"), std::string::npos) << taken.str;
  EXPECT_EQ(config_get(c, "metrics-port"), std::to_string(p2));
  EXPECT_EQ(scrape(p2).status, 200);

  // Port and address in one CONFIG SET; a bad address is refused.
  const int p3 = free_port();
  EXPECT_EQ(c.call({"CONFIG", "SET", "metrics-port", std::to_string(p3), "metrics-bind",
                    "127.0.0.1 -::1"})
                .str,
            "OK");
  EXPECT_EQ(scrape(p3).status, 200);
  EXPECT_FALSE(scrape(p2).connected);
  EXPECT_TRUE(c.call({"CONFIG", "SET", "metrics-bind", "not-an-address"}).is_error());
  EXPECT_TRUE(c.call({"CONFIG", "SET", "metrics-bind", ""}).is_error());
  EXPECT_TRUE(c.call({"CONFIG", "SET", "metrics-port", "70000"}).is_error());
  EXPECT_EQ(scrape(p3).status, 200);

  // Off again.
  EXPECT_EQ(c.call({"CONFIG", "SET", "metrics-port", "0"}).str, "OK");
  EXPECT_FALSE(scrape(p3).connected);
  EXPECT_EQ(c.call({"PING"}).str, "PONG");
}

TEST(MetricsConfig, StartUpFailsOnAPortInUse) {
  ServerProcess other(setd_binary(), {"--save", ""});
  TempDir dir;
  const ServerRun run = run_server(setd_binary(), {"--dir", dir.path(), "--metrics-port",
                                                   std::to_string(other.port()), "--save", ""});
  EXPECT_TRUE(run.refused()) << run.describe();
  EXPECT_NE(run.output.find("metrics-port"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace setd::testing
