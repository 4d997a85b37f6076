#include "setd/base/clock.hpp"

#include <chrono>

namespace setd::base {

namespace {
int64_t g_now = 0;
int64_t g_pinned = -1;
}  // namespace

int64_t system_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t monotonic_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t now_ms() {
  if (g_pinned >= 0) return g_pinned;
  if (g_now == 0) g_now = system_ms();
  return g_now;
}

void refresh_now() { g_now = system_ms(); }

void pin_now(int64_t ms) { g_pinned = ms; }

}  // namespace setd::base
