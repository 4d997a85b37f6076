// Connection, server and introspection commands through the in-process runner.
#include <gtest/gtest.h>

#include "runner.hpp"
#include "setd/cmd/command.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;

TEST(CoreCommands, PingEchoSelect) {
  Runner r;
  EXPECT_EQ(S(r.run({"PING"})), "PONG");
  EXPECT_EQ(S(r.run({"ping", "hi"})), "\"hi\"");
  EXPECT_EQ(S(r.run({"PING", "a", "b"})),
            "(error) ERR wrong number of arguments for 'ping' command");
  EXPECT_EQ(S(r.run({"ECHO", "x"})), "\"x\"");
  EXPECT_EQ(S(r.run({"SELECT", "15"})), "OK");
  EXPECT_EQ(r.client().db, 15);
  EXPECT_EQ(S(r.run({"SELECT", "16"})), "(error) ERR DB index is out of range");
  EXPECT_EQ(S(r.run({"SELECT", "-1"})), "(error) ERR DB index is out of range");
  EXPECT_EQ(S(r.run({"SELECT", "x"})), "(error) ERR value is not an integer or out of range");
}

TEST(CoreCommands, UnknownCommandTextMatchesRedis) {
  Runner r;
  EXPECT_EQ(S(r.run({"nosuch", "a", "b"})),
            "(error) ERR unknown command 'nosuch', with args beginning with: 'a' 'b' ");
  // %s formatting stops at NUL, and arguments are cut at 128 characters.
  EXPECT_EQ(S(r.run({std::string_view("\0x", 2), std::string_view("\x01", 1)})),
            "(error) ERR unknown command '', with args beginning with: '\x01' ");
  const std::string big(200, 'a');
  const auto v = r.run({"nosuch", big, "b"});
  EXPECT_EQ(v.str, "ERR unknown command 'nosuch', with args beginning with: '" +
                       std::string(128, 'a') + "' ");
}

TEST(CoreCommands, HelloNegotiatesProtocol) {
  Runner r;
  auto v = r.run({"HELLO", "3", "SETNAME", "me"});
  ASSERT_EQ(v.kind, K::kMap);
  EXPECT_EQ(v.elements[3].str, "7.2.4");
  EXPECT_EQ(r.client().resp(), 3);
  EXPECT_EQ(r.client().name, "me");
  EXPECT_EQ(S(r.run({"HELLO", "x"})),
            "(error) ERR Protocol version is not an integer or out of range");
  EXPECT_EQ(S(r.run({"HELLO", "1"})), "(error) NOPROTO unsupported protocol version");
  EXPECT_EQ(S(r.run({"HELLO", "2", "SETNAME"})),
            "(error) ERR Syntax error in HELLO option 'SETNAME'");
  EXPECT_EQ(S(r.run({"HELLO", "3", "AUTH", "bob", "pw"})),
            "(error) WRONGPASS invalid username-password pair or user is disabled.");
  EXPECT_EQ(r.run({"HELLO", "2", "AUTH", "default", "anything"}).kind, K::kArray);
}

TEST(CoreCommands, ClientReplyModes) {
  Runner r;
  EXPECT_EQ(r.run({"CLIENT", "REPLY", "OFF"}).kind, K::kNull);  // no reply at all
  EXPECT_EQ(r.run({"PING"}).kind, K::kNull);
  EXPECT_EQ(S(r.run({"CLIENT", "REPLY", "ON"})), "OK");
  EXPECT_EQ(r.run({"CLIENT", "REPLY", "SKIP"}).kind, K::kNull);
  EXPECT_EQ(r.run({"PING"}).kind, K::kNull);  // skipped
  EXPECT_EQ(S(r.run({"PING"})), "PONG");
  EXPECT_EQ(S(r.run({"CLIENT", "REPLY", "maybe"})), "(error) ERR syntax error");
}

