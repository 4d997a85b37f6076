// Client-side caching (CLIENT TRACKING) beside redis-server 7.0: the same
// commands go, on as many connections, to both servers, and everything each
// connection receives (replies and invalidation pushes or messages, in
// order) is compared byte for byte. Client ids differ between the servers:
// "$name" in a command stands for connection `name`'s id, and replies that
// show ids are compared with the ids named.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "differential.hpp"
#include "server_process.hpp"

namespace setd::testing {
namespace {

using namespace std::chrono_literals;

// `s` with every occurrence of `from` replaced by `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

std::string upper(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// One INFO field's value ("" when missing).
std::string info_field(Client& c, const std::string& name) {
  const std::string info = c.call({"INFO", "everything"}).str;
  const size_t at = info.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const size_t from = at + name.size() + 3;
  return info.substr(from, info.find("\r\n", from) - from);
}

// One field of a CLIENT INFO line.
std::string client_field(const std::string& line, const std::string& name) {
  const size_t at = line.find(" " + name + "=");
  if (at == std::string::npos) return "<missing>";
  const size_t from = at + name.size() + 2;
  return line.substr(from, line.find(' ', from) - from);
}

class TrackingVsRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_server_installed()) GTEST_SKIP() << "redis-server not installed";
    start({});
  }

  void start(const std::vector<std::string>& extra) {
    conns_.clear();
    std::vector<std::string> both = {"--enable-debug-command", "yes"};
    both.insert(both.end(), extra.begin(), extra.end());
    setd_ = std::make_unique<ServerProcess>(setd_binary(), as_redis70(both));
    redis_ = std::make_unique<ServerProcess>("redis-server", both);
  }

  struct Side {
    std::unique_ptr<Client> c;
    long long id = 0;
  };
  struct Conn {
    Side s, r;  // setd, redis-server
    bool in_multi = false;
  };

  // Opens connection `name` on both servers, in RESP `resp`.
  void open(const std::string& name, int resp = 2) {
    Conn& c = conns_[name];
    c.s.c = std::make_unique<Client>(setd_->port());
    c.r.c = std::make_unique<Client>(redis_->port());
    for (Side* side : {&c.s, &c.r}) {
      side->id = side->c->call({"CLIENT", "ID"}).integer;
      if (resp == 3) {
        ASSERT_FALSE(side->c->call({"HELLO", "3"}).is_error());
      }
    }
  }
  // Closes connection `name` on both servers (its ids stay known) and
  // gives the servers time to notice.
  void close(const std::string& name) {
    conns_.at(name).s.c.reset();
    conns_.at(name).r.c.reset();
    std::this_thread::sleep_for(100ms);
  }

  // `args` with "$name" replaced by the id of connection `name` there.
  std::vector<std::string> bind(std::vector<std::string> args, bool setd) {
    for (auto& a : args) {
      if (a.size() > 1 && a[0] == '$' && conns_.count(a.substr(1))) {
        const Conn& c = conns_.at(a.substr(1));
        a = std::to_string(setd ? c.s.id : c.r.id);
      }
    }
    return args;
  }

  // The ids of the connections, as ":<name>" / "redir=<name>" (for
  // replies that show them), in a transcript of one server.
  std::string named(std::string t, bool setd) {
    for (const auto& [name, c] : conns_) {
      const std::string id = std::to_string(setd ? c.s.id : c.r.id);
      t = replace_all(t, ":" + id + "\r\n", ":<" + name + ">\r\n");
      t = replace_all(t, "redir=" + id + " ", "redir=<" + name + "> ");
    }
    return t;
  }

  // What follows a command to find the end of what it brought: PING (its
  // reply ends the transcript), CLIENT ID (after CLIENT CACHING, which the
  // next command other than a CLIENT one would consume), or nothing (inside
  // MULTI, where a PING would be queued: the one reply).
  enum class Barrier { kPing, kClientId, kNone };

