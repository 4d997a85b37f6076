// Pub/Sub over real sockets: redis-cli subscribers, raw RESP2/RESP3
// subscribers, byte-for-byte comparison with redis-server, and slow
// subscribers / non-reading clients against the output-buffer limits.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {
namespace {

using namespace std::chrono_literals;

std::string S(const RespValue& v) { return v.to_string(); }

// Resident set size of `pid` in KiB (VmRSS), 0 if unreadable.
long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// One INFO field as a number (-1 when missing).
long long info_field(Client& c, const std::string& section, const std::string& name) {
  const std::string info = c.call({"INFO", section}).str;
  const size_t at = info.find(name + ":");
  if (at == std::string::npos) return -1;
  return std::stoll(info.substr(at + name.size() + 1));
}

// Waits until `pred` holds (polling), up to `limit`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

long long numsub(Client& c, const std::string& channel) {
  return c.call({"PUBSUB", "NUMSUB", channel}).elements.at(1).integer;
}

// A child process (redis-cli) whose standard output we read.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    if (fd_ >= 0) ::close(fd_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Reads until the output holds `text` or `ms` pass; returns all output.
  std::string read_until(const std::string& text, int ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (out_.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) break;
      char buf[4096];
      const ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0) break;
      out_.append(buf, static_cast<size_t>(n));
    }
    return out_;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

// A raw socket with a small receive buffer (set before connect, so the TCP
// window stays small) that sends `request` and then never reads.
class StuckReader {
 public:
  StuckReader(int port, const std::string& request, int rcvbuf = 4096) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    timeval tv{10, 0};  // a send that blocks this long fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
      throw std::runtime_error("connect");
    if (send_all(request) != request.size()) throw std::runtime_error("send");
  }

  // Sends as much of `bytes` as the peer takes; stops at the first error
  // (peer closed, or 10 s without progress). Returns the bytes sent.
  size_t send_all(std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    return sent;
  }
  ~StuckReader() { ::close(fd_); }
  StuckReader(const StuckReader&) = delete;
  StuckReader& operator=(const StuckReader&) = delete;

  // Reads everything until the server closes the connection; true if it
  // did (EOF, or a reset: a server closing with our requests still unread
  // sends RST) before `ms` of silence.
  bool drains_to_eof(int ms = 5000, size_t* total = nullptr) {
    size_t got = 0;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) break;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno != ECONNRESET) break;
      if (n <= 0) {
        if (total) *total = got;
        return true;
      }
      got += static_cast<size_t>(n);
    }
    if (total) *total = got;
    return false;
  }

 private:
  int fd_ = -1;
};

class PubSubIT : public SetdSuite {};

TEST_F(PubSubIT, RedisCliSubscribersGetMessages) {
  const std::string p = std::to_string(port());
  Child sub({"redis-cli", "-p", p, "subscribe", "news"});
  Child psub({"redis-cli", "-p", p, "psubscribe", "n*"});
  EXPECT_NE(sub.read_until("subscribe\nnews\n1\n").find("subscribe\nnews\n1\n"), std::string::npos);
  EXPECT_NE(psub.read_until("psubscribe\nn*\n1\n").find("psubscribe\nn*\n1\n"), std::string::npos);
  Client pub(port());
  ASSERT_TRUE(eventually([&] { return numsub(pub, "news") == 1; }));
  EXPECT_EQ(pub.call({"PUBLISH", "news", "hello world"}).integer, 2);
  EXPECT_NE(sub.read_until("message\nnews\nhello world\n").find("message\nnews\nhello world\n"),
            std::string::npos);
  EXPECT_NE(psub.read_until("pmessage\nn*\nnews\nhello world\n")
                .find("pmessage\nn*\nnews\nhello world\n"),
            std::string::npos);
  EXPECT_EQ(pub.call({"PUBLISH", "other", "x"}).integer, 0);
}

