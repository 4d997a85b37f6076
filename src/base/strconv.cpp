#include "setd/base/strconv.hpp"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace setd::base {

namespace {

// C-locale isspace().
bool is_c_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// "00".."99" laid out pairwise, for two digits per division.
constexpr char kDigitPairs[] =
    "0001020304050607080910111213141516171819"
    "2021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859"
    "6061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

size_t decimal_length(unsigned long long v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// A NUL-terminated copy of `s` for the strto* family: on the stack when it
// fits, on the heap otherwise.
class CString {
 public:
  explicit CString(std::string_view s) {
    if (s.size() < sizeof(small_)) {
      std::memcpy(small_, s.data(), s.size());
      small_[s.size()] = '\0';
      ptr_ = small_;
    } else {
      big_.assign(s);
      ptr_ = big_.c_str();
    }
  }
  CString(const CString&) = delete;
  CString& operator=(const CString&) = delete;
  const char* c_str() const { return ptr_; }

 private:
  char small_[128];
  std::string big_;
  const char* ptr_;
};

}  // namespace

bool string_to_ll(std::string_view s, long long& out) {
  // A 21+ byte string can never be a long long (LONG_STR_SIZE in Redis).
  if (s.empty() || s.size() >= 21) return false;
  if (s.size() == 1 && s[0] == '0') {
    out = 0;
    return true;
  }
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative && ++i == s.size()) return false;
  // The first digit must be 1-9: no leading zeros, no "-0".
  if (s[i] < '1' || s[i] > '9') return false;
  unsigned long long v = static_cast<unsigned long long>(s[i] - '0');
  for (++i; i < s.size(); ++i) {
    if (!is_digit(s[i])) return false;
    const auto d = static_cast<unsigned long long>(s[i] - '0');
    if (v > (ULLONG_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  constexpr auto kMax = static_cast<unsigned long long>(LLONG_MAX);
  if (negative) {
    if (v > kMax + 1) return false;
    // -v computed in unsigned arithmetic, then reinterpreted (well defined
    // since C++20), so LLONG_MIN does not overflow.
    out = static_cast<long long>(0ULL - v);
  } else {
    if (v > kMax) return false;
    out = static_cast<long long>(v);
  }
  return true;
}

bool string_to_ull(std::string_view s, unsigned long long& out) {
  // Redis passes a C string: everything from the first NUL on is invisible.
  if (const size_t nul = s.find('\0'); nul != std::string_view::npos) s = s.substr(0, nul);

  long long ll;
  if (string_to_ll(s, ll)) {
    if (ll < 0) return false;
    out = static_cast<unsigned long long>(ll);
    return true;
  }

  // strtoull(s, &end, 10) followed by Redis's checks: errno must not be
  // ERANGE, something must have been parsed and nothing may follow it.
  size_t i = 0;
  while (i < s.size() && is_c_space(s[i])) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    ++i;
  }
  const size_t first_digit = i;
  unsigned long long v = 0;
  bool overflow = false;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    const auto d = static_cast<unsigned long long>(s[i] - '0');
    if (v > (ULLONG_MAX - d) / 10) {
      overflow = true;
    } else {
      v = v * 10 + d;
    }
  }
  if (i == first_digit) return false;  // no conversion at all
  if (i != s.size()) return false;     // trailing bytes
  if (overflow) return false;          // ERANGE
  out = negative ? 0ULL - v : v;
  return true;
}

bool string_to_ld(std::string_view s, long double& out) {
  if (s.empty() || s.size() >= kMaxLongDoubleChars) return false;
  const CString buf(s);
  const char* str = buf.c_str();
  char* end = nullptr;
  errno = 0;
  const long double value = std::strtold(str, &end);
  if (is_c_space(str[0]) || static_cast<size_t>(end - str) != s.size() ||
      (errno == ERANGE && (value == HUGE_VALL || value == -HUGE_VALL || value == 0.0L)) ||
      std::isnan(value)) {
    return false;
  }
  out = value;
  return true;
}

bool string_to_double(std::string_view s, double& out) {
  if (s.empty() || is_c_space(s[0])) return false;
  const CString buf(s);
  const char* str = buf.c_str();
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(str, &end);
  if (static_cast<size_t>(end - str) != s.size() ||
      (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || value == 0.0)) ||
      std::isnan(value)) {
    return false;
  }
  out = value;
  return true;
}

size_t ull_to_string(char* buf, unsigned long long v) {
  const size_t len = decimal_length(v);
  size_t pos = len;
  while (v >= 100) {
    const auto pair = static_cast<size_t>(v % 100) * 2;
    v /= 100;
    buf[--pos] = kDigitPairs[pair + 1];
    buf[--pos] = kDigitPairs[pair];
  }
  if (v >= 10) {
    const auto pair = static_cast<size_t>(v) * 2;
    buf[--pos] = kDigitPairs[pair + 1];
    buf[--pos] = kDigitPairs[pair];
  } else {
    buf[--pos] = static_cast<char>('0' + v);
  }
  return len;
}

size_t ll_to_string(char* buf, long long v) {
  if (v >= 0) return ull_to_string(buf, static_cast<unsigned long long>(v));
  buf[0] = '-';
  return 1 + ull_to_string(buf + 1, 0ULL - static_cast<unsigned long long>(v));
}

std::string ll_to_string(long long v) {
  char buf[kMaxLongLongChars];
  return std::string(buf, ll_to_string(buf, v));
}

std::string ld_to_string_human(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[kMaxLongDoubleChars];
  const int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  // Redis yields an empty string when the text does not fit; it cannot happen
  // for a finite x86 long double (at most ~4952 bytes), but stay faithful.
  if (n < 0 || static_cast<size_t>(n) + 1 > sizeof(buf)) return std::string();
  auto len = static_cast<size_t>(n);
  if (std::memchr(buf, '.', len) != nullptr) {
    while (buf[len - 1] == '0') --len;
    if (buf[len - 1] == '.') --len;
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, len);
}

std::string double_to_resp(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];  // "%.17g" needs at most ~25 bytes
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", v);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

std::string_view to_lower_ascii(std::string_view in, char* buf, size_t cap) {
  if (in.size() > cap) return {};
  for (size_t i = 0; i < in.size(); ++i) buf[i] = ascii_lower(in[i]);
  return {buf, in.size()};
}

std::string to_lower_ascii(std::string_view in) {
  std::string out(in);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

void append_repr(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    switch (ch) {
      case '\\':
      case '"':
        out += '\\';
        out += ch;
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      default:
        if (std::isprint(static_cast<unsigned char>(ch))) {
          out += ch;
        } else {
          static constexpr char kHex[] = "0123456789abcdef";
          const auto b = static_cast<unsigned char>(ch);
          out += "\\x";
          out += kHex[b >> 4];
          out += kHex[b & 15];
        }
    }
  }
  out += '"';
}

}  // namespace setd::base
