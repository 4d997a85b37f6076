#include "setd/ds/listpack.hpp"

#include <cstdlib>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "setd/base/random.hpp"

namespace setd::ds {

namespace {

// Bytes of the count header for `n` members.
constexpr size_t header_bytes(size_t n) noexcept { return n < ListPack::kEscape ? 1 : 5; }

void write_header(unsigned char* base, size_t n) noexcept {
  if (n < ListPack::kEscape) {
    base[0] = static_cast<unsigned char>(n);
    return;
  }
  base[0] = ListPack::kEscape;
  const auto c = static_cast<uint32_t>(n);
  std::memcpy(base + 1, &c, sizeof c);
}

}  // namespace

ListPack::~ListPack() {
  if (!is_inline()) std::free(base());
}

ListPack::ListPack(const ListPack& other) : w_(other.w_) {
  if (other.is_inline()) return;  // the word is the whole set
  w_ = kInlineTag;
  const size_t bytes = other.memory_bytes();
  auto* b = static_cast<unsigned char*>(std::malloc(bytes));
  if (b == nullptr) throw std::bad_alloc();
  std::memcpy(b, other.base(), bytes);
  set_heap(b);
}

ListPack& ListPack::operator=(const ListPack& other) {
  if (this != &other) {
    ListPack copy(other);
    *this = std::move(copy);
  }
  return *this;
}

ListPack& ListPack::operator=(ListPack&& other) noexcept {
  if (this != &other) {
    if (!is_inline()) std::free(base());
    w_ = std::exchange(other.w_, kInlineTag);
  }
  return *this;
}

unsigned char* ListPack::encode(unsigned char* q, std::string_view m) noexcept {
  if (m.size() < kEscape) {
    *q++ = static_cast<unsigned char>(m.size());
  } else {
    *q++ = kEscape;
    const auto l = static_cast<uint32_t>(m.size());
    std::memcpy(q, &l, sizeof l);
    q += sizeof l;
  }
  if (!m.empty()) std::memcpy(q, m.data(), m.size());
  return q + m.size();
}

unsigned char* ListPack::end() const noexcept {
  const size_t n = size();
  const unsigned char* q = entries();
  for (size_t i = 0; i < n; ++i) {
    if (q[0] != kEscape) {
      q += 1 + q[0];
    } else {
      decode(q, &q);
    }
  }
  return const_cast<unsigned char*>(q);
}

unsigned char* ListPack::find(std::string_view m) const noexcept {
  const size_t n = size();
  const unsigned char* q = entries();
  if (m.size() < kEscape) {
    const auto len = static_cast<unsigned char>(m.size());
    for (size_t i = 0; i < n; ++i) {
      const unsigned char l = q[0];
      if (l == len && std::memcmp(q + 1, m.data(), len) == 0) return const_cast<unsigned char*>(q);
      if (l != kEscape) {
        q += 1 + l;
      } else {
        decode(q, &q);
      }
    }
    return nullptr;
  }
  for (size_t i = 0; i < n; ++i) {
    const unsigned char* next;
    if (decode(q, &next) == m) return const_cast<unsigned char*>(q);
    q = next;
  }
  return nullptr;
}

bool ListPack::insert(std::string_view m) {
  if (find(m) != nullptr) return false;
  append(m);
  return true;
}

void ListPack::append(std::string_view m) {
  const size_t n = size();
  if (n >= std::numeric_limits<uint32_t>::max() || m.size() > std::numeric_limits<uint32_t>::max())
    throw std::length_error("ListPack: too large");
  const size_t old_header = 1 + count_extra();
  const size_t new_header = header_bytes(n + 1);
  const auto entries_len = static_cast<size_t>(end() - entries());
  const size_t total = new_header + entries_len + entry_bytes(m.size());
  unsigned char* b;
  const bool stays_inline = is_inline() && total <= kInlineBytes;
  if (stays_inline) {
    b = base();  // (n + 1 < 255: the header stays one byte)
  } else if (is_inline()) {
    b = static_cast<unsigned char*>(std::malloc(total));
    if (b == nullptr) throw std::bad_alloc();
    std::memcpy(b, base(), old_header + entries_len);
  } else {
    b = static_cast<unsigned char*>(std::realloc(base(), total));
    if (b == nullptr) throw std::bad_alloc();
  }
  if (new_header != old_header) std::memmove(b + new_header, b + old_header, entries_len);
  write_header(b, n + 1);
  encode(b + new_header + entries_len, m);
  if (!stays_inline) set_heap(b);
}

void ListPack::shrink_to(size_t bytes) noexcept {
  if (is_inline()) return;
  if (bytes <= kInlineBytes) {  // into the word
    unsigned char* old = base();
    uintptr_t w = kInlineTag;
    std::memcpy(reinterpret_cast<unsigned char*>(&w) + 1, old, bytes);
    std::free(old);
    w_ = w;
    return;
  }
  // A shrinking realloc that fails leaves the block as it was: keep it.
  if (void* mem = std::realloc(base(), bytes); mem != nullptr)
    set_heap(static_cast<unsigned char*>(mem));
}

void ListPack::rebuild_after_compaction(unsigned char* out, size_t kept) noexcept {
  if (kept == 0) {
    clear();
    return;
  }
  const size_t old_header = 1 + count_extra();
  const size_t new_header = header_bytes(kept);
  const auto entries_len = static_cast<size_t>(out - entries());
  unsigned char* b = base();
  if (new_header != old_header) std::memmove(b + new_header, b + old_header, entries_len);
  write_header(b, kept);
  shrink_to(new_header + entries_len);
}

void ListPack::erase_entry(unsigned char* q) noexcept {
  const unsigned char* next;
  decode(q, &next);
  unsigned char* e = end();
  std::memmove(q, next, static_cast<size_t>(e - next));
  rebuild_after_compaction(e - (next - q), size() - 1);
}

bool ListPack::erase(std::string_view m) {
  unsigned char* q = find(m);
  if (q == nullptr) return false;
  erase_entry(q);
  return true;
}

std::string_view ListPack::at(size_t i) const noexcept {
  const unsigned char* q = entries();
  for (size_t k = 0; k < i; ++k) {
    if (q[0] != kEscape) {
      q += 1 + q[0];
    } else {
      decode(q, &q);
    }
  }
  const unsigned char* next;
  return decode(q, &next);
}

std::string_view ListPack::random(base::Rng& rng) const { return at(rng.below(size())); }

std::string ListPack::pop_random(base::Rng& rng) {
  const std::string_view v = random(rng);
  std::string m(v);
  // The view points at the entry's bytes, just after its length header.
  auto* q = const_cast<unsigned char*>(reinterpret_cast<const unsigned char*>(v.data())) -
            (v.size() < kEscape ? 1 : 5);
  erase_entry(q);
  return m;
}

size_t ListPack::memory_bytes() const noexcept {
  return is_inline() ? 0 : static_cast<size_t>(end() - base());
}

void ListPack::clear() noexcept {
  if (!is_inline()) std::free(base());
  w_ = kInlineTag;
}

}  // namespace setd::ds
