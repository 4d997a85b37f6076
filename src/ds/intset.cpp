#include "setd/ds/intset.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "setd/base/random.hpp"

namespace setd::ds {

namespace {

// Reads element i of a buffer encoded at width w. memcpy keeps this free of
// aliasing and alignment assumptions; compilers turn it into a plain load.
int64_t load(const unsigned char* data, size_t i, IntSet::Width w) noexcept {
  switch (w) {
    case IntSet::Width::k16: {
      int16_t x;
      std::memcpy(&x, data + i * 2, 2);
      return x;
    }
    case IntSet::Width::k32: {
      int32_t x;
      std::memcpy(&x, data + i * 4, 4);
      return x;
    }
    case IntSet::Width::k64:
      break;
  }
  int64_t x;
  std::memcpy(&x, data + i * 8, 8);
  return x;
}

void store_at(unsigned char* data, size_t i, IntSet::Width w, int64_t v) noexcept {
  switch (w) {
    case IntSet::Width::k16: {
      const auto x = static_cast<int16_t>(v);
      std::memcpy(data + i * 2, &x, 2);
      return;
    }
    case IntSet::Width::k32: {
      const auto x = static_cast<int32_t>(v);
      std::memcpy(data + i * 4, &x, 4);
      return;
    }
    case IntSet::Width::k64:
      break;
  }
  std::memcpy(data + i * 8, &v, 8);
}

}  // namespace

IntSet::~IntSet() { std::free(blob_); }

IntSet::IntSet(const IntSet& other) {
  if (other.blob_ != nullptr) {
    const size_t bytes = other.memory_bytes();
    blob_ = static_cast<unsigned char*>(std::malloc(bytes));
    if (blob_ == nullptr) throw std::bad_alloc();
    std::memcpy(blob_, other.blob_, bytes);
  }
}

IntSet& IntSet::operator=(const IntSet& other) {
  if (this != &other) {
    IntSet copy(other);
    *this = std::move(copy);
  }
  return *this;
}

IntSet::IntSet(IntSet&& other) noexcept : blob_(std::exchange(other.blob_, nullptr)) {}

IntSet& IntSet::operator=(IntSet&& other) noexcept {
  if (this != &other) {
    std::free(blob_);
    blob_ = std::exchange(other.blob_, nullptr);
  }
  return *this;
}

IntSet::Width IntSet::width_for(int64_t v) noexcept {
  if (v >= std::numeric_limits<int16_t>::min() && v <= std::numeric_limits<int16_t>::max()) {
    return Width::k16;
  }
  if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
    return Width::k32;
  }
  return Width::k64;
}

IntSet IntSet::from_sorted_unique(std::span<const int64_t> values, Width min_width) {
  if (values.size() > std::numeric_limits<uint32_t>::max())
    throw std::length_error("IntSet: too many members");
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i - 1] >= values[i])
      throw std::invalid_argument("IntSet::from_sorted_unique: values not strictly ascending");
  }
  IntSet s;
  if (values.empty()) return s;
  // Ascending: the extremes need the widest width.
  Width w = std::max({min_width, width_for(values.front()), width_for(values.back())});
  s.resize_buffer(values.size(), w);
  for (size_t i = 0; i < values.size(); ++i) store_at(s.data(), i, w, values[i]);
  s.set_count(static_cast<uint32_t>(values.size()));
  return s;
}

int64_t IntSet::at(size_t i) const noexcept { return load(data(), i, width()); }

void IntSet::store(size_t i, int64_t v) noexcept { store_at(data(), i, width(), v); }

// Branchless lower bound over elements of type T (the loop compiles to a
// conditional move, so an unpredictable search does not pay a branch
// misprediction per level). Invariant: the answer lies in [lo, lo + len].
template <class T>
size_t lower_bound_as(const unsigned char* data, size_t n, int64_t v) noexcept {
  if (n == 0) return 0;
  auto get = [data](size_t i) {
    T x;
    std::memcpy(&x, data + i * sizeof(T), sizeof(T));
    return static_cast<int64_t>(x);
  };
  size_t lo = 0;
  size_t len = n;
  while (len > 1) {
    const size_t half = len / 2;
    lo = get(lo + half) < v ? lo + half : lo;
    len -= half;
  }
  return lo + (get(lo) < v ? 1 : 0);
}