TEST(CoreCommands, ClientKillAndList) {
  Runner r;
  auto& other = r.new_client();
  other.addr = "10.0.0.1:5000";
  EXPECT_EQ(S(r.run({"CLIENT", "KILL", "ID", "0"})),
            "(error) ERR client-id should be greater than 0");
  EXPECT_EQ(S(r.run({"CLIENT", "KILL", "TYPE", "bogus"})),
            "(error) ERR Unknown client type 'bogus'");
  EXPECT_EQ(S(r.run({"CLIENT", "KILL", "1.2.3.4:5"})), "(error) ERR No such client");
  EXPECT_EQ(S(r.run({"CLIENT", "KILL", "10.0.0.1:5000"})), "OK");
  EXPECT_TRUE(other.killed);
  EXPECT_EQ(S(r.run({"CLIENT", "LIST", "ID", "abc"})), "(error) ERR Invalid client ID");
  const auto list = r.run({"CLIENT", "LIST"});
  EXPECT_NE(list.str.find("id=1 "), std::string::npos) << list.str;
}

TEST(CoreCommands, ConfigThroughCommands) {
  Runner r;
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "set-max-intset-entries", "16"})), "OK");
  EXPECT_EQ(r.state().settings().set_max_intset_entries, 16);
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "set-max-intset-entries"})),
            "[\"set-max-intset-entries\", \"16\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "hz"})),
            "(error) ERR wrong number of arguments for 'config|set' command");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "hz", "1", "maxclients"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"CONFIG", "REWRITE"})),
            "(error) ERR The server is running without a config file");
  EXPECT_EQ(S(r.run({"CONFIG", "NOPE"})),
            "(error) ERR unknown subcommand 'NOPE'. Try CONFIG HELP.");
}

// Exact bytes of one command's reply.
std::string raw_reply(Runner& r, std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> v(args);
  auto& c = r.client();
  const size_t before = c.out.size();
  r.dispatcher().dispatch(c, v);
  std::string out = c.out.substr(before);
  c.out.resize(before);
  return out;
}

// Recorded from redis-server 7.0.15.
TEST(CoreCommands, CommandInfoOfUnknownIsNullBulk) {
  Runner r;
  EXPECT_EQ(raw_reply(r, {"COMMAND", "INFO", "nosuch", "client|foo"}), "*2\r\n$-1\r\n$-1\r\n");
  r.run({"HELLO", "3"});
  EXPECT_EQ(raw_reply(r, {"COMMAND", "INFO", "nosuch"}), "*1\r\n_\r\n");
}

// A name without glob characters is echoed as written; a pattern yields the
// canonical name; the first spelling of a name wins. Recorded from
// redis-server 7.0.15 (whose pairs come in its dict order; setd's in table
// order).
TEST(CoreCommands, ConfigGetEchoesNamesAsWritten) {
  Runner r;
  r.state().config().settings().port = 7842;
  EXPECT_EQ(raw_reply(r, {"CONFIG", "GET", "PORT"}), "*2\r\n$4\r\nPORT\r\n$4\r\n7842\r\n");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "Hz", "TIMEOUT"})), "[\"TIMEOUT\", \"0\", \"Hz\", \"10\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "hz", "HZ", "Hz"})), "[\"hz\", \"10\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "POR*", "port"})), "[\"port\", \"7842\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "port", "POR*"})), "[\"port\", \"7842\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "P?RT"})), "[\"port\", \"7842\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "HZ", "hz*"})), "[\"HZ\", \"10\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "hz*", "HZ"})), "[\"hz\", \"10\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "nosuch", "SAVE"})), "[\"SAVE\", \"\"]");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "PORT", "hz", "Hz", "HZ", "TIMEOUT", "P?RT", "Hz*"})),
            "[\"PORT\", \"7842\", \"TIMEOUT\", \"0\", \"hz\", \"10\"]");
}

TEST(CoreCommands, ConfigSetArgumentErrors) {
  Runner r;
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "hz", "10", "timeout"})), "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "hz", "10", "timeout", "0", "x"})),
            "(error) ERR syntax error");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "hz"})),
            "(error) ERR wrong number of arguments for 'config|set' command");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "hz"})), "[\"hz\", \"10\"]");
  const std::string cobl =
      "(error) ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') "
      "- ";
  for (auto v : {"foo 0 0 0", "master 1 1 1", "MASTER 1 1 1"})
    EXPECT_EQ(S(r.run({"CONFIG", "SET", "client-output-buffer-limit", v})),
              cobl + "Invalid client class specified in buffer limit configuration.")
        << v;
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "client-output-buffer-limit", "normal x 0 0 foo 1 1 1"})),
            cobl + "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "client-output-buffer-limit", "foo 0 0"})),
            cobl + "Wrong number of arguments in buffer limit configuration.");
  EXPECT_EQ(S(r.run({"CONFIG", "SET", "client-output-buffer-limit",
                     "Replica 1 1 1 PubSub 2 2 2 slave 3 3 3"})),
            "OK");
  EXPECT_EQ(S(r.run({"CONFIG", "GET", "client-output-buffer-limit"})),
            "[\"client-output-buffer-limit\", \"normal 0 0 0 slave 3 3 3 pubsub 2 2 2\"]");
}

