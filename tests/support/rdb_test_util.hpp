// Test support for the RDB codec (unit, integration and fuzz seed tests):
// a visitor that records everything decode_rdb() reports, a byte builder
// for hand-made RDB input, a listpack builder written from listpack.c's
// format description (independently of the decoder), and a Source of
// unknown size (a socket, for the decoder).
#pragma once

#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "setd/db/value.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/rdb_encoder.hpp"
#include "setd/persist/rdb_format.hpp"

namespace setd::testing {

// Every callback of decode_rdb(), in order.
class RdbRecorder : public persist::RdbVisitor {
 public:
  std::vector<persist::LoadedKey> keys;
  std::vector<std::pair<std::string, std::string>> aux;
  std::vector<int> selected;
  std::vector<std::pair<uint64_t, uint64_t>> resizes;
  std::vector<std::tuple<int, std::string, std::string>> skipped;  // db, key, type
  std::vector<std::pair<int, std::string>> empty;
  std::vector<uint64_t> progress;
  std::string fail_on_key;  // on_key returns this error when non-empty
  bool abort_progress = false;

  void on_aux(std::string_view k, std::string_view v) override { aux.emplace_back(k, v); }
  void on_select_db(int db) override { selected.push_back(db); }
  void on_resize_db(uint64_t k, uint64_t e) override { resizes.emplace_back(k, e); }
  std::string on_key(persist::LoadedKey&& k) override {
    if (!fail_on_key.empty()) return fail_on_key;
    keys.push_back(std::move(k));
    return {};
  }
  void on_skipped(int db, std::string_view key, std::string_view type) override {
    skipped.emplace_back(db, std::string(key), std::string(type));
  }
  void on_empty_key(int db, std::string_view key) override { empty.emplace_back(db, key); }
  bool on_progress(uint64_t offset) override {
    progress.push_back(offset);
    return !abort_progress;
  }

  // The key `key` of database `db`, or nullptr.
  const persist::LoadedKey* find(int db, std::string_view key) const {
    for (const auto& k : keys)
      if (k.db == db && k.key == key) return &k;
    return nullptr;
  }
};

// A set's members, sorted; a string's bytes as a one-element set.
inline std::set<std::string> members(db::ValueView v) {
  std::set<std::string> out;
  if (v.type == db::Type::kString) {
    out.emplace(v.str);
  } else {
    v.set->for_each([&](std::string_view m) { out.emplace(m); });
  }
  return out;
}

// Hand-made RDB bytes. len() and str() use the encoder's primitives (their
// bytes are checked separately); raw_str() is always length + bytes.
class RdbBytes {
 public:
  RdbBytes& u8(int b) {
    s_.push_back(static_cast<char>(b));
    return *this;
  }
  RdbBytes& raw(std::string_view b) {
    s_.append(b);
    return *this;
  }
  RdbBytes& le(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  RdbBytes& len(uint64_t n) {
    persist::RdbEncoder(&s_).length(n);
    return *this;
  }
  RdbBytes& str(std::string_view v) {
    persist::RdbEncoder(&s_, {.compress = false}).string(v);
    return *this;
  }
  RdbBytes& raw_str(std::string_view v) {
    len(v.size());
    return raw(v);
  }
  const std::string& bytes() const { return s_; }

 private:
  std::string s_;
};

// "REDIS<version>" + body + EOF (+ CRC-64 from version 5 on).
inline std::string rdb_file(std::string_view body, int version = persist::rdb::kVersion) {
  char magic[16];
  std::snprintf(magic, sizeof magic, "REDIS%04d", version);
  std::string out = magic;
  out.append(body);
  out.push_back(static_cast<char>(persist::rdb::kOpEof));
  if (version >= 5) {
    const uint64_t crc = persist::crc64(0, out);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  }
  return out;
}

// A listpack (listpack.c): uint32 total bytes, uint16 count, entries, 0xFF.
// Each entry is its encoding + data, then that length again as a backlen
// (see backlen()).
class ListpackBuilder {
 public:
  ListpackBuilder& uint7(unsigned v) { return entry(std::string(1, static_cast<char>(v & 0x7f))); }
  ListpackBuilder& str6(std::string_view s) {
    return entry(std::string(1, static_cast<char>(0x80 | s.size())) + std::string(s));
  }
  ListpackBuilder& int13(int v) {
    const auto u = static_cast<unsigned>(v) & 0x1fff;
    std::string e;
    e.push_back(static_cast<char>(0xc0 | (u >> 8)));
    e.push_back(static_cast<char>(u & 0xff));
    return entry(e);
  }
  ListpackBuilder& str12(std::string_view s) {
    std::string e;
    e.push_back(static_cast<char>(0xe0 | (s.size() >> 8)));
    e.push_back(static_cast<char>(s.size() & 0xff));
    return entry(e + std::string(s));
  }
  ListpackBuilder& int16(int64_t v) { return int_n(0xf1, v, 2); }
  ListpackBuilder& int24(int64_t v) { return int_n(0xf2, v, 3); }
  ListpackBuilder& int32(int64_t v) { return int_n(0xf3, v, 4); }
  ListpackBuilder& int64(int64_t v) { return int_n(0xf4, v, 8); }
  ListpackBuilder& str32(std::string_view s) {
    std::string e(1, static_cast<char>(0xf0));
    for (int i = 0; i < 4; ++i) e.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
    return entry(e + std::string(s));
  }
  // An entry's bytes exactly as given (for corrupt listpacks), backlen added.
  ListpackBuilder& entry(const std::string& enc) {
    body_ += enc + backlen(enc.size());
    ++count_;
    return *this;
  }
  ListpackBuilder& raw(std::string_view b) {
    body_.append(b);
    return *this;
  }
  // The blob; `count` overrides the header's entry count.
  std::string bytes(int64_t count = -1) const {
    std::string out;
    const uint64_t total = 6 + body_.size() + 1;
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((total >> (8 * i)) & 0xff));
    const auto n = static_cast<uint64_t>(count >= 0 ? count : count_);
    out.push_back(static_cast<char>(n & 0xff));
    out.push_back(static_cast<char>((n >> 8) & 0xff));
    out += body_;
    out.push_back(static_cast<char>(0xff));
    return out;
  }

  // lpEncodeBacklen: 1 byte up to 127, else 7-bit groups, most significant
  // group first in memory, every byte but the first with bit 7 set (the
  // decoder reads it backwards from the entry's last byte).
  static std::string backlen(uint64_t l) {
    int n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    std::string out(static_cast<size_t>(n), '\0');
    for (int i = n - 1; i >= 0; --i) {
      out[static_cast<size_t>(i)] = static_cast<char>((l & 127) | (i == 0 ? 0 : 128));
      l >>= 7;
    }
    return out;
  }

 private:
  ListpackBuilder& int_n(int enc, int64_t v, int bytes) {
    std::string e(1, static_cast<char>(enc));
    const auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < bytes; ++i) e.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
    return entry(e);
  }
  std::string body_;
  uint64_t count_ = 0;
};

// Bytes in memory that do not tell how many remain (like a socket): the
// decoder cannot refuse a length up front and must grow with what arrives.
class UnknownSizeSource final : public persist::Source {
 public:
  explicit UnknownSizeSource(std::string_view bytes) : inner_(bytes) {}
  size_t read(char* buf, size_t n) override {
    const size_t k = inner_.read(buf, n);
    offset_ += k;
    return k;
  }

 private:
  persist::StringSource inner_;
};

}  // namespace setd::testing
