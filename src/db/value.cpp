#include "setd/db/value.hpp"

#include <cstdlib>
#include <new>

#include "setd/base/allocator.hpp"
#include "setd/base/clock.hpp"
#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"

namespace setd::db {

uint32_t lru_clock() { return static_cast<uint32_t>(base::now_ms() / 1000); }

namespace {
AccessTracking g_tracking;
base::Rng g_lfu_rng(0x5EED1F0);
}  // namespace

AccessTracking& access_tracking() noexcept { return g_tracking; }

uint32_t lfu_minutes() noexcept { return static_cast<uint32_t>(base::now_ms() / 60000) & 0xFFFF; }

uint8_t lfu_decayed(uint32_t lru) noexcept {
  const uint32_t ldt = (lru >> 8) & 0xFFFF;
  const auto counter = static_cast<uint8_t>(lru & 0xFF);
  const uint32_t now = lfu_minutes();
  const uint32_t elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
  const long long decay = g_tracking.decay_time;
  const unsigned long long periods =
      decay > 0 ? elapsed / static_cast<unsigned long long>(decay) : 0;
  if (periods == 0) return counter;
  return periods > counter ? 0 : static_cast<uint8_t>(counter - periods);
}

uint8_t lfu_log_incr(uint8_t counter) noexcept {
  if (counter == 255) return 255;
  const double r = g_lfu_rng.unit();
  double baseval = static_cast<double>(counter) - kLfuInitVal;
  if (baseval < 0) baseval = 0;
  const double p = 1.0 / (baseval * static_cast<double>(g_tracking.log_factor) + 1);
  return r < p ? static_cast<uint8_t>(counter + 1) : counter;
}

void Object::stamp_access() noexcept {
  if (g_tracking.no_shared_integers && type() == Type::kString &&
      as_string().encoding == StringEncoding::kInt)
    private_int = true;
  if (g_tracking.lfu) {
    lru = (lfu_minutes() << 8) | kLfuInitVal;
  } else {
    lru = lru_clock() & kLruMask;
  }
}

void Value::touch_lfu() noexcept {
  const uint8_t c = lfu_log_incr(lfu_decayed(lru_));
  lru_ = (lfu_minutes() << 8) | c;
}

bool Value::set_lru_or_lfu(long long freq, long long idle) noexcept {
  if (g_tracking.lfu) {
    if (freq < 0) return false;
    lru_ = (lfu_minutes() << 8) | static_cast<uint8_t>(freq);
    return true;
  }
  if (idle < 0) return false;
  set_lru(lru_clock() - static_cast<uint32_t>(idle));
  return true;
}

Object Object::string(std::string bytes) {
  long long ignored = 0;
  StringEncoding enc = StringEncoding::kRaw;
  if (bytes.size() <= 20 && base::string_to_ll(bytes, ignored))
    enc = StringEncoding::kInt;
  else if (bytes.size() <= kEmbstrLimit)
    enc = StringEncoding::kEmbstr;
  return string(std::move(bytes), enc);
}

Object Object::string(std::string bytes, StringEncoding enc) {
  Object o;
  o.data_ = StringValue{std::move(bytes), enc};
  return o;
}

Object Object::set(ds::SetObject set) {
  Object o;
  o.data_ = std::move(set);
  return o;
}

namespace {
const char* string_encoding_name(StringEncoding enc) noexcept {
  switch (enc) {
    case StringEncoding::kInt:
      return "int";
    case StringEncoding::kEmbstr:
      return "embstr";
    case StringEncoding::kRaw:
      return "raw";
  }
  return "raw";
}
}  // namespace

const char* Object::encoding_name() const noexcept {
  if (type() == Type::kSet) return as_set().encoding_name().data();
  return string_encoding_name(as_string().encoding);
}

const char* Value::encoding_name() const noexcept {
  if (type() == Type::kSet) return as_set().encoding_name().data();
  return string_encoding_name(string_encoding());
}

char* Value::raw_resize(size_t n) {
  StrBlock* b = block();
  if (n > b->cap) {
    // sds-like growth: double while small, +1 MB steps beyond 1 MB.
    size_t cap = n < (1u << 20) ? n * 2 : n + (1u << 20);
    auto* nb = static_cast<StrBlock*>(std::realloc(b, sizeof(StrBlock) + cap));
    if (nb == nullptr) throw std::bad_alloc();
    nb->cap = cap;
    b = nb;
    std::memcpy(payload(), &b, sizeof b);
  }
  if (n > b->len) std::memset(b->data() + b->len, 0, n - b->len);
  b->len = n;
  return b->data();
}

size_t Value::heap_bytes() const noexcept {
  size_t n = entry_bytes();
  if (type() == Type::kSet) {
    n += as_set().memory_bytes();
  } else if (!(flags_ & kEmbedded)) {
    n += sizeof(StrBlock) + block()->cap;
  }
  return n;
}

size_t Value::usage_bytes() const noexcept {
  using base::alloc::usable_size;
  size_t n = usable_size(entry_bytes());
  if (type() == Type::kSet) {
    const ds::SetObject& set = as_set();
    // An intset is one array counted as its bytes; a hashtable counts its
    // allocations itself.
    const size_t owned = set.memory_bytes();
    n += set.encoding() == ds::SetObject::Encoding::kIntSet && owned > 0 ? usable_size(owned)
                                                                         : owned;
  } else if (!(flags_ & kEmbedded)) {
    n += usable_size(sizeof(StrBlock) + block()->cap);
  }
  return n;
}

}  // namespace setd::db
