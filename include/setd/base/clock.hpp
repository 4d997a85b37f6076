// Wall-clock time in milliseconds, cached per command the way Redis caches
// its time: expiry decisions made while one command runs all see the same
// "now". The server refreshes it before each command; tests may pin it.
#pragma once

#include <cstdint>

namespace setd::base {

// Milliseconds since the Unix epoch, read from the system clock right now.
int64_t system_ms();
// Microseconds since an arbitrary fixed point (monotonic), for durations.
int64_t monotonic_us();

// The cached "now" (ms since epoch).
int64_t now_ms();
// Refreshes the cache from the system clock, unless pinned.
void refresh_now();
// Pins "now" to `ms` (tests); pass a negative value to unpin.
void pin_now(int64_t ms);

}  // namespace setd::base
