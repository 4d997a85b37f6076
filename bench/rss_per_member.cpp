// Measures resident memory per member of a ds::HashSet.
//
//   setd_rss_per_member [N]      (default N = 1,000,000)
//
// Inserts members "m:0" .. "m:<N-1>" and prints the RSS growth divided by N,
// RSS read from /proc/self/statm before and after, e.g.
//   hash_set members=1000000 rss_per_member=15.4 heap_estimate_per_member=15.1
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "setd/ds/hash.hpp"
#include "setd/ds/hash_set.hpp"

namespace {

// Resident set size in bytes (second field of /proc/self/statm, in pages).
long long rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long long size_pages = 0;
  long long resident_pages = 0;
  const int n = std::fscanf(f, "%lld %lld", &size_pages, &resident_pages);
  std::fclose(f);
  if (n != 2) return -1;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

}  // namespace

int main(int argc, char** argv) {
  const long long n = argc > 1 ? std::atoll(argv[1]) : 1000000;
  if (n <= 0) {
    std::fprintf(stderr, "usage: %s [members]\n", argv[0]);
    return 2;
  }
  setd::ds::set_hash_seed(0x5eed5eed5eed5eedULL);
  std::string member;
  member.reserve(32);
  const long long before = rss_bytes();
  setd::ds::HashSet set;
  for (long long i = 0; i < n; ++i) {
    member = "m:";
    member += std::to_string(i);
    set.insert(member);
  }
  const long long after = rss_bytes();
  if (before < 0 || after < 0 || set.size() != static_cast<size_t>(n)) {
    std::fprintf(stderr, "measurement failed\n");
    return 1;
  }
  std::printf("hash_set members=%lld rss_per_member=%.1f heap_estimate_per_member=%.1f\n", n,
              static_cast<double>(after - before) / static_cast<double>(n),
              static_cast<double>(set.memory_bytes()) / static_cast<double>(n));
  return 0;
}
