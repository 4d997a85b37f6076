// LZF compression as RDB uses it (Debian's liblzf, the algorithm Redis
// bundles).
//
// Dependency rule (module persist): see rdb_format.hpp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace setd::persist {

// Compresses `in` into at most `max_out` bytes. Returns the compressed bytes,
// or nullopt when they would not fit (the data does not compress enough).
std::optional<std::string> lzf_compress(std::string_view in, size_t max_out);

// Decompresses `in`, which must expand to exactly `expected_len` bytes.
// Returns nullopt on corrupt input or a length mismatch. Refuses (nullopt)
// an expected_len that `in` cannot possibly produce (LZF expands at most
// about 88 times), so a forged length never makes it allocate much more
// than the input justifies.
std::optional<std::string> lzf_decompress(std::string_view in, size_t expected_len);

}  // namespace setd::persist
