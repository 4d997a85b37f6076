// RDB decoding: dump files of Redis 2.6 to 8.x (RDB versions 1-12), the AOF's
// RDB preamble, a replica's full-sync payload and DUMP payloads.
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// setd holds strings and sets. It reads every encoding Redis ever used for
// them: strings (raw, INT8/16/32, LZF), sets as RDB_TYPE_SET,
// RDB_TYPE_SET_INTSET and RDB_TYPE_SET_LISTPACK (Redis 7.2+). Loaded sets
// get the encoding Redis 7.2's rdbLoadObject gives them (DecodeOptions::
// set_limits): a plain set of more than set-max-intset-entries members is a
// hashtable; otherwise an intset while every member is an integer, which
// becomes a listpack at the first other member if the set fits one
// (set-max-listpack-entries, set-max-listpack-value), else a hashtable; a
// listpack set blob stays a listpack (whatever its members' lengths)
// unless it has more than set-max-listpack-entries members. With
// set-max-listpack-entries 0 these are Redis 7.0's rules (a listpack blob
// is loaded member by member as a plain set). Values of every other type (list, hash, zset,
// stream, module) are parsed far enough to be skipped when the caller asks
// for that, and otherwise stop decoding with an error naming the key and its
// type.
//
// Hostile input: every length is checked against what can still be read
// before anything is allocated for it (strings grow with the bytes actually
// read; element counts never reserve more than the input can hold), LZF
// lengths are checked against LZF's maximum expansion, intsets and
// listpacks are validated entry by entry (sizes, ordering, terminators), a
// set with duplicate members is an error, and nothing recurses. A decode
// error never leaves a partial value behind: values reach the visitor only
// whole. Values of skipped types are walked through without being built:
// their strings are read into a fixed 64 KiB buffer and dropped (ziplists,
// listpacks and the like are not validated then, only their framing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "setd/db/value.hpp"
#include "setd/persist/rdb_format.hpp"

namespace setd::persist {

// Where RDB bytes come from. read() returns how many bytes it produced
// (fewer than asked only at the end of the input); on an I/O error it sets
// error() and returns 0. offset() is the number of bytes produced so far.
class Source {
 public:
  virtual ~Source() = default;
  virtual size_t read(char* buf, size_t n) = 0;
  // How many bytes at most remain, if known (a file); UINT64_MAX if not (a
  // socket). Lets the decoder refuse impossible lengths at once: a length
  // beyond it is reported as truncated input without reading on.
  virtual uint64_t remaining_hint() const { return UINT64_MAX; }
  uint64_t offset() const { return offset_; }
  const std::string& error() const { return error_; }