TEST_F(PubSubIT, ChannelAndPatternBothDeliver) {
  Client sub(port()), pub(port());
  sub.send({"SUBSCRIBE", "chan"});
  sub.send({"PSUBSCRIBE", "ch*"});
  ASSERT_TRUE(sub.read());
  ASSERT_TRUE(sub.read());
  EXPECT_EQ(pub.call({"PUBLISH", "chan", "m"}).integer, 2);
  auto first = sub.read(), second = sub.read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(S(*first), "[\"message\", \"chan\", \"m\"]");
  EXPECT_EQ(S(*second), "[\"pmessage\", \"ch*\", \"chan\", \"m\"]");
  EXPECT_EQ(pub.call({"PUBSUB", "NUMPAT"}).integer, 1);
  EXPECT_EQ(S(pub.call({"PUBSUB", "NUMSUB", "chan", "ch*"})),
            "[\"chan\", (integer) 1, \"ch*\", (integer) 0]");
  EXPECT_EQ(S(pub.call({"PUBSUB", "CHANNELS", "cha?"})), "[\"chan\"]");
}

TEST_F(PubSubIT, Resp3PushesInterleaveWithReplies) {
  Client c(port()), pub(port());
  c.call({"HELLO", "3"});
  c.send({"SUBSCRIBE", "t"});
  auto conf = c.read();
  ASSERT_TRUE(conf);
  EXPECT_EQ(conf->kind, RespValue::Kind::kPush);
  EXPECT_EQ(c.call({"ECHO", "v"}).str, "v");  // ordinary commands still run
  // Messages published between our commands arrive as pushes before the
  // next reply; ordinary replies keep their order.
  for (int i = 0; i < 50; ++i) {
    pub.call({"PUBLISH", "t", std::to_string(i)});
    c.send({"ECHO", "e" + std::to_string(i)});
  }
  int next_msg = 0, next_echo = 0;
  while (next_echo < 50) {
    auto v = c.read();
    ASSERT_TRUE(v);
    if (v->kind == RespValue::Kind::kPush) {
      ASSERT_EQ(v->elements.size(), 3u);
      EXPECT_EQ(v->elements[0].str, "message");
      EXPECT_EQ(v->elements[2].str, std::to_string(next_msg++));
    } else {
      EXPECT_EQ(v->str, "e" + std::to_string(next_echo++));
      EXPECT_GE(next_msg, next_echo);  // each PUBLISH finished before its ECHO was sent
    }
  }
  EXPECT_EQ(next_msg, 50);
}

