// Unit tests for the LZF wrappers: round trips, the "does not fit" answer,
// corrupt input, length mismatches and forged lengths.
#include <gtest/gtest.h>

#include <string>

#include "setd/base/random.hpp"
#include "setd/persist/lzf.hpp"

namespace setd::persist {
namespace {

std::string random_bytes(base::Rng& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng.below(256));
  return s;
}

TEST(PersistLzf, RoundTripsCompressibleData) {
  EXPECT_EQ(lzf_decompress(*lzf_compress(std::string(21, 'a'), 17), 21), std::string(21, 'a'));
  for (size_t n : {100, 4096, 1 << 20}) {
    std::string in;
    for (size_t i = 0; in.size() < n; ++i) in += "member:" + std::to_string(i % 97) + ",";
    in.resize(n);
    const auto c = lzf_compress(in, n - 4);
    ASSERT_TRUE(c.has_value()) << n;
    EXPECT_LE(c->size(), n - 4);
    const auto d = lzf_decompress(*c, n);
    ASSERT_TRUE(d.has_value()) << n;
    EXPECT_EQ(*d, in);
  }
}

TEST(PersistLzf, RoundTripsBinaryWithNul) {
  std::string in(1000, '\0');
  for (size_t i = 0; i < in.size(); i += 7) in[i] = static_cast<char>(i);
  const auto c = lzf_compress(in, in.size());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(lzf_decompress(*c, in.size()), in);
}

TEST(PersistLzf, IncompressibleDataDoesNotFit) {
  base::Rng rng(1);
  const std::string in = random_bytes(rng, 1000);
  EXPECT_FALSE(lzf_compress(in, in.size() - 4).has_value());
  EXPECT_FALSE(lzf_compress("", 100).has_value());
  char buf[16];
  EXPECT_EQ(lzf_compress_into(in, buf, sizeof buf), 0u);
}

TEST(PersistLzf, CompressIntoCallerBuffer) {
  const std::string in(500, 'x');
  std::string out(496, '\0');
  const size_t n = lzf_compress_into(in, out.data(), out.size());
  ASSERT_GT(n, 0u);
  ASSERT_LT(n, 20u);
  std::string back(500, '\0');
  EXPECT_TRUE(lzf_decompress_into(std::string_view(out.data(), n), back.data(), back.size()));
  EXPECT_EQ(back, in);
}

TEST(PersistLzf, LengthMismatchIsAnError) {
  const std::string in(300, 'a');
  const auto c = lzf_compress(in, in.size());
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(lzf_decompress(*c, 299).has_value());  // output does not fit
  EXPECT_FALSE(lzf_decompress(*c, 301).has_value());  // output shorter than announced
  EXPECT_FALSE(lzf_decompress(*c, 0).has_value());
  EXPECT_EQ(lzf_decompress("", 0), std::string());
}

TEST(PersistLzf, ForgedHugeLengthIsRefusedBeforeAllocating) {
  // 10 input bytes can produce at most 880: a 1 TB claim is refused at once
  // (an allocation of that size would abort under AddressSanitizer).
  EXPECT_FALSE(lzf_decompress(std::string(10, '\x1f'), size_t{1} << 40).has_value());
  EXPECT_FALSE(lzf_decompress(std::string(10, '\x1f'), 881).has_value());
  char buf[4];
  EXPECT_FALSE(lzf_decompress_into("", buf, sizeof buf));
}

TEST(PersistLzf, CorruptInputNeverOverflows) {
  // A back reference before the start of the output.
  EXPECT_FALSE(lzf_decompress(std::string("\xe0\xff\xff", 3), 100).has_value());
  // A literal run longer than the input.
  EXPECT_FALSE(lzf_decompress(std::string("\x1f"
                                          "abc",
                                          4),
                              32)
                   .has_value());
  // Random garbage of every small size: no crash, and any success is exact.
  base::Rng rng(3);
  for (int i = 0; i < 20000; ++i) {
    const std::string in = random_bytes(rng, 1 + rng.below(40));
    const size_t want = rng.below(200);
    const auto out = lzf_decompress(in, want);
    if (out) {
      EXPECT_EQ(out->size(), want);
    }
  }
}

}  // namespace
}  // namespace setd::persist
