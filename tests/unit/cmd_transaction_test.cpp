// MULTI / EXEC / DISCARD / WATCH / UNWATCH through the in-process runner.
// Every expectation was first observed on redis-server 7.0.15 (the expiry
// cases with DEBUG SET-ACTIVE-EXPIRE 0, which the runner matches by having no
// active expiry at all).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runner.hpp"
#include "setd/base/clock.hpp"
#include "setd/cmd/command.hpp"

namespace setd::testing {
namespace {

constexpr int64_t kNow = 1700000000000;

class Transactions : public ::testing::Test {
 protected:
  void SetUp() override { base::pin_now(kNow); }
  void TearDown() override { base::pin_now(-1); }

  // The exact bytes `c` is sent for one command.
  std::string raw(server::Client& c, std::initializer_list<std::string_view> args) {
    std::vector<std::string_view> v(args);
    const size_t before = c.out.size();
    r.dispatcher().dispatch(c, v);
    std::string out = c.out.substr(before);
    c.out.resize(before);
    return out;
  }
  // MULTI, PING, EXEC as the main client; returns EXEC's reply.
  std::string try_exec() {
    EXPECT_EQ(S(r.run({"MULTI"})), "OK");
    EXPECT_EQ(S(r.run({"PING"})), "QUEUED");
    return S(r.run({"EXEC"}));
  }
  const cmd::CommandStats& stats(std::string_view name) {
    return r.dispatcher().registry().find_full(name)->stats;
  }

  Runner r;
  const std::string kOk = "[PONG]";   // EXEC ran
  const std::string kNull = "(nil)";  // EXEC refused: a WATCHed key changed
};

TEST_F(Transactions, MultiExecBasics) {
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "x", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"INCR", "x"})), "QUEUED");
  EXPECT_EQ(S(r.run({"INCRBY", "x", "nan"})), "QUEUED");
  EXPECT_EQ(S(r.run({"GET", "x"})), "QUEUED");
  EXPECT_EQ(r.client().multi_queue.size(), 4u);
  EXPECT_EQ(r.state().db(0).size(), 0u);  // nothing ran yet
  // Errors inside stay elements of the array.
  EXPECT_EQ(S(r.run({"EXEC"})),
            "[OK, (integer) 2, (error) ERR value is not an integer or out of range, \"2\"]");
  EXPECT_FALSE(r.client().in_multi);
  EXPECT_EQ(S(r.run({"EXEC"})), "(error) ERR EXEC without MULTI");
  EXPECT_EQ(S(r.run({"DISCARD"})), "(error) ERR DISCARD without MULTI");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"EXEC"})), "[]");
}

TEST_F(Transactions, NestedMultiAndWatchInsideMultiDoNotAbort) {
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"MULTI"})), "(error) ERR MULTI calls can not be nested");
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "(error) ERR WATCH inside MULTI is not allowed");
  EXPECT_EQ(S(r.run({"SET", "a", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"EXEC"})), "[OK]");
}

TEST_F(Transactions, QueueingErrorsAbort) {
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "a", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"nosuch"})),
            "(error) ERR unknown command 'nosuch', with args beginning with: ");
  EXPECT_EQ(S(r.run({"SET", "a", "2"})), "QUEUED");
  // A transaction bound to fail keeps nothing more.
  EXPECT_EQ(r.client().multi_queue.size(), 1u);
  EXPECT_EQ(S(r.run({"EXEC"})),
            "(error) EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(r.state().db(0).size(), 0u);

  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "a"})), "(error) ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(S(r.run({"EXEC"})),
            "(error) EXECABORT Transaction discarded because of previous errors.");

  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SHUTDOWN"})), "(error) ERR Command not allowed inside a transaction");
  EXPECT_EQ(S(r.run({"EXEC"})),
            "(error) EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(stats("shutdown").rejected_calls, 1u);
}

TEST_F(Transactions, RefusedExecAbortsAndSaysWhy) {
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "a", "4"})), "QUEUED");
  EXPECT_EQ(S(r.run({"EXEC", "x"})),
            "(error) EXECABORT Transaction discarded because of: wrong number of arguments for "
            "'exec' command");
  EXPECT_FALSE(r.client().in_multi);
  EXPECT_TRUE(r.client().watched.empty());  // the WATCH went too
  EXPECT_EQ(S(r.run({"EXEC"})), "(error) ERR EXEC without MULTI");
  // Outside MULTI too.
  EXPECT_EQ(S(r.run({"EXEC", "x"})),
            "(error) EXECABORT Transaction discarded because of: wrong number of arguments for "
            "'exec' command");
  EXPECT_EQ(stats("exec").rejected_calls, 2u);
  EXPECT_EQ(stats("exec").failed_calls, 1u);
  EXPECT_EQ(r.state().stats().errors["EXECABORT"], 2u);
}

