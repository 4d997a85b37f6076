// Values of the keyspace: strings and sets.
//
// Dependency rule (module db): ds and base only; no protocol, no server.
//
// Two shapes of the same thing:
//  * Object: a value on its own (what a command builds before storing it,
//    and what Database::take() hands back). Movable; ordinary members.
//  * Value: a value inside the keyspace. It is the 8-byte header of a
//    keyspace entry (db/keyspace.hpp) and reads the rest of the entry --
//    the value word, the TTL, the key, an embedded string -- at offsets from
//    itself, so it is never copied or moved, only referred to. A Value& stays
//    valid until its key is deleted, replaced (Database::set) or given or
//    denied a TTL (set_expire / persist reallocate the entry).
//
// Entry layout (one allocation; offsets from the entry's start):
//
//    0  next         8   the hash chain (ds::ChainTable)
//    8  Value        8   meta: lru 24 bits (LRU clock, or LFU minute and
//                        counter) | spare 8 | key_len 8 | emb_len 8
//                        | kind 8 | flags 8
//   16  word         8   (absent when the string is embedded) a raw string's
//                        heap block, or the set's ds::SetObject itself (one
//                        tagged word: intset / listpack blob or HashSet*)
//    .  expire       8   (when flagged) unix time in ms
//    .  key_len32    4   (keys of 255 bytes or more) the key's length
//    .  key          key_len bytes
//    .  string       emb_len bytes (embedded strings: int and embstr)
//
// So `SET user:123456:name v123456` costs one 39-byte allocation, 47 with a
// TTL; a set costs the header, the word and the key plus what the SetObject
// owns (one exactly sized blob for a small set).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <variant>

#include "setd/ds/set_object.hpp"

namespace setd::db {

enum class Type : uint8_t { kString, kSet };

// How OBJECT ENCODING describes a string: Redis stores integer-looking
// strings as "int", short ones as "embstr" and the rest (or any string that
// was modified in place, e.g. by APPEND) as "raw". setd embeds int and embstr
// strings in the keyspace entry and keeps raw ones in a heap block that can
// grow in place.
enum class StringEncoding : uint8_t { kInt, kEmbstr, kRaw };

// The longest string Redis keeps as "embstr".
inline constexpr size_t kEmbstrLimit = 44;

struct StringValue {
  std::string bytes;
  StringEncoding encoding = StringEncoding::kRaw;
};

// The LRU clock of OBJECT IDLETIME: base::now_ms() in whole seconds. Values
// keep its low 24 bits, as Redis's robj.lru (wraps after 194 days).
uint32_t lru_clock();
inline constexpr uint32_t kLruMask = (1u << 24) - 1;

// How accesses are recorded, which follows maxmemory-policy as in Redis 7.0:
// the 24-bit lru field holds the LRU clock, or under an LFU policy Redis's
// layout: the minute of the last decrement (16 bits) above a logarithmic
// access counter (8 bits). Switching at run time reinterprets the field, as
// Redis does (OBJECT IDLETIME / FREQ then answer what Redis answers). One
// process-wide setting: the server sets it from its configuration.
struct AccessTracking {
  bool lfu = false;        // LFU counters instead of the LRU clock
  bool save_idle = false;  // dumps record each key's idle time (an LRU policy)
  long long log_factor = 10;
  long long decay_time = 1;  // minutes per counter decrement (0 = never)
  // maxmemory with an LRU or LFU policy: new integer strings are private
  // objects, not Redis's shared integers (OBJECT REFCOUNT 1), since each
  // needs its own access data (MAXMEMORY_FLAG_NO_SHARED_INTEGERS).
  bool no_shared_integers = false;
};
AccessTracking& access_tracking() noexcept;
// Redis's LFU_INIT_VAL: a new value's counter, so that it is not evicted at
// once.
inline constexpr uint8_t kLfuInitVal = 5;
// The LFU clock: unix minutes, 16 bits.
uint32_t lfu_minutes() noexcept;
// The counter of an LFU lru field, decayed by the lfu-decay-time periods
// elapsed since its minute (LFUDecrAndReturn).
uint8_t lfu_decayed(uint32_t lru) noexcept;
// A counter after one access: incremented with probability
// 1 / ((counter - 5) * lfu-log-factor + 1) (LFULogIncr).
uint8_t lfu_log_incr(uint8_t counter) noexcept;

// A value outside the keyspace.
class Object {
 public:
  // A string value; its encoding is chosen as Redis's tryObjectEncoding does
  // (int when the text is a canonical 64-bit integer, embstr up to 44 bytes).
  static Object string(std::string bytes);
  // A string value whose encoding is forced (APPEND/SETRANGE make "raw").
  static Object string(std::string bytes, StringEncoding enc);
  static Object set(ds::SetObject set);