  // Sends `args` (if any) then the barrier, and returns everything received
  // up to the barrier's reply (excluded): the reply and every push before
  // it.
  static std::string exchange(Client& c, const std::vector<std::string>& args,
                              Barrier barrier = Barrier::kPing, long long id = 0) {
    if (!args.empty()) c.send(args);
    if (barrier == Barrier::kNone) {
      auto r = c.read_raw();
      return r ? r->first : "<timeout>";
    }
    c.send(barrier == Barrier::kPing ? std::vector<std::string>{"PING"}
                                     : std::vector<std::string>{"CLIENT", "ID"});
    std::string out;
    for (;;) {
      auto r = c.read_raw();
      if (!r) return out + "<timeout>";
      const RespValue& v = r->second;
      const bool end = barrier == Barrier::kPing
                           ? (v.kind == RespValue::Kind::kSimple && v.str == "PONG") ||
                                 (v.kind == RespValue::Kind::kArray && v.elements.size() == 2 &&
                                  v.elements[0].str == "pong")
                           : v.kind == RespValue::Kind::kInteger && v.integer == id;
      if (end) return out;
      out += r->first;
    }
  }

  // Runs `args` on connection `name` of both servers and compares what each
  // received; returns setd's transcript (ids named when `ids`).
  std::string run(const std::string& name, const std::vector<std::string>& args, bool ids = false) {
    Conn& c = conns_.at(name);
    const std::string cmd0 = args.empty() ? "" : upper(args[0]);
    const std::string cmd1 = args.size() > 1 ? upper(args[1]) : "";
    Barrier barrier = Barrier::kPing;
    if (cmd0 == "MULTI") c.in_multi = true;
    if (cmd0 == "EXEC" || cmd0 == "DISCARD" || cmd0 == "RESET") c.in_multi = false;
    if (c.in_multi) barrier = Barrier::kNone;
    if (cmd0 == "CLIENT" && cmd1 == "CACHING") barrier = Barrier::kClientId;
    std::string s = exchange(*c.s.c, bind(args, true), barrier, c.s.id);
    std::string r = exchange(*c.r.c, bind(args, false), barrier, c.r.id);
    if (ids) {
      s = named(s, true);
      r = named(r, false);
    }
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_EQ(Differential::escaped(s), Differential::escaped(r)) << name << ": " << cmd;
    return s;
  }
  // What connection `name` received meanwhile (pushes, messages).
  std::string pending(const std::string& name) { return run(name, {}); }

  // What connection `name` receives until it holds `text` (each server
  // polled on its own: timed events), compared; returns setd's.
  std::string wait_for(const std::string& name, const std::string& text) {
    std::string got[2];
    for (int side = 0; side < 2; ++side) {
      Client& c = side == 0 ? *conns_.at(name).s.c : *conns_.at(name).r.c;
      for (int i = 0; i < 150 && got[side].find(text) == std::string::npos; ++i) {
        std::this_thread::sleep_for(20ms);
        got[side] += exchange(c, {});
      }
    }
    EXPECT_NE(got[0].find(text), std::string::npos) << Differential::escaped(got[0]);
    EXPECT_EQ(Differential::escaped(got[0]), Differential::escaped(got[1])) << name;
    return got[0];
  }

  // CLIENT INFO's flags and redir of connection `name` on both servers.
  std::string client_fields(const std::string& name) {
    Conn& c = conns_.at(name);
    auto fields = [&](Side& side, bool setd) {
      const std::string line = side.c->call({"CLIENT", "INFO"}).str;
      std::string redir = client_field(line, "redir");
      for (const auto& [n, other] : conns_)
        if (redir == std::to_string(setd ? other.s.id : other.r.id)) redir = "<" + n + ">";
      return "flags=" + client_field(line, "flags") + " redir=" + redir;
    };
    const std::string s = fields(c.s, true), r = fields(c.r, false);
    EXPECT_EQ(s, r) << name;
    return s;
  }

  // The INFO tracking fields of both servers.
  std::string tracking_info() {
    auto fields = [](Client& c) {
      std::string out;
      for (const char* f : {"tracking_clients", "tracking_total_keys", "tracking_total_items",
                            "tracking_total_prefixes"})
        out += std::string(f) + "=" + info_field(c, f) + " ";
      return out;
    };
    Client s(setd_->port()), r(redis_->port());
    const std::string a = fields(s), b = fields(r);
    EXPECT_EQ(a, b);
    return a;
  }

