#include "setd/db/value.hpp"

#include <cstdlib>
#include <new>

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
  size_t n = sizeof(void*) + sizeof(Value) + key_offset() + key_size() +
             ((flags_ & kEmbedded) ? emb_len_ : 0);
  if (type() == Type::kSet) {
    n += as_set().memory_bytes();
  } else if (!(flags_ & kEmbedded)) {
    n += sizeof(StrBlock) + block()->cap;
  }
  return n;
}

}  // namespace setd::db