TEST_F(Transactions, Discard) {
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "a", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"DISCARD"})), "OK");
  EXPECT_FALSE(r.client().in_multi);
  EXPECT_TRUE(r.client().multi_queue.empty());
  EXPECT_TRUE(r.client().watched.empty());
  EXPECT_EQ(S(r.run({"GET", "a"})), "(nil)");
  EXPECT_EQ(S(r.run({"DISCARD", "x"})),
            "(error) ERR wrong number of arguments for 'discard' command");
}

TEST_F(Transactions, WatchedKeyChangedByAnotherClient) {
  auto& other = r.new_client();
  EXPECT_EQ(S(r.run({"SET", "a", "1"})), "OK");
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "a", "5"})), "OK");
  EXPECT_TRUE(r.client().dirty_cas);
  EXPECT_TRUE(r.client().watched.empty());  // dirty: nothing more to watch
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"GET", "a"})), "QUEUED");
  EXPECT_TRUE(r.client().multi_queue.empty());  // not kept: EXEC will fail
  EXPECT_EQ(S(r.run({"EXEC"})), kNull);
  EXPECT_FALSE(r.client().dirty_cas);

  // Reads do not count; another key does not count.
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"GET", "a"})), "\"5\"");
  EXPECT_EQ(S(r.run_as(other, {"SET", "b", "1"})), "OK");
  EXPECT_EQ(try_exec(), kOk);

  // Any watched key counts; WATCH of a missing key sees its creation.
  EXPECT_EQ(S(r.run({"WATCH", "x", "y", "nokey"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "nokey", "1"})), "OK");
  EXPECT_EQ(try_exec(), kNull);

  // Failed writes and no-op writes do not count.
  EXPECT_EQ(S(r.run({"SET", "a", "abc"})), "OK");
  EXPECT_EQ(S(r.run({"WATCH", "a", "nokey2"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "a", "x", "NX"})), "(nil)");
  EXPECT_EQ(S(r.run_as(other, {"SETRANGE", "a", "0", ""})), "(integer) 3");
  EXPECT_EQ(S(r.run_as(other, {"GETDEL", "nokey2"})), "(nil)");
  EXPECT_EQ(S(r.run_as(other, {"INCR", "a"})),
            "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(try_exec(), kOk);

  // UNWATCH forgets keys and clears the dirty state.
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "a", "7"})), "OK");
  EXPECT_EQ(S(r.run({"UNWATCH"})), "OK");
  EXPECT_EQ(try_exec(), kOk);

  // WATCH while dirty is a no-op.
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "a", "8"})), "OK");
  EXPECT_EQ(S(r.run({"WATCH", "b"})), "OK");
  EXPECT_TRUE(r.client().watched.empty());
  EXPECT_EQ(try_exec(), kNull);

  // Changes made by the transaction itself are fine; and the watch is per db.
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "a", "9"})), "QUEUED");
  EXPECT_EQ(S(r.run({"EXEC"})), "[OK]");
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SELECT", "1"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "a", "other-db"})), "OK");
  EXPECT_EQ(try_exec(), kOk);
}

