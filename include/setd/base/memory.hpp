// Giving freed heap memory back to the operating system.
//
// Dependency rule (module base): the C++ standard library, libc and the
// allocator only (base/allocator.hpp).
//
// glibc's malloc returns memory to the kernel only from the top of the heap
// (and for large mmap'd blocks). Memory freed in the middle of the heap,
// e.g. by deleting a big set while later allocations sit above it, stays
// resident until malloc_trim() releases its pages. malloc_trim() walks every
// free chunk (tens of ms on a heap fragmented into millions of them), so it
// is not run blindly: code that frees something big says so with
// note_freed(), and the server's cron calls trim_heap_if_worthwhile() about
// once a second, which trims only when enough was noted since the last
// trim. Only under glibc (base/allocator.hpp): jemalloc and mimalloc return
// free pages by themselves, and trim_heap_if_worthwhile() does nothing there.
#pragma once

#include <cstddef>

namespace setd::base {

// Records that about `bytes` of heap memory were just freed.
void note_freed(size_t bytes) noexcept;

// Releases free heap pages to the kernel when at least `min_noted` bytes
// were noted as freed since the last trim; returns true if it trimmed.
bool trim_heap_if_worthwhile(size_t min_noted);

}  // namespace setd::base
