#include "setd/base/glob.hpp"

namespace setd::base {

namespace {

// ASCII-only tolower on an int that may be negative (a signed char value).
int fold(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

// A pattern byte as Redis sees it on x86: `char` is signed.
int as_signed(char c) { return static_cast<signed char>(c); }

bool same_byte(char a, char b, bool nocase) {
  return nocase ? fold(as_signed(a)) == fold(as_signed(b)) : a == b;
}

// The matcher walks `p` towards `pend` and `s` towards `send`. Redis reads
// the pattern's NUL terminator in a few places (pattern[1] at the last byte,
// pattern[0] once the pattern is exhausted inside a bracket, and the trailing
// '*' strip); peek() reproduces that by returning '\0' at or past the end.
class Matcher {
 public:
  Matcher(const char* pend, const char* send, bool nocase)
      : pend_(pend), send_(send), nocase_(nocase) {}

  bool match(const char* p, const char* s, int nesting) {
    if (nesting > kGlobMaxNesting) return false;
    while (p < pend_ && s < send_) {
      switch (*p) {
        case '*':
          // Collapse a run of stars into its last one.
          while (peek(p + 1) == '*') ++p;
          if (pend_ - p == 1) return true;  // trailing star eats the rest
          for (; s < send_; ++s) {
            if (match(p + 1, s, nesting + 1)) return true;
            if (skip_longer_) return false;
          }
          // The tail after this star failed at every remaining position, so
          // giving earlier stars more bytes cannot help either.
          skip_longer_ = true;
          return false;
        case '?':
          ++s;
          break;
        case '[':
          p = bracket(p + 1, *s);
          if (p == nullptr) return false;
          ++s;
          break;
        case '\\':
          if (pend_ - p >= 2) ++p;
          [[fallthrough]];
        default:
          if (!same_byte(*p, *s, nocase_)) return false;
          ++s;
          break;
      }
      ++p;
      if (s == send_) {
        while (peek(p) == '*') ++p;
        break;
      }
    }
    return p == pend_ && s == send_;
  }

 private:
  char peek(const char* q) const { return q < pend_ ? *q : '\0'; }

  // `p` is just past '['. Returns the position of the bracket's last byte
  // (normally the ']') when `c` is accepted, nullptr when it is not.
  const char* bracket(const char* p, char c) const {
    const bool negate = peek(p) == '^';
    if (negate) ++p;
    bool matched = false;
    for (;;) {
      if (peek(p) == '\\' && pend_ - p >= 2) {
        ++p;
        if (*p == c) matched = true;  // escapes ignore nocase, like Redis
      } else if (peek(p) == ']') {
        break;
      } else if (p >= pend_) {
        --p;  // unterminated: the caller's ++p lands exactly on the end
        break;
      } else if (pend_ - p >= 3 && p[1] == '-') {
        int lo = as_signed(p[0]);
        int hi = as_signed(p[2]);
        int ch = as_signed(c);
        if (lo > hi) {
          const int t = lo;
          lo = hi;
          hi = t;
        }
        if (nocase_) {
          lo = fold(lo);
          hi = fold(hi);
          ch = fold(ch);
        }
        p += 2;
        if (ch >= lo && ch <= hi) matched = true;
      } else if (same_byte(*p, c, nocase_)) {
        matched = true;
      }
      ++p;
    }
    if (negate) matched = !matched;
    return matched ? p : nullptr;
  }

  const char* pend_;
  const char* send_;
  bool nocase_;
  bool skip_longer_ = false;
};

}  // namespace

bool glob_match(std::string_view pattern, std::string_view str, bool nocase) {
  Matcher m(pattern.data() + pattern.size(), str.data() + str.size(), nocase);
  return m.match(pattern.data(), str.data(), 0);
}

}  // namespace setd::base
