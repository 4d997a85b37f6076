// Integer <-> decimal string conversions with Redis's exact rules, used by
// the set encoding layer to decide whether a member can live in an intset.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace setd::ds {

// Buffer size that holds any int64 in decimal: "-9223372036854775808" is 20
// characters; one spare byte.
inline constexpr size_t kInt64DecimalBufSize = 21;

// Parses `s` as a signed 64-bit integer with Redis's string2ll() rules, which
// decide whether a set member is "an integer" (intset-encodable):
//   * non-empty and at most 20 characters;
//   * optional leading '-' (never '+'), then decimal digits only: no spaces,
//     no trailing garbage;
//   * no leading zeros: "0" is the only string starting with '0', so "007",
//     "00" and "-0" are NOT integers;
//   * the value fits in int64 (-9223372036854775808 .. 9223372036854775807).
// Returns the value, or std::nullopt when `s` is not such an integer.
// Contract: the accepted strings are exactly those that format_int64() of the
// returned value reproduces byte for byte (canonical decimal form).
inline std::optional<int64_t> parse_int64(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s.size() == 1 && s[0] == '0') return 0;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) {
    ++i;
    if (i == s.size()) return std::nullopt;
  }
  if (s[i] < '1' || s[i] > '9') return std::nullopt;  // also rejects leading zeros
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;  // overflow of uint64
    v = v * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (v > kMaxPositive + 1) return std::nullopt;
    // -(v) computed in unsigned arithmetic then converted: well defined for
    // v == 2^63 (yields INT64_MIN) under C++20's modular conversion rules.
    return static_cast<int64_t>(0 - v);
  }
  if (v > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(v);
}

// Writes `v` in canonical decimal (Redis ll2string: '-' for negatives, no
// leading zeros, no '+') into `buf`, which must hold kInt64DecimalBufSize
// bytes. Returns a view of the written characters (not NUL-terminated).
inline std::string_view format_int64(int64_t v, char* buf) noexcept {
  const auto res = std::to_chars(buf, buf + kInt64DecimalBufSize, v);
  return {buf, static_cast<size_t>(res.ptr - buf)};
}

}  // namespace setd::ds
