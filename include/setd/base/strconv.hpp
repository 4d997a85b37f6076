// Number <-> string conversions with exactly Redis 7.0's rules (util.c and
// object.c), plus small ASCII helpers for case-insensitive lookups.
//
// Dependency rule (module base): the C++ standard library only.
//
// Facts checked against redis-server 7.0.15:
//   SADD k -0 / 007 / +1 / " 1" / "1 " / 9223372036854775808 -> hashtable
//   encoding (string2ll rejects them); SADD k 0 / -1 / LLONG_MIN / LLONG_MAX
//   -> intset.
//   INCRBYFLOAT: 10.5 then +0.1 -> "10.6"; SET 3.0e3, +0 -> "3000";
//   SET 5.0e3, +2.0e3 -> "7000"; 1 + -1 -> "0"; -1e-19 + 0 -> "0";
//   1e20 -> "100000000000000000000"; increments "inf" -> "increment would
//   produce NaN or Infinity"; "nan", " 1", "1 ", "" and "1e-5000" (underflow
//   to 0) -> "value is not a valid float"; "0x10" is accepted (= 16);
//   "4e-4940" (denormal, ERANGE but not 0) is accepted.
//   ZSCORE (addReplyDouble): 1.1 -> "1.1000000000000001", 1e17 -> "1e+17",
//   1e-7 -> "9.9999999999999995e-08", +inf -> "inf", -inf -> "-inf",
//   -0.0 -> "-0" (skiplist-encoded zset; a listpack zset stores "0");
//   RESP2 sends it as a bulk string, RESP3 as ",<text>\r\n".
//   INCRBY / SADD-intset / XADD ids confirm string2ll and string2ull below;
//   ZADD scores and INCRBYFLOAT increments were also fuzzed (thousands of
//   random inputs) against redis-server with identical accept/reject results
//   and reply texts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace setd::base {

// Largest number of characters ll_to_string()/ull_to_string() produce
// ("-9223372036854775808" and "18446744073709551615" are both 20).
inline constexpr size_t kMaxLongLongChars = 20;

// Longest input string_to_ld() accepts is one less than this
// (MAX_LONG_DOUBLE_CHARS in Redis).
inline constexpr size_t kMaxLongDoubleChars = 5 * 1024;

// Redis string2ll(). Returns true and stores the value in `out` when `s` is
// the canonical decimal spelling of a long long: optional '-', then "0" or a
// digit 1-9 followed by digits, nothing else, within range. Rejected: empty,
// 21+ bytes, spaces anywhere, '+', leading zeros ("007"), "-0", "-",
// overflow. `out` is untouched on failure. This is also the test for "can
// this set member live in an intset".
bool string_to_ll(std::string_view s, long long& out);

// Redis getLongLongFromObject() on a string argument: in 7.0 it is exactly
// string2ll() (so "-0", " 1", "+1", "007" are "not an integer or out of
// range"). Provided as its own name for readability at call sites.
inline bool parse_long_long_arg(std::string_view s, long long& out) { return string_to_ll(s, out); }

// Redis string2ull(). The input is a C string there, so bytes from the first
// NUL on are ignored. First tries string2ll(): success with a negative value
// is a failure. Otherwise falls back to strtoull(base 10) semantics, which are
// laxer: leading C-locale whitespace, a '+' or '-' sign and leading zeros are
// accepted, trailing bytes are not, values above 2^64-1 are rejected, and a
// '-' sign negates modulo 2^64 -- so "-0" gives 0 and "-01" gives
// 18446744073709551615, as in Redis. `out` is untouched on failure.
bool string_to_ull(std::string_view s, unsigned long long& out);

// Redis string2ld() (INCRBYFLOAT, getLongDoubleFromObject). strtold() on a
// copy of the bytes; fails when `s` is empty or kMaxLongDoubleChars bytes or
// longer, starts with whitespace, has unparsed trailing bytes, overflows
// (+-HUGE_VALL) or underflows to zero, or is NaN. Accepted: hex floats
// ("0x10"), "inf"/"infinity" (any case), denormals. strtold() must consume
// every byte, so an embedded NUL fails ("5\0" is rejected, as by
// redis-server 7.0.15). `out` is untouched on failure.
bool string_to_ld(std::string_view s, long double& out);

// Redis string2d() as used by getDoubleFromObject(): strtod() must consume
// every byte of `s` (so embedded NULs and trailing garbage fail); fails on
// empty input, leading whitespace, overflow, underflow to zero, and NaN.
// Accepts "inf", "-inf", hex floats and denormals. `out` is untouched on
// failure.
bool string_to_double(std::string_view s, double& out);

// Writes the decimal spelling of `v` to buf[0, n) and returns n (no NUL is
// written). `buf` must have room for kMaxLongLongChars bytes.
size_t ll_to_string(char* buf, long long v);
size_t ull_to_string(char* buf, unsigned long long v);

// The decimal spelling of `v`, as a string.
std::string ll_to_string(long long v);

// Redis ld2string(..., LD_STR_HUMAN), the INCRBYFLOAT reply and stored
// value: "%.17Lf", then trailing zeros after the '.' and a bare '.' removed,
// and "-0" becomes "0". +-infinity give "inf"/"-inf"; NaN gives whatever
// printf prints ("nan" or "-nan"). Never uses exponent notation.
std::string ld_to_string_human(long double v);

// The text Redis 7.0's addReplyDouble() puts on the wire for `v`: "inf" or
// "-inf" for infinities, otherwise printf "%.17g" (so 1.1 ->
// "1.1000000000000001", 3 -> "3", 1e17 -> "1e+17", -0.0 -> "-0", NaN ->
// "nan"/"-nan"). Only the payload is returned: RESP2 sends it as a bulk
// string "$<len>\r\n<text>\r\n", RESP3 as ",<text>\r\n".
std::string double_to_resp(double v);

// What C's "%s" prints of `s`: up to its first NUL byte. Redis's error texts
// quote arguments that way.
inline std::string_view c_string_view(std::string_view s) { return s.substr(0, s.find('\0')); }

// ASCII lower-casing into a caller buffer: copies `in` to buf[0, in.size())
// with A-Z folded and returns a view of it. If in.size() > cap nothing is
// written and an empty view with a null data() is returned (a command name
// that long cannot be a real command).
std::string_view to_lower_ascii(std::string_view in, char* buf, size_t cap);

// ASCII lower-casing into a new string.
std::string to_lower_ascii(std::string_view in);

// Redis's sdscatrepr: appends `s` double-quoted, with \\ \" \n \r \t \a
// \b escaped and other unprintable bytes as \xhh (MONITOR lines, the AOF
// manifest's file names).
void append_repr(std::string& out, std::string_view s);

// ASCII case-insensitive equality (only A-Z/a-z fold, like strcasecmp in the
// C locale).
bool iequals(std::string_view a, std::string_view b);

}  // namespace setd::base