TEST_F(PubSubIT, UnsubscribeAllRepliesOverTheWire) {
  Client c(port());
  c.send_raw(Client::encode({"UNSUBSCRIBE"}) + Client::encode({"PUNSUBSCRIBE"}));
  EXPECT_EQ(c.read_raw_until_close(300),
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
            "<open>");
  c.call({"HELLO", "3"});
  c.send_raw(Client::encode({"UNSUBSCRIBE"}));
  EXPECT_EQ(c.read_raw_until_close(300), ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n<open>");
}

TEST_F(PubSubIT, DisconnectedSubscriberIsForgotten) {
  Client pub(port());
  {
    Client sub(port());
    sub.send({"SUBSCRIBE", "gone", "gone2"});
    sub.send({"PSUBSCRIBE", "gone*"});
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(sub.read());
    EXPECT_EQ(numsub(pub, "gone"), 1);
  }
  ASSERT_TRUE(eventually([&] { return numsub(pub, "gone") == 0; }));
  EXPECT_EQ(numsub(pub, "gone2"), 0);
  EXPECT_EQ(pub.call({"PUBSUB", "NUMPAT"}).integer, 0);
  EXPECT_EQ(pub.call({"PUBLISH", "gone", "x"}).integer, 0);
  EXPECT_EQ(info_field(pub, "stats", "pubsub_patterns"), 0);
}

TEST_F(PubSubIT, ClientKillTypePubsub) {
  Client sub(port()), admin(port());
  sub.send({"SUBSCRIBE", "k"});
  ASSERT_TRUE(sub.read());
  EXPECT_EQ(admin.call({"CLIENT", "KILL", "TYPE", "pubsub"}).integer, 1);
  EXPECT_TRUE(sub.closed_by_peer(2000));
  ASSERT_TRUE(eventually([&] { return numsub(admin, "k") == 0; }));
}

// A RESP connection that hands back the exact bytes of each reply.
class RawConn {
 public:
  explicit RawConn(int port) : c_(port) {}
  void send(const std::vector<std::string>& args) { c_.send(args); }
  // The bytes of the next `n` replies or pushes (waiting up to 5 s for
  // each); "<timeout>" appended if they did not all come.
  std::string next(int n) {
    std::string out;
    for (int i = 0; i < n; ++i) {
      for (;;) {
        size_t used = 0;
        if (proto::read_reply(buf_, used)) {
          out += buf_.substr(0, used);
          buf_.erase(0, used);
          break;
        }
        pollfd p{c_.fd(), POLLIN, 0};
        char tmp[65536];
        if (::poll(&p, 1, 5000) <= 0) return out + "<timeout>";
        const ssize_t got = ::recv(c_.fd(), tmp, sizeof(tmp), 0);
        if (got <= 0) return out + "<closed>";
        buf_.append(tmp, static_cast<size_t>(got));
      }
    }
    return out;
  }

 private:
  Client c_;
  std::string buf_;
};

// The same conversation, byte for byte, with setd and redis-server 7.0.
// Each step names how many replies/pushes its client then reads, so timing
// does not matter; a server that sent more or fewer shifts the transcript.
TEST(PubSubDifferential, SameBytesAsRedis) {
  auto transcript = [](int port) {
    std::string out;
    RawConn a(port), b(port), c(port);
    auto step = [&](RawConn& who, std::vector<std::string> args, int replies) {
      who.send(args);
      out += args[0] + " => " + who.next(replies) + "\n";
    };
    step(a, {"SUBSCRIBE", "a", "b"}, 2);
    step(a, {"SUBSCRIBE", "a"}, 1);
    step(a, {"ECHO", "x"}, 1);
    step(a, {"PING"}, 1);
    step(a, {"PING", "hi"}, 1);
    step(a, {"PSUBSCRIBE", "a*"}, 1);
    step(b, {"PUBLISH", "a", "hello"}, 1);
    step(a, {"PING"}, 3);  // message, pmessage, pong
    step(b, {"PUBSUB", "NUMSUB", "a", "b", "zz"}, 1);
    step(b, {"PUBSUB", "NUMPAT"}, 1);
    step(b, {"PUBSUB", "CHANNELS", "a"}, 1);
    step(b, {"PUBSUB", "CHANNELS", "a", "b"}, 1);
    step(b, {"PUBSUB", "NOPE"}, 1);
    step(b, {"PUBSUB", "HELP"}, 1);
    step(a, {"UNSUBSCRIBE", "a"}, 1);
    step(a, {"UNSUBSCRIBE", "nope"}, 1);
    step(a, {"UNSUBSCRIBE"}, 1);
    step(a, {"PUNSUBSCRIBE"}, 1);
    step(a, {"UNSUBSCRIBE"}, 1);
    step(a, {"PUNSUBSCRIBE"}, 1);
    step(a, {"SUNSUBSCRIBE"}, 1);
    step(a, {"ECHO", "x"}, 1);
    step(c, {"HELLO", "3"}, 1);
    out.erase(out.rfind("HELLO"));  // HELLO's server/version fields differ
    step(c, {"UNSUBSCRIBE"}, 1);
    step(c, {"SUBSCRIBE", "r"}, 1);
    step(c, {"ECHO", "x"}, 1);
    step(c, {"PUBLISH", "r", "self"}, 2);  // the push, then the reply
    step(c, {"CLIENT", "REPLY", "OFF"}, 0);
    step(b, {"PUBLISH", "r", "while-off"}, 1);
    step(c, {"PUBLISH", "r", "self-off"}, 2);  // both messages, no reply
    step(c, {"PING"}, 0);
    step(c, {"UNSUBSCRIBE"}, 1);
    step(c, {"CLIENT", "REPLY", "ON"}, 1);
    step(c, {"SSUBSCRIBE", "s"}, 1);
    step(b, {"SPUBLISH", "s", "sm"}, 1);
    step(c, {"PING"}, 2);  // smessage, pong
    step(b, {"PUBSUB", "SHARDNUMSUB", "s"}, 1);
    step(b, {"PUBLISH", "s", "x"}, 1);
    step(c, {"RESET"}, 1);
    step(b, {"PUBSUB", "SHARDCHANNELS"}, 1);
    step(c, {"ECHO", "end"}, 1);  // nothing unread before it
    return out;
  };
  ServerProcess setd(setd_binary());
  ServerProcess redis("redis-server");
  const std::string theirs = transcript(redis.port());
  EXPECT_EQ(theirs.find("<timeout>"), std::string::npos) << theirs;
  EXPECT_EQ(transcript(setd.port()), theirs);
}

// --- slow subscribers and clients that do not read ---------------------------

// Publishes `total` bytes of payload to `channel` in `chunk`-sized
// messages, pipelined 8 at a time; returns the smallest receiver count seen
// and records setd's peak RSS.
struct PublishResult {
  long long last_receivers = -1;
  long peak_rss_kb = 0;
};
PublishResult publish_flood(int port, pid_t pid, const std::string& channel, size_t total,
                            size_t chunk) {
  Client pub(port, 20000);
  const std::string payload(chunk, 'x');
  const std::string one = Client::encode({"PUBLISH", channel, payload});
  std::string batch;
  for (int i = 0; i < 8; ++i) batch += one;
  PublishResult r;
  for (size_t sent = 0; sent < total; sent += 8 * chunk) {
    pub.send_raw(batch);
    for (int i = 0; i < 8; ++i) {
      auto v = pub.read();
      if (!v) throw std::runtime_error("publisher got no reply");
      r.last_receivers = v->integer;
    }
    r.peak_rss_kb = std::max(r.peak_rss_kb, rss_kb(pid));
  }
  return r;
}

TEST(SlowSubscriber, HardLimitDisconnectsAndMemoryStaysBounded) {
  ServerProcess s(setd_binary(), {"--client-output-buffer-limit", "pubsub 1mb 256kb 60"});
  Client admin(s.port());
  const long base_kb = rss_kb(s.pid());
  StuckReader stuck(s.port(), Client::encode({"SUBSCRIBE", "flood"}));
  ASSERT_TRUE(eventually([&] { return numsub(admin, "flood") == 1; }));

  const size_t total = 200u << 20;  // 200 MB published
  const auto r = publish_flood(s.port(), s.pid(), "flood", total, 64 * 1024);
  EXPECT_EQ(r.last_receivers, 0);  // the subscriber was cut off
  EXPECT_GE(info_field(admin, "stats", "client_output_buffer_limit_disconnections"), 1);
  EXPECT_EQ(numsub(admin, "flood"), 0);
  // setd kept at most ~1 MB for the subscriber, nowhere near 200 MB.
  // (Not measurable under ASan, whose quarantine keeps every freed buffer.)
  if (!built_with_asan()) {
    EXPECT_LT(r.peak_rss_kb - base_kb, 48 * 1024)
        << "base " << base_kb << " KiB, peak " << r.peak_rss_kb << " KiB";
  }
  size_t drained = 0;
  EXPECT_TRUE(stuck.drains_to_eof(5000, &drained));
  EXPECT_LT(drained, total / 10);
}

TEST(SlowSubscriber, SoftLimitDisconnectsAfterItsSeconds) {
  ServerProcess s(setd_binary(), {"--client-output-buffer-limit", "pubsub 0 256kb 1"});
  Client admin(s.port());
  StuckReader stuck(s.port(), Client::encode({"SUBSCRIBE", "soft"}));
  ASSERT_TRUE(eventually([&] { return numsub(admin, "soft") == 1; }));
  // Enough to fill the socket buffers and stay over 256 KB in setd.
  const auto r = publish_flood(s.port(), s.pid(), "soft", 16u << 20, 64 * 1024);
  EXPECT_EQ(r.last_receivers, 1);  // no hard limit: still subscribed right after
  // Cron notices the soft limit held for over a second.
  EXPECT_TRUE(eventually([&] { return numsub(admin, "soft") == 0; }, 5000ms));
  EXPECT_EQ(info_field(admin, "stats", "client_output_buffer_limit_disconnections"), 1);
  EXPECT_TRUE(stuck.drains_to_eof(5000));
}

TEST(SlowSubscriber, ReadingSubscriberGetsEverything) {
  // Default limits (pubsub 32mb 8mb 60): a subscriber that reads receives
  // every one of 20 MB of messages, in order, and is never cut off.
  ServerProcess s(setd_binary());
  Client sub(s.port(), 20000), admin(s.port());
  sub.send({"SUBSCRIBE", "fast"});
  ASSERT_TRUE(sub.read());
  std::atomic<long long> received{0}, intact{0};
  std::thread reader([&] {
    while (received < 320) {
      auto v = sub.read();
      if (!v) break;
      ++received;
      if (v->elements.size() == 3 && v->elements[2].str == std::string(64 * 1024, 'x')) ++intact;
    }
  });
  const auto r = publish_flood(s.port(), s.pid(), "fast", 20u << 20, 64 * 1024);
  reader.join();
  EXPECT_EQ(received, 320);
  EXPECT_EQ(intact, 320);
  EXPECT_EQ(r.last_receivers, 1);
  EXPECT_EQ(info_field(admin, "stats", "client_output_buffer_limit_disconnections"), 0);
}

TEST(NonReadingClient, PipeliningWithoutReadingStaysBounded) {
  ServerProcess s(setd_binary());
  const long base_kb = rss_kb(s.pid());
  // 25,600 ECHO requests of 4 KiB: 100 MB of replies nobody reads yet.
  constexpr int kCommands = 25600;
  Client c(s.port(), 20000);
  const std::string one = Client::encode({"ECHO", std::string(4096, 'e')});
  std::atomic<size_t> sent_bytes{0};
  std::thread sender([&] {
    std::string batch;
    for (int i = 0; i < 64; ++i) batch += one;
    try {
      for (int i = 0; i < kCommands / 64; ++i) {
        c.send_raw(batch);
        sent_bytes += batch.size();
      }
    } catch (const std::exception&) {  // socket shut down after a failure
    }
  });
  // Wait until the sender stalls: setd stopped reading.
  size_t last = 0;
  long peak = 0;
  for (int still = 0; still < 5;) {
    std::this_thread::sleep_for(100ms);
    const size_t now = sent_bytes;
    still = (now == last) ? still + 1 : 0;
    last = now;
    peak = std::max(peak, rss_kb(s.pid()));
    if (now == one.size() * kCommands) break;
  }
  EXPECT_LT(last, one.size() * kCommands / 2) << "setd should have stopped reading";
  EXPECT_LT(peak - base_kb, 48 * 1024) << "base " << base_kb << " KiB, peak " << peak << " KiB";
  // Now read: every reply arrives, in order, and the sender finishes.
  int replies = 0;
  for (; replies < kCommands; ++replies) {
    auto v = c.read();
    if (!v || v->str.size() != 4096u) break;
  }
  EXPECT_EQ(replies, kCommands);
  ::shutdown(c.fd(), SHUT_RDWR);  // unblocks the sender if replies stopped
  sender.join();
  Client other(s.port());
  EXPECT_EQ(other.call({"PING"}).str, "PONG");
}

TEST(NonReadingClient, NormalClassLimitDisconnects) {
  ServerProcess s(setd_binary(), {"--client-output-buffer-limit", "normal 1mb 0 0"});
  Client admin(s.port());
  // 8 MB of ECHO replies to a client that never reads: over 1 MB it is cut
  // off (before the 4 MB backlog would merely pause it).
  std::string req;
  for (int i = 0; i < 2048; ++i) req += Client::encode({"ECHO", std::string(4096, 'n')});
  StuckReader stuck(s.port(), "");
  const size_t sent = stuck.send_all(req);
  EXPECT_TRUE(stuck.drains_to_eof(5000));
  EXPECT_LE(sent, req.size());
  EXPECT_EQ(info_field(admin, "stats", "client_output_buffer_limit_disconnections"), 1);
  EXPECT_EQ(admin.call({"PING"}).str, "PONG");
}

}  // namespace
}  // namespace setd::testing
