// Values stored in the keyspace: strings and sets.
//
// Dependency rule (module db): ds and base only; no protocol, no server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "setd/ds/set_object.hpp"

namespace setd::db {

enum class Type : uint8_t { kString, kSet };

// How OBJECT ENCODING describes a string: Redis stores integer-looking
// strings as "int", short ones as "embstr" and the rest (or any string that
// was modified in place, e.g. by APPEND) as "raw".
enum class StringEncoding : uint8_t { kInt, kEmbstr, kRaw };

struct StringValue {
  std::string bytes;
  StringEncoding encoding = StringEncoding::kRaw;
};

// The LRU clock of OBJECT IDLETIME: base::now_ms() in whole seconds.
uint32_t lru_clock();

class Value {
 public:
  // A string value; its encoding is chosen as Redis's tryObjectEncoding does
  // (int when the text is a canonical 64-bit integer, embstr up to 44 bytes).
  static Value string(std::string bytes);
  // A string value whose encoding is forced (APPEND/SETRANGE make "raw").
  static Value string(std::string bytes, StringEncoding enc);
  static Value set(ds::SetObject set);

  Value() = default;
  Value(Value&&) noexcept = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  // Replacing a value in place (`*v = Value::string(...)`) keeps the slot's
  // snapshot mark: the mark belongs to the keyspace entry, and a snapshot
  // decides by it whether the entry still has to be saved.
  Value& operator=(Value&& other) noexcept {
    const bool mark = snap_mark;
    data_ = std::move(other.data_);
    lru_seconds = other.lru_seconds;
    freq = other.freq;
    private_int = other.private_int;
    snap_mark = mark;
    return *this;
  }

  Type type() const { return data_.index() == 0 ? Type::kString : Type::kSet; }
  const char* type_name() const { return type() == Type::kString ? "string" : "set"; }
  const char* encoding_name() const;

  StringValue& as_string() { return std::get<StringValue>(data_); }
  const StringValue& as_string() const { return std::get<StringValue>(data_); }
  ds::SetObject& as_set() { return std::get<ds::SetObject>(data_); }
  const ds::SetObject& as_set() const { return std::get<ds::SetObject>(data_); }

  // Approximate heap bytes the value owns beyond itself (string buffer, set
  // tables and members).
  size_t heap_bytes() const;

  // Last access time (seconds, for OBJECT IDLETIME) and access counter
  // (OBJECT FREQ).
  uint32_t lru_seconds = 0;
  uint8_t freq = 0;
  // An int-encoded string that Redis would hold as a private object rather
  // than one of its shared integers 0..9999 (COPY duplicates those): OBJECT
  // REFCOUNT answers 1 for it instead of 2147483647.
  bool private_int = false;
  // Point-in-time snapshots (Database::SnapshotObserver): the value has been
  // saved by the running snapshot when this equals the database's mark.
  // Only the Database sets it.
  bool snap_mark = false;

 private:
  std::variant<StringValue, ds::SetObject> data_;
};

}  // namespace setd::db
