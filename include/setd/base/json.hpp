// JSON string literals from arbitrary bytes (for machine-readable output such
// as logs and introspection replies).
//
// Dependency rule (module base): the C++ standard library only.
#pragma once

#include <string>
#include <string_view>

namespace setd::base {

// Appends `bytes` to `out` as one JSON string literal, quotes included.
// Contract:
//  - '"' -> \"  and  '\' -> \\ .
//  - Control bytes below 0x20: \b \f \n \r \t for those five, otherwise
//    \u00xx with lower-case hex (0x01 -> \u0001, 0x1f -> \u001f). 0x7f is
//    copied as is (JSON allows it).
//  - Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates
//    U+D800..U+DFFF, nothing above U+10FFFF) is copied unchanged.
//  - Every other byte -- a stray continuation byte, C0/C1/F5..FF, the lead
//    byte of a truncated, overlong or surrogate sequence -- becomes \u00xx
//    with that byte's value (so 0xff -> \u00ff), and decoding resumes at the
//    next byte.
// The output is therefore always valid UTF-8 and valid JSON, and distinct
// valid-UTF-8 inputs give distinct outputs.
void json_append_string(std::string& out, std::string_view bytes);

}  // namespace setd::base
