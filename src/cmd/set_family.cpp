// Placeholder: the set command family registers its commands here.
#include "setd/cmd/dispatcher.hpp"

namespace setd::cmd {

void register_set_commands(Registry&) {}

}  // namespace setd::cmd