// Precondition: the set is not empty (blob_ != nullptr).
size_t IntSet::lower_bound(int64_t v, bool* found) const noexcept {
  size_t pos = 0;
  const size_t n = size();
  switch (width()) {
    case Width::k16:
      pos = lower_bound_as<int16_t>(data(), n, v);
      break;
    case Width::k32:
      pos = lower_bound_as<int32_t>(data(), n, v);
      break;
    case Width::k64:
      pos = lower_bound_as<int64_t>(data(), n, v);
      break;
  }
  *found = pos < n && at(pos) == v;
  return pos;
}

bool IntSet::contains(int64_t v) const noexcept {
  const size_t n = size();
  if (n == 0 || width_for(v) > width()) return false;
  // Fast reject outside [min, max] before the binary search.
  if (v < at(0) || v > at(n - 1)) return false;
  bool found = false;
  lower_bound(v, &found);
  return found;
}

void IntSet::resize_buffer(size_t n, Width w) {
  const bool fresh = blob_ == nullptr;
  void* p = std::realloc(blob_, kHeaderBytes + n * static_cast<size_t>(w));
  if (p == nullptr) throw std::bad_alloc();
  blob_ = static_cast<unsigned char*>(p);
  blob_[0] = static_cast<unsigned char>(w);
  if (fresh) set_count(0);
}

void IntSet::upgrade_and_insert(int64_t v, Width w) {
  // v needs a wider width than every current member, so it is either smaller
  // than all of them (negative) or larger than all of them (positive): it
  // goes at one end. Re-encode back to front so no element is overwritten
  // before it is read (new elements are wider and sit at higher offsets).
  const Width old_w = width();
  const size_t n = size();
  resize_buffer(n + 1, w);
  const size_t shift = v < 0 ? 1 : 0;
  for (size_t i = n; i-- > 0;) store_at(data(), i + shift, w, load(data(), i, old_w));
  store(v < 0 ? 0 : n, v);
  set_count(static_cast<uint32_t>(n + 1));
}

bool IntSet::insert(int64_t v) {
  const Width w = width_for(v);
  const size_t n = size();
  if (n == std::numeric_limits<uint32_t>::max()) {
    if (contains(v)) return false;
    throw std::length_error("IntSet: too many members");
  }
  if (w > width()) {
    upgrade_and_insert(v, w);
    return true;
  }
  bool found = false;
  size_t pos = 0;
  if (n > 0 && v > at(n - 1)) {
    pos = n;  // fast path: appending in ascending order
  } else if (n > 0) {
    pos = lower_bound(v, &found);
    if (found) return false;
  }
  resize_buffer(n + 1, width());
  const size_t ws = static_cast<size_t>(width());
  std::memmove(data() + (pos + 1) * ws, data() + pos * ws, (n - pos) * ws);
  store(pos, v);
  set_count(static_cast<uint32_t>(n + 1));
  return true;
}

bool IntSet::erase(int64_t v) {
  const size_t n = size();
  if (n == 0 || width_for(v) > width()) return false;
  bool found = false;
  const size_t pos = lower_bound(v, &found);
  if (!found) return false;
  const Width w = width();
  const size_t ws = static_cast<size_t>(w);
  std::memmove(data() + pos * ws, data() + (pos + 1) * ws, (n - pos - 1) * ws);
  set_count(static_cast<uint32_t>(n - 1));
  if (n == 1 && w == Width::k16) {
    clear();  // no blob needed to remember the width
    return true;
  }
  // Shrinking realloc cannot fail in a way that loses data; if it returns
  // null (it may not for a smaller size in glibc) keep the larger buffer.
  if (void* p = std::realloc(blob_, kHeaderBytes + (n - 1) * ws); p != nullptr)
    blob_ = static_cast<unsigned char*>(p);
  return true;
}

int64_t IntSet::random(base::Rng& rng) const noexcept { return at(rng.below(size())); }

void IntSet::clear() noexcept {
  if (blob_ == nullptr) return;
  if (width() == Width::k16) {
    std::free(blob_);
    blob_ = nullptr;
    return;
  }
  set_count(0);  // keep the (wider) width in a header-only blob
  if (void* p = std::realloc(blob_, kHeaderBytes); p != nullptr)
    blob_ = static_cast<unsigned char*>(p);
}

}  // namespace setd::ds