  Object() = default;
  Object(Object&&) noexcept = default;
  Object& operator=(Object&&) noexcept = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;

  Type type() const { return data_.index() == 0 ? Type::kString : Type::kSet; }
  // OBJECT ENCODING's name for it.
  const char* encoding_name() const noexcept;
  StringValue& as_string() { return std::get<StringValue>(data_); }
  const StringValue& as_string() const { return std::get<StringValue>(data_); }
  ds::SetObject& as_set() { return std::get<ds::SetObject>(data_); }
  const ds::SetObject& as_set() const { return std::get<ds::SetObject>(data_); }

  // Last access (lru_clock(), 24 bits; set when stored) and access counter.
  uint32_t lru = 0;
  uint8_t freq = 0;
  // Sets lru for a value stored now (Redis's createObject): the LRU clock,
  // or under LFU the current minute and kLfuInitVal.
  void stamp_access() noexcept;  // also applies no_shared_integers
  // An int-encoded string that Redis would hold as a private object rather
  // than one of its shared integers 0..9999 (COPY duplicates those): OBJECT
  // REFCOUNT answers 1 for it instead of 2147483647.
  bool private_int = false;

 private:
  std::variant<StringValue, ds::SetObject> data_;
};

// A raw string's heap block (one malloc'd allocation, grown by realloc).
struct StrBlock {
  size_t len;
  size_t cap;
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }
};

class Keyspace;

// A value inside the keyspace (see the top of this file).
class Value {
 public:
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  Type type() const noexcept { return static_cast<Type>(kind_); }
  const char* type_name() const noexcept { return type() == Type::kString ? "string" : "set"; }
  const char* encoding_name() const noexcept;

  // --- strings ---
  std::string_view str() const noexcept {
    if (flags_ & kEmbedded) return {payload() + emb_offset(), emb_len_};
    const StrBlock* b = block();
    return {b->data(), b->len};
  }
  StringEncoding string_encoding() const noexcept {
    return static_cast<StringEncoding>((flags_ >> kEncShift) & 3);
  }
  struct StringRef {
    std::string_view bytes;
    StringEncoding encoding;
  };
  StringRef as_string() const noexcept { return {str(), string_encoding()}; }
  // A raw string (string_encoding() == kRaw) changes in place: its bytes,
  // resized to `n` (new bytes zero-filled; capacity grows geometrically, as
  // an sds). Throws std::bad_alloc, leaving the string unchanged.
  char* raw_resize(size_t n);
  char* raw_data() noexcept { return block()->data(); }

  // --- sets ---
  ds::SetObject& as_set() noexcept { return *set_ptr(); }
  const ds::SetObject& as_set() const noexcept { return *set_ptr(); }

  // --- the entry ---
  std::string_view key() const noexcept { return {payload() + key_offset(), key_size()}; }
  bool has_expire() const noexcept { return (flags_ & kHasExpire) != 0; }
  // The TTL as a unix time in ms, or -1.
  int64_t expire_ms() const noexcept {
    if (!has_expire()) return -1;
    int64_t t;
    std::memcpy(&t, payload() + word_size(), sizeof t);
    return t;
  }

  // Last access time (24 bits of lru_clock()) and OBJECT IDLETIME from it.
  uint32_t lru() const noexcept { return lru_; }
  void set_lru(uint32_t clock) noexcept { lru_ = clock & kLruMask; }
  // Records an access: the LRU clock, or under LFU a decayed and
  // incremented counter (Redis's lookupKey / updateLFU).
  void touch() noexcept {
    if (access_tracking().lfu)
      touch_lfu();
    else
      set_lru(lru_clock());
  }
  // OBJECT FREQ under LFU: the counter, decayed.
  uint8_t lfu_counter() const noexcept { return lfu_decayed(lru_); }
  // Sets the access fields from a dump or RESTORE (objectSetLRUOrLFU):
  // under LFU `freq` (when >= 0) with the current minute; otherwise `idle`
  // seconds (when >= 0). False when nothing applied.
  bool set_lru_or_lfu(long long freq, long long idle) noexcept;
  uint64_t idle_seconds(uint32_t now_clock) const noexcept {
    return ((now_clock & kLruMask) - lru_) & kLruMask;
  }
  uint8_t freq() const noexcept { return static_cast<uint8_t>(freq_); }
  void touch_lfu() noexcept;
  void set_freq(uint8_t f) noexcept { freq_ = f; }
  bool private_int() const noexcept { return (flags_ & kPrivateInt) != 0; }
  // Point-in-time snapshots (Database::SnapshotObserver): the value has been
  // saved by the running snapshot when this equals the database's mark.
  // Only the Database and the snapshot set it.
  bool snap_mark() const noexcept { return (flags_ & kSnapMark) != 0; }
  void set_snap_mark(bool m) noexcept {
    flags_ = static_cast<uint8_t>(m ? flags_ | kSnapMark : flags_ & ~kSnapMark);
  }

