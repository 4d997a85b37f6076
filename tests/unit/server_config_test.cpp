#include <gtest/gtest.h>

#include <algorithm>

#include "setd/server/config.hpp"

namespace setd::server {
namespace {

TEST(Config, MemoryUnitsLikeRedis) {
  EXPECT_EQ(parse_memory("100"), 100);
  EXPECT_EQ(parse_memory("1k"), 1000);
  EXPECT_EQ(parse_memory("1kb"), 1024);
  EXPECT_EQ(parse_memory("2MB"), 2 * 1024 * 1024);
  EXPECT_EQ(parse_memory("1gb"), 1024LL * 1024 * 1024);
  EXPECT_EQ(parse_memory("1g"), 1000LL * 1000 * 1000);
  EXPECT_FALSE(parse_memory("1x"));
  EXPECT_FALSE(parse_memory(""));
  EXPECT_FALSE(parse_memory("-1"));
}

TEST(Config, NotifyFlagsRoundTrip) {
  EXPECT_EQ(notify_flags_to_string(*parse_notify_flags("KEA")), "AKE");
  EXPECT_EQ(notify_flags_to_string(*parse_notify_flags("Ks")), "sK");
  EXPECT_EQ(notify_flags_to_string(*parse_notify_flags("")), "");
  EXPECT_FALSE(parse_notify_flags("Kq"));
  const int all = *parse_notify_flags("A");
  EXPECT_EQ(all & notify::kKeyMiss, 0);
  EXPECT_EQ(all & notify::kNew, 0);
  EXPECT_NE(all & notify::kSet, 0);
}

TEST(Config, LoadsFileThenCommandLine) {
  Config c;
  EXPECT_EQ(c.load("# comment\nport 7000\n  databases 4\nbind 127.0.0.1 -::1\nsave \"\"\n",
                   {"--port", "7001", "--maxclients", "12"}),
            "");
  EXPECT_EQ(c.settings().port, 7001);
  EXPECT_EQ(c.settings().databases, 4);
  EXPECT_EQ(c.settings().maxclients, 12);
  EXPECT_EQ(c.settings().bind, (std::vector<std::string>{"127.0.0.1", "-::1"}));
}

TEST(Config, BadLinesNameTheLine) {
  Config c;
  const std::string err = c.load("port 7000\n\nbogus 1\n", {});
  EXPECT_NE(err.find("at line 3"), std::string::npos) << err;
  EXPECT_NE(err.find(">>> 'bogus 1'"), std::string::npos) << err;
  EXPECT_NE(err.find("Bad directive or wrong number of arguments"), std::string::npos);
  Config d;
  const std::string err2 = d.load("maxclients lots\n", {});
  EXPECT_NE(err2.find("argument couldn't be parsed into an integer"), std::string::npos) << err2;
  Config e;
  EXPECT_NE(e.load("", {"--loglevel", "loud"}).find("must be one of the following"),
            std::string::npos);
}

// Save lines as redis-server 7.0.15 reads them: each line adds save points,
// `save ""` clears them, a bad line is fatal.
TEST(Config, SaveLinesInTheFile) {
  auto load = [](const std::string& text) {
    Config c;
    const std::string err = c.load(text, {});
    return err.empty() ? c.settings().save : "error: " + err;
  };
  EXPECT_EQ(load("save 900 1\nsave 300 10\n"), "900 1 300 10");
  EXPECT_EQ(load("save 900 1\nsave \"\"\nsave 300 10\n"), "300 10");
  EXPECT_EQ(load("save 900 1\nsave \"\"\n"), "");
  EXPECT_EQ(load("save 100 1\nsave \"900 1\"\n"), "100 1 900 1");
  EXPECT_EQ(load("save\n"), "");
  EXPECT_EQ(load("save 900 1\n"), "900 1");
  for (const std::string bad :
       {"save abc", "save 900", "save 900 1 300", "save 0 1", "save \"900 1\" 300 10"}) {
    const std::string err = load(bad + "\n");
    EXPECT_NE(err.find("at line 1\n>>> '" + bad + "'\nInvalid save parameters"), std::string::npos)
        << err;
  }
  Config c;
  EXPECT_EQ(c.load("", {"--save", "", "--port", "7000"}), "");
  EXPECT_EQ(c.settings().save, "");
  EXPECT_EQ(c.load("", {"--save", "60", "1000"}), "");
  EXPECT_EQ(c.settings().save, "60 1000");
}

TEST(Config, SetManyIsAllOrNothing) {
  Config c;
  std::vector<std::string_view> args{"maxclients", "50", "hz", "nope"};
  EXPECT_EQ(c.set_many(args),
            "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be "
            "parsed into an integer");
  EXPECT_EQ(c.settings().maxclients, 10000);
  std::vector<std::string_view> dup{"hz", "5", "HZ", "6"};
  EXPECT_EQ(c.set_many(dup),
            "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter");
  std::vector<std::string_view> ok{"hz", "1000", "set-events", "writes"};
  EXPECT_EQ(c.set_many(ok), "");
  EXPECT_EQ(c.settings().hz, 500);  // clamped like Redis
  EXPECT_EQ(c.settings().set_events, SetEvents::kWrites);
}

TEST(Config, GetMatchesGlobsOnce) {
  Config c;
  std::vector<std::string_view> pats{"*max-*-entries*", "set-max-intset-entries"};
  auto got = c.get(pats);
  std::sort(got.begin(), got.end());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"set-max-intset-entries", "512"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"set-max-listpack-entries", "128"}));
  std::vector<std::string_view> cobl{"client-output-buffer-limit"};
  EXPECT_EQ(c.get(cobl)[0].second,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
}

