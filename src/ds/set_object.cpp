#include "setd/ds/set_object.hpp"

#include <memory>
#include <new>
#include <utility>

#include "setd/base/random.hpp"

namespace setd::ds {

static_assert(alignof(HashSet) >= 4, "HashSet addresses leave room for the tag");

namespace {

// Redis's sdigits10(): characters of v in decimal, sign included.
size_t decimal_length(int64_t v) noexcept {
  char buf[kInt64DecimalBufSize];
  return format_int64(v, buf).size();
}

}  // namespace

void SetObject::destroy() noexcept {
  switch (encoding()) {
    case Encoding::kIntSet:
      is_.~IntSet();
      return;
    case Encoding::kListPack:
      lp_.~ListPack();
      return;
    case Encoding::kHashTable:
      delete hash();
      return;
  }
}

void SetObject::become(HashSet* hs) noexcept {
  destroy();
  adopt_hash(hs);
}

void SetObject::become(IntSet&& is) noexcept {
  destroy();
  new (&is_) IntSet(std::move(is));
}

void SetObject::become(ListPack&& lp) noexcept {
  destroy();
  new (&lp_) ListPack(std::move(lp));
}

SetObject::SetObject(SetObject&& other) noexcept : is_() { *this = std::move(other); }

SetObject& SetObject::operator=(SetObject&& other) noexcept {
  if (this == &other) return *this;
  switch (other.encoding()) {
    case Encoding::kIntSet:
      become(std::move(other.is_));
      return *this;  // other stays an (empty) intset
    case Encoding::kListPack:
      become(std::move(other.lp_));
      other.lp_.~ListPack();  // empty now
      break;
    case Encoding::kHashTable:
      become(other.hash());  // other keeps a bare word, nothing to end
      break;
  }
  new (&other.is_) IntSet();
  return *this;
}

SetObject SetObject::create_for(std::string_view first_member, size_t size_hint,
                                const SetLimits& limits) {
  const bool integer = parse_int64(first_member).has_value();
  if (!limits.listpack_enabled()) return integer ? SetObject() : empty_hashtable(0);
  if (integer && size_hint <= limits.max_intset_entries) return SetObject();
  if (size_hint <= limits.max_listpack_entries) return empty_listpack();
  return empty_hashtable(size_hint);
}

SetObject SetObject::from_intset(IntSet members) {
  SetObject s;
  s.become(std::move(members));
  return s;
}

SetObject SetObject::from_listpack(ListPack members) {
  SetObject s;
  s.become(std::move(members));
  return s;
}

SetObject SetObject::empty_hashtable(size_t expected) {
  auto hs = std::make_unique<HashSet>();
  if (expected > 0) hs->reserve(expected);
  SetObject s;
  s.become(hs.release());
  return s;
}

SetObject SetObject::clone() const {
  SetObject c;
  switch (encoding()) {
    case Encoding::kIntSet:
      c.become(IntSet(is_));
      break;
    case Encoding::kListPack:
      c.become(ListPack(lp_));
      break;
    case Encoding::kHashTable:
      c.become(new HashSet(hash()->clone()));
      break;
  }
  return c;
}

void SetObject::convert_to_hashtable(size_t expected) {
  if (encoding() == Encoding::kHashTable) return;
  // Strong guarantee: built aside first.
  auto hs = std::make_unique<HashSet>();
  hs->reserve(std::max(size(), expected));
  for_each([&](std::string_view m) { hs->insert(m); });
  become(hs.release());
}

bool SetObject::maybe_convert_to_intset(const SetLimits& limits) {
  if (encoding() == Encoding::kIntSet) return true;
  if (size() > limits.intset_cap()) return false;
  IntSet is;
  bool all = true;
  auto add_one = [&](std::string_view m) {
    const auto v = parse_int64(m);
    if (v) is.insert(*v);
    all = all && v.has_value();
    return all;
  };
  if (const HashSet* hs = as_hash_set()) {
    hs->for_each_while(add_one);
  } else {
    lp_.for_each_while(add_one);
  }
  if (!all) return false;
  become(std::move(is));
  return true;
}

void SetObject::maybe_convert(size_t size_hint, const SetLimits& limits) {
  if (!limits.listpack_enabled()) return;
  const Encoding e = encoding();
  if ((e == Encoding::kListPack && size_hint > limits.max_listpack_entries) ||
      (e == Encoding::kIntSet && size_hint > limits.max_intset_entries))
    convert_to_hashtable(size_hint);
}

bool SetObject::add(std::string_view m, const SetLimits& limits) {
  switch (encoding()) {
    case Encoding::kHashTable:
      return hash()->insert(m);
    case Encoding::kListPack:
      if (lp_.contains(m)) return false;
      if (lp_.size() < limits.max_listpack_entries && m.size() <= limits.max_listpack_value) {
        lp_.append(m);
        return true;
      }
      convert_to_hashtable(lp_.size() + 1);
      hash()->insert(m);
      return true;
    case Encoding::kIntSet:
      break;
  }
  if (const auto v = parse_int64(m)) {
    if (!is_.insert(*v)) return false;
    if (is_.size() > limits.intset_cap()) convert_to_hashtable();
    return true;
  }
  // A non-integer in an intset: a listpack if everything fits one (the
  // longest integer is the minimum's or the maximum's text).
  const size_t n = is_.size();
  const size_t longest =
      n == 0 ? 0 : std::max(decimal_length(is_.at(0)), decimal_length(is_.at(n - 1)));
  if (n < limits.max_listpack_entries && m.size() <= limits.max_listpack_value &&
      longest <= limits.max_listpack_value) {
    ListPack lp;
    for_each([&](std::string_view x) { lp.append(x); });
    lp.append(m);
    become(std::move(lp));
    return true;
  }
  convert_to_hashtable(n + 1);
  hash()->insert(m);
  return true;
}

bool SetObject::remove(std::string_view m) {
  switch (encoding()) {
    case Encoding::kHashTable:
      return hash()->erase(m);
    case Encoding::kListPack:
      return lp_.erase(m);
    case Encoding::kIntSet:
      break;
  }
  const auto v = parse_int64(m);
  return v && is_.erase(*v);
}

bool SetObject::contains(std::string_view m) const noexcept {
  switch (encoding()) {
    case Encoding::kHashTable:
      return hash()->contains(m);
    case Encoding::kListPack:
      return lp_.contains(m);
    case Encoding::kIntSet:
      break;
  }
  const auto v = parse_int64(m);
  return v && is_.contains(*v);
}

size_t SetObject::size() const noexcept {
  switch (encoding()) {
    case Encoding::kHashTable:
      return hash()->size();
    case Encoding::kListPack:
      return lp_.size();
    case Encoding::kIntSet:
      break;
  }
  return is_.size();
}

uint64_t SetObject::scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const {
  if (const HashSet* hs = as_hash_set()) return hs->scan(cursor, fn);
  for_each(fn);
  return 0;
}

std::string SetObject::random_member(base::Rng& rng) const {
  switch (encoding()) {
    case Encoding::kHashTable:
      return std::string(hash()->random_member(rng));
    case Encoding::kListPack:
      return std::string(lp_.random(rng));
    case Encoding::kIntSet:
      break;
  }
  char buf[kInt64DecimalBufSize];
  return std::string(format_int64(is_.random(rng), buf));
}

std::string SetObject::pop_random(base::Rng& rng) {
  switch (encoding()) {
    case Encoding::kHashTable:
      return hash()->pop_random(rng);
    case Encoding::kListPack:
      return lp_.pop_random(rng);
    case Encoding::kIntSet:
      break;
  }
  const int64_t v = is_.random(rng);
  is_.erase(v);
  char buf[kInt64DecimalBufSize];
  return std::string(format_int64(v, buf));
}

size_t SetObject::memory_bytes() const noexcept {
  switch (encoding()) {
    case Encoding::kHashTable:
      return sizeof(HashSet) + hash()->memory_bytes();
    case Encoding::kListPack:
      return lp_.memory_bytes();
    case Encoding::kIntSet:
      break;
  }
  return is_.memory_bytes();
}

}  // namespace setd::ds
