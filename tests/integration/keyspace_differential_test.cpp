// Differential test for the keyspace: a seeded random stream of key, string,
// expiry and transaction commands (with a few sets mixed in for WRONGTYPE)
// goes to setd and to redis-server 7.0; every reply must match.
#include <gtest/gtest.h>

#include "differential.hpp"

namespace setd::testing {
namespace {

class KeyspaceStream {
 public:
  explicit KeyspaceStream(Differential& d) : d_(d) {}

  std::string key() { return d_.one_of(keys_); }
  std::string value() {
    switch (d_.pick(6)) {
      case 0:
        return std::to_string(d_.between(-1000, 1000));
      case 1:
        return std::to_string(d_.between(-9223372036854775807LL, 9223372036854775807LL));
      case 2:
        return "v" + std::to_string(d_.pick(20));
      case 3:
        return std::string(d_.pick(60), 'x');
      case 4:
        return d_.one_of(std::vector<std::string>{"", "007", "+1", "-0", "1.5", "1e3", " 1", "abc",
                                                  "\xff\x01", "inf"});
      default:
        return std::to_string(d_.pick(100));
    }
  }
  std::string ttl_seconds() {
    // Long TTLs only (the two servers are a few ms apart), or non-positive
    // ones that delete at once.
    return std::to_string(d_.chance(0.15) ? -d_.between(0, 5) : d_.between(1000, 100000));
  }

  void step() {
    const auto k = key();
    switch (d_.pick(40)) {
      case 0: {
        std::vector<std::string> a{"SET", k, value()};
        if (d_.chance(0.3)) a.push_back(d_.one_of(std::vector<std::string>{"NX", "XX"}));
        if (d_.chance(0.2)) a.push_back("GET");
        if (d_.chance(0.3)) {
          const auto opt = d_.one_of(std::vector<std::string>{"EX", "PX", "KEEPTTL", "EXAT"});
          a.push_back(opt);
          if (opt == "EX") a.push_back(std::to_string(d_.between(100, 10000)));
          if (opt == "PX") a.push_back(std::to_string(d_.between(100000, 1000000)));
          if (opt == "EXAT") a.push_back(std::to_string(d_.between(4000000000, 4100000000)));
        }
        if (d_.chance(0.03)) a.push_back(d_.one_of(std::vector<std::string>{"EX", "BOGUS"}));
        d_.run(a);
        break;
      }
      case 1:
        d_.run({"GET", k});
        break;
      case 2:
        d_.run({"DEL", k, key()});
        break;
      case 3:
        d_.run({"EXISTS", k, key(), k});
        break;
      case 4:
        d_.run({"TYPE", k});
        break;
      case 5:
        d_.run({"RENAME", k, key()});
        break;
      case 6:
        d_.run({"RENAMENX", k, key()});
        break;
      case 7: {
        std::vector<std::string> a{"COPY", k, key()};
        if (d_.chance(0.5)) a.push_back("REPLACE");
        d_.run(a);
        break;
      }
      case 8:
        d_.run({"APPEND", k, value()});
        break;
      case 9:
        d_.run({"INCR", k});
        break;
      case 10:
        d_.run({"INCRBY", k, value()});
        break;
      case 11:
        d_.run({"DECRBY", k, std::to_string(d_.between(-100, 100))});
        break;
      case 12:
        d_.run({"INCRBYFLOAT", k,
                d_.one_of(std::vector<std::string>{"1.5", "-0.25", "10", "3e2", "abc", "0.1"})});
        break;
      case 13:
        d_.run({"STRLEN", k});
        break;
      case 14:
        d_.run({"GETRANGE", k, std::to_string(d_.between(-10, 10)),
                std::to_string(d_.between(-10, 10))});
        break;
      case 15:
        d_.run({"SETRANGE", k, std::to_string(d_.between(0, 20)), value()});
        break;
      case 16:
        d_.run({"MSET", k, value(), key(), value()});
        break;
      case 17:
        d_.run({"MGET", k, key(), key()});
        break;
      case 18:
        d_.run({"MSETNX", k, value(), key(), value()});
        break;
      case 19:
        d_.run({"GETDEL", k});
        break;
      case 20:
        d_.run({"GETSET", k, value()});
        break;
      case 21: {
        std::vector<std::string> a{"GETEX", k};
        if (d_.chance(0.5)) {
          if (d_.chance(0.5)) {
            a.push_back("EX");
            a.push_back(std::to_string(d_.between(100, 1000)));
          } else {
            a.push_back("PERSIST");
          }
        }
        d_.run(a);
        break;
      }
      case 22:
        d_.run({"SETNX", k, value()});
        break;
      case 23: {
        std::vector<std::string> a{"EXPIRE", k, ttl_seconds()};
        if (d_.chance(0.4))
          a.push_back(d_.one_of(std::vector<std::string>{"NX", "XX", "GT", "LT", "NX"}));
        if (d_.chance(0.05)) a.push_back(d_.one_of(std::vector<std::string>{"XX", "LT", "FOO"}));
        d_.run(a);
        break;
      }
      case 24:
        d_.run({"PEXPIRE", k, std::to_string(d_.between(-10, 100000000))});
        break;
      case 25:
        seconds_apart_at_most_one({"TTL", k});
        break;
      case 26:
        d_.run({"PERSIST", k});
        break;
      case 27:
        d_.run({"TOUCH", k, key()});
        break;
      case 28:
        d_.run({"DBSIZE"});
        break;
      case 29:
        d_.run(
            {"KEYS", d_.one_of(std::vector<std::string>{"*", "k*", "k?", "*1*", "[a-k]*", "s*"})},
            Compare::kUnordered);
        break;
      case 30:
        d_.run({"OBJECT", "ENCODING", k});
        break;
      case 31:
        d_.run({"SADD", "s" + k, value(), value()});
        break;
      case 32:
        d_.run({"SADD", k, value()});
        break;  // WRONGTYPE on strings
      case 33:
        d_.run({"SCARD", k});
        break;
      case 34: {  // a transaction, sometimes with a queue-time error
        d_.run({"MULTI"});
        const size_t n = 1 + d_.pick(4);
        for (size_t i = 0; i < n; ++i) {
          if (d_.chance(0.1))
            d_.run({"INCR"});  // wrong arity: EXECABORT
          else
            d_.run({"INCR", key()});
        }
        d_.run({d_.chance(0.9) ? "EXEC" : "DISCARD"});
        break;
      }
      case 35:
        seconds_apart_at_most_one({"EXPIRETIME", k});
        break;
      case 36:
        d_.run({"RANDOMKEY"}, Compare::kType);
        break;
      case 37:
        d_.run({"MOVE", k, std::to_string(d_.pick(3))});
        break;
      case 38:
        d_.run({"UNLINK", k});
        break;
      default:
        d_.run({"DECR", k});
        break;
    }
  }

