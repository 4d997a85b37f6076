// Unit tests for setd::repl::Backlog: Redis's offsets (first byte offset,
// histlen, which PSYNC offsets it covers) and the ring's contents across
// wrap-around and resizes, against a plain string of the whole stream.
#include <gtest/gtest.h>

#include <string>

#include "setd/base/random.hpp"
#include "setd/repl/backlog.hpp"

namespace setd::repl {
namespace {

std::string tail_of(const Backlog& b) {
  std::string out;
  b.copy_from(b.first_offset(), out);
  return out;
}

TEST(ReplBacklog, EmptyBacklogCoversOnlyTheNextByte) {
  Backlog b(16, 100);
  EXPECT_EQ(b.histlen(), 0u);
  EXPECT_EQ(b.first_offset(), 101);  // INFO's repl_backlog_first_byte_offset
  EXPECT_TRUE(b.covers(101));        // a replica at our offset continues
  EXPECT_FALSE(b.covers(100));
  EXPECT_FALSE(b.covers(102));
  std::string out;
  b.copy_from(101, out);
  EXPECT_EQ(out, "");
}

TEST(ReplBacklog, OffsetsFollowTheStream) {
  Backlog b(8, 0);
  b.append("abc");
  EXPECT_EQ(b.end_offset(), 3);
  EXPECT_EQ(b.first_offset(), 1);
  EXPECT_EQ(b.histlen(), 3u);
  std::string out;
  b.copy_from(2, out);
  EXPECT_EQ(out, "bc");
  b.append("defghij");  // 10 bytes in all, 8 kept
  EXPECT_EQ(b.end_offset(), 10);
  EXPECT_EQ(b.histlen(), 8u);
  EXPECT_EQ(b.first_offset(), 3);
  EXPECT_EQ(tail_of(b), "cdefghij");
  EXPECT_FALSE(b.covers(2));
  EXPECT_TRUE(b.covers(3));
  EXPECT_TRUE(b.covers(11));
  EXPECT_FALSE(b.covers(12));
  out.clear();
  b.copy_from(9, out);
  EXPECT_EQ(out, "ij");
}

TEST(ReplBacklog, AppendBiggerThanTheRingKeepsItsEnd) {
  Backlog b(4, 0);
  b.append("0123456789");
  EXPECT_EQ(b.end_offset(), 10);
  EXPECT_EQ(tail_of(b), "6789");
  EXPECT_EQ(b.first_offset(), 7);
}

TEST(ReplBacklog, RandomAppendsMatchTheWholeStream) {
  base::Rng rng(7);
  for (size_t size : {1u, 3u, 64u, 1000u}) {
    Backlog b(size, 0);
    std::string all;
    for (int i = 0; i < 500; ++i) {
      std::string piece(rng.below(3 * size) + 1, ' ');
      for (auto& c : piece) c = static_cast<char>('a' + rng.below(26));
      b.append(piece);
      all += piece;
      ASSERT_EQ(b.end_offset(), static_cast<int64_t>(all.size()));
      ASSERT_EQ(b.histlen(), std::min(size, all.size()));
      ASSERT_EQ(tail_of(b), all.substr(all.size() - b.histlen()));
      const int64_t from = b.first_offset() + static_cast<int64_t>(rng.below(b.histlen() + 1));
      std::string out;
      b.copy_from(from, out);
      ASSERT_EQ(out, all.substr(static_cast<size_t>(from - 1)));
    }
  }
}

TEST(ReplBacklog, ResizeKeepsTheNewestBytes) {
  Backlog b(10, 0);
  b.append("0123456789abc");
  b.resize(4);
  EXPECT_EQ(b.end_offset(), 13);
  EXPECT_EQ(tail_of(b), "9abc");
  b.resize(32);
  EXPECT_EQ(tail_of(b), "9abc");
  b.append("de");
  EXPECT_EQ(tail_of(b), "9abcde");
  EXPECT_EQ(b.first_offset(), 10);
}

}  // namespace
}  // namespace setd::repl
