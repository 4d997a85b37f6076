// RdbEncoder (rdb_encoder.hpp): Redis 7.0's rdbSave* encodings, appended to
// a std::string.
//
// Dependency rule (module persist): see rdb_format.hpp.
#include "setd/persist/rdb_encoder.hpp"

#include <cstdio>
#include <limits>

#include "setd/ds/int_parse.hpp"
#include "setd/persist/lzf.hpp"

namespace setd::persist {

namespace {

// Strings longer than this may be LZF-compressed (rdbSaveRawString: "under
// 20 bytes it's unable to compress even aaaaaaaaaaaaaaaaaa").
constexpr size_t kLzfMinLength = 21;
// Strings up to this long are tried as integers (rdbSaveRawString).
constexpr size_t kIntEncodingMaxLength = 11;

inline void put_le(char* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

}  // namespace

void RdbEncoder::magic(int version) {
  char buf[16];
  const int n = std::snprintf(buf, sizeof buf, "REDIS%04d", version);
  out_->append(buf, static_cast<size_t>(n));
}

void RdbEncoder::aux(std::string_view key, std::string_view value) {
  type(rdb::kOpAux);
  string(key);
  string(value);
}

void RdbEncoder::aux(std::string_view key, long long value) {
  char buf[ds::kInt64DecimalBufSize];
  aux(key, ds::format_int64(value, buf));
}

void RdbEncoder::select_db(uint64_t db) {
  type(rdb::kOpSelectDb);
  length(db);
}

void RdbEncoder::resize_db(uint64_t keys, uint64_t expires) {
  type(rdb::kOpResizeDb);
  length(keys);
  length(expires);
}

void RdbEncoder::key_prefix(int64_t expire_ms, long long idle, int freq) {
  if (expire_ms >= 0) {
    type(rdb::kOpExpireTimeMs);
    u64_le(static_cast<uint64_t>(expire_ms));
  }
  if (idle >= 0) {
    type(rdb::kOpIdle);
    length(static_cast<uint64_t>(idle));
  }
  if (freq >= 0) {
    type(rdb::kOpFreq);
    out_->push_back(static_cast<char>(freq));
  }
}

void RdbEncoder::key_value(std::string_view key, db::ValueView v, int64_t expire_ms, long long idle,
                           int freq) {
  key_prefix(expire_ms, idle, freq);
  type(type_of(v));
  string(key);
  value_payload(v);
}

void RdbEncoder::typed_value(db::ValueView v) {
  type(type_of(v));
  value_payload(v);
}

void RdbEncoder::eof() { type(rdb::kOpEof); }

void RdbEncoder::length(uint64_t len) {
  char buf[9];
  size_t n;
  if (len < (1u << 6)) {
    buf[0] = static_cast<char>(len);
    n = 1;
  } else if (len < (1u << 14)) {
    buf[0] = static_cast<char>((rdb::kLen14Bit << 6) | (len >> 8));
    buf[1] = static_cast<char>(len & 0xff);
    n = 2;
  } else if (len <= std::numeric_limits<uint32_t>::max()) {
    buf[0] = static_cast<char>(rdb::kLen32Bit);
    for (int i = 0; i < 4; ++i) buf[1 + i] = static_cast<char>((len >> (24 - 8 * i)) & 0xff);
    n = 5;
  } else {
    buf[0] = static_cast<char>(rdb::kLen64Bit);
    for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>((len >> (56 - 8 * i)) & 0xff);
    n = 9;
  }
  out_->append(buf, n);
}

void RdbEncoder::string(std::string_view s) {
  if (s.size() <= kIntEncodingMaxLength) {
    if (const auto v = ds::parse_int64(s)) {
      char buf[5];
      size_t n = 0;
      if (*v >= INT8_MIN && *v <= INT8_MAX) {
        buf[0] = static_cast<char>((rdb::kEncVal << 6) | rdb::kEncInt8);
        n = 1;
      } else if (*v >= INT16_MIN && *v <= INT16_MAX) {
        buf[0] = static_cast<char>((rdb::kEncVal << 6) | rdb::kEncInt16);
        n = 2;
      } else if (*v >= INT32_MIN && *v <= INT32_MAX) {
        buf[0] = static_cast<char>((rdb::kEncVal << 6) | rdb::kEncInt32);
        n = 4;
      }
      if (n > 0) {
        put_le(buf + 1, static_cast<uint64_t>(*v), static_cast<int>(n));
        out_->append(buf, n + 1);
        return;
      }
    }
  }
  if (opts_.compress && s.size() >= kLzfMinLength) {
    // rdbSaveLzfStringObject: worth it only if it saves at least 4 bytes.
    const size_t max_out = s.size() - 4;
    if (lzf_buf_.size() < max_out) lzf_buf_.resize(max_out);
    const size_t clen = lzf_compress_into(s, lzf_buf_.data(), max_out);
    if (clen > 0) {
      out_->push_back(static_cast<char>((rdb::kEncVal << 6) | rdb::kEncLzf));
      length(clen);
      length(s.size());
      out_->append(lzf_buf_.data(), clen);
      return;
    }
  }
  if (s.size() < 64) {
    out_->push_back(static_cast<char>(s.size()));  // 6-bit length
  } else {
    length(s.size());
  }
  out_->append(s);
}

void RdbEncoder::u64_le(uint64_t v) {
  char buf[8];
  put_le(buf, v, 8);
  out_->append(buf, 8);
}

uint8_t RdbEncoder::type_of(db::ValueView v) {
  if (v.type == db::Type::kString) return rdb::kTypeString;
  return v.set->as_intset() != nullptr ? rdb::kTypeSetIntset : rdb::kTypeSet;
}

void RdbEncoder::intset_payload(const ds::IntSet& is) {
  // intset.h: uint32 encoding, uint32 length, then the members ascending,
  // all little-endian.
  const auto width = static_cast<size_t>(is.width());
  blob_buf_.resize(8 + is.size() * width);
  char* p = blob_buf_.data();
  put_le(p, width, 4);
  put_le(p + 4, is.size(), 4);
  p += 8;
  is.for_each([&](int64_t v) {
    put_le(p, static_cast<uint64_t>(v), static_cast<int>(width));
    p += width;
  });
  string(blob_buf_);
}

void RdbEncoder::value_payload(db::ValueView v) {
  if (v.type == db::Type::kString) {
    string(v.str);
    return;
  }
  const ds::SetObject& set = *v.set;
  if (const ds::IntSet* is = set.as_intset()) {
    intset_payload(*is);
    return;
  }
  length(set.size());
  set.for_each([this](std::string_view m) { string(m); });
}

}  // namespace setd::persist
