// LZF compression as RDB uses it (Debian's liblzf, the algorithm Redis
// bundles).
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// liblzf counts in unsigned int: inputs and outputs of 4 GiB or more are
// never compressed (compress: nullopt / 0) nor decompressed (nullopt /
// false), as with Redis's bundled copy.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace setd::persist {

// The most bytes LZF can produce per input byte: a 3-byte back reference
// copies at most 264 bytes.
inline constexpr size_t kLzfMaxExpansion = 88;

// Compresses `in` into at most `max_out` bytes. Returns the compressed bytes,
// or nullopt when they would not fit (the data does not compress enough).
std::optional<std::string> lzf_compress(std::string_view in, size_t max_out);

// Same into a caller's buffer of `max_out` bytes (no allocation): returns the
// compressed length, or 0 when the result would not fit.
size_t lzf_compress_into(std::string_view in, char* out, size_t max_out) noexcept;

// Decompresses `in`, which must expand to exactly `expected_len` bytes.
// Returns nullopt on corrupt input or a length mismatch. Refuses (nullopt)
// an expected_len that `in` cannot possibly produce (more than
// kLzfMaxExpansion bytes per input byte), so a forged length never makes it
// allocate much more than the input justifies.
std::optional<std::string> lzf_decompress(std::string_view in, size_t expected_len);

// Same into a caller's buffer of exactly `out_len` bytes: true if `in`
// decompresses to exactly out_len bytes (the buffer's contents are
// unspecified otherwise).
bool lzf_decompress_into(std::string_view in, char* out, size_t out_len) noexcept;

}  // namespace setd::persist
