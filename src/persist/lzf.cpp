// LZF wrappers over Debian's liblzf (lzf.hpp).
//
// Dependency rule (module persist): see rdb_format.hpp.
#include "setd/persist/lzf.hpp"

#include <liblzf/lzf.h>

#include <algorithm>
#include <climits>

namespace setd::persist {

namespace {

bool fits_uint(size_t n) { return n <= UINT_MAX; }

// True if `in_len` bytes of LZF could expand to `out_len` bytes.
bool plausible(size_t in_len, size_t out_len) {
  return fits_uint(in_len) && out_len <= in_len * kLzfMaxExpansion;
}

}  // namespace

size_t lzf_compress_into(std::string_view in, char* out, size_t max_out) noexcept {
  if (in.empty() || max_out == 0 || !fits_uint(in.size())) return 0;
  const auto cap = static_cast<unsigned>(std::min<size_t>(max_out, UINT_MAX));
  return ::lzf_compress(in.data(), static_cast<unsigned>(in.size()), out, cap);
}

std::optional<std::string> lzf_compress(std::string_view in, size_t max_out) {
  // LZF's worst case is about 1 + 1/32 of the input: never allocate more.
  const size_t cap = std::min(max_out, in.size() + in.size() / 16 + 16);
  std::string out(cap, '\0');
  const size_t n = lzf_compress_into(in, out.data(), cap);
  if (n == 0) return std::nullopt;
  out.resize(n);
  return out;
}

bool lzf_decompress_into(std::string_view in, char* out, size_t out_len) noexcept {
  if (out_len == 0) return in.empty();
  if (in.empty() || !fits_uint(out_len) || !plausible(in.size(), out_len)) return false;
  const unsigned n = ::lzf_decompress(in.data(), static_cast<unsigned>(in.size()), out,
                                      static_cast<unsigned>(out_len));
  return n == out_len;
}

std::optional<std::string> lzf_decompress(std::string_view in, size_t expected_len) {
  if (!plausible(in.size(), expected_len)) return std::nullopt;  // before allocating
  std::string out(expected_len, '\0');
  if (!lzf_decompress_into(in, out.data(), expected_len)) return std::nullopt;
  return out;
}

}  // namespace setd::persist
