// Differential testing support: the same command stream goes to setd and to
// redis-server 7.0 (both started on free ports), and every reply is compared
// — exactly, order-insensitively for set-like replies, or by a property for
// replies that are random or time dependent. setd runs with
// set-max-listpack-entries 0, so that its set encodings (OBJECT ENCODING,
// DEBUG OBJECT) are Redis 7.0's.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "server_process.hpp"

namespace setd::testing {

enum class Compare {
  kExact,      // byte-for-byte equal replies
  kUnordered,  // equal as multisets of elements (top-level aggregate)
  kType,       // same reply kind only (time- or randomness-dependent values)
};

// Canonical text of a reply for comparison; with `unordered`, the elements
// of the top-level aggregate are sorted first.
inline std::string canonical(const RespValue& v, bool unordered) {
  if (!unordered || !v.is_aggregate()) return v.to_string();
  std::vector<std::string> parts;
  for (const auto& e : v.elements) parts.push_back(e.to_string());
  std::sort(parts.begin(), parts.end());
  std::string out = "{";
  for (const auto& p : parts) out += p + ", ";
  return out + "}";
}

// Whether two replies are the same as `how` compares them.
inline bool same_reply(const RespValue& x, const RespValue& y, Compare how) {
  switch (how) {
    case Compare::kExact:
      return x.to_string() == y.to_string();
    case Compare::kUnordered:
      return canonical(x, true) == canonical(y, true);
    case Compare::kType:
      return x.kind == y.kind;
  }
  return false;
}

// True if redis-server (the reference) is installed.
inline bool redis_server_installed() { return !shell("command -v redis-server").empty(); }

// A canonical text of a reply, for comparisons that need more than
// Compare's choices (replies with random order in parts, or fields that
// differ by nature such as ids and times).
using Canonical = std::function<std::string(const RespValue&)>;

class Differential {
 public:
  explicit Differential(uint64_t seed) : Differential(seed, {}, {}) {}
  // With more command-line options for setd and for redis-server. setd runs
  // with Redis 7.0's set encodings (as_redis70: no listpack) unless
  // setd_extra sets set-max-listpack-entries itself.
  Differential(uint64_t seed, const std::vector<std::string>& setd_extra,
               const std::vector<std::string>& redis_extra)
      : seed_(seed),
        rng_(seed),
        setd_(std::make_unique<ServerProcess>(setd_binary(), as_redis70(setd_extra))),
        redis_(std::make_unique<ServerProcess>("redis-server", redis_extra)),
        a_(std::make_unique<Client>(setd_->port())),
        b_(std::make_unique<Client>(redis_->port())) {}

  ServerProcess& setd_server() { return *setd_; }
  ServerProcess& redis_server() { return *redis_; }

  std::mt19937_64& rng() { return rng_; }
  uint64_t seed() const { return seed_; }
  size_t mismatches() const { return mismatches_; }
  size_t commands() const { return commands_; }
  Client& setd() { return *a_; }
  Client& redis() { return *b_; }

  // Sends `args` to both servers and compares the replies; returns both.
  std::pair<RespValue, RespValue> run(const std::vector<std::string>& args,
                                      Compare how = Compare::kExact) {
    return run_on(*a_, *b_, args, how);
  }

  // The same on other connections: `x` to setd, `y` to redis-server.
  std::pair<RespValue, RespValue> run_on(Client& x_conn, Client& y_conn,
                                         const std::vector<std::string>& args,
                                         Compare how = Compare::kExact) {
    ++commands_;
    RespValue x = call_or_closed(x_conn, args);
    RespValue y = call_or_closed(y_conn, args);
    trace(args, x);
    if (!same_reply(x, y, how)) report(args, x.to_string(), y.to_string());
    return {std::move(x), std::move(y)};
  }

  // Compares the replies by their canonical texts.
  std::pair<RespValue, RespValue> run_on(Client& x_conn, Client& y_conn,
                                         const std::vector<std::string>& args,
                                         const Canonical& canon) {
    ++commands_;
    RespValue x = call_or_closed(x_conn, args);
    RespValue y = call_or_closed(y_conn, args);
    trace(args, x);
    const std::string cx = canon(x), cy = canon(y);
    if (cx != cy) report(args, cx, cy);
    return {std::move(x), std::move(y)};
  }
  std::pair<RespValue, RespValue> run(const std::vector<std::string>& args,
                                      const Canonical& canon) {
    return run_on(*a_, *b_, args, canon);
  }

