#include "setd/db/value.hpp"

#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"

namespace setd::db {

namespace {
// Redis keeps strings up to this many bytes in one allocation with the
// object header ("embstr").
constexpr size_t kEmbstrLimit = 44;
}  // namespace

uint32_t lru_clock() { return static_cast<uint32_t>(base::now_ms() / 1000); }

Value Value::string(std::string bytes) {
  long long ignored = 0;
  StringEncoding enc = StringEncoding::kRaw;
  if (bytes.size() <= 20 && base::string_to_ll(bytes, ignored))
    enc = StringEncoding::kInt;
  else if (bytes.size() <= kEmbstrLimit)
    enc = StringEncoding::kEmbstr;
  return string(std::move(bytes), enc);
}

Value Value::string(std::string bytes, StringEncoding enc) {
  Value v;
  v.data_ = StringValue{std::move(bytes), enc};
  return v;
}

Value Value::set(ds::SetObject set) {
  Value v;
  v.data_ = std::move(set);
  return v;
}

const char* Value::encoding_name() const {
  if (type() == Type::kSet) {
    switch (as_set().encoding()) {
      case ds::SetObject::Encoding::kIntSet:
        return "intset";
      case ds::SetObject::Encoding::kListPack:
        return "listpack";
      case ds::SetObject::Encoding::kHashTable:
        return "hashtable";
    }
  }
  switch (as_string().encoding) {
    case StringEncoding::kInt:
      return "int";
    case StringEncoding::kEmbstr:
      return "embstr";
    case StringEncoding::kRaw:
      return "raw";
  }
  return "raw";
}

size_t Value::heap_bytes() const {
  if (type() == Type::kSet) return as_set().memory_bytes();
  const auto& b = as_string().bytes;
  return b.capacity() > 15 ? b.capacity() : 0;  // beyond the small-string buffer
}

}  // namespace setd::db