TEST_F(Transactions, EveryWriteBreaksTheWatch) {
  auto& other = r.new_client();
  const std::vector<std::vector<std::string>> writes = {{"SET", "k", "v"},
                                                        {"SETNX", "k", "v"},
                                                        {"SETEX", "k", "10", "v"},
                                                        {"PSETEX", "k", "10", "v"},
                                                        {"MSET", "k", "v"},
                                                        {"MSETNX", "k", "v"},
                                                        {"GETDEL", "k"},
                                                        {"GETEX", "k", "EX", "100"},
                                                        {"GETEX", "k", "PERSIST"},
                                                        {"GETEX", "k", "PXAT", "1"},
                                                        {"GETSET", "k", "v"},
                                                        {"INCR", "k"},
                                                        {"DECR", "k"},
                                                        {"INCRBY", "k", "3"},
                                                        {"DECRBY", "k", "3"},
                                                        {"INCRBYFLOAT", "k", "0.5"},
                                                        {"APPEND", "k", "x"},
                                                        {"APPEND", "k", ""},
                                                        {"SETRANGE", "k", "0", "9"},
                                                        {"FLUSHDB"},
                                                        {"FLUSHALL"}};
  for (const auto& w : writes) {
    r.run({"FLUSHALL"});
    if (w[0] != "SETNX" && w[0] != "MSETNX") r.run({"SET", "k", "5"});
    if (w[0] == "GETEX" && w[2] == "PERSIST") r.run({"SET", "k", "5", "EX", "100"});
    ASSERT_EQ(S(r.run({"WATCH", "k"})), "OK");
    const auto reply = r.run_as(other, w);
    ASSERT_NE(reply.kind, RespValue::Kind::kError) << w[0] << ": " << S(reply);
    EXPECT_EQ(try_exec(), kNull) << w[0];
  }
}

TEST_F(Transactions, WatchAndExpiry) {
  auto& other = r.new_client();
  // A key that expires after WATCH fails EXEC, deleted or not.
  r.run({"SET", "k", "v", "PX", "100"});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  base::pin_now(kNow + 200);
  EXPECT_EQ(try_exec(), kNull);
  base::pin_now(kNow);
  r.run({"SET", "k", "v", "PX", "100"});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  base::pin_now(kNow + 200);
  EXPECT_EQ(S(r.run_as(other, {"GET", "k"})), "(nil)");  // deleted by the read
  EXPECT_EQ(try_exec(), kNull);
  base::pin_now(kNow);

  // Already expired when watched: untouched -> fine.
  r.run({"SET", "k", "v", "PX", "50"});
  base::pin_now(kNow + 100);
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(try_exec(), kOk);
  // ... deleted by expiry -> no logical change.
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"GET", "k"})), "(nil)");
  EXPECT_EQ(try_exec(), kOk);
  // ... written by another client -> changed.
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow + 100)});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "k", "v2"})), "OK");
  EXPECT_EQ(try_exec(), kNull);
  // ... re-created (and expired again) by another client -> changed.
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow + 100)});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "k", "v", "PXAT", std::to_string(kNow + 100)})), "OK");
  EXPECT_EQ(try_exec(), kNull);
  // ... written by the transaction itself -> fine.
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow + 100)});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "k", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"EXEC"})), "[OK]");
  // ... one expired key deleted, another watched key written -> changed.
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow + 100)});
  EXPECT_EQ(S(r.run({"WATCH", "k", "j"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"SET", "j", "1"})), "OK");
  EXPECT_EQ(try_exec(), kNull);
  // ... two expired keys, one deleted -> fine.
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow + 100)});
  r.run({"SET", "k2", "v", "PXAT", std::to_string(kNow + 100)});
  EXPECT_EQ(S(r.run({"WATCH", "k", "k2"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"GET", "k2"})), "(nil)");
  EXPECT_EQ(try_exec(), kOk);
  // ... two clients watching the same expired key, deleted -> both fine.
  auto& third = r.new_client();
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow + 100)});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(third, {"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"GET", "k"})), "(nil)");
  EXPECT_EQ(try_exec(), kOk);
  EXPECT_EQ(S(r.run_as(third, {"MULTI"})), "OK");
  EXPECT_EQ(S(r.run_as(third, {"PING"})), "QUEUED");
  EXPECT_EQ(S(r.run_as(third, {"EXEC"})), kOk);
}

TEST_F(Transactions, FlushAndSwapdb) {
  auto& other = r.new_client();
  // A live watched key flushed -> changed.
  r.run({"SET", "k", "v"});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"FLUSHDB"})), "OK");
  EXPECT_EQ(try_exec(), kNull);
  // A missing watched key, flushed -> fine.
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"FLUSHDB"})), "OK");
  EXPECT_EQ(try_exec(), kOk);
  // An expired watched key flushed -> fine.
  r.run({"SET", "k", "v", "PXAT", std::to_string(kNow - 1)});
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"FLUSHALL"})), "OK");
  EXPECT_EQ(try_exec(), kOk);
  // FLUSHALL reaches other databases; FLUSHDB of another db does not.
  EXPECT_EQ(S(r.run({"SELECT", "3"})), "OK");
  r.run({"SET", "k3", "v"});
  EXPECT_EQ(S(r.run({"WATCH", "k3"})), "OK");
  EXPECT_EQ(S(r.run({"SELECT", "0"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"FLUSHDB"})), "OK");
  EXPECT_EQ(try_exec(), kOk);
  EXPECT_EQ(S(r.run({"WATCH", "k"})), "OK");  // (in db 0)
  EXPECT_EQ(S(r.run({"SELECT", "3"})), "OK");
  EXPECT_EQ(S(r.run({"WATCH", "k3"})), "OK");
  EXPECT_EQ(S(r.run({"SELECT", "0"})), "OK");
  EXPECT_EQ(S(r.run_as(other, {"FLUSHALL"})), "OK");
  EXPECT_EQ(try_exec(), kNull);

  // SWAPDB: a key present in either database counts.
  auto& st = r.state();
  EXPECT_EQ(S(r.run({"SELECT", "5"})), "OK");
  EXPECT_EQ(S(r.run({"WATCH", "sk"})), "OK");
  st.db(6).set("sk", db::Object::string("1"));
  st.swap_dbs(5, 6);
  EXPECT_EQ(try_exec(), kNull);
  // ... missing in both: fine.
  EXPECT_EQ(S(r.run({"WATCH", "sk2"})), "OK");
  st.swap_dbs(5, 6);
  EXPECT_EQ(try_exec(), kOk);
  // ... a missing key replaced by an expired one: fine.
  st.db(5).clear();
  st.db(6).clear();
  st.db(6).set("sk3", db::Object::string("v"));
  st.db(6).set_expire("sk3", kNow - 1);
  EXPECT_EQ(S(r.run({"WATCH", "sk3"})), "OK");
  st.swap_dbs(5, 6);
  EXPECT_EQ(try_exec(), kOk);
  // ... an expired key replaced by a live one: changed.
  st.db(5).set("sk4", db::Object::string("v"));
  st.db(5).set_expire("sk4", kNow - 1);
  st.db(6).set("sk4", db::Object::string("live"));
  EXPECT_EQ(S(r.run({"WATCH", "sk4"})), "OK");
  st.swap_dbs(5, 6);
  EXPECT_EQ(try_exec(), kNull);
}

