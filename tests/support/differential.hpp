// Differential testing support: the same command stream goes to setd and to
// redis-server 7.0 (both started on free ports), and every reply is compared
// — exactly, order-insensitively for set-like replies, or by a property for
// replies that are random or time dependent.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
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

class Differential {
 public:
  explicit Differential(uint64_t seed)
      : seed_(seed),
        rng_(seed),
        setd_(std::make_unique<ServerProcess>(setd_binary())),
        redis_(std::make_unique<ServerProcess>("redis-server")),
        a_(std::make_unique<Client>(setd_->port())),
        b_(std::make_unique<Client>(redis_->port())) {}

  std::mt19937_64& rng() { return rng_; }
  uint64_t seed() const { return seed_; }
  size_t mismatches() const { return mismatches_; }
  size_t commands() const { return commands_; }
  Client& setd() { return *a_; }
  Client& redis() { return *b_; }

  // Sends `args` to both servers and compares the replies; returns both.
  std::pair<RespValue, RespValue> run(const std::vector<std::string>& args,
                                      Compare how = Compare::kExact) {
    ++commands_;
    RespValue x = a_->call(args);
    RespValue y = b_->call(args);
    bool same = true;
    switch (how) {
      case Compare::kExact:
        same = x.to_string() == y.to_string();
        break;
      case Compare::kUnordered:
        same = canonical(x, true) == canonical(y, true);
        break;
      case Compare::kType:
        same = x.kind == y.kind;
        break;
    }
    if (!same) report(args, x.to_string(), y.to_string());
    return {std::move(x), std::move(y)};
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
};

}  // namespace setd::testing
