#include "setd/base/json.hpp"

#include <cstddef>
#include <cstdint>

namespace setd::base {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u00(std::string& out, unsigned char b) {
  const char esc[6] = {'\\', 'u', '0', '0', kHex[b >> 4], kHex[b & 0xF]};
  out.append(esc, sizeof(esc));
}

bool in_range(unsigned char b, unsigned char lo, unsigned char hi) { return b >= lo && b <= hi; }

// Length of the well-formed UTF-8 sequence starting at s[i] (a byte >= 0x80),
// or 0 if there is none. Bounds from RFC 3629 / Unicode table 3-7.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const size_t avail = s.size() - i;
  const unsigned char b0 = byte(0);
  if (in_range(b0, 0xC2, 0xDF)) {
    return avail >= 2 && in_range(byte(1), 0x80, 0xBF) ? 2 : 0;
  }
  if (in_range(b0, 0xE0, 0xEF)) {
    if (avail < 3) return 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
    return in_range(byte(1), lo, hi) && in_range(byte(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in_range(b0, 0xF0, 0xF4)) {
    if (avail < 4) return 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
    return in_range(byte(1), lo, hi) && in_range(byte(2), 0x80, 0xBF) &&
                   in_range(byte(3), 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

}  // namespace

void json_append_string(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + bytes.size() + 2);
  out.push_back('"');
  size_t i = 0;
  while (i < bytes.size()) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b >= 0x80) {
      const size_t n = utf8_sequence_length(bytes, i);
      if (n == 0) {
        append_u00(out, b);
        ++i;
      } else {
        out.append(bytes.data() + i, n);
        i += n;
      }
      continue;
    }
    switch (b) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (b < 0x20) {
          append_u00(out, b);
        } else {
          out.push_back(static_cast<char>(b));
        }
        break;
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace setd::base