  // TTL and EXPIRETIME: a relative EXPIRE reaches the two servers a few ms
  // apart, which may cross a second: the same sign (-1, -2), and at most a
  // second apart.
  void seconds_apart_at_most_one(const std::vector<std::string>& cmd) {
    auto [x, y] = d_.run(cmd, Compare::kType);
    if (x.integer < 0 || y.integer < 0) {
      if (x.integer != y.integer) d_.report(cmd, x.to_string(), y.to_string());
    } else if (std::llabs(x.integer - y.integer) > 1) {
      d_.report(cmd, x.to_string(), y.to_string());
    }
  }

  // Full SCAN iterations must give the same key set on both.
  void full_scan() {
    for (auto* c : {&d_.setd(), &d_.redis()}) (void)c;
    std::vector<std::string> sets[2];
    int i = 0;
    for (Client* c : {&d_.setd(), &d_.redis()}) {
      std::string cursor = "0";
      do {
        auto r = c->call({"SCAN", cursor, "COUNT", "3"});
        cursor = r.elements[0].str;
        for (const auto& e : r.elements[1].elements) sets[i].push_back(e.str);
      } while (cursor != "0");
      std::sort(sets[i].begin(), sets[i].end());
      sets[i].erase(std::unique(sets[i].begin(), sets[i].end()), sets[i].end());
      ++i;
    }
    if (sets[0] != sets[1]) {
      std::string a, b;
      for (auto& k : sets[0]) a += k + " ";
      for (auto& k : sets[1]) b += k + " ";
      d_.report({"SCAN", "(full)"}, a, b);
    }
  }

 private:
  Differential& d_;
  std::vector<std::string> keys_{"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "ka", "kb"};
};

TEST(KeyspaceDifferential, RandomCommandStreamMatchesRedis) {
  for (uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    Differential d(seed);
    KeyspaceStream stream(d);
    for (int i = 0; i < 2500 && d.mismatches() < 10; ++i) {
      stream.step();
      if (i % 250 == 0) stream.full_scan();
    }
    stream.full_scan();
    EXPECT_EQ(d.mismatches(), 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace setd::testing
