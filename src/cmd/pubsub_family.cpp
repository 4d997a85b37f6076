// Placeholder: the pubsub command family registers its commands here.
#include "setd/cmd/dispatcher.hpp"

namespace setd::cmd {

void register_pubsub_commands(Registry&) {}

}  // namespace setd::cmd
