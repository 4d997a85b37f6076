#include "setd/base/memory.hpp"

#include <malloc.h>

#include <atomic>

namespace setd::base {

namespace {
// The event loop and the lazyfree thread note; the loop trims.
std::atomic<size_t> noted_freed{0};
}  // namespace

void note_freed(size_t bytes) noexcept { noted_freed.fetch_add(bytes, std::memory_order_relaxed); }

bool trim_heap_if_worthwhile(size_t min_noted) {
  if (noted_freed.load(std::memory_order_relaxed) < min_noted) return false;
  noted_freed.store(0, std::memory_order_relaxed);
  // Only glibc's malloc needs it: jemalloc and mimalloc give pages back by
  // themselves (decay, page reset), and the sanitizers keep their own heap.
#if defined(__GLIBC__) && defined(SETD_ALLOC_GLIBC) && !defined(SETD_ALLOC_SANITIZER)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace setd::base
