// RESP2/RESP3 reply reader: parses what a server sent into a tree of values.
// Used by the in-process test runner, the integration tests' client and the
// benchmarks; the server itself never reads replies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace setd::proto {

struct RespValue {
  enum class Kind : uint8_t {
    kSimple,     // +
    kError,      // -
    kInteger,    // :
    kBulk,       // $
    kNull,       // $-1, *-1, _
    kArray,      // *
    kMap,        // %  (elements: k1 v1 k2 v2 ...)
    kSet,        // ~
    kPush,       // >
    kDouble,     // ,  (text kept in str)
    kBoolean,    // #
    kVerbatim,   // =  (format prefix stripped)
    kBigNumber,  // (
  };
  Kind kind = Kind::kNull;
  std::string str;        // simple, error, bulk, double, verbatim, big number text
  long long integer = 0;  // integer, boolean
  std::vector<RespValue> elements;

  bool is_error() const { return kind == Kind::kError; }
  bool is_null() const { return kind == Kind::kNull; }
  bool is_aggregate() const {
    return kind == Kind::kArray || kind == Kind::kMap || kind == Kind::kSet || kind == Kind::kPush;
  }
  // A compact, human-readable rendering, e.g. `["a", 1, (nil)]`, for test
  // failure messages and differential comparisons.
  std::string to_string() const;
};

// Parses one complete reply from `buf`. Returns the value and sets
// `consumed`; nullopt if `buf` holds no complete reply yet. Malformed input
// yields an error value whose text starts with "protocol:".
std::optional<RespValue> read_reply(std::string_view buf, size_t& consumed);

}  // namespace setd::proto