  // Sends `args` to both servers and compares the replies byte for byte:
  // what to_string() does not show (a verbatim string's format, RESP3 types
  // against their RESP2 forms, a double's exact text) counts too. Returns
  // both raw replies ("<no reply>" when a server said nothing in time).
  std::pair<std::string, std::string> run_bytes(const std::vector<std::string>& args) {
    return run_bytes_on(*a_, *b_, args);
  }
  std::pair<std::string, std::string> run_bytes_on(Client& x_conn, Client& y_conn,
                                                   const std::vector<std::string>& args) {
    ++commands_;
    auto raw = [&](Client& c) -> std::pair<std::string, RespValue> {
      try {
        return c.call_raw(args);
      } catch (const std::exception&) {
        return {"<no reply>", RespValue{}};
      }
    };
    auto [x, xv] = raw(x_conn);
    auto [y, yv] = raw(y_conn);
    trace(args, xv);
    if (x != y) report(args, escaped(x), escaped(y));
    return {std::move(x), std::move(y)};
  }

  // `bytes` with CR, LF and other control bytes as escapes (raw replies in
  // failure messages).
  static std::string escaped(const std::string& bytes) {
    std::string out;
    for (const unsigned char c : bytes) {
      if (c == '\r') {
        out += "\\r";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c < 0x20 || c >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }

  // A reply, or an error "-<no reply>" when the server closed the
  // connection or said nothing in time (so that both sides compare).
  static RespValue call_or_closed(Client& c, const std::vector<std::string>& args) {
    c.send(args);
    if (auto v = c.read()) return std::move(*v);
    RespValue none;
    none.kind = RespValue::Kind::kError;
    none.str = "<no reply>";
    return none;
  }

  // With DIFF_VERBOSE set, every command and setd's reply go to stdout
  // (to see what a test exercises).
  void trace(const std::vector<std::string>& args, const RespValue& reply) const {
    if (!verbose_) return;
    std::string cmd;
    for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
    std::printf("%s\n  -> %s\n", cmd.c_str(), reply.to_string().substr(0, 400).c_str());
  }

  // Records a mismatch found by a custom check.
  void report(const std::vector<std::string>& args, const std::string& setd_reply,
              const std::string& redis_reply) {
    ++mismatches_;
    std::string cmd;
    for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
    ADD_FAILURE() << "seed " << seed_ << " command #" << commands_ << ": " << cmd
                  << "\n  setd:  " << setd_reply << "\n  redis: " << redis_reply;
  }

  // Uniform helpers for generators.
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  long long between(long long lo, long long hi) {
    return std::uniform_int_distribution<long long>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& one_of(const std::vector<T>& v) {
    return v[pick(v.size())];
  }

 private:
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::unique_ptr<ServerProcess> setd_;
  std::unique_ptr<ServerProcess> redis_;
  std::unique_ptr<Client> a_;
  std::unique_ptr<Client> b_;
  size_t mismatches_ = 0;
  size_t commands_ = 0;
  bool verbose_ = std::getenv("DIFF_VERBOSE") != nullptr;
};

// One more connection to each server of a Differential (a client of its
// own: another user, a subscriber, a transaction).
class ClientPair {
 public:
  explicit ClientPair(Differential& d, int timeout_ms = 5000)
      : d_(d), x_(d.setd_server().port(), timeout_ms), y_(d.redis_server().port(), timeout_ms) {}
  Client& setd() { return x_; }
  Client& redis() { return y_; }
  std::pair<RespValue, RespValue> run(const std::vector<std::string>& args,
                                      Compare how = Compare::kExact) {
    return d_.run_on(x_, y_, args, how);
  }
  std::pair<RespValue, RespValue> run(const std::vector<std::string>& args,
                                      const Canonical& canon) {
    return d_.run_on(x_, y_, args, canon);
  }
  // Whether each server closed its side (within `ms`): {setd, redis}.
  std::pair<bool, bool> closed(int ms = 1000) {
    return {x_.closed_by_peer(ms), y_.closed_by_peer(ms)};
  }

 private:
  Differential& d_;
  Client x_;
  Client y_;
};

}  // namespace setd::testing