  // Heap bytes of the entry and of what the value owns (string block, set
  // tables and members); the allocator's rounding is not counted.
  size_t heap_bytes() const noexcept;
  // MEMORY USAGE: the same with each allocation at the size the allocator
  // gives it (base::alloc::usable_size): the entry (key and embedded string
  // included), a raw string's block, a set's object and what the set counts
  // for its table and members (ds::SetObject::memory_bytes(), kept up to
  // date by the set: exact, no sampling).
  size_t usage_bytes() const noexcept;

 private:
  friend class Keyspace;
  Value() = default;
  ~Value() = default;

  static constexpr uint8_t kEmbedded = 1;     // string bytes follow the key
  static constexpr uint8_t kHasExpire = 2;    // expire present
  static constexpr uint8_t kLongKey = 4;      // key_len32 present
  static constexpr uint8_t kSnapMark = 8;     // see snap_mark()
  static constexpr uint8_t kPrivateInt = 16;  // see Object::private_int
  static constexpr int kEncShift = 5;         // 2 bits: StringEncoding

  char* payload() noexcept { return reinterpret_cast<char*>(this) + sizeof(Value); }
  const char* payload() const noexcept {
    return reinterpret_cast<const char*>(this) + sizeof(Value);
  }
  size_t word_size() const noexcept { return (flags_ & kEmbedded) ? 0 : sizeof(void*); }
  size_t key_len_offset() const noexcept { return word_size() + (has_expire() ? 8 : 0); }
  size_t key_offset() const noexcept { return key_len_offset() + ((flags_ & kLongKey) ? 4 : 0); }
  size_t key_size() const noexcept {
    if (!(flags_ & kLongKey)) return key_len_;
    uint32_t n;
    std::memcpy(&n, payload() + key_len_offset(), sizeof n);
    return n;
  }
  size_t emb_offset() const noexcept { return key_offset() + key_size(); }
  // Bytes of the entry's allocation.
  size_t entry_bytes() const noexcept {
    return sizeof(void*) + sizeof(Value) + emb_offset() + ((flags_ & kEmbedded) ? emb_len_ : 0);
  }
  // A set's SetObject lives in the word itself (it is one word, 8-aligned
  // at entry offset 16).
  ds::SetObject* set_ptr() const noexcept {
    return std::launder(reinterpret_cast<ds::SetObject*>(const_cast<char*>(payload())));
  }
  StrBlock* block() const noexcept {
    StrBlock* b;
    std::memcpy(&b, payload(), sizeof b);
    if (b == nullptr) __builtin_unreachable();  // raw strings always have one
    return b;
  }

  uint32_t lru_ : 24 = 0;
  uint32_t freq_ : 8 = 0;
  uint8_t key_len_ = 0;  // 255: see key_len32
  uint8_t emb_len_ = 0;
  uint8_t kind_ = 0;  // Type
  uint8_t flags_ = 0;
};
static_assert(sizeof(Value) == 8);

// Either shape, read-only: for code that serializes values (RDB, AOF).
struct ValueView {
  ValueView(const Value& v) noexcept  // NOLINT(google-explicit-constructor)
      : type(v.type()),
        str(v.type() == Type::kString ? v.str() : std::string_view()),
        set(v.type() == Type::kSet ? &v.as_set() : nullptr) {}
  ValueView(const Object& o) noexcept  // NOLINT(google-explicit-constructor)
      : type(o.type()),
        str(o.type() == Type::kString ? std::string_view(o.as_string().bytes) : std::string_view()),
        set(o.type() == Type::kSet ? &o.as_set() : nullptr) {}
  Type type;
  std::string_view str;      // strings
  const ds::SetObject* set;  // sets
};

}  // namespace setd::db
