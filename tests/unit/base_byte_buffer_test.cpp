#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "setd/base/byte_buffer.hpp"

namespace setd::base {
namespace {

TEST(ByteBuffer, StartsWithoutMemory) {
  ByteBuffer b;
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_TRUE(b.empty());
  b.release();
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(ByteBuffer, AppendConsumeAndRewind) {
  ByteBuffer b;
  b.append("hello ");
  b.append("world");
  EXPECT_EQ(b.view(), "hello world");
  b.consume(6);
  EXPECT_EQ(b.view(), "world");
  b.consume(5);
  EXPECT_TRUE(b.empty());
  EXPECT_GT(b.capacity(), 0u);  // kept until release()
  b.release();
  EXPECT_EQ(b.capacity(), 0u);
}

TEST(ByteBuffer, ReleaseKeepsUnreadBytes) {
  ByteBuffer b;
  b.append("partial");
  b.release();
  EXPECT_EQ(b.view(), "partial");
}

// A large wanted room grows the buffer at most twofold per call, so memory
// follows the bytes written, not the size announced.
TEST(ByteBuffer, GrowthIsGeometricNotAnnounced) {
  ByteBuffer b;
  b.append(std::string(100, 'x'));
  b.reserve_for_write(16 * 1024, size_t{200} << 20);
  EXPECT_LT(b.capacity(), 64u * 1024);
  EXPECT_GE(b.room(), 16u * 1024);
  size_t written = b.size();
  while (written < (size_t{8} << 20)) {
    char* p = b.reserve_for_write(16 * 1024, size_t{200} << 20);
    const size_t n = b.room();
    std::memset(p, 'y', n);
    b.commit(n);
    written += n;
    EXPECT_LE(b.capacity(), 2 * written + 32 * 1024);
  }
  EXPECT_EQ(b.size(), written);
  EXPECT_EQ(b.view().substr(0, 100), std::string(100, 'x'));
}

TEST(ByteBuffer, SlidesUnreadBytesBeforeGrowing) {
  ByteBuffer b;
  b.append(std::string(1000, 'a'));
  const size_t cap = b.capacity();
  b.consume(990);
  b.reserve_for_write(500, 500);
  EXPECT_EQ(b.capacity(), cap);  // room came from sliding, not growing
  EXPECT_EQ(b.view(), std::string(10, 'a'));
}

}  // namespace
}  // namespace setd::base
