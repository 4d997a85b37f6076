// Splitting of inline commands and config-file lines into arguments, exactly
// like Redis 7.0's sdssplitargs().
//
// Dependency rule (module base): the C++ standard library only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace setd::base {

// Splits `line` into arguments; returns std::nullopt where sdssplitargs()
// returns NULL. Contract (byte-for-byte Redis 7.0):
//  - Arguments are separated by runs of C-locale whitespace (space, \t, \n,
//    \v, \f, \r). An unquoted argument, however, ends only at space, \t, \n,
//    \r or the end, so \v and \f inside a word belong to it.
//  - "double quotes": \n \r \t \b \a are the usual controls, \xHH (two hex
//    digits, any case) is that byte, and a backslash before any other byte
//    (including \\ and \") yields that byte; "\x4g" yields "x4g".
//  - 'single quotes': only \' is an escape; every other byte, including a
//    backslash, is literal.
//  - A quote may also open in the middle of a word (ab"c d" -> "abc d").
//  - A closing quote must be followed by whitespace or the end of the line,
//    otherwise the whole line is an error ("a"b -> nullopt).
//  - An unterminated quote is an error.
//  - Like Redis, which sees a C string, the line ends at its first NUL byte
//    (a NUL inside quotes therefore means an unterminated quote). A "\x00"
//    escape does produce a NUL inside an argument.
//  - An empty or all-blank line gives an empty vector (not nullopt).
std::optional<std::vector<std::string>> split_args(std::string_view line);

}  // namespace setd::base
