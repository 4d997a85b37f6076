// Unit tests for setd::persist::crc64: Redis's check value, and the
// slicing-by-8 tables against a bit-by-bit reference at every length and
// alignment, in one call and in pieces.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "setd/base/random.hpp"
#include "setd/persist/crc64.hpp"

namespace setd::persist {
namespace {

// crc64.c's _crc64: bit by bit, reflected, polynomial 0xad93d23594c935a9.
uint64_t reference_crc64(uint64_t crc, std::string_view s) {
  constexpr uint64_t kPoly = 0xad93d23594c935a9ULL;
  for (unsigned char c : s) {
    for (uint64_t i = 0x01; i & 0xff; i <<= 1) {
      bool bit = (crc & 0x8000000000000000ULL) != 0;
      if (c & i) bit = !bit;
      crc <<= 1;
      if (bit) crc ^= kPoly;
    }
    crc &= 0xffffffffffffffffULL;
  }
  // reflect the 64 bits
  uint64_t out = 0;
  for (int i = 0; i < 64; ++i)
    if (crc & (uint64_t{1} << i)) out |= uint64_t{1} << (63 - i);
  return out;
}

std::string random_bytes(base::Rng& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  return s;
}

TEST(PersistCrc64, RedisCheckValue) {
  EXPECT_EQ(crc64(0, "123456789", 9), 0xe9c6d914c4b8d9caULL);
  EXPECT_EQ(crc64(0, std::string_view("123456789")), 0xe9c6d914c4b8d9caULL);
  EXPECT_EQ(crc64(0, "", 0), 0u);
  EXPECT_EQ(crc64(12345, "", 0), 12345u);  // no bytes, no change
}

TEST(PersistCrc64, ReferenceIsRedisCrc) {
  // The reference itself: reflected bitwise CRC gives the same check value.
  EXPECT_EQ(reference_crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

TEST(PersistCrc64, MatchesBitwiseReferenceAtEveryLengthAndAlignment) {
  base::Rng rng(7);
  const std::string data = random_bytes(rng, 300);
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= 100; ++len) {
      const std::string_view s(data.data() + start, len);
      ASSERT_EQ(crc64(0, s), reference_crc64(0, s)) << "start " << start << " len " << len;
    }
  }
}

TEST(PersistCrc64, PiecewiseEqualsOneShot) {
  base::Rng rng(9);
  const std::string data = random_bytes(rng, 4096 + 13);
  const uint64_t whole = crc64(0, data);
  for (size_t cut = 0; cut <= data.size(); cut += 37) {
    const uint64_t a = crc64(0, data.data(), cut);
    EXPECT_EQ(crc64(a, data.data() + cut, data.size() - cut), whole) << cut;
  }
  uint64_t c = 0;
  for (char ch : data) c = crc64(c, &ch, 1);
  EXPECT_EQ(c, whole);
}

}  // namespace
}  // namespace setd::persist