TEST(CoreCommands, ConfigSetSaveValidatesLikeRedis) {
  Runner r;
  const std::string bad =
      "(error) ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save "
      "parameters";
  for (auto v : {"abc", "3600", "3600 1 300", "-1 1", "0 1", "1 -1", "  3600   1  300 10 ", " ",
                 "5 1x", "5\t1", "\"1 2\"", "0x10 1", "+ 1", "-99999999999999999999 1"})
    EXPECT_EQ(S(r.run({"CONFIG", "SET", "save", v})), bad) << v;
  auto set_get = [&](std::string_view v) {
    EXPECT_EQ(S(r.run({"CONFIG", "SET", "save", v})), "OK") << v;
    return r.run({"CONFIG", "GET", "save"}).elements.at(1).str;
  };
  EXPECT_EQ(set_get("1 0"), "1 0");
  EXPECT_EQ(set_get("+5 007"), "5 7");
  EXPECT_EQ(set_get("99999999999999999999 1"), "9223372036854775807 1");
  EXPECT_EQ(set_get("5 99999999999999999999"), "5 -1");
  EXPECT_EQ(set_get("1 1 1 1"), "1 1 1 1");
  EXPECT_EQ(set_get("2147483648 1"), "2147483648 1");
  EXPECT_EQ(set_get("3 4294967297"), "3 1");
  EXPECT_EQ(set_get("\t5 1"), "5 1");
  EXPECT_EQ(set_get("5 "), "5 0");  // an empty field reads as 0
  EXPECT_EQ(set_get(""), "");
}

