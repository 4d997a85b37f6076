// Glob-style pattern matching with exactly Redis 7.0's stringmatchlen()
// semantics (KEYS, SCAN/SSCAN MATCH, PSUBSCRIBE, ...).
//
// Dependency rule (module base): the C++ standard library only.
#pragma once

#include <string_view>

namespace setd::base {

// Recursion depth limit for '*' (each '*' that has to try several string
// positions recurses once). A pattern whose matching would nest deeper than
// this simply does not match, exactly like redis-server 7.0.15 as shipped
// (the CVE-2024-31228 guard: "*a" x 1000 can match, "*a" x 1001 never does).
inline constexpr int kGlobMaxNesting = 1000;

// Returns true when `str` matches `pattern`. Both are binary safe (embedded
// NUL bytes are ordinary bytes). Contract, byte-for-byte Redis 7.0:
//   *       any run of bytes, including none -- but only while there is string
//           left: an empty `str` is matched by the empty pattern only, so
//           glob_match("*", "") is false, exactly as in Redis. (Redis's KEYS
//           and SCAN special-case the pattern "*" before calling the matcher;
//           callers that want that shortcut must do it themselves.)
//   ?       any single byte
//   [abc]   one byte of the set; [^abc] negates; [a-z] is a range and reversed
//           ranges ([z-a]) work; range bounds compare as *signed* chars, as in
//           Redis on x86 (so bytes >= 0x80 sort before '\0'); \x inside the
//           brackets is a literal x (compared case-sensitively even when
//           nocase); an unterminated bracket ends the pattern after matching
//           the bytes seen so far ("[abc" matches "a"; "[" matches nothing;
//           "[^" matches any single byte).
//   \x      the literal byte x; a trailing lone '\' is a literal '\'.
//   other   the literal byte.
// nocase folds ASCII A-Z only (the C locale, as Redis runs).
// Complexity: polynomial. Like Redis 7.0 (CVE-2022-36021 fix) once the tail
// after a '*' failed at every remaining position, all enclosing '*' give up
// too, so patterns like "*a*a*a*a*a*a*b" against long strings stay fast.
// Recursion depth is bounded by kGlobMaxNesting.
bool glob_match(std::string_view pattern, std::string_view str, bool nocase = false);

}  // namespace setd::base
