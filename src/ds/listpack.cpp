#include "setd/ds/listpack.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <new>
#include <stdexcept>
#include <utility>

#include "setd/base/random.hpp"
#include "setd/ds/bytes_equal.hpp"

namespace setd::ds {

ListPack::~ListPack() {
  if (!is_inline()) std::free(block());
}

ListPack::ListPack(const ListPack& other) : w_(other.w_) {
  if (other.is_inline()) return;  // the word is the whole set
  w_ = kInlineTag;
  const size_t bytes = other.memory_bytes();
  auto* b = static_cast<unsigned char*>(std::malloc(bytes));
  if (b == nullptr) throw std::bad_alloc();
  std::memcpy(b, other.block(), bytes);
  set_heap(b, other.size());
}

void ListPack::set_heap(unsigned char* b, size_t n) noexcept {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(b) + 1;
  if ((addr & ~kAddrMask) != 0) [[unlikely]] {
    // Not on Linux's x86-64 or AArch64 user space without an mmap hint.
    std::fputs("setd: ListPack: a heap address above 2^48\n", stderr);
    std::abort();
  }
  if (n <= kWordCountMax) {
    w_ = addr | (static_cast<uintptr_t>(n) << kAddrBits);
    return;
  }
  const auto c = static_cast<uint32_t>(n);
  std::memcpy(b, &c, sizeof c);
  w_ = addr | (kCountInBlock << kAddrBits);
}

void ListPack::set_inline(const unsigned char* src, size_t len, size_t n) noexcept {
  uintptr_t w = kInlineTag | (static_cast<uintptr_t>(n) << 8);
  std::memcpy(reinterpret_cast<unsigned char*>(&w) + 2, src, len);
  w_ = w;
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
    if (!is_inline()) std::free(block());
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
      if (l == len && detail::bytes_equal(q + 1, m.data(), len))
        return const_cast<unsigned char*>(q);
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
  const auto entries_len = static_cast<size_t>(end() - entries());
  const size_t grown = entries_len + entry_bytes(m.size());
  if (is_inline() && 1 + grown <= kInlineBytes) {  // stays in the word
    encode(entries() + entries_len, m);
    w_ += uintptr_t{1} << 8;  // the count (n + 1 < 7: no carry)
    return;
  }
  const size_t new_header = heap_header_bytes(n + 1);
  const size_t total = new_header + grown;
  unsigned char* b;
  if (is_inline()) {
    b = static_cast<unsigned char*>(std::malloc(total));
    if (b == nullptr) throw std::bad_alloc();
    std::memcpy(b + new_header, entries(), entries_len);
  } else {
    const size_t old_header = header_bytes();
    b = static_cast<unsigned char*>(std::realloc(block(), total));
    if (b == nullptr) throw std::bad_alloc();
    if (new_header != old_header) std::memmove(b + new_header, b + old_header, entries_len);
  }
  encode(b + new_header + entries_len, m);
  set_heap(b, n + 1);
}

void ListPack::rebuild_after_compaction(unsigned char* out, size_t kept) noexcept {
  if (kept == 0) {
    clear();
    return;
  }
  const auto entries_len = static_cast<size_t>(out - entries());
  if (is_inline()) {
    w_ = (w_ & ~uintptr_t{0xFF00}) | (static_cast<uintptr_t>(kept) << 8);
    return;
  }
  unsigned char* b = block();
  if (1 + entries_len <= kInlineBytes) {  // into the word
    set_inline(entries(), entries_len, kept);
    std::free(b);
    return;
  }
  const size_t old_header = header_bytes();
  const size_t new_header = heap_header_bytes(kept);
  if (new_header != old_header) std::memmove(b + new_header, b + old_header, entries_len);
  // A shrinking realloc that fails leaves the block as it was: keep it.
  if (void* mem = std::realloc(b, new_header + entries_len); mem != nullptr)
    b = static_cast<unsigned char*>(mem);
  set_heap(b, kept);
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
  return is_inline() ? 0 : static_cast<size_t>(end() - block());
}

void ListPack::clear() noexcept {
  if (!is_inline()) std::free(block());
  w_ = kInlineTag;
}

}  // namespace setd::ds
