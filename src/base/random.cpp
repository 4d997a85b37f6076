#include "setd/base/random.hpp"

namespace setd::base {

Rng& rng() {
  static Rng instance;
  return instance;
}

}  // namespace setd::base
