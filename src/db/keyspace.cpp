#include "setd/db/keyspace.hpp"

#include <cstdlib>
#include <memory>
#include <new>

namespace setd::db {

// --- entries ------------------------------------------------------------------------------

void Keyspace::set_expire_field(Entry* e, int64_t ms) noexcept {
  std::memcpy(e->value.payload() + e->value.word_size(), &ms, sizeof ms);
}

Keyspace::Entry* Keyspace::make(std::string_view key, Object&& o, int64_t expire_ms,
                                bool snap_mark) {
  const bool is_set = o.type() == Type::kSet;
  StringValue* s = is_set ? nullptr : &o.as_string();
  const bool embedded =
      s != nullptr && s->encoding != StringEncoding::kRaw && s->bytes.size() <= 255;
  const bool long_key = key.size() >= 255;
  const size_t word = embedded ? 0 : sizeof(void*);
  const size_t ttl = expire_ms >= 0 ? 8 : 0;
  const size_t bytes = sizeof(Entry) + word + ttl + (long_key ? 4 : 0) + key.size() +
                       (embedded ? s->bytes.size() : 0);
  StrBlock* block = nullptr;
  if (!is_set && !embedded) {
    const size_t cap = s->bytes.size();
    block = static_cast<StrBlock*>(std::malloc(sizeof(StrBlock) + cap));
    if (block == nullptr) throw std::bad_alloc();
    block->len = block->cap = cap;
    if (cap) std::memcpy(block->data(), s->bytes.data(), cap);
  }
  void* mem = std::malloc(bytes);
  if (mem == nullptr) {
    std::free(block);  // the caller's object is intact
    throw std::bad_alloc();
  }
  auto* e = static_cast<Entry*>(mem);
  e->next = nullptr;
  ::new (&e->value) Value();
  Value& v = e->value;
  v.kind_ = static_cast<uint8_t>(o.type());
  uint8_t flags = 0;
  if (embedded) flags |= Value::kEmbedded;
  if (ttl) flags |= Value::kHasExpire;
  if (long_key) flags |= Value::kLongKey;
  if (snap_mark) flags |= Value::kSnapMark;
  if (o.private_int) flags |= Value::kPrivateInt;
  if (s != nullptr)
    flags |= static_cast<uint8_t>(static_cast<uint8_t>(s->encoding) << Value::kEncShift);
  v.flags_ = flags;
  v.lru_ = o.lru & kLruMask;
  v.freq_ = o.freq;
  v.key_len_ = static_cast<uint8_t>(long_key ? 255 : key.size());
  v.emb_len_ = static_cast<uint8_t>(embedded ? s->bytes.size() : 0);
  char* p = v.payload();
  if (is_set) {
    ::new (static_cast<void*>(p)) ds::SetObject(std::move(o.as_set()));
  } else if (!embedded) {
    std::memcpy(p, &block, sizeof block);
  }
  if (ttl) set_expire_field(e, expire_ms);
  if (long_key) {
    const auto n = static_cast<uint32_t>(key.size());
    std::memcpy(p + v.key_len_offset(), &n, sizeof n);
  }
  if (!key.empty()) std::memcpy(p + v.key_offset(), key.data(), key.size());
  if (embedded && !s->bytes.empty())
    std::memcpy(p + v.emb_offset(), s->bytes.data(), s->bytes.size());
  return e;
}

Keyspace::Entry* Keyspace::remake(Entry* old, bool with_ttl) {
  const Value& ov = old->value;
  const size_t word = ov.word_size();
  const size_t tail = (ov.flags_ & Value::kLongKey ? 4 : 0) + ov.key_size() +
                      (ov.flags_ & Value::kEmbedded ? ov.emb_len_ : 0);
  const size_t ttl = with_ttl ? 8 : 0;
  void* mem = std::malloc(sizeof(Entry) + word + ttl + tail);
  if (mem == nullptr) throw std::bad_alloc();
  auto* e = static_cast<Entry*>(mem);
  e->next = old->next;
  // The header and the word are copied as bytes: a raw string's block
  // pointer, or the SetObject, which is one trivially relocatable word (its
  // blob or HashSet stays where it is; the old entry is freed undestroyed).
  std::memcpy(static_cast<void*>(&e->value), &old->value, sizeof(Value) + word);
  e->value.flags_ = static_cast<uint8_t>(with_ttl ? e->value.flags_ | Value::kHasExpire
                                                  : e->value.flags_ & ~Value::kHasExpire);
  std::memcpy(e->value.payload() + word + ttl, ov.payload() + ov.key_len_offset(), tail);
  return e;
}

void Keyspace::destroy(Entry* e) noexcept {
  Value& v = e->value;
  if (v.type() == Type::kSet) {
    std::destroy_at(v.set_ptr());
  } else if (!(v.flags_ & Value::kEmbedded)) {
    std::free(v.block());
  }
  v.~Value();
  std::free(e);
}

Object Keyspace::to_object(Entry* e) {
  Value& v = e->value;
  Object o;
  if (v.type() == Type::kSet) {
    o = Object::set(std::move(v.as_set()));
  } else {
    o = Object::string(std::string(v.str()), v.string_encoding());
  }
  o.lru = v.lru();
  o.freq = v.freq();
  o.private_int = v.private_int();
  return o;
}

// --- operations ---------------------------------------------------------------------------

Value& Keyspace::insert(std::string_view key, Object&& o, int64_t expire_ms, bool snap_mark) {
  Entry* e = make(key, std::move(o), expire_ms, snap_mark);
  try {
    table_.insert(e);
  } catch (...) {
    destroy(e);
    throw;
  }
  if (expire_ms >= 0) ++expires_;
  return e->value;
}

bool Keyspace::overwrite(Value& v, Object& o, int64_t expire_ms, bool snap_mark) {
  if (o.type() != Type::kString || v.type() != Type::kString) return false;
  if (v.has_expire() != (expire_ms >= 0)) return false;
  const StringValue& s = o.as_string();
  const bool raw = s.encoding == StringEncoding::kRaw;
  if (raw != (v.string_encoding() == StringEncoding::kRaw)) return false;
  if (raw) {
    if (s.bytes.size() < v.block()->cap / 2) return false;  // give the space back
    std::memcpy(v.raw_resize(s.bytes.size()), s.bytes.data(), s.bytes.size());
  } else {
    if (s.bytes.size() != v.emb_len_) return false;
    std::memcpy(v.payload() + v.emb_offset(), s.bytes.data(), s.bytes.size());
  }
  uint8_t flags = v.flags_ & (Value::kEmbedded | Value::kHasExpire | Value::kLongKey);
  if (snap_mark) flags |= Value::kSnapMark;
  if (o.private_int) flags |= Value::kPrivateInt;
  flags |= static_cast<uint8_t>(static_cast<uint8_t>(s.encoding) << Value::kEncShift);
  v.flags_ = flags;
  v.lru_ = o.lru & kLruMask;
  v.freq_ = o.freq;
  if (expire_ms >= 0) set_expire_field(entry_of(v), expire_ms);
  return true;
}

Value& Keyspace::replace(Value& v, Object&& o, int64_t when, bool snap_mark) {
  if (overwrite(v, o, when, snap_mark)) return v;
  Entry* old = entry_of(v);
  Entry* e = make(v.key(), std::move(o), when, snap_mark);
  expires_ = expires_ - (old->value.has_expire() ? 1 : 0) + (when >= 0 ? 1 : 0);
  table_.relink(old, e);
  destroy(old);
  return e->value;
}

Value& Keyspace::set_expire(Value& v, int64_t expire_ms) {
  Entry* old = entry_of(v);
  if (v.has_expire() && expire_ms >= 0) {
    set_expire_field(old, expire_ms);
    return v;
  }
  if (!v.has_expire() && expire_ms < 0) return v;
  Entry* e = remake(old, expire_ms >= 0);
  if (expire_ms >= 0) {
    set_expire_field(e, expire_ms);
    ++expires_;
  } else {
    --expires_;
  }
  table_.relink(old, e);
  std::free(old);  // its contents live on in `e`
  return e->value;
}

bool Keyspace::erase(std::string_view key) {
  Entry* e = table_.unlink(key);
  if (e == nullptr) return false;
  if (e->value.has_expire()) --expires_;
  destroy(e);
  return true;
}

std::optional<std::pair<Object, int64_t>> Keyspace::take(std::string_view key) {
  Entry* e = table_.unlink(key);
  if (e == nullptr) return std::nullopt;
  const int64_t when = e->value.expire_ms();
  if (e->value.has_expire()) --expires_;
  std::optional<std::pair<Object, int64_t>> out;
  out.emplace(to_object(e), when);
  destroy(e);
  return out;
}

void Keyspace::clear() noexcept {
  table_.clear([](Entry* e) { destroy(e); });
  expires_ = 0;
}

}  // namespace setd::db
