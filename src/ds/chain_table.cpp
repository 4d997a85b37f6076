#include "setd/ds/chain_table.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace setd::ds::detail {

uint64_t dict_hash(std::string_view key, uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(key.data(), key.size(), seed);
}

}  // namespace setd::ds::detail