TEST(Config, SetListpackDirectives) {
  Config c;
  EXPECT_EQ(c.settings().set_max_listpack_entries, 128);
  EXPECT_EQ(c.settings().set_max_listpack_value, 64);
  std::vector<std::string_view> pats{"set-max-listpack-*"};
  auto got = c.get(pats);
  std::sort(got.begin(), got.end());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (std::pair<std::string, std::string>{"set-max-listpack-entries", "128"}));
  EXPECT_EQ(got[1], (std::pair<std::string, std::string>{"set-max-listpack-value", "64"}));
  std::vector<std::string_view> set{"set-max-listpack-entries", "0", "set-max-listpack-value",
                                    "1000"};
  EXPECT_EQ(c.set_many(set), "");
  EXPECT_EQ(c.settings().set_max_listpack_entries, 0);
  EXPECT_EQ(c.settings().set_max_listpack_value, 1000);
  const ds::SetLimits limits = c.settings().set_limits();
  EXPECT_FALSE(limits.listpack_enabled());
  EXPECT_EQ(limits.max_listpack_value, 1000u);
  EXPECT_EQ(limits.max_intset_entries, 512u);
  std::vector<std::string_view> bad{"set-max-listpack-entries", "-1"};
  EXPECT_NE(c.set_many(bad), "");
  std::vector<std::string_view> bad2{"set-max-listpack-value", "x"};
  EXPECT_NE(c.set_many(bad2), "");
  EXPECT_EQ(c.settings().set_max_listpack_entries, 0);
}

TEST(Config, BusyPollWindowDefaultsTo50AndIsMutable) {
  Config c;
  EXPECT_EQ(c.settings().busy_poll_us, 50);
  EXPECT_EQ(c.set("busy-poll-us", "0", true), "");
  EXPECT_EQ(c.settings().busy_poll_us, 0);
  EXPECT_EQ(c.set("busy-poll-us", "-5", true), "argument must be between 0 and 1000000 inclusive");
  EXPECT_EQ(c.set("busy-poll-us", "1000001", true),
            "argument must be between 0 and 1000000 inclusive");
  EXPECT_EQ(c.settings().busy_poll_us, 0);
}

TEST(Config, OutputBufferLimitClasses) {
  Config c;
  EXPECT_EQ(c.set("client-output-buffer-limit", "pubsub 1mb 512kb 10", true), "");
  EXPECT_EQ(c.settings().output_limits[2].hard, 1024u * 1024);
  EXPECT_EQ(c.settings().output_limits[2].soft, 512u * 1024);
  EXPECT_EQ(c.settings().output_limits[2].soft_seconds, 10);
  EXPECT_NE(c.set("client-output-buffer-limit", "pubsub 1mb", true), "");
  EXPECT_NE(c.set("client-output-buffer-limit", "bogus 1 1 1", true), "");
}

// The tls-* directives: Redis 7.0's defaults and value checks. What the
// files hold is only looked at when the TLS context is built (net).
TEST(Config, TlsDirectives) {
  Config c;
  const Settings& s = c.settings();
  EXPECT_EQ(s.tls_port, 0);
  EXPECT_EQ(s.tls_auth_clients, TlsAuthClients::kYes);
  EXPECT_TRUE(s.tls_session_caching);
  EXPECT_EQ(s.tls_session_cache_size, 20480);
  EXPECT_EQ(s.tls_session_cache_timeout, 300);
  EXPECT_FALSE(s.tls_prefer_server_ciphers);
  EXPECT_EQ(s.tls_handshake_timeout, 10000);
  EXPECT_EQ(c.load("tls-port 6380\ntls-cert-file /x/server.crt\ntls-auth-clients optional\n",
                   {"--tls-protocols", "TLSv1.2 TLSv1.3", "--tls-session-caching", "no"}),
            "");
  EXPECT_EQ(s.tls_port, 6380);
  EXPECT_EQ(s.tls_cert_file, "/x/server.crt");
  EXPECT_EQ(s.tls_auth_clients, TlsAuthClients::kOptional);
  EXPECT_EQ(s.tls_protocols, "TLSv1.2 TLSv1.3");
  EXPECT_FALSE(s.tls_session_caching);
  std::vector<std::string_view> get{"tls-auth-clients", "tls-protocols", "tls-key-file"};
  EXPECT_EQ(c.get(get),
            (std::vector<std::pair<std::string, std::string>>{{"tls-key-file", ""},
                                                              {"tls-protocols", "TLSv1.2 TLSv1.3"},
                                                              {"tls-auth-clients", "optional"}}));
  EXPECT_EQ(c.set("tls-auth-clients", "NO", true), "");
  EXPECT_EQ(s.tls_auth_clients, TlsAuthClients::kNo);
  EXPECT_EQ(c.set("tls-auth-clients", "sometimes", true),
            "argument(s) must be one of the following: no, yes, optional");
  EXPECT_EQ(c.set("tls-port", "65536", true), "argument must be between 0 and 65535 inclusive");
  EXPECT_EQ(c.set("tls-session-cache-size", "-1", true),
            "argument must be between 0 and 2147483647 inclusive");
  EXPECT_EQ(c.set("tls-handshake-timeout", "500", true), "");
  EXPECT_EQ(s.tls_handshake_timeout, 500);
  // Directives of Redis that setd has no use for are refused, not ignored.
  for (const char* name : {"tls-replication", "tls-cluster", "tls-client-cert-file"})
    EXPECT_EQ(c.set(name, "yes", true), "unknown") << name;
}

}  // namespace
}  // namespace setd::server
