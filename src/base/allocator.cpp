// See include/setd/base/allocator.hpp. Exactly one of SETD_ALLOC_GLIBC,
// SETD_ALLOC_JEMALLOC, SETD_ALLOC_MIMALLOC is defined (CMake); with
// SETD_ALLOC_SANITIZER the sanitizer's allocator is in charge instead.
//
// This file is compiled with -fno-builtin: the compiler must not turn the
// malloc wrappers below into calls of themselves.
#include "setd/base/allocator.hpp"

#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(SETD_ALLOC_SANITIZER)
// The sanitizers' runtime (GCC 12 ships no allocator_interface.h).
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#elif defined(SETD_ALLOC_JEMALLOC)
#include <jemalloc/jemalloc.h>
#elif defined(SETD_ALLOC_MIMALLOC)
#include <mimalloc.h>
#define SETD_ALLOC_COUNTING 1
#elif defined(SETD_ALLOC_GLIBC)
#define SETD_ALLOC_COUNTING 1
#else
#error "build with SETD_ALLOCATOR = glibc, jemalloc or mimalloc (CMake)"
#endif

// ---------------------------------------------------------------------------
// Counting (glibc, mimalloc): the malloc family, forwarded, with the usable
// size of every block added to (or taken from) one counter.
// ---------------------------------------------------------------------------
#if defined(SETD_ALLOC_COUNTING)

#if defined(SETD_ALLOC_GLIBC)
// glibc's own entry points (exported for exactly this use).
extern "C" {
void* __libc_malloc(size_t n);
void* __libc_calloc(size_t count, size_t n);
void* __libc_realloc(void* p, size_t n);
void __libc_free(void* p);
void* __libc_memalign(size_t align, size_t n);
void* __libc_valloc(size_t n);
void* __libc_pvalloc(size_t n);
}
#endif

namespace {

// Relaxed: a statistic, read by the event loop's thread; other threads
// (the AOF fsync and snapshot writer threads) allocate little.
std::atomic<size_t> g_used{0};

#if defined(SETD_ALLOC_GLIBC)
inline void* raw_malloc(size_t n) noexcept { return __libc_malloc(n); }
inline void* raw_calloc(size_t c, size_t n) noexcept { return __libc_calloc(c, n); }
inline void* raw_realloc(void* p, size_t n) noexcept { return __libc_realloc(p, n); }
inline void raw_free(void* p) noexcept { __libc_free(p); }
inline void* raw_memalign(size_t a, size_t n) noexcept { return __libc_memalign(a, n); }
inline void* raw_valloc(size_t n) noexcept { return __libc_valloc(n); }
inline void* raw_pvalloc(size_t n) noexcept { return __libc_pvalloc(n); }
inline size_t raw_usable(void* p) noexcept { return malloc_usable_size(p); }
#else  // mimalloc
inline void* raw_malloc(size_t n) noexcept { return mi_malloc(n); }
inline void* raw_calloc(size_t c, size_t n) noexcept { return mi_calloc(c, n); }
inline void* raw_realloc(void* p, size_t n) noexcept { return mi_realloc(p, n); }
inline void raw_free(void* p) noexcept { mi_free(p); }
inline void* raw_memalign(size_t a, size_t n) noexcept { return mi_malloc_aligned(n, a); }
inline void* raw_valloc(size_t n) noexcept {
  return mi_malloc_aligned(n, static_cast<size_t>(sysconf(_SC_PAGESIZE)));
}
inline void* raw_pvalloc(size_t n) noexcept {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return mi_malloc_aligned(n == 0 ? page : (n + page - 1) / page * page, page);
}
inline size_t raw_usable(void* p) noexcept { return mi_usable_size(p); }
#endif

inline void* counted(void* p) noexcept {
  if (p != nullptr) g_used.fetch_add(raw_usable(p), std::memory_order_relaxed);
  return p;
}

inline void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  g_used.fetch_sub(raw_usable(p), std::memory_order_relaxed);
  raw_free(p);
}

void* counted_realloc(void* p, size_t n) noexcept {
  if (p == nullptr) return counted(raw_malloc(n));
  const size_t before = raw_usable(p);
  void* q = raw_realloc(p, n);
  if (q != nullptr) {
    g_used.fetch_add(raw_usable(q) - before, std::memory_order_relaxed);  // wraps right
  } else if (n == 0) {
    g_used.fetch_sub(before, std::memory_order_relaxed);  // glibc: realloc(p, 0) frees p
  }
  return q;
}

bool valid_alignment(size_t align) noexcept { return align != 0 && (align & (align - 1)) == 0; }

}  // namespace

