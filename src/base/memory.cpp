#include "setd/base/memory.hpp"

#include <malloc.h>

namespace setd::base {

namespace {
size_t noted_freed = 0;  // the event loop's thread only
}  // namespace

void note_freed(size_t bytes) noexcept { noted_freed += bytes; }

bool trim_heap_if_worthwhile(size_t min_noted) {
  if (noted_freed < min_noted) return false;
  noted_freed = 0;
  // Only glibc's malloc needs it: jemalloc and mimalloc give pages back by
  // themselves (decay, page reset), and the sanitizers keep their own heap.
#if defined(__GLIBC__) && defined(SETD_ALLOC_GLIBC) && !defined(SETD_ALLOC_SANITIZER)
  return malloc_trim(0) != 0;
#else
  return false;
#endif
}

}  // namespace setd::base