// The tracking subcommands of a client that does not track, and CLIENT
// UNBLOCK with no client blocked, as Redis 7.0.15 answers them.
TEST(CoreCommands, ClientTrackingRelatedSubcommands) {
  Runner r;
  EXPECT_EQ(raw_reply(r, {"CLIENT", "GETREDIR"}), ":-1\r\n");
  EXPECT_EQ(S(r.run({"CLIENT", "GETREDIR", "x"})),
            "(error) ERR wrong number of arguments for 'client|getredir' command");
  EXPECT_EQ(raw_reply(r, {"CLIENT", "TRACKINGINFO"}),
            "*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*"
            "0\r\n");
  EXPECT_EQ(S(r.run({"CLIENT", "TRACKINGINFO", "x"})),
            "(error) ERR wrong number of arguments for 'client|trackinginfo' command");
  for (auto id : {"1", "999", "-1", "0"})
    EXPECT_EQ(raw_reply(r, {"CLIENT", "UNBLOCK", id}), ":0\r\n");
  EXPECT_EQ(raw_reply(r, {"CLIENT", "UNBLOCK", "1", "TIMEOUT"}), ":0\r\n");
  EXPECT_EQ(raw_reply(r, {"CLIENT", "UNBLOCK", "1", "error"}), ":0\r\n");
  for (auto id : {"abc", "99999999999999999999", " 1"})
    EXPECT_EQ(S(r.run({"CLIENT", "UNBLOCK", id})),
              "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(S(r.run({"CLIENT", "UNBLOCK", "1", "foo"})),
            "(error) ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  EXPECT_EQ(S(r.run({"CLIENT", "UNBLOCK", "abc", "foo"})),
            "(error) ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
  EXPECT_EQ(S(r.run({"CLIENT", "UNBLOCK", "1", "timeout", "x"})),
            "(error) ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT "
            "HELP.");
  EXPECT_EQ(S(r.run({"CLIENT", "UNBLOCK"})),
            "(error) ERR wrong number of arguments for 'client|unblock' command");
  for (auto mode : {"yes", "no", "maybe"})
    EXPECT_EQ(S(r.run({"CLIENT", "CACHING", mode})),
              "(error) ERR CLIENT CACHING can be called only when the client is in tracking mode "
              "with OPTIN or OPTOUT mode enabled");
  EXPECT_EQ(S(r.run({"CLIENT", "CACHING", "yes", "no"})),
            "(error) ERR wrong number of arguments for 'client|caching' command");
  r.run({"HELLO", "3"});
  EXPECT_EQ(raw_reply(r, {"CLIENT", "TRACKINGINFO"}),
            "%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*"
            "0\r\n");
  EXPECT_EQ(raw_reply(r, {"CLIENT", "GETREDIR"}), ":-1\r\n");
}

TEST(CoreCommands, InfoStatsAndErrorstats) {
  Runner r;
  r.run({"nosuch"});
  r.run({"SELECT", "x"});
  const auto info = r.run({"INFO", "errorstats", "commandstats"});
  EXPECT_NE(info.str.find("errorstat_ERR:count=2"), std::string::npos) << info.str;
  EXPECT_NE(info.str.find("cmdstat_select:calls=1,"), std::string::npos) << info.str;
  EXPECT_NE(info.str.find("failed_calls=1"), std::string::npos) << info.str;
  EXPECT_EQ(S(r.run({"CONFIG", "RESETSTAT"})), "OK");
  EXPECT_EQ(r.run({"INFO", "errorstats"}).str, "# Errorstats\r\n");
}

TEST(CoreCommands, TimeDbsizeFlush) {
  Runner r;
  const auto t = r.run({"TIME"});
  ASSERT_EQ(t.elements.size(), 2u);
  EXPECT_GT(std::stoll(t.elements[0].str), 1700000000);
  EXPECT_EQ(S(r.run({"DBSIZE"})), "(integer) 0");
  EXPECT_EQ(S(r.run({"FLUSHDB", "ASYNC"})), "OK");
  EXPECT_EQ(S(r.run({"FLUSHALL", "SYNC"})), "OK");
  EXPECT_EQ(S(r.run({"FLUSHALL", "bogus"})), "(error) ERR syntax error");
}

TEST(CommandTable, EveryCommandIsWellFormed) {
  Runner r;
  for (const auto& c : r.dispatcher().registry().all()) {
    EXPECT_FALSE(c->doc.summary.empty()) << c->name;
    EXPECT_FALSE(c->doc.group.empty()) << c->name;
    EXPECT_NE(c->arity, 0) << c->name;
    if (c->subcommands.empty()) {
      EXPECT_NE(c->handler, nullptr) << c->name;
    }
    for (const auto& s : c->subcommands) {
      EXPECT_NE(s.handler, nullptr) << s.name;
      EXPECT_EQ(s.name.rfind(c->name + "|", 0), 0u) << s.name;
    }
  }
}

TEST(CommandTable, ArgumentSyntax) {
  auto args = cmd::parse_arg_syntax(
      "key [MATCH pattern:pattern] [COUNT count:integer] [cond= NX | XX] member...");
  ASSERT_EQ(args.size(), 5u);
  EXPECT_EQ(args[0].type, "key");
  EXPECT_EQ(args[1].name, "pattern");
  EXPECT_EQ(args[1].token, "MATCH");
  EXPECT_TRUE(args[1].optional);
  EXPECT_EQ(args[2].type, "integer");
  EXPECT_EQ(args[3].type, "oneof");
  EXPECT_EQ(args[3].name, "cond");
  ASSERT_EQ(args[3].children.size(), 2u);
  EXPECT_EQ(args[3].children[0].type, "pure-token");
  EXPECT_EQ(args[3].children[1].token, "XX");
  EXPECT_TRUE(args[4].multiple);
  EXPECT_THROW(cmd::parse_arg_syntax("[unclosed"), std::invalid_argument);
}

// The notations Redis 7.0's COMMAND DOCS needs beyond plain arguments: a
// version on a word or group, a deprecated argument, a block introduced by a
// token, and a repeatable oneof of optional alternatives (CLIENT KILL).
TEST(CommandTable, ArgumentSyntaxVersionsAndTokenBlocks) {
  auto args = cmd::parse_arg_syntax(
      "[a= X@4.0.0 | Y] [id= ID client-id:integer...]@6.2.0 [AUTH user pass] "
      "(f= ip:port@deprecated:2.8.12 | (new= [ID n:integer]@2.8.12 | [SKIPME yes/no])...)");
  ASSERT_EQ(args.size(), 4u);
  EXPECT_EQ(args[0].children[0].name, "x");
  EXPECT_EQ(args[0].children[0].since, "4.0.0");
  EXPECT_EQ(args[0].children[1].since, "");
  // "id" names a block of its own, introduced by ID.
  EXPECT_EQ(args[1].type, "block");
  EXPECT_EQ(args[1].name, "id");
  EXPECT_EQ(args[1].token, "ID");
  EXPECT_EQ(args[1].since, "6.2.0");
  EXPECT_TRUE(args[1].optional);
  ASSERT_EQ(args[1].children.size(), 1u);
  EXPECT_EQ(args[1].children[0].name, "client-id");
  EXPECT_TRUE(args[1].children[0].multiple);
  EXPECT_TRUE(args[1].children[0].token.empty());
  EXPECT_EQ(args[2].type, "block");
  EXPECT_EQ(args[2].name, "auth");
  EXPECT_EQ(args[2].token, "AUTH");
  EXPECT_EQ(args[2].children.size(), 2u);
  EXPECT_EQ(args[3].type, "oneof");
  ASSERT_EQ(args[3].children.size(), 2u);
  EXPECT_EQ(args[3].children[0].name, "ip:port");
  EXPECT_EQ(args[3].children[0].deprecated_since, "2.8.12");
  const auto& alt = args[3].children[1];
  EXPECT_EQ(alt.type, "oneof");
  EXPECT_TRUE(alt.multiple);
  ASSERT_EQ(alt.children.size(), 2u);
  EXPECT_EQ(alt.children[0].token, "ID");
  EXPECT_EQ(alt.children[0].since, "2.8.12");
  EXPECT_TRUE(alt.children[0].optional);
  EXPECT_EQ(alt.children[1].name, "yes/no");
}

TEST(CommandTable, CommandInfoAndDocsShape) {
  Runner r;
  const auto info = r.run({"COMMAND", "INFO", "echo", "nosuch", "client|list"});
  ASSERT_EQ(info.elements.size(), 3u);
  EXPECT_EQ(S(info.elements[0]),
            "[\"echo\", (integer) 2, [loading, stale, fast], (integer) 0, (integer) 0, "
            "(integer) 0, [@fast, @connection], [], [], []]");
  EXPECT_EQ(info.elements[1].kind, K::kNull);
  EXPECT_EQ(info.elements[2].elements[0].str, "client|list");
  const auto docs = r.run({"COMMAND", "DOCS", "echo"});
  EXPECT_EQ(S(docs),
            "[\"echo\", [\"summary\", \"Echo the given string\", \"since\", \"1.0.0\", "
            "\"group\", \"connection\", \"complexity\", \"O(1)\", \"arguments\", "
            "[[\"name\", \"message\", \"type\", \"string\"]]]]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYS", "nosuch", "a"})),
            "(error) ERR Invalid command specified");
}

TEST(CoreCommands, GetKeysAndFlags) {
  // Replies recorded from redis-server 7.0.15.
  Runner r;
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYSANDFLAGS", "smove", "a", "b", "m"})),
            "[[\"a\", [RW, access, delete]], [\"b\", [RW, insert]]]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYSANDFLAGS", "sintercard", "2", "a", "b"})),
            "[[\"a\", [RO, access]], [\"b\", [RO, access]]]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYSANDFLAGS", "set", "k", "v"})), "[[\"k\", [OW, update]]]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYSANDFLAGS", "set", "k", "v", "NX", "get"})),
            "[[\"k\", [RW, access, update]]]");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYSANDFLAGS", "sadd"})),
            "(error) ERR wrong number of arguments for 'command|getkeysandflags' command");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYS", "ping"})),
            "(error) ERR wrong number of arguments for 'command|getkeys' command");
  EXPECT_EQ(S(r.run({"COMMAND", "GETKEYSANDFLAGS", "ping", "x"})),
            "(error) ERR The command has no key arguments");
}

}  // namespace
}  // namespace setd::testing
