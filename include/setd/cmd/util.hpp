// Small helpers shared by the command families.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "setd/cmd/command.hpp"

namespace setd::cmd {

// Case-insensitive ASCII comparison of an argument with a keyword.
bool is(std::string_view arg, std::string_view keyword);

// Replies with Redis's HELP layout: "<NAME> <subcommand> ..." then the given
// lines, then "HELP" / "    Prints this help.", each as a simple string.
void reply_help(Context& ctx, std::string_view container,
                std::initializer_list<std::string_view> lines);

// Parses an integer argument; on failure replies with Redis's error and
// returns false.
bool parse_ll(Context& ctx, std::string_view arg, long long& out);

// CLIENT LIST / CLIENT INFO line for one client (without the final '\n').
std::string client_info_line(const server::Client& c, int64_t now_ms);

}  // namespace setd::cmd