TEST_F(Transactions, ExecRunsInTheClientsState) {
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SELECT", "2"})), "QUEUED");
  EXPECT_EQ(S(r.run({"SET", "sel", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"CLIENT", "INFO"})), "QUEUED");
  const auto v = r.run({"EXEC"});
  ASSERT_EQ(v.elements.size(), 3u);
  // Inside EXEC the client is still in MULTI with its queue, and "exec" is
  // its current command, as Redis shows.
  EXPECT_NE(v.elements[2].str.find(" flags=x "), std::string::npos) << v.elements[2].str;
  EXPECT_NE(v.elements[2].str.find(" multi=3 "), std::string::npos);
  EXPECT_NE(v.elements[2].str.find(" cmd=exec "), std::string::npos);
  EXPECT_EQ(r.client().db, 2);
  EXPECT_EQ(r.client().last_cmd, "exec");
  EXPECT_EQ(S(r.run({"GET", "sel"})), "\"1\"");
}

TEST_F(Transactions, ResetAndQuitInsideMulti) {
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"SET", "a", "1"})), "QUEUED");
  EXPECT_EQ(S(r.run({"RESET"})), "RESET");
  EXPECT_FALSE(r.client().in_multi);
  EXPECT_TRUE(r.client().watched.empty());
  EXPECT_EQ(S(r.run({"EXEC"})), "(error) ERR EXEC without MULTI");
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(S(r.run({"QUIT"})), "OK");
  EXPECT_TRUE(r.client().close_after_reply);
}

TEST_F(Transactions, Resp3NullOnWatchFailure) {
  auto& other = r.new_client();
  r.run({"HELLO", "3"});
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  r.run_as(other, {"SET", "a", "1"});
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(raw(r.client(), {"EXEC"}), "_\r\n");
  r.run({"HELLO", "2"});
  EXPECT_EQ(S(r.run({"WATCH", "a"})), "OK");
  r.run_as(other, {"SET", "a", "2"});
  EXPECT_EQ(S(r.run({"MULTI"})), "OK");
  EXPECT_EQ(raw(r.client(), {"EXEC"}), "*-1\r\n");
}

