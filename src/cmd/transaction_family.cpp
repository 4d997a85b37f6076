// Placeholder: the transaction command family registers its commands here.
#include "setd/cmd/dispatcher.hpp"

namespace setd::cmd {

void register_transaction_commands(Registry&) {}

}  // namespace setd::cmd
