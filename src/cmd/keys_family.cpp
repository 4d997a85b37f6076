// Placeholder: the keyspace command family registers its commands here.
#include "setd/cmd/dispatcher.hpp"

namespace setd::cmd {

void register_keyspace_commands(Registry&) {}

}  // namespace setd::cmd
