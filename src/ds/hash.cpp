#include "setd/ds/hash.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace setd::ds {

void set_hash_seed(uint64_t seed) noexcept { detail::g_hash_seed = seed; }

uint64_t hash_bytes(std::string_view bytes) noexcept {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), detail::g_hash_seed);
}

}  // namespace setd::ds
