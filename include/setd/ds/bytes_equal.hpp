// Short byte-string equality for the set encodings' member scans.
//
// Dependency rule (module ds): std only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace setd::ds::detail {

// Equality of n bytes. Members are mostly short, so lengths up to 16 are
// compared inline with two overlapping word loads instead of a memcmp call
// (both ranges hold exactly n readable bytes; the loads stay inside them).
inline bool bytes_equal(const unsigned char* a, const char* b, size_t n) noexcept {
  if (n >= 8 && n <= 16) {
    uint64_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t a0, b0, a1, b1;
    std::memcpy(&a0, a, 4);
    std::memcpy(&b0, b, 4);
    std::memcpy(&a1, a + n - 4, 4);
    std::memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n < 4) {
    return n == 0 || (a[0] == static_cast<unsigned char>(b[0]) &&
                      a[n / 2] == static_cast<unsigned char>(b[n / 2]) &&
                      a[n - 1] == static_cast<unsigned char>(b[n - 1]));
  }
  return std::memcmp(a, b, n) == 0;
}

}  // namespace setd::ds::detail
