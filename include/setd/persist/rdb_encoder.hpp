// RdbEncoder: appends RDB encodings (Redis 7.0, RDB version 10) to a byte
// string. The same encodings serve dump files, the AOF's RDB preamble, a
// replica's full sync and DUMP payloads.
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// Encodings, exactly as Redis 7.0's rdb.c writes them:
//  * lengths: 6-bit, 14-bit, 32-bit (0x80) or 64-bit (0x81) forms, the
//    shortest that fits;
//  * strings (rdbSaveRawString): up to 11 bytes that are a canonical 64-bit
//    integer fitting in 32 bits -> integer encoding (INT8/16/32); else, with
//    compression on and more than 20 bytes, LZF when it saves at least 4
//    bytes; else length + bytes. A string's bytes alone decide its encoding
//    (Redis's int-encoded objects come out the same);
//  * sets: an intset-encoded set as RDB_TYPE_SET_INTSET (Redis's intset
//    blob: uint32 encoding (2/4/8), uint32 length, little-endian members at
//    that width, saved as a string, so LZF applies), a listpack or a
//    hashtable as RDB_TYPE_SET (length, then each member as a string: Redis
//    7.0 has no listpack sets, and 7.2 reads these too).
//  * integers in opcodes (EXPIRETIME_MS) little-endian, 8 bytes.
//
// Cost: nothing is allocated per member. Members are appended straight to
// the output; LZF compresses into a scratch buffer the encoder keeps (and
// reuses) for its lifetime, as large as the longest string compressed, and
// an intset's blob is built in a second one. Keep one encoder per snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "setd/db/value.hpp"
#include "setd/persist/rdb_format.hpp"

namespace setd::persist {

struct EncodeOptions {
  bool compress = true;  // rdbcompression
};

class RdbEncoder {
 public:
  explicit RdbEncoder(std::string* out, EncodeOptions opts = {}) : out_(out), opts_(opts) {}

  // Where the next bytes go (the caller may swap buffers between keys).
  void set_output(std::string* out) { out_ = out; }
  std::string* output() const { return out_; }
  const EncodeOptions& options() const { return opts_; }

  // "REDIS" followed by the four-digit version.
  void magic(int version = rdb::kVersion);
  // RDB_OPCODE_AUX key value (an integer value is written as its decimal
  // text, which the string encoding then stores as an integer).
  void aux(std::string_view key, std::string_view value);
  void aux(std::string_view key, long long value);
  void select_db(uint64_t db);
  void resize_db(uint64_t keys, uint64_t expires);
  // One key: [EXPIRETIME_MS <ms>] [IDLE <s>] [FREQ <n>] <type> <key>
  // <value>; expire_ms, idle or freq < 0 leave their field out.
  void key_value(std::string_view key, db::ValueView v, int64_t expire_ms, long long idle = -1,
                 int freq = -1);
  // The fields before a key's type: [EXPIRETIME_MS] [IDLE] [FREQ].
  void key_prefix(int64_t expire_ms, long long idle = -1, int freq = -1);
  // <type> <value>: what DUMP serializes before its footer.
  void typed_value(db::ValueView v);
  // RDB_OPCODE_EOF (the caller appends the 8-byte checksum, which covers
  // this byte too).
  void eof();

  // Primitives.
  void type(uint8_t t) { out_->push_back(static_cast<char>(t)); }
  void length(uint64_t len);
  void string(std::string_view s);
  void raw(std::string_view bytes) { out_->append(bytes); }
  void u64_le(uint64_t v);

  // The RDB type byte `v` is saved with.
  static uint8_t type_of(db::ValueView v);

 private:
  void value_payload(db::ValueView v);
  void intset_payload(const ds::IntSet& is);

  std::string* out_;
  EncodeOptions opts_;
  std::string lzf_buf_;   // LZF output scratch
  std::string blob_buf_;  // intset blob scratch
};

}  // namespace setd::persist
