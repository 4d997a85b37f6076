// Placeholder: the string command family registers its commands here.
#include "setd/cmd/dispatcher.hpp"

namespace setd::cmd {

void register_string_commands(Registry&) {}

}  // namespace setd::cmd
