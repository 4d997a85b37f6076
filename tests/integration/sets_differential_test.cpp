// Differential test of the set commands: a seeded random stream of set
// commands runs against setd and redis-server 7.0 side by side and every
// reply is compared -- exactly, order-insensitively for set replies, or by
// its properties for random ones. SUNIONCARD / SDIFFCARD (not in Redis 7.0)
// are compared with SINTERCARD's errors and SUNION / SDIFF cardinalities.
//
// setd runs with Redis 7.0's set encodings (set-max-listpack-entries 0),
// and then OBJECT ENCODING is compared too; the listpack runs start it with
// listpack limits instead (replies must still be Redis 7.0's, encodings
// differ by design).
//
// Seed: SETS_DIFF_SEED=<n> runs one chosen seed; SETS_DIFF_COMMANDS=<n>
// changes the stream length; SETS_DIFF_EACH_STEP=1 compares every key after
// every command instead of every 200. A mismatch prints the seed, the command number,
// the command and both replies.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "server_process.hpp"
#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"

namespace setd::testing {
namespace {

using K = RespValue::Kind;
using Args = std::vector<std::string>;

std::string join(const Args& a) {
  std::string out;
  for (const auto& s : a) {
    if (!out.empty()) out += ' ';
    out += s.empty() ? "\"\"" : s;
  }
  return out;
}

std::vector<std::string> sorted_strings(const RespValue& v) {
  std::vector<std::string> out;
  for (const auto& e : v.elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}

bool redis_available() { return !shell("command -v redis-server").empty(); }

class Differential {
 public:
  // `setd_options`: as_redis70() (the default) or listpack limits.
  Differential(uint64_t seed, int resp,
               const std::vector<std::string>& setd_options = as_redis70({}))
      : seed_(seed),
        rng_(seed),
        same_encodings_(setd_options == as_redis70({})),
        setd_(setd_binary(), setd_options),
        redis_("redis-server"),
        a_(setd_.port()),
        b_(redis_.port()) {
    for (Client* c : {&a_, &b_}) {
      if (resp == 3) c->call({"HELLO", "3"});
      c->call({"CONFIG", "SET", "set-max-intset-entries", "16"});
      c->call({"FLUSHALL"});
    }
    // String keys for WRONGTYPE, where setd already has SET.
    has_strings_ = !a_.call({"SET", "probe", "x"}).is_error();
    if (has_strings_) {
      b_.call({"SET", "probe", "x"});
    }
  }

  // Runs `n` random commands; returns the number of mismatches (stops at 5).
  int run(int n) {
    for (step_ = 0; step_ < n && failures_ < 5; ++step_) {
      one_command();
      if (step_ % 200 == 199 || each_step_) compare_state();
    }
    compare_state();
    std::ostringstream summary;
    summary << "seed " << seed_ << ": " << step_ << " commands, " << calls_ << " compared replies, "
            << errors_ << " of them errors, " << nonempty_ << " non-empty aggregates";
    std::cout << summary.str() << std::endl;
    return failures_;
  }

 private:
  // --- random pieces ---------------------------------------------------------
  uint64_t pick(uint64_t n) { return rng_.below(n); }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  std::string key() {
    static const char* kKeys[] = {"s1", "s2", "s3", "s4", "s5", "big", "probe", "nokey"};
    uint64_t i = pick(8);
    if (!has_strings_ && i == 6) i = 0;  // no SET: "probe" stays a set key
    return kKeys[i];
  }
  std::string member() {
    switch (pick(10)) {
      case 0:
        return "m" + std::to_string(pick(12));
      case 1: {
        static const char* kOdd[] = {"007",
                                     "-0",
                                     "+1",
                                     " 1",
                                     "",
                                     "9223372036854775807",
                                     "-9223372036854775808",
                                     "9223372036854775808",
                                     "1.5",
                                     "\xff\x01"};
        return kOdd[pick(10)];
      }
      case 2:
        return std::to_string(static_cast<int64_t>(pick(2000)) - 1000);
      default:
        return std::to_string(static_cast<int64_t>(pick(40)) - 5);
    }
  }
  std::string count() {
    static const char* kCounts[] = {"0",
                                    "1",
                                    "2",
                                    "3",
                                    "5",
                                    "10",
                                    "17",
                                    "40",
                                    "-1",
                                    "-3",
                                    "-7",
                                    "-20",
                                    "abc",
                                    "9223372036854775807",
                                    "-9223372036854775808",
                                    "1.0",
                                    "9223372036854775808"};
    return kCounts[pick(sizeof(kCounts) / sizeof(kCounts[0]))];
  }
  Args keys(size_t min = 1) {
    Args out;
    const size_t n = min + pick(3);
    for (size_t i = 0; i < n; ++i) out.push_back(key());
    return out;
  }
  // "numkeys key... [options]" of the *CARD commands, valid or not.
  Args card_args(bool approx_allowed) {
    Args ks = keys();
    Args out;
    switch (pick(12)) {
      case 0:
        out.push_back(std::to_string(ks.size() + 1 + pick(2)));
        break;
      case 1: {
        static const char* kBad[] = {"0", "-1", "abc", "9223372036854775808"};
        out.push_back(kBad[pick(4)]);
        break;
      }
      default:
        out.push_back(std::to_string(ks.size()));
    }
    out.insert(out.end(), ks.begin(), ks.end());
    const size_t nopts = pick(3);
    for (size_t i = 0; i < nopts; ++i) {
      switch (pick(approx_allowed ? 6 : 5)) {
        case 0:
        case 1:
          out.push_back(chance(50) ? "LIMIT" : "limit");
          out.push_back(std::to_string(pick(12)));
          break;
        case 2:
          out.push_back("LIMIT");
          out.push_back(chance(50) ? "-1" : "x");
          break;
        case 3:
          out.push_back("bogus");
          break;
        case 4:
          out.push_back("APPROX");  // an error for SINTERCARD / SDIFFCARD
          break;
        default:
          out.push_back("approx");
      }
    }
    if (chance(5)) out.push_back("LIMIT");  // missing value: only ever last
    return out;
  }

  // --- the stream ----------------------------------------------------------------
  void one_command() {
    if (has_strings_ && chance(2)) {  // keep a string around for WRONGTYPE
      const std::string k = chance(50) ? "probe" : key();
      same({"SET", k, "str"});
      return;
    }
    const std::string k = key();
    switch (pick(24)) {
      case 0:
      case 1:
      case 2: {
        Args a{"SADD", k};
        const size_t n = 1 + pick(5);
        for (size_t i = 0; i < n; ++i) a.push_back(member());
        if (k == "big") {
          for (int i = 0; i < 20; ++i) a.push_back(std::to_string(pick(100000)));
        }
        return same(a);
      }
      case 3: {
        Args a{"SREM", k};
        const size_t n = 1 + pick(4);
        for (size_t i = 0; i < n; ++i) a.push_back(member());
        return same(a);
      }
      case 4:
        return same({"SMEMBERS", k}, true);
      case 5:
        return same({"SISMEMBER", k, member()});
      case 6: {
        Args a{"SMISMEMBER", k};
        const size_t n = 1 + pick(4);
        for (size_t i = 0; i < n; ++i) a.push_back(member());
        return same(a);
      }
      case 7:
        return same({"SCARD", k});
      case 8:
        return srandmember(chance(30)  ? Args{"SRANDMEMBER", k}
                           : chance(5) ? Args{"SRANDMEMBER", k, "1", "2"}
                                       : Args{"SRANDMEMBER", k, count()});
      case 9:
        return spop(chance(40) ? Args{"SPOP", k} : Args{"SPOP", k, count()});
      case 10:
        return same({"SMOVE", k, key(), member()});
      case 11: {
        Args a{"SINTER"};
        for (auto& x : keys()) a.push_back(x);
        return same(a, true);
      }
      case 12: {
        Args a{"SINTERSTORE", key()};
        for (auto& x : keys()) a.push_back(x);
        return same(a);
      }
      case 13: {
        Args a{"SINTERCARD"};
        for (auto& x : card_args(false)) a.push_back(x);
        return same(a);
      }
      case 14: {
        Args a{"SUNION"};
        for (auto& x : keys()) a.push_back(x);
        return same(a, true);
      }
      case 15: {
        Args a{"SUNIONSTORE", key()};
        for (auto& x : keys()) a.push_back(x);
        return same(a);
      }
      case 16: {
        Args a{"SDIFF"};
        for (auto& x : keys()) a.push_back(x);
        return same(a, true);
      }
      case 17: {
        Args a{"SDIFFSTORE", key()};
        for (auto& x : keys()) a.push_back(x);
        return same(a);
      }
      case 18:
      case 19:
        return sscan(k);
      case 20:
      case 21:
        return card_command(chance(50) ? "SUNIONCARD" : "SDIFFCARD");
      default: {  // arity and syntax corner cases
        static const Args kOdd[] = {
            {"SADD", "s1"},           {"SREM", "s1"},          {"SINTER"},
            {"SMOVE", "s1", "s2"},    {"SSCAN", "s1"},         {"SINTERCARD", "1"},
            {"SPOP", "s1", "1", "2"}, {"SMEMBERS", "s1", "s2"}};
        return same(kOdd[pick(sizeof(kOdd) / sizeof(kOdd[0]))]);
      }
    }
  }

  // Sends to both and compares (order-insensitively when `unordered`).
  void same(const Args& a, bool unordered = false) {
    if (a[0].ends_with("STORE")) diverged_.erase(a[1]);  // encoding by content
    const RespValue x = a_.call(a);
    const RespValue y = b_.call(a);
    tally(y);
    if (x.kind == y.kind && !x.is_error() && unordered && x.is_aggregate()) {
      if (sorted_strings(x) != sorted_strings(y)) fail(a, x, y);
      return;
    }
    if (x.to_string() != y.to_string()) fail(a, x, y);
  }

  // Statistics about what the stream exercised.
  void tally(const RespValue& y) {
    ++calls_;
    if (y.is_error()) ++errors_;
    if (y.is_aggregate() && !y.elements.empty()) ++nonempty_;
  }

  // Members of `k` per redis-server (the model).
  std::set<std::string> model(const std::string& k) {
    const RespValue v = b_.call({"SMEMBERS", k});
    if (v.is_error()) return {};
    auto s = sorted_strings(v);
    return {s.begin(), s.end()};
  }

  void srandmember(const Args& a) {
    const auto before = model(a[1]);
    const RespValue x = a_.call(a);
    const RespValue y = b_.call(a);
    tally(y);
    if (x.is_error() || y.is_error() || x.kind != y.kind) {
      if (x.to_string() != y.to_string()) fail(a, x, y);
      return;
    }
    if (a.size() == 2) {
      if (x.is_null() != y.is_null() || (!x.is_null() && !before.count(x.str))) fail(a, x, y);
      return;
    }
    // Same length, members of the set, distinct for a positive count.
    bool ok = x.elements.size() == y.elements.size();
    std::set<std::string> seen;
    for (const auto& e : x.elements) {
      ok = ok && before.count(e.str);
      seen.insert(e.str);
    }
    if (a[2][0] != '-' && seen.size() != x.elements.size()) ok = false;
    if (!ok) fail(a, x, y);
  }

  void spop(const Args& a) {
    const std::string& k = a[1];
    const auto before = model(k);
    const RespValue x = a_.call(a);
    const RespValue y = b_.call(a);
    tally(y);
    if (x.is_error() || y.is_error() || x.kind != y.kind) {
      if (x.to_string() != y.to_string()) fail(a, x, y);
      return;
    }
    std::vector<std::string> popped_setd, popped_redis;
    if (a.size() == 2) {
      if (x.is_null() != y.is_null()) return fail(a, x, y);
      if (!x.is_null()) {
        popped_setd.push_back(x.str);
        popped_redis.push_back(y.str);
      }
    } else {
      popped_setd = sorted_strings(x);
      popped_redis = sorted_strings(y);
    }
    std::set<std::string> distinct(popped_setd.begin(), popped_setd.end());
    bool ok = popped_setd.size() == popped_redis.size() && distinct.size() == popped_setd.size();
    for (const auto& m : popped_setd) ok = ok && before.count(m);
    if (!ok) return fail(a, x, y);
    // Make redis-server pop what setd popped. The encodings may differ from
    // now on (SPOP's survivors were other members, and redis-server gets
    // them by SADD / SREM): not compared until the key is deleted or stored
    // into.
    if (popped_setd == popped_redis) return;
    diverged_.insert(k);
    Args add{"SADD", k}, rem{"SREM", k};
    add.insert(add.end(), popped_redis.begin(), popped_redis.end());
    rem.insert(rem.end(), popped_setd.begin(), popped_setd.end());
    b_.call(add);
    b_.call(rem);
  }

  // SSCAN: from cursor 0 a full iteration on both sides (the union of what
  // is reported must be the same); other cursors: errors exactly, results
  // by their properties (cursors differ between the two hash tables).
  void sscan(const std::string& k) {
    Args opts;
    const size_t nopts = pick(3);
    for (size_t i = 0; i < nopts; ++i) {
      switch (pick(7)) {
        case 0:
          opts.insert(opts.end(), {"MATCH", "*"});
          break;
        case 1:
          opts.insert(opts.end(), {"match", chance(50) ? "m*" : "?"});
          break;
        case 2:
          opts.insert(opts.end(), {"MATCH", "[1-3]*"});
          break;
        case 3:
          opts.insert(opts.end(), {"COUNT", std::to_string(1 + pick(30))});
          break;
        case 4:
          opts.insert(opts.end(), {"COUNT", chance(50) ? "0" : "x"});
          break;
        case 5:
          opts.push_back("bogus");
          break;
        default:
          opts.push_back("MATCH");
      }
    }
    static const char* kCursors[] = {
        "0", "0", "0", "abc", " 1", "-1", "", "+0", "18446744073709551616", "7"};
    const std::string cursor = kCursors[pick(sizeof(kCursors) / sizeof(kCursors[0]))];
    Args a{"SSCAN", k, cursor};
    a.insert(a.end(), opts.begin(), opts.end());
    const RespValue x = a_.call(a);
    const RespValue y = b_.call(a);
    tally(y);
    if (x.is_error() || y.is_error() || x.kind != y.kind || x.elements.size() != 2 ||
        y.elements.size() != 2) {
      if (x.to_string() != y.to_string()) fail(a, x, y);
      return;
    }
    const auto all = model(k);
    auto check_subset = [&](const RespValue& v) {
      for (const auto& e : v.elements[1].elements)
        if (!all.count(e.str)) return false;
      return true;
    };
    if (cursor != "0") {
      if (!check_subset(x)) fail(a, x, y);
      return;
    }
    auto iterate = [&](Client& c, RespValue first) {
      std::set<std::string> got;
      for (int guard = 0; guard < 10000; ++guard) {
        for (const auto& e : first.elements[1].elements) got.insert(e.str);
        if (first.elements[0].str == "0") break;
        Args next{"SSCAN", k, first.elements[0].str};
        next.insert(next.end(), opts.begin(), opts.end());
        first = c.call(next);
        if (first.elements.size() != 2) break;
      }
      return got;
    };
    if (iterate(a_, x) != iterate(b_, y)) fail(a, x, y);
  }

  // SUNIONCARD / SDIFFCARD against what redis-server says through
  // SINTERCARD (argument errors), SUNION / SDIFF (the cardinality).
  void card_command(const std::string& name) {
    const bool is_union = name == "SUNIONCARD";
    const Args tail = card_args(true);
    Args a{name};
    a.insert(a.end(), tail.begin(), tail.end());
    const RespValue x = a_.call(a);
    // Redis's view of the same arguments: SINTERCARD, with APPROX taken out
    // for SUNIONCARD (APPROX is a syntax error for SDIFFCARD, as for
    // SINTERCARD) -- only where the keys end, so numkeys means the same.
    Args model_args{"SINTERCARD"};
    long long numkeys = 0;
    const bool numkeys_ok = base::string_to_ll(tail[0], numkeys) && numkeys >= 1 &&
                            static_cast<size_t>(numkeys) <= tail.size() - 1;
    bool approx = false;
    for (size_t i = 0; i < tail.size(); ++i) {
      const bool option = numkeys_ok && i > static_cast<size_t>(numkeys);
      if (option && is_union && (tail[i] == "APPROX" || tail[i] == "approx") &&
          !(i > 0 && (tail[i - 1] == "LIMIT" || tail[i - 1] == "limit") &&
            i - 1 > static_cast<size_t>(numkeys))) {
        approx = true;
        continue;
      }
      model_args.push_back(tail[i]);
    }
    const RespValue y = b_.call(model_args);
    tally(y);
    if (y.is_error()) {
      if (x.to_string() != y.to_string()) fail(a, x, y);
      return;
    }
    // Valid: the expected count is |SUNION| / |SDIFF| of the keys, capped.
    Args keys_cmd{is_union ? "SUNION" : "SDIFF"};
    for (long long i = 1; i <= numkeys; ++i) keys_cmd.push_back(tail[static_cast<size_t>(i)]);
    const RespValue all = b_.call(keys_cmd);
    long long limit = 0;
    for (size_t i = static_cast<size_t>(numkeys) + 1; i + 1 < tail.size(); ++i)
      if (tail[i] == "LIMIT" || tail[i] == "limit") base::string_to_ll(tail[++i], limit);
    auto expected = static_cast<long long>(all.elements.size());
    if (limit > 0 && expected > limit) expected = limit;
    const bool ok =
        x.kind == K::kInteger &&
        (approx ? std::llabs(x.integer - expected) <= 2 + expected / 50 : x.integer == expected);
    if (!ok) fail(a, x, all);
  }

  // Every key's members on both servers.
  void compare_state() {
    for (const char* k : {"s1", "s2", "s3", "s4", "s5", "big", "probe", "nokey"}) {
      const RespValue x = a_.call({"SMEMBERS", k});
      const RespValue y = b_.call({"SMEMBERS", k});
      const bool equal = x.is_error() || y.is_error() ? x.to_string() == y.to_string()
                                                      : sorted_strings(x) == sorted_strings(y);
      if (!equal) fail({"(state check) SMEMBERS", k}, x, y);
      if (x.is_aggregate() && x.elements.empty()) diverged_.erase(k);  // deleted
      if (same_encodings_ && !diverged_.count(k)) same({"OBJECT", "ENCODING", k});
    }
  }

  void fail(const Args& a, const RespValue& x, const RespValue& y) {
    ++failures_;
    ADD_FAILURE() << "seed " << seed_ << ", command #" << step_ << ": " << join(a)
                  << "\n  setd:  " << x.to_string().substr(0, 2000)
                  << "\n  redis: " << y.to_string().substr(0, 2000);
  }

  uint64_t seed_;
  base::Rng rng_;
  bool same_encodings_;  // Redis 7.0's encoding rules on both sides
  // SETS_DIFF_EACH_STEP: compare every key after every command (to find
  // the command where two states part).
  bool each_step_ = std::getenv("SETS_DIFF_EACH_STEP") != nullptr;
  std::set<std::string> diverged_;  // keys whose encodings may differ by chance
  ServerProcess setd_;
  ServerProcess redis_;
  Client a_;  // setd
  Client b_;  // redis-server
  bool has_strings_ = false;
  int step_ = 0;
  int failures_ = 0;
  int calls_ = 0;
  int errors_ = 0;
  int nonempty_ = 0;
};

int stream_length() {
  const char* n = std::getenv("SETS_DIFF_COMMANDS");
  return n ? std::atoi(n) : 4000;
}

std::vector<uint64_t> seeds(std::vector<uint64_t> defaults) {
  if (const char* s = std::getenv("SETS_DIFF_SEED")) return {std::strtoull(s, nullptr, 10)};
  return defaults;
}

TEST(SetsDifferential, RandomStreamResp2) {
  if (!redis_available()) GTEST_SKIP() << "redis-server not installed";
  for (uint64_t seed : seeds({1, 2})) {
    Differential d(seed, 2);
    EXPECT_EQ(d.run(stream_length()), 0) << "seed " << seed;
  }
}

TEST(SetsDifferential, RandomStreamResp3) {
  if (!redis_available()) GTEST_SKIP() << "redis-server not installed";
  for (uint64_t seed : seeds({3})) {
    Differential d(seed, 3);
    EXPECT_EQ(d.run(stream_length()), 0) << "seed " << seed;
  }
}

// Every set command on listpack-encoded sets (Redis 7.2's rules): the
// replies must be Redis 7.0's. Default limits (128 / 64: the stream's sets
// are listpacks until they grow), small ones (conversions both ways all the
// time: 8 members, 6 bytes), and limits where the order of additions decides
// encodings (set-max-intset-entries 16 < set-max-listpack-entries 40).
TEST(SetsDifferential, RandomStreamListpack) {
  if (!redis_available()) GTEST_SKIP() << "redis-server not installed";
  const std::vector<std::vector<std::string>> limits = {
      {"--set-max-listpack-entries", "128"},
      {"--set-max-listpack-entries", "8", "--set-max-listpack-value", "6"},
      {"--set-max-listpack-entries", "40", "--set-max-listpack-value", "20"},
  };
  for (uint64_t seed : seeds({4, 5, 6})) {
    const auto& opts = limits[seed % limits.size()];
    Differential d(seed, seed % 2 ? 2 : 3, opts);
    EXPECT_EQ(d.run(stream_length()), 0) << "seed " << seed << " " << opts[1];
  }
}

}  // namespace
}  // namespace setd::testing
