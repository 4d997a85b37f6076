// Short byte-string equality for the set encodings' member scans.
//
// Dependency rule (module ds): std only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace setd::ds::detail {

// Equality of n bytes, sizeof(Word) <= n <= 2 * sizeof(Word), by two
// overlapping word loads from each side (the first and the last Word).
template <class Word>
inline bool ends_equal(const unsigned char* a, const char* b, size_t n) noexcept {
  Word a0, b0, a1, b1;
  std::memcpy(&a0, a, sizeof(Word));
  std::memcpy(&b0, b, sizeof(Word));
  std::memcpy(&a1, a + n - sizeof(Word), sizeof(Word));
  std::memcpy(&b1, b + n - sizeof(Word), sizeof(Word));
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

// Equality of n bytes. Members are mostly short, so lengths up to 16 are
// compared inline with two overlapping word loads instead of a memcmp call
// (both ranges hold exactly n readable bytes; the loads stay inside them).
inline bool bytes_equal(const unsigned char* a, const char* b, size_t n) noexcept {
  if (n >= 8 && n <= 16) return ends_equal<uint64_t>(a, b, n);
  if (n >= 4 && n < 8) return ends_equal<uint32_t>(a, b, n);
  if (n < 4) {
    return n == 0 || (a[0] == static_cast<unsigned char>(b[0]) &&
                      a[n / 2] == static_cast<unsigned char>(b[n / 2]) &&
                      a[n - 1] == static_cast<unsigned char>(b[n - 1]));
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace setd::ds::detail
