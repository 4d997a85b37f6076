// The allocator layer (base/allocator.hpp), whichever allocator the build
// chose: its figures move with what the program allocates.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "setd/base/allocator.hpp"

namespace setd::base {
namespace {

// Keeps the compiler from eliding a malloc/free pair.
void* volatile g_sink = nullptr;

void* use(void* p) {
  g_sink = p;
  return p;
}

TEST(Allocator, NameIsWhatRedisPrints) {
  const std::string name = alloc::name();
  EXPECT_TRUE(name == "libc" || name.starts_with("jemalloc-") || name.starts_with("mimalloc-"))
      << name;
  if (name != "libc") {
    EXPECT_EQ(std::count(name.begin(), name.end(), '.'), 2) << name;  // x.y.z
  }
}

TEST(Allocator, AllocatedFollowsAllocations) {
  // Large blocks: jemalloc serves them from its arenas (not a thread
  // cache), so its stats.allocated moves by exactly their size too.
  constexpr size_t kBytes = 8 << 20;
  // Small allocations elsewhere (gtest, a thread cache) move the figure a
  // little between two readings.
  constexpr size_t kSlack = 64 << 10;
  const size_t before = alloc::allocated();
  void* p = use(std::malloc(kBytes));
  ASSERT_NE(p, nullptr);
  std::memset(p, 1, kBytes);
  const size_t during = alloc::allocated();
  EXPECT_GE(during + kSlack, before + kBytes);
  EXPECT_LE(during, before + kBytes + (1 << 20));
  std::free(p);
  const size_t after = alloc::allocated();
  EXPECT_LE(after, during - kBytes + kSlack);
  // realloc and calloc are counted as well.
  p = use(std::calloc(1, kBytes));
  EXPECT_GE(alloc::allocated() + kSlack, after + kBytes);
  p = use(std::realloc(p, 2 * kBytes));
  EXPECT_GE(alloc::allocated() + kSlack, after + 2 * kBytes);
  p = use(std::realloc(p, kBytes / 2));
  EXPECT_LE(alloc::allocated(), after + kBytes);
  std::free(p);
  EXPECT_LE(alloc::allocated(), after + (1 << 20));
}

TEST(Allocator, CxxAllocationsAreCounted) {
  const size_t before = alloc::allocated();
  auto* big = new char[16 << 20];
  use(big);
  std::memset(big, 2, 16 << 20);
  EXPECT_GE(alloc::allocated() + (64 << 10), before + (16 << 20));
  delete[] big;
  EXPECT_LE(alloc::allocated(), before + (1 << 20));
}

TEST(Allocator, UsableSizeIsTheAllocatorsSizeClass) {
  for (size_t n : {1, 8, 16, 24, 25, 39, 40, 48, 100, 1000, 5000, 40000, 100000}) {
    void* p = use(std::malloc(n));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(alloc::usable_size(n), malloc_usable_size(p)) << n;
    EXPECT_GE(alloc::usable_size(n), n);
    std::free(p);
  }
}

TEST(Allocator, ProcessFiguresAndPurge) {
  EXPECT_GT(alloc::process_rss(), 0u);
  EXPECT_GT(alloc::system_memory(), alloc::process_rss());
  EXPECT_TRUE(alloc::purge());
  const std::string text = alloc::stats_text();
  EXPECT_TRUE(text.starts_with("setd: ")) << text.substr(0, 200);
  EXPECT_GT(text.size(), 20u);
  const size_t active = alloc::active();
  const size_t resident = alloc::resident();
  if (std::string(alloc::name()).starts_with("jemalloc")) {
    EXPECT_GE(active, alloc::allocated());
    EXPECT_GE(resident, active);
  } else {
    EXPECT_EQ(active, 0u);  // not known: the server falls back as Redis does
    EXPECT_EQ(resident, 0u);
  }
}

}  // namespace
}  // namespace setd::base
