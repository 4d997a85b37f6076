// Seeded hashing for the ds module's hash tables.
//
// Every HashSet hashes its members with XXH3-64 under one process-wide seed.
// The server seeds it randomly once at start-up so that an attacker cannot
// precompute colliding members (hash flooding); tests may set a fixed seed.
//
// Dependency rule (module ds): std, xxHash, setd/base only.
#pragma once

#include <cstdint>
#include <string_view>

namespace setd::ds {

namespace detail {
// The seed itself. Read on every hash, so it is a plain inline variable; use
// set_hash_seed() / hash_seed() rather than touching it.
inline uint64_t g_hash_seed = 0;
}  // namespace detail

// Sets the process-wide hash seed.
// Contract: call it before any HashSet holds a member (normally once, at
// start-up, before other threads exist). Changing the seed while a non-empty
// HashSet exists silently breaks that set's lookups, because its members were
// placed under the old seed. Not thread-safe against concurrent hashing.
void set_hash_seed(uint64_t seed) noexcept;

// Returns the current process-wide seed (0 until set_hash_seed is called).
inline uint64_t hash_seed() noexcept { return detail::g_hash_seed; }

// Returns XXH3_64bits_withSeed(bytes, hash_seed()). Binary-safe: any bytes,
// any length (including empty). Deterministic for a given seed.
uint64_t hash_bytes(std::string_view bytes) noexcept;

}  // namespace setd::ds