  std::unique_ptr<ServerProcess> setd_, redis_;
  std::map<std::string, Conn> conns_;
};

const std::string kInvalidateA = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\na\r\n";

TEST_F(TrackingVsRedis, ErrorsAndArguments) {
  open("c");
  open("other");
  for (const auto& cmd : std::vector<std::vector<std::string>>{
           {"CLIENT", "TRACKING"},
           {"CLIENT", "TRACKING", "maybe"},
           {"CLIENT", "TRACKING", "on", "nonsense"},
           {"CLIENT", "TRACKING", "on", "redirect"},
           {"CLIENT", "TRACKING", "on", "prefix"},
           {"CLIENT", "TRACKING", "on", "redirect", "abc"},
           {"CLIENT", "TRACKING", "on", "redirect", "0"},
           {"CLIENT", "TRACKING", "on", "redirect", "-3"},
           {"CLIENT", "TRACKING", "on", "redirect", "999999"},
           {"CLIENT", "TRACKING", "on", "redirect", "$other", "redirect", "$other"},
           {"CLIENT", "TRACKING", "off", "redirect", "999999"},
           {"CLIENT", "TRACKING", "off", "prefix", "a"},
           {"CLIENT", "TRACKING", "on", "prefix", "a"},
           {"CLIENT", "TRACKING", "on", "bcast", "optin"},
           {"CLIENT", "TRACKING", "on", "bcast", "optout"},
           {"CLIENT", "TRACKING", "on", "optin", "optout"},
           {"CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"},
           {"CLIENT", "TRACKINGINFO"},
           {"CLIENT", "TRACKINGINFO", "x"},
           {"CLIENT", "GETREDIR"},
           {"CLIENT", "GETREDIR", "x"},
           {"CLIENT", "CACHING"},
           {"CLIENT", "CACHING", "yes"},
           {"CLIENT", "CACHING", "maybe"},
           {"CLIENT", "TRACKING", "on", "optin"},
           {"CLIENT", "CACHING", "no"},
           {"CLIENT", "CACHING", "maybe"},
           {"CLIENT", "TRACKING", "on", "optout"},
           {"CLIENT", "TRACKING", "on", "bcast"},
           {"CLIENT", "TRACKINGINFO"},
           {"CLIENT", "TRACKING", "off"},
           {"CLIENT", "TRACKING", "on", "optout"},
           {"CLIENT", "CACHING", "yes"},
           {"CLIENT", "TRACKING", "on", "optin"},
           {"CLIENT", "TRACKING", "off"},
           {"CLIENT", "TRACKING", "on", "bcast", "prefix", "foo", "prefix", "bar"},
           {"CLIENT", "TRACKING", "on"},
           {"CLIENT", "TRACKING", "on", "bcast", "prefix", "fo"},
           {"CLIENT", "TRACKING", "on", "bcast", "prefix", "foobar"},
           {"CLIENT", "TRACKING", "on", "bcast", "prefix", "bar"},
           {"CLIENT", "TRACKING", "on", "bcast", "prefix", "baz", "prefix", "x"},
           {"CLIENT", "TRACKINGINFO"},
           {"CLIENT", "TRACKING", "off"},
           {"CLIENT", "TRACKINGINFO"},
       }) {
    run("c", cmd);
  }
  // The errors are Redis 7.0's texts (checked beside the comparison).
  EXPECT_EQ(run("c", {"CLIENT", "TRACKING", "on", "prefix", "a"}),
            "-ERR PREFIX option requires BCAST mode to be enabled\r\n");
  EXPECT_EQ(run("c", {"CLIENT", "TRACKING", "on", "redirect", "999999"}),
            "-ERR The client ID you want redirect to does not exist\r\n");
  EXPECT_EQ(run("c", {"CLIENT", "CACHING", "yes"}),
            "-ERR CLIENT CACHING can be called only when the client is in tracking mode with "
            "OPTIN or OPTOUT mode enabled\r\n");
  // An overlap between two given prefixes past the first: Redis 7.0 answers
  // the error and enables tracking anyway (+OK follows).
  EXPECT_EQ(
      run("c", {"CLIENT", "TRACKING", "on", "bcast", "prefix", "q", "prefix", "r", "prefix", "rs"}),
      "-ERR Prefix 'r' overlaps with another provided prefix 'rs'. Prefixes for a single "
      "client must not overlap.\r\n+OK\r\n");
  run("c", {"CLIENT", "TRACKINGINFO"});
  run("c", {"CLIENT", "TRACKING", "off"});
  // RESP3: TRACKINGINFO's flags are a set.
  open("r3", 3);
  run("r3", {"CLIENT", "TRACKINGINFO"});
  run("r3", {"CLIENT", "TRACKING", "on", "optin", "noloop"});
  run("r3", {"CLIENT", "CACHING", "yes"});
  EXPECT_EQ(run("r3", {"CLIENT", "TRACKINGINFO"}),
            "%3\r\n$5\r\nflags\r\n~4\r\n$2\r\non\r\n$5\r\noptin\r\n$11\r\ncaching-yes\r\n$6\r\n"
            "noloop\r\n$8\r\nredirect\r\n:0\r\n$8\r\nprefixes\r\n*0\r\n");
  // CACHING lasts one command, a CLIENT subcommand keeping it for the next:
  // the PING that ended the TRACKINGINFO exchange consumed it.
  EXPECT_EQ(run("r3", {"CLIENT", "TRACKINGINFO"}).find("caching-yes"), std::string::npos);
}