 protected:
  uint64_t offset_ = 0;
  std::string error_;
};

// Bytes in memory (DUMP payloads, tests).
class StringSource final : public Source {
 public:
  explicit StringSource(std::string_view bytes) : bytes_(bytes) {}
  size_t read(char* buf, size_t n) override;
  uint64_t remaining_hint() const override { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// A file descriptor, read through a buffer (the fd is not closed). read()
// never reads ahead more than it keeps buffered, and the bytes it buffered
// but did not hand out are available through unread() (an AOF whose RDB
// preamble is followed by commands).
class FdSource final : public Source {
 public:
  // `size` is how many bytes the fd holds from its current position (the
  // file's size when reading from the start; UINT64_MAX if unknown). A read
  // of buffer_bytes or more with the buffer empty goes straight to the
  // caller's memory.
  explicit FdSource(int fd, uint64_t size = UINT64_MAX, size_t buffer_bytes = 1 << 20);
  size_t read(char* buf, size_t n) override;
  uint64_t remaining_hint() const override;
  // Buffered bytes not yet handed out.
  std::string_view unread() const { return {buf_.data() + pos_, len_ - pos_}; }

 private:
  int fd_;
  uint64_t size_;
  std::string buf_;
  size_t pos_ = 0;
  size_t len_ = 0;
};

struct DecodeOptions {
  // set-max-intset-entries, set-max-listpack-entries and
  // set-max-listpack-value: the encoding loaded sets get.
  ds::SetLimits set_limits;
  // Skip values of types setd cannot hold instead of failing.
  bool skip_unsupported = false;
  // Check the trailing CRC-64 (RDB version >= 5) when the file has one
  // (a checksum of 0 means the writer did not compute it: accepted).
  bool verify_checksum = true;
};

// One key read from the input.
struct LoadedKey {
  int db = 0;
  std::string key;
  db::Object value;
  int64_t expire_ms = -1;     // absolute unix time in ms, -1 = no TTL
  int64_t idle_seconds = -1;  // RDB_OPCODE_IDLE, -1 if absent
  int freq = -1;              // RDB_OPCODE_FREQ, -1 if absent
};

// Receives what decode_rdb() reads, in file order.
class RdbVisitor {
 public:
  virtual ~RdbVisitor() = default;
  virtual void on_aux(std::string_view /*key*/, std::string_view /*value*/) {}
  virtual void on_select_db(int /*db*/) {}
  virtual void on_resize_db(uint64_t /*keys*/, uint64_t /*expires*/) {}
  // A key with a value setd holds. Returning a non-empty string stops
  // decoding with that error (e.g. a database index out of range).
  virtual std::string on_key(LoadedKey&& k) = 0;
  // A key skipped because its type is unsupported (only with
  // DecodeOptions::skip_unsupported).
  virtual void on_skipped(int /*db*/, std::string_view /*key*/, std::string_view /*type_name*/) {}
  // A set or value found empty (Redis skips those with a warning).
  virtual void on_empty_key(int /*db*/, std::string_view /*key*/) {}
  // A function library (RDB_OPCODE_FUNCTION2, or a 7.0 release candidate's
  // RDB_OPCODE_FUNCTION turned into the same "#!<engine> name=<lib>" code).
  // Returns "" or an error that stops decoding. Visitors that do not take
  // functions leave accepts_functions() false: libraries are then skipped
  // (skip_unsupported) or an error, as before.
  virtual bool accepts_functions() const { return false; }
  virtual std::string on_function(std::string&& /*code*/) { return ""; }
  // Called every few MB of input: lets a server answer clients while it
  // loads. Returning false aborts with "loading aborted".
  virtual bool on_progress(uint64_t /*offset*/) { return true; }
};

struct DecodeResult {
  bool ok = false;
  std::string error;     // what is wrong, e.g. "Unknown RDB value type 31 for key 'k'"
  uint64_t offset = 0;   // where in the input (bytes from the start) the error was found
  int version = 0;       // the RDB version read from the header
  uint64_t keys = 0;     // keys handed to on_key
  uint64_t skipped = 0;  // keys skipped (unsupported types and empty values)
  // Function libraries (RDB_OPCODE_FUNCTION2) met and skipped.
  uint64_t functions_skipped = 0;
};

// Reads one whole RDB stream from `src`: the "REDIS" magic and version
// (1..kMaxReadVersion), opcodes and keys up to RDB_OPCODE_EOF, then the
// checksum (version >= 5). Stops right after the checksum: the source is
// positioned there (an AOF may go on with commands). A function library
// (RDB_OPCODE_FUNCTION2) is skipped when skip_unsupported is set, and is an
// error otherwise ("... contains Lua functions, which setd does not
// support"); module aux data (RDB_OPCODE_MODULE_AUX) is skipped.
DecodeResult decode_rdb(Source& src, RdbVisitor& visitor, const DecodeOptions& opts);

// DUMP / RESTORE payloads: <type> <value> <RDB version: 2 bytes LE>
// <CRC-64 of everything before: 8 bytes LE>.
std::string dump_payload(db::ValueView v, bool compress);

struct RestoreResult {
  std::optional<db::Object> value;
  // Redis 7.0's texts: "DUMP payload version or checksum are wrong" (footer
  // missing, version newer than kMaxReadVersion, CRC mismatch) or "Bad data
  // format" (the value does not decode, trailing bytes); for a type setd
  // cannot hold: "Bad data format: setd cannot hold a <type> value".
  std::string error;
};
RestoreResult restore_payload(std::string_view payload, const DecodeOptions& opts);

// FUNCTION DUMP: one RDB_OPCODE_FUNCTION2 record per library code, then the
// footer above (strings LZF-compressed past 20 bytes when `compress`).
std::string functions_payload(const std::vector<std::string>& codes, bool compress);
// FUNCTION RESTORE: the library codes in such a payload; `error` is Redis's
// text: "DUMP payload version or checksum are wrong", "can not read data
// type", "given type is not a function", "failed loading the given functions
// payload".
struct FunctionsPayload {
  std::vector<std::string> codes;
  std::string error;
};
FunctionsPayload decode_functions_payload(std::string_view payload, bool verify_checksum);

}  // namespace setd::persist
