// CRC-64 exactly as Redis computes it for RDB files, DUMP payloads and the
// replication stream (crc64.c: Jones polynomial 0xad93d23594c935a9,
// reflected input and output, initial value 0, no final xor).
// crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
//
// Dependency rule (module persist): see rdb_format.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace setd::persist {

// Continues a CRC over `len` more bytes (start with crc = 0). Table-driven,
// eight bytes per step.
uint64_t crc64(uint64_t crc, const void* data, size_t len) noexcept;
inline uint64_t crc64(uint64_t crc, std::string_view bytes) noexcept {
  return crc64(crc, bytes.data(), bytes.size());
}

}  // namespace setd::persist