TEST_F(TrackingVsRedis, Resp3DefaultModeInvalidations) {
  open("t", 3);
  open("w");
  run("w", {"MSET", "a", "1", "b", "2", "str", "x"});
  run("w", {"SADD", "s", "m1"});  // one member: the same order in both
  run("t", {"CLIENT", "TRACKING", "on"});
  run("t", {"GET", "a"});
  run("t", {"GET", "a"});  // remembered once
  run("t", {"MGET", "b", "nokey"});
  run("t", {"SMEMBERS", "s"});
  run("t", {"SISMEMBER", "s", "m1"});
  run("t", {"SCARD", "str"});  // a type error still reads the key
  tracking_info();
  run("w", {"SET", "a", "10"});
  EXPECT_EQ(pending("t"), kInvalidateA);
  run("w", {"SET", "a", "11"});  // forgotten after the first change
  EXPECT_EQ(pending("t"), "");
  run("w", {"SADD", "s", "m3"});
  run("w", {"SADD", "s", "m3"});  // no change, no invalidation... nor key
  run("w", {"DEL", "b", "nokey", "str"});
  // Only keys that changed: DEL of a missing key changes nothing.
  const std::string got = pending("t");
  EXPECT_NE(got.find("$1\r\ns\r\n"), std::string::npos) << got;
  EXPECT_NE(got.find("$3\r\nstr\r\n"), std::string::npos) << got;
  EXPECT_EQ(got.find("$5\r\nnokey\r\n"), std::string::npos) << got;
  tracking_info();
  // Its own change: the push follows the reply.
  run("t", {"GET", "a"});
  EXPECT_EQ(run("t", {"SET", "a", "12"}), "+OK\r\n" + kInvalidateA);
  // Keys changed by set commands, RENAME, MOVE, SMOVE, stores, expiry set.
  run("w", {"SADD", "src", "x", "y"});
  for (const char* k : {"src", "dst", "ren", "moved", "store", "a"}) run("t", {"GET", k});
  run("w", {"SMOVE", "src", "dst", "x"});
  pending("t");
  run("w", {"SET", "orig", "1"});
  run("w", {"RENAME", "orig", "ren"});
  pending("t");
  run("w", {"SET", "moved", "1"});
  pending("t");
  run("t", {"GET", "moved"});
  run("w", {"MOVE", "moved", "3"});
  pending("t");
  run("w", {"SINTERSTORE", "store", "src", "dst"});
  run("w", {"EXPIRE", "a", "100"});
  pending("t");
  // SWAPDB invalidates nothing in Redis 7.0.
  run("t", {"GET", "a"});
  run("w", {"SWAPDB", "0", "1"});
  EXPECT_EQ(pending("t"), "");
  run("w", {"SWAPDB", "0", "1"});
  tracking_info();
  // A client that goes away stops tracking (its keys stay until changed).
  close("t");
  EXPECT_NE(tracking_info().find("tracking_clients=0 "), std::string::npos);
}

