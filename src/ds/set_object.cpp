#include "setd/ds/set_object.hpp"

#include <utility>

#include "setd/base/random.hpp"

namespace setd::ds {

SetObject SetObject::create_for(std::string_view first_member) {
  SetObject s;
  if (!parse_int64(first_member)) s.rep_.emplace<HashSet>();
  return s;
}

SetObject SetObject::from_intset(IntSet members) {
  SetObject s;
  s.rep_.emplace<IntSet>(std::move(members));
  return s;
}

SetObject SetObject::empty_hashtable(size_t expected) {
  SetObject s;
  s.rep_.emplace<HashSet>().reserve(expected);
  return s;
}

SetObject SetObject::clone() const {
  SetObject c;
  if (const IntSet* is = as_intset()) {
    c.rep_.emplace<IntSet>(*is);
  } else {
    c.rep_.emplace<HashSet>(std::get<HashSet>(rep_).clone());
  }
  return c;
}

void SetObject::convert_to_hashtable() {
  const IntSet* is = as_intset();
  if (is == nullptr) return;
  HashSet hs;
  hs.reserve(is->size());
  char buf[kInt64DecimalBufSize];
  is->for_each([&](int64_t v) { hs.insert(format_int64(v, buf)); });
  rep_.emplace<HashSet>(std::move(hs));  // strong guarantee: built aside first
}

bool SetObject::add(std::string_view m, size_t max_intset_entries) {
  if (HashSet* hs = std::get_if<HashSet>(&rep_)) return hs->insert(m);
  IntSet& is = std::get<IntSet>(rep_);
  if (const auto v = parse_int64(m)) {
    if (!is.insert(*v)) return false;
    if (is.size() > max_intset_entries) convert_to_hashtable();
    return true;
  }
  convert_to_hashtable();
  return std::get<HashSet>(rep_).insert(m);
}

bool SetObject::remove(std::string_view m) {
  if (HashSet* hs = std::get_if<HashSet>(&rep_)) return hs->erase(m);
  const auto v = parse_int64(m);
  return v && std::get<IntSet>(rep_).erase(*v);
}

bool SetObject::contains(std::string_view m) const noexcept {
  if (const HashSet* hs = as_hash_set()) return hs->contains(m);
  const auto v = parse_int64(m);
  return v && std::get<IntSet>(rep_).contains(*v);
}

size_t SetObject::size() const noexcept {
  if (const HashSet* hs = as_hash_set()) return hs->size();
  return std::get<IntSet>(rep_).size();
}

uint64_t SetObject::scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const {
  if (const HashSet* hs = as_hash_set()) return hs->scan(cursor, fn);
  for_each(fn);
  return 0;
}

std::string SetObject::random_member(base::Rng& rng) const {
  if (const HashSet* hs = as_hash_set()) return std::string(hs->random_member(rng));
  char buf[kInt64DecimalBufSize];
  return std::string(format_int64(std::get<IntSet>(rep_).random(rng), buf));
}

std::string SetObject::pop_random(base::Rng& rng) {
  if (HashSet* hs = std::get_if<HashSet>(&rep_)) return hs->pop_random(rng);
  IntSet& is = std::get<IntSet>(rep_);
  const int64_t v = is.random(rng);
  is.erase(v);
  char buf[kInt64DecimalBufSize];
  return std::string(format_int64(v, buf));
}

size_t SetObject::memory_bytes() const noexcept {
  if (const HashSet* hs = as_hash_set()) return hs->memory_bytes();
  return std::get<IntSet>(rep_).memory_bytes();
}

}  // namespace setd::ds