extern "C" {

void* malloc(size_t n) noexcept { return counted(raw_malloc(n)); }
void* calloc(size_t count, size_t n) noexcept { return counted(raw_calloc(count, n)); }
void* realloc(void* p, size_t n) noexcept { return counted_realloc(p, n); }
void free(void* p) noexcept { counted_free(p); }
void* reallocarray(void* p, size_t count, size_t n) noexcept {
  size_t bytes;
  if (__builtin_mul_overflow(count, n, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return counted_realloc(p, bytes);
}
void* memalign(size_t align, size_t n) noexcept { return counted(raw_memalign(align, n)); }
void* aligned_alloc(size_t align, size_t n) noexcept {
  if (!valid_alignment(align)) {
    errno = EINVAL;
    return nullptr;
  }
  return counted(raw_memalign(align, n));
}
int posix_memalign(void** out, size_t align, size_t n) noexcept {
  if (!valid_alignment(align) || align % sizeof(void*) != 0) return EINVAL;
  void* p = counted(raw_memalign(align, n));
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t n) noexcept { return counted(raw_valloc(n)); }
void* pvalloc(size_t n) noexcept { return counted(raw_pvalloc(n)); }
#if defined(SETD_ALLOC_MIMALLOC)
size_t malloc_usable_size(void* p) noexcept { return p == nullptr ? 0 : mi_usable_size(p); }
#endif

}  // extern "C"

#if defined(SETD_ALLOC_MIMALLOC)
// libmimalloc defines operator new/delete itself (straight to mi_malloc);
// these replace them so that C++ allocations are counted too.
namespace {
void* new_impl(size_t n, size_t align, bool nothrow) {
  if (n == 0) n = 1;
  for (;;) {
    void* p = counted(align ? raw_memalign(align, n) : raw_malloc(n));
    if (p != nullptr) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) {
      if (nothrow) return nullptr;
      throw std::bad_alloc();
    }
    h();
  }
}
size_t al(std::align_val_t a) { return static_cast<size_t>(a); }
}  // namespace

void* operator new(size_t n) { return new_impl(n, 0, false); }
void* operator new[](size_t n) { return new_impl(n, 0, false); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return new_impl(n, 0, true);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try {
    return new_impl(n, 0, true);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(size_t n, std::align_val_t a) { return new_impl(n, al(a), false); }
void* operator new[](size_t n, std::align_val_t a) { return new_impl(n, al(a), false); }
void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return new_impl(n, al(a), true);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return new_impl(n, al(a), true);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_free(p);
}
#endif  // SETD_ALLOC_MIMALLOC

#endif  // SETD_ALLOC_COUNTING

// ---------------------------------------------------------------------------
// The interface
// ---------------------------------------------------------------------------
namespace setd::base::alloc {

namespace {

#if defined(SETD_ALLOC_JEMALLOC) && !defined(SETD_ALLOC_SANITIZER)
// jemalloc's statistics are snapshots taken at an "epoch"; advance it.
void refresh_epoch() noexcept {
  uint64_t epoch = 1;
  size_t sz = sizeof(epoch);
  mallctl("epoch", &epoch, &sz, &epoch, sz);
}

size_t stat(const char* name) noexcept {
  size_t v = 0;
  size_t sz = sizeof(v);
  return mallctl(name, &v, &sz, nullptr, 0) == 0 ? v : 0;
}

void append_text(void* out, const char* text) { static_cast<std::string*>(out)->append(text); }
#endif

#if defined(SETD_ALLOC_MIMALLOC) && !defined(SETD_ALLOC_SANITIZER)
void append_text(const char* text, void* out) { static_cast<std::string*>(out)->append(text); }
#endif

const char* how_counted() noexcept {
#if defined(SETD_ALLOC_SANITIZER)
  return "the sanitizer's allocator";
#elif defined(SETD_ALLOC_JEMALLOC)
  return "jemalloc stats.allocated";
#else
  return "counted by setd's malloc wrappers";
#endif
}

}  // namespace

const char* name() noexcept {
#if defined(SETD_ALLOC_SANITIZER)
  return "libc";  // what the program asked for; the sanitizer serves it
#elif defined(SETD_ALLOC_JEMALLOC)
  static const std::string n = "jemalloc-" + std::to_string(JEMALLOC_VERSION_MAJOR) + "." +
                               std::to_string(JEMALLOC_VERSION_MINOR) + "." +
                               std::to_string(JEMALLOC_VERSION_BUGFIX);
  return n.c_str();
#elif defined(SETD_ALLOC_MIMALLOC)
  static const std::string n = [] {
    const int v = mi_version();  // 209 = 2.0.9
    return "mimalloc-" + std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
           std::to_string(v % 10);
  }();
  return n.c_str();
#else
  return "libc";
#endif
}

size_t allocated() noexcept {
#if defined(SETD_ALLOC_SANITIZER)
  return __sanitizer_get_current_allocated_bytes();
#elif defined(SETD_ALLOC_JEMALLOC)
  refresh_epoch();
  return stat("stats.allocated");
#else
  return g_used.load(std::memory_order_relaxed);
#endif
}

size_t active() noexcept {
#if defined(SETD_ALLOC_JEMALLOC) && !defined(SETD_ALLOC_SANITIZER)
  refresh_epoch();
  return stat("stats.active");
#else
  return 0;
#endif
}

size_t resident() noexcept {
#if defined(SETD_ALLOC_JEMALLOC) && !defined(SETD_ALLOC_SANITIZER)
  refresh_epoch();
  return stat("stats.resident");
#else
  return 0;
#endif
}

size_t usable_size(size_t n) noexcept {
#if defined(SETD_ALLOC_SANITIZER)
  return n;
#elif defined(SETD_ALLOC_JEMALLOC)
  return n == 0 ? 0 : nallocx(n, 0);
#elif defined(SETD_ALLOC_MIMALLOC)
  return mi_good_size(n);
#else
  // glibc: chunks of 8 bytes of header + the request rounded up to 16, at
  // least 32; large requests are mmap'd whole pages (16 bytes of header).
  if (n >= 128 * 1024) return ((n + 16 + 4095) & ~size_t{4095}) - 16;
  const size_t chunk = (n + 8 + 15) & ~size_t{15};
  return (chunk < 32 ? 32 : chunk) - 8;
#endif
}

bool purge() {
#if defined(SETD_ALLOC_SANITIZER)
  return true;
#elif defined(SETD_ALLOC_JEMALLOC)
  // As Redis's jemalloc_purge: arena.<narenas> means every arena.
  unsigned narenas = 0;
  size_t sz = sizeof(narenas);
  if (mallctl("arenas.narenas", &narenas, &sz, nullptr, 0) != 0) return false;
  char ctl[48];
  std::snprintf(ctl, sizeof(ctl), "arena.%u.purge", narenas);
  return mallctl(ctl, nullptr, nullptr, nullptr, 0) == 0;
#elif defined(SETD_ALLOC_MIMALLOC)
  mi_collect(true);
  return true;
#else
  malloc_trim(0);
  return true;
#endif
}

std::string stats_text() {
  std::string out =
      "setd: " + std::to_string(allocated()) + " bytes allocated (" + how_counted() + ")\n";
#if defined(SETD_ALLOC_SANITIZER)
  out += "No allocator statistics under the sanitizers\n";
#elif defined(SETD_ALLOC_JEMALLOC)
  malloc_stats_print(append_text, &out, nullptr);
#elif defined(SETD_ALLOC_MIMALLOC)
  mi_stats_print_out(append_text, &out);
#else
  char* buf = nullptr;
  size_t len = 0;
  if (FILE* f = open_memstream(&buf, &len)) {
    malloc_info(0, f);
    std::fclose(f);
    if (buf != nullptr) out.append(buf, len);
  }
  std::free(buf);
#endif
  return out;
}

std::string init() {
#if defined(SETD_ALLOC_GLIBC) && !defined(SETD_ALLOC_SANITIZER)
  // The block sizes come from malloc_usable_size: it must be glibc's, as
  // the blocks are (an LD_PRELOAD'ed jemalloc or mimalloc brings its own).
  Dl_info usable{}, libc{};
  if (dladdr(reinterpret_cast<void*>(&malloc_usable_size), &usable) == 0 ||
      dladdr(reinterpret_cast<void*>(&__libc_malloc), &libc) == 0 ||
      usable.dli_fbase != libc.dli_fbase) {
    return std::string("setd was built for glibc's malloc (SETD_ALLOCATOR=glibc) but ") +
           (usable.dli_fname != nullptr ? usable.dli_fname : "another library") +
           " replaces it (LD_PRELOAD?): build setd with -DSETD_ALLOCATOR=jemalloc or mimalloc "
           "instead";
  }
#elif defined(SETD_ALLOC_JEMALLOC) && !defined(SETD_ALLOC_SANITIZER)
  bool on = true;
  mallctl("background_thread", nullptr, nullptr, &on, sizeof(on));  // best effort, as Redis
#endif
  return "";
}

size_t process_rss() noexcept {
  long pages = 0, resident_pages = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident_pages) != 2) resident_pages = 0;
    std::fclose(f);
  }
  return static_cast<size_t>(resident_pages) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

size_t system_memory() noexcept {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
}

}  // namespace setd::base::alloc
