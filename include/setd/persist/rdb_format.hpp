// RDB file format constants: Redis's type and opcode bytes, versions.
//
// Dependency rule (module persist): db, ds, base, liblzf and the C++
// standard library. No server, no protocol, no sockets: the codec turns
// values into bytes and bytes into values; the server decides where the
// bytes go (files, replicas) and what to do with the values.
#pragma once

#include <cstdint>
#include <string_view>

namespace setd::persist::rdb {

// The version setd writes: Redis 7.0's, so that redis-server 7.0 and
// redis-check-rdb 7.0 read every dump.
inline constexpr int kVersion = 10;
// The newest version setd reads (Redis 7.4-8.x; Valkey 8 writes 11).
inline constexpr int kMaxReadVersion = 12;

// Value types (rdb.h).
enum Type : uint8_t {
  kTypeString = 0,
  kTypeList = 1,
  kTypeSet = 2,
  kTypeZset = 3,
  kTypeHash = 4,
  kTypeZset2 = 5,
  kTypeModulePreGa = 6,
  kTypeModule2 = 7,
  kTypeHashZipmap = 9,
  kTypeListZiplist = 10,
  kTypeSetIntset = 11,
  kTypeZsetZiplist = 12,
  kTypeHashZiplist = 13,
  kTypeListQuicklist = 14,
  kTypeStreamListpacks = 15,
  kTypeHashListpack = 16,
  kTypeZsetListpack = 17,
  kTypeListQuicklist2 = 18,
  kTypeStreamListpacks2 = 19,
  kTypeSetListpack = 20,  // Redis 7.2 (RDB 11)
  kTypeStreamListpacks3 = 21,
  kTypeHashMetadataPreGa = 22,  // Redis 7.4 release candidates
  kTypeHashListpackExPreGa = 23,
  kTypeHashMetadata = 24,  // Redis 7.4 (RDB 12): hash with field TTLs
  kTypeHashListpackEx = 25,
};

// Opcodes that are not value types.
enum Opcode : uint8_t {
  kOpSlotInfo = 244,  // Redis 7.4 cluster slot info
  kOpFunction2 = 245,
  kOpFunctionPreGa = 246,
  kOpModuleAux = 247,
  kOpIdle = 248,
  kOpFreq = 249,
  kOpAux = 250,
  kOpResizeDb = 251,
  kOpExpireTimeMs = 252,
  kOpExpireTime = 253,
  kOpSelectDb = 254,
  kOpEof = 255,
};

// Length encodings (first byte's top two bits) and special string encodings.
inline constexpr uint8_t kLen6Bit = 0;
inline constexpr uint8_t kLen14Bit = 1;
inline constexpr uint8_t kLen32Bit = 0x80;
inline constexpr uint8_t kLen64Bit = 0x81;
inline constexpr uint8_t kEncVal = 3;
inline constexpr uint8_t kEncInt8 = 0;
inline constexpr uint8_t kEncInt16 = 1;
inline constexpr uint8_t kEncInt32 = 2;
inline constexpr uint8_t kEncLzf = 3;

// The Redis type name of an RDB value type, as TYPE would print it
// ("string", "list", "set", "zset", "hash", "stream", "module"), or "" for a
// byte that is not a value type.
std::string_view type_name(uint8_t type);

// True if `b` is a value type byte this format version range knows.
bool is_value_type(uint8_t b);

}  // namespace setd::persist::rdb