TEST_F(Transactions, ClientReplyInsideExecActsLikeRedis) {
  auto& c = r.client();
  // Bytes as redis-server 7.0.15 sends them (its framing breaks here too).
  EXPECT_EQ(raw(c, {"MULTI"}), "+OK\r\n");
  raw(c, {"CLIENT", "REPLY", "OFF"});
  raw(c, {"PING"});
  raw(c, {"CLIENT", "REPLY", "ON"});
  EXPECT_EQ(raw(c, {"EXEC"}), "*3\r\n+OK\r\n");
  EXPECT_EQ(raw(c, {"PING"}), "+PONG\r\n");

  raw(c, {"MULTI"});
  raw(c, {"CLIENT", "REPLY", "OFF"});
  raw(c, {"PING"});
  EXPECT_EQ(raw(c, {"EXEC"}), "*2\r\n");
  EXPECT_EQ(raw(c, {"PING"}), "");
  raw(c, {"CLIENT", "REPLY", "ON"});

  raw(c, {"MULTI"});
  raw(c, {"CLIENT", "REPLY", "SKIP"});
  raw(c, {"PING"});
  EXPECT_EQ(raw(c, {"EXEC"}), "*2\r\n+PONG\r\n");
  EXPECT_EQ(raw(c, {"PING"}), "");  // SKIP applies to the next command
  EXPECT_EQ(raw(c, {"PING"}), "+PONG\r\n");

  // A skipped EXEC is silent, its errors too.
  raw(c, {"CLIENT", "REPLY", "SKIP"});
  EXPECT_EQ(raw(c, {"EXEC", "x"}), "");
  raw(c, {"CLIENT", "REPLY", "SKIP"});
  EXPECT_EQ(raw(c, {"EXEC"}), "");
  // Inside MULTI, CLIENT REPLY SKIP is queued; it then skips the command
  // after EXEC.
  raw(c, {"MULTI"});
  raw(c, {"PING"});
  EXPECT_EQ(raw(c, {"CLIENT", "REPLY", "SKIP"}), "+QUEUED\r\n");
  EXPECT_EQ(raw(c, {"EXEC"}), "*2\r\n+PONG\r\n");
  EXPECT_FALSE(c.in_multi);
  EXPECT_EQ(raw(c, {"PING"}), "");
  EXPECT_EQ(raw(c, {"PING"}), "+PONG\r\n");
}

TEST_F(Transactions, StatsCountInnerCommands) {
  r.run({"CONFIG", "RESETSTAT"});
  const uint64_t before = r.state().stats().commands_processed;
  r.run({"MULTI"});
  r.run({"SET", "a", "1"});
  r.run({"INCR", "a"});
  r.run({"INCRBY", "a", "x"});
  r.run({"EXEC"});
  // MULTI + EXEC + three inner calls; queueing is not a call.
  EXPECT_EQ(r.state().stats().commands_processed - before, 5u);
  EXPECT_EQ(stats("set").calls, 1u);
  EXPECT_EQ(stats("incr").calls, 1u);
  EXPECT_EQ(stats("incrby").calls, 1u);
  EXPECT_EQ(stats("incrby").failed_calls, 1u);
  EXPECT_EQ(stats("exec").calls, 1u);
  EXPECT_EQ(stats("exec").failed_calls, 0u);  // an inner error is not EXEC's
  EXPECT_EQ(stats("multi").calls, 1u);
  EXPECT_EQ(r.state().stats().total_error_replies, 1u);
}

TEST_F(Transactions, CommandTableMatchesRedis) {
  const auto& reg = r.dispatcher().registry();
  const auto* exec = reg.find("exec");
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->arity, 1);
  EXPECT_EQ(S(r.run({"COMMAND", "INFO", "exec", "watch"})),
            "[[\"exec\", (integer) 1, [noscript, loading, stale, skip_slowlog], (integer) 0, "
            "(integer) 0, (integer) 0, [@slow, @transaction], [], [], []], [\"watch\", (integer) "
            "-2, [noscript, loading, stale, fast, allow_busy], (integer) 1, (integer) -1, "
            "(integer) 1, [@fast, @transaction], [], [[\"flags\", [RO], \"begin_search\", "
            "[\"type\", \"index\", \"spec\", [\"index\", (integer) 1]], \"find_keys\", [\"type\", "
            "\"range\", \"spec\", [\"lastkey\", (integer) -1, \"keystep\", (integer) 1, "
            "\"limit\", (integer) 0]]]], []]]");
}

}  // namespace
}  // namespace setd::testing
