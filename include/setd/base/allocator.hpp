// The memory allocator setd runs on, and what it says about the heap: the
// figures behind INFO memory, MEMORY STATS / USAGE / PURGE / MALLOC-STATS
// (and, later, maxmemory).
//
// Dependency rule (module base): the C++ standard library, libc and the
// allocator chosen at build time only. CMake's SETD_ALLOCATOR picks it:
//
//  * glibc (the default): glibc's malloc.
//  * jemalloc: Debian's libjemalloc is linked and replaces malloc (as in
//    Debian's redis-server).
//  * mimalloc: Debian's libmimalloc is linked and replaces malloc.
//
// allocated() -- INFO's used_memory -- is the sum of the usable sizes of the
// live allocations, as Redis's zmalloc counts them:
//
//  * jemalloc keeps it (stats.allocated, read after an epoch refresh);
//  * glibc and mimalloc do not keep it cheaply (glibc's mallinfo2() walks
//    every free chunk: 330 ms on a heap with 2M free chunks; mimalloc's
//    release build keeps no allocation statistics), so setd counts it: this
//    file defines malloc, free, calloc, realloc and the aligned forms (and,
//    for mimalloc, operator new/delete), each forwarding to the allocator
//    and adding or removing the block's usable size to one atomic counter.
//    glibc documents this interposition ("Replacing malloc"); setd's own
//    definitions win over the libraries' because the executable is first
//    in the symbol lookup order.
//  * Sanitizer builds (SETD_SANITIZE, SETD_FUZZ) use the sanitizer's
//    allocator and ask it (__sanitizer_get_current_allocated_bytes).
//
// active() and resident() are the allocator's own figures when it has them
// (jemalloc's stats.active and stats.resident) and 0 when it does not; the
// server then falls back as Redis does without jemalloc (resident = the
// process's RSS, active = resident).
#pragma once

#include <cstddef>
#include <string>

namespace setd::base::alloc {

// INFO's mem_allocator: "libc" (as Redis names glibc), "jemalloc-5.3.0",
// "mimalloc-2.0.9".
const char* name() noexcept;

// Bytes the program holds: the usable size of every live allocation.
size_t allocated() noexcept;
// Bytes in the allocator's active pages (jemalloc), or 0.
size_t active() noexcept;
// Bytes of the allocator's resident pages (jemalloc), or 0.
size_t resident() noexcept;

// The usable size the allocator gives an `n`-byte request (its size class):
// what allocated() grows by for it.
size_t usable_size(size_t n) noexcept;

// Gives free pages back to the kernel (MEMORY PURGE): glibc malloc_trim,
// jemalloc purges every arena, mimalloc mi_collect. True on success.
bool purge();

// MEMORY MALLOC-STATS: the allocator's own report (jemalloc's
// malloc_stats_print, glibc's malloc_info XML, mimalloc's statistics),
// after a line with allocated() and how it is obtained.
std::string stats_text();

// Start-up, before anything else: checks that the allocator in charge is
// the one setd was built for -- the glibc build forwards to glibc's malloc
// itself, so an allocator put in with LD_PRELOAD would only be half in
// charge (build with SETD_ALLOCATOR=jemalloc or mimalloc instead) -- and
// starts jemalloc's background thread, which gives freed pages back to the
// kernel as they decay (Redis's jemalloc-bg-thread yes; without it an idle
// jemalloc returns nothing). "" or why setd cannot run.
std::string init();

// The process's resident set size in bytes (/proc/self/statm).
size_t process_rss() noexcept;
// Physical memory of the machine in bytes (INFO total_system_memory).
size_t system_memory() noexcept;

}  // namespace setd::base::alloc