TEST_F(TrackingVsRedis, Resp2RedirectThroughPubSub) {
  open("sub");
  open("t");
  open("w");
  open("plain");
  run("sub", {"SUBSCRIBE", "__redis__:invalidate"});
  run("t", {"CLIENT", "TRACKING", "on", "REDIRECT", "$sub"});
  EXPECT_EQ(run("t", {"CLIENT", "GETREDIR"}, true), ":<sub>\r\n");
  run("t", {"CLIENT", "TRACKINGINFO"}, true);
  client_fields("t");
  run("t", {"GET", "a"});
  run("t", {"SMEMBERS", "s"});
  run("w", {"SET", "a", "1"});
  EXPECT_EQ(pending("sub"),
            "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\na\r\n");
  run("w", {"SADD", "s", "x"});
  pending("sub");
  // FLUSHALL: a null for "everything" (RESP2's null bulk).
  run("t", {"GET", "a"});
  run("w", {"FLUSHALL"});
  EXPECT_EQ(pending("sub"), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n$-1\r\n");
  run("w", {"FLUSHDB"});
  pending("sub");
  // Not counted as a Pub/Sub message, and PUBSUB sees the subscriber.
  run("w", {"PUBSUB", "NUMSUB", "__redis__:invalidate"});
  // A RESP2 redirect client that is not subscribed gets nothing, nor does a
  // RESP2 client tracking without a redirect.
  run("t", {"CLIENT", "TRACKING", "on", "REDIRECT", "$plain"});
  run("plain", {"CLIENT", "TRACKING", "on"});
  run("t", {"GET", "b"});
  run("plain", {"GET", "b"});
  run("w", {"SET", "b", "1"});
  EXPECT_EQ(pending("plain"), "");
  EXPECT_EQ(pending("t"), "");
  client_fields("plain");
  tracking_info();
}

TEST_F(TrackingVsRedis, Resp3RedirectAndBrokenRedirect) {
  open("dest", 3);
  open("t", 3);
  open("w");
  run("t", {"CLIENT", "TRACKING", "on", "REDIRECT", "$dest"});
  run("t", {"GET", "a"});
  run("w", {"SET", "a", "1"});
  EXPECT_EQ(pending("dest"), kInvalidateA);
  EXPECT_EQ(pending("t"), "");
  client_fields("t");
  // The redirect client goes: the next invalidation is a
  // tracking-redir-broken push on the tracking client itself.
  close("dest");
  run("t", {"GET", "a"});
  run("w", {"SET", "a", "2"});
  const std::string got = run("t", {}, true);
  EXPECT_EQ(count(got, "tracking-redir-broken"), 1u) << got;
  run("t", {"CLIENT", "TRACKINGINFO"}, true);
  EXPECT_EQ(client_fields("t").substr(0, 9), "flags=tR ");
  // Enabling again clears the broken flag.
  run("t", {"CLIENT", "TRACKING", "on"});
  client_fields("t");
  run("t", {"CLIENT", "TRACKINGINFO"}, true);
}

TEST_F(TrackingVsRedis, BroadcastWithPrefixes) {
  open("b", 3);
  open("all", 3);
  open("nl", 3);
  open("w");
  run("b", {"CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"});
  run("all", {"CLIENT", "TRACKING", "on", "BCAST"});
  run("nl", {"CLIENT", "TRACKING", "on", "BCAST", "NOLOOP", "PREFIX", "user:"});
  run("b", {"CLIENT", "TRACKINGINFO"});
  client_fields("b");
  tracking_info();
  // One message per prefix per event-loop round, the keys in byte order,
  // each once.
  const std::vector<std::vector<std::string>> batch = {{"SET", "user:2", "x"},
                                                       {"SET", "user:1", "x"},
                                                       {"SET", "user:2", "y"},
                                                       {"SADD", "obj:9", "m"},
                                                       {"SET", "other", "1"}};
  pipeline(*conns_.at("w").s.c, batch);
  pipeline(*conns_.at("w").r.c, batch);
  const std::string b = pending("b");
  EXPECT_NE(b.find("*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n"), std::string::npos) << b;
  EXPECT_NE(b.find("*1\r\n$5\r\nobj:9\r\n"), std::string::npos) << b;
  pending("all");
  pending("nl");
  // NOLOOP: nothing about its own changes, the others' still come.
  run("nl", {"SET", "user:7", "1"});
  pending("nl");
  pending("b");
  pending("all");
  run("nl", {"MSET", "user:8", "1", "obj:1", "2"});
  run("w", {"SET", "user:8", "2"});
  const std::string nl = pending("nl");
  EXPECT_NE(nl.find("user:8"), std::string::npos) << nl;
  pending("b");
  pending("all");
  // Expiry and flushes reach BCAST clients too.
  run("w", {"SET", "user:9", "1", "PX", "30"});
  pending("b");
  wait_for("b", "user:9");
  run("w", {"FLUSHALL"});
  EXPECT_EQ(pending("b"), ">2\r\n$10\r\ninvalidate\r\n_\r\n");
  // Leaving BCAST forgets the prefixes.
  run("b", {"CLIENT", "TRACKING", "off"});
  tracking_info();
  close("all");
  tracking_info();
}

TEST_F(TrackingVsRedis, OptinOptoutAndNoloop) {
  open("in", 3);
  open("out", 3);
  open("nl", 3);
  open("w");
  run("in", {"CLIENT", "TRACKING", "on", "OPTIN"});
  run("out", {"CLIENT", "TRACKING", "on", "OPTOUT"});
  run("nl", {"CLIENT", "TRACKING", "on", "NOLOOP"});
  run("in", {"GET", "a"});  // not cached
  run("in", {"CLIENT", "CACHING", "yes"});
  run("in", {"GET", "b"});  // cached
  run("in", {"GET", "c"});  // not: CACHING was for one command
  run("in", {"CLIENT", "CACHING", "yes"});
  run("in", {"MULTI"});
  run("in", {"GET", "d"});
  run("in", {"GET", "e"});
  run("in", {"EXEC"});
  run("in", {"GET", "f"});
  run("out", {"CLIENT", "CACHING", "no"});
  run("out", {"GET", "a"});  // not cached
  run("out", {"GET", "b"});  // cached
  run("nl", {"GET", "a"});
  run("nl", {"GET", "b"});
  tracking_info();
  run("w", {"MSET", "a", "1", "b", "1", "c", "1", "d", "1", "e", "1", "f", "1"});
  const std::string in = pending("in");
  EXPECT_NE(in.find("$1\r\nb\r\n"), std::string::npos) << in;
  EXPECT_NE(in.find("$1\r\nd\r\n"), std::string::npos) << in;
  EXPECT_EQ(in.find("$1\r\na\r\n"), std::string::npos) << in;
  EXPECT_EQ(in.find("$1\r\nf\r\n"), std::string::npos) << in;
  const std::string out = pending("out");
  EXPECT_EQ(out, ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nb\r\n");
  pending("nl");
  // NOLOOP: its own change of a key it reads brings nothing.
  run("nl", {"GET", "a"});
  EXPECT_EQ(run("nl", {"SET", "a", "2"}), "+OK\r\n");
  run("nl", {"GET", "a"});
  run("w", {"SET", "a", "3"});
  EXPECT_EQ(pending("nl"), kInvalidateA);
}

TEST_F(TrackingVsRedis, TransactionsScriptsAndFlushes) {
  open("t", 3);
  open("w");
  run("t", {"CLIENT", "TRACKING", "on"});
  // In a transaction the invalidations for itself come after EXEC's reply.
  run("t", {"MULTI"});
  run("t", {"GET", "a"});
  run("t", {"SET", "a", "1"});
  run("t", {"GET", "a"});
  const std::string exec = run("t", {"EXEC"});
  EXPECT_TRUE(exec.ends_with(kInvalidateA)) << exec;
  // Scripts: the declared keys of a script that reads are remembered.
  run("t", {"EVAL", "return redis.call('get', KEYS[1])", "2", "k1", "k2"});
  run("t", {"EVAL_RO", "return redis.call('scard', KEYS[1])", "1", "k3"});
  run("t", {"EVAL", "return 1", "1", "k4"});  // reads nothing: nothing remembered
  tracking_info();
  run("w", {"MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4"});
  pending("t");
  // A script that writes a key the caller tracks.
  run("t", {"GET", "a"});
  run("t", {"EVAL", "return redis.call('set', KEYS[1], 'v')", "1", "a"});
  // FLUSHDB by itself: the null after the reply.
  run("t", {"GET", "a"});
  EXPECT_EQ(run("t", {"FLUSHDB"}), "+OK\r\n>2\r\n$10\r\ninvalidate\r\n_\r\n");
  run("t", {"GET", "a"});
  run("w", {"FLUSHALL", "ASYNC"});
  pending("t");
  tracking_info();
  // Lazy expiry by its own read: the invalidation after the reply.
  run("w", {"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
  run("w", {"SET", "e", "1", "PX", "20"});
  run("t", {"GET", "e"});
  std::this_thread::sleep_for(100ms);
  run("t", {"GET", "e"});
  run("w", {"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
  // RESET turns tracking off; HELLO does not.
  conns_.at("t").s.c->call({"HELLO", "3"});
  conns_.at("t").r.c->call({"HELLO", "3"});
  run("t", {"CLIENT", "TRACKINGINFO"});
  run("t", {"RESET"});
  run("t", {"CLIENT", "TRACKINGINFO"});
  tracking_info();
}

TEST_F(TrackingVsRedis, ActiveExpiry) {
  open("t", 3);
  open("w");
  run("t", {"CLIENT", "TRACKING", "on"});
  run("w", {"SET", "a", "1", "PX", "50"});
  run("t", {"GET", "a"});
  EXPECT_EQ(wait_for("t", "invalidate"), kInvalidateA);
}

TEST_F(TrackingVsRedis, TableLimit) {
  open("t", 3);
  open("w");
  run("w", {"CONFIG", "GET", "tracking-table-max-keys"});
  run("w", {"CONFIG", "SET", "tracking-table-max-keys", "-1"});
  run("w", {"CONFIG", "SET", "tracking-table-max-keys", "abc"});
  run("w", {"CONFIG", "SET", "tracking-table-max-keys", "3"});
  run("w", {"CONFIG", "GET", "tracking-table-max-keys"});
  run("t", {"CLIENT", "TRACKING", "on"});
  // The command after MGET drops random keys down to the limit, each with
  // an invalidation: which keys is random, how many is not.
  const std::vector<std::string> mget = {"MGET", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"};
  std::string got[2];
  for (int side = 0; side < 2; ++side) {
    Client& c = side == 0 ? *conns_.at("t").s.c : *conns_.at("t").r.c;
    EXPECT_EQ(c.call_raw(mget).first, "*8\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n_\r\n");
    got[side] = exchange(c, {"ECHO", "x"});
    EXPECT_TRUE(got[side].ends_with("$1\r\nx\r\n")) << Differential::escaped(got[side]);
  }
  EXPECT_EQ(count(got[0], "invalidate"), 5u) << Differential::escaped(got[0]);
  EXPECT_EQ(count(got[0], "invalidate"), count(got[1], "invalidate"));
  EXPECT_NE(tracking_info().find("tracking_total_keys=3 "), std::string::npos);
  // The cron applies a lowered limit to an idle server.
  run("w", {"CONFIG", "SET", "tracking-table-max-keys", "1"});
  std::this_thread::sleep_for(300ms);
  std::string idle[2];
  idle[0] = exchange(*conns_.at("t").s.c, {});
  idle[1] = exchange(*conns_.at("t").r.c, {});
  EXPECT_EQ(count(idle[0], "invalidate"), 2u) << Differential::escaped(idle[0]);
  EXPECT_EQ(count(idle[1], "invalidate"), 2u);
  tracking_info();
  run("w", {"CONFIG", "SET", "tracking-table-max-keys", "0"});
  run("t", {"MGET", "x1", "x2", "x3", "x4", "x5"});
  EXPECT_NE(tracking_info().find("tracking_total_keys=6 "), std::string::npos);
}

}  // namespace
}  // namespace setd::testing
