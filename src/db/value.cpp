#include "setd/db/value.hpp"

#include <cstdlib>
#include <new>

#include "setd/base/allocator.hpp"
#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"

namespace setd::db {

uint32_t lru_clock() { return static_cast<uint32_t>(base::now_ms() / 1000); }

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
