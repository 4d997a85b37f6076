// RDB decoding (rdb_decoder.hpp): sources, the key/opcode loop, strings in
// every encoding, sets in every encoding, the skipping of other types, and
// DUMP/RESTORE payloads.
//
// Dependency rule (module persist): see rdb_format.hpp.
//
// Errors are thrown inside this file as Failure (message + offset) and
// turned into DecodeResult / RestoreResult at the two entry points; nothing
// throws through the public API.
#include "setd/persist/rdb_decoder.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "setd/ds/int_parse.hpp"
#include "setd/ds/intset.hpp"
#include "setd/ds/set_object.hpp"
#include "setd/persist/crc64.hpp"
#include "setd/persist/lzf.hpp"
#include "setd/persist/rdb_encoder.hpp"

namespace setd::persist {

// ---------------------------------------------------------------------------
// Sources
// ---------------------------------------------------------------------------

size_t StringSource::read(char* buf, size_t n) {
  const size_t k = std::min(n, bytes_.size() - pos_);
  if (k > 0) std::memcpy(buf, bytes_.data() + pos_, k);
  pos_ += k;
  offset_ += k;
  return k;
}

FdSource::FdSource(int fd, uint64_t size, size_t buffer_bytes)
    : fd_(fd), size_(size), buf_(std::max<size_t>(buffer_bytes, 1), '\0') {}

size_t FdSource::read(char* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    if (pos_ < len_) {
      const size_t k = std::min(n - done, len_ - pos_);
      std::memcpy(buf + done, buf_.data() + pos_, k);
      pos_ += k;
      done += k;
      continue;
    }
    const bool direct = n - done >= buf_.size();
    char* dst = direct ? buf + done : buf_.data();
    const size_t want = direct ? n - done : buf_.size();
    const ssize_t r = ::read(fd_, dst, want);
    if (r < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("read error: ") + std::strerror(errno);
      break;
    }
    if (r == 0) break;
    if (direct) {
      done += static_cast<size_t>(r);
    } else {
      pos_ = 0;
      len_ = static_cast<size_t>(r);
    }
  }
  offset_ += done;
  return done;
}

uint64_t FdSource::remaining_hint() const {
  if (size_ == UINT64_MAX) return UINT64_MAX;
  return size_ > offset_ ? size_ - offset_ : 0;
}

namespace {

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

// on_progress() is called about this often (Redis's
// loading-process-events-interval-bytes default).
constexpr uint64_t kProgressInterval = 2 << 20;
// Skipped bytes go through a buffer of this size; strings from a source of
// unknown size grow by at least this much at a time.
constexpr size_t kChunk = 64 << 10;
// With the input's size unknown, a set reserves at most this many members
// up front; past that it grows as members arrive.
constexpr uint64_t kUnknownSizeReserveCap = 1 << 16;
// A loaded listpack set of more entries than this is checked for duplicate
// members with a hash set instead of a linear search per member.
constexpr uint32_t kLinearDupCheckEntries = 256;
// Key names in error messages are cut after this many bytes.
constexpr size_t kShownKeyBytes = 64;
// Listpack: header (uint32 total bytes, uint16 count), terminator, and the
// count that means "unknown" (LP_HDR_NUMELE_UNKNOWN).
constexpr size_t kLpHeader = 6;
constexpr unsigned char kLpEof = 0xFF;
constexpr uint32_t kLpCountUnknown = UINT16_MAX;
// Module value opcodes (RDB_MODULE_OPCODE_*).
constexpr uint64_t kModuleEof = 0;
constexpr uint64_t kModuleSint = 1;
constexpr uint64_t kModuleUint = 2;
constexpr uint64_t kModuleFloat = 3;
constexpr uint64_t kModuleDouble = 4;
constexpr uint64_t kModuleString = 5;
// Quicklist 2 node containers.
constexpr uint64_t kQuicklistPlain = 1;
constexpr uint64_t kQuicklistPacked = 2;

constexpr char kBadPayload[] = "Bad data format";
constexpr char kBadFooter[] = "DUMP payload version or checksum are wrong";

struct Failure {
  std::string message;
  uint64_t offset;
};

[[noreturn]] void fail(uint64_t offset, std::string message) {
  throw Failure{std::move(message), offset};
}

// `s` quoted for a message: printable ASCII as is, other bytes as \xNN, at
// most kShownKeyBytes bytes.
std::string quoted(std::string_view s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kShownKeyBytes; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > kShownKeyBytes) out += "...";
  out += "'";
  return out;
}

std::string hex64(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t load_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool is_supported(uint8_t type) {
  return type == rdb::kTypeString || type == rdb::kTypeSet || type == rdb::kTypeSetIntset ||
         type == rdb::kTypeSetListpack;
}

// The 9-character name in a module type id (module.c moduleTypeNameByID:
// the top 54 bits are nine 6-bit characters; the low 10 bits a version).
std::string module_name(uint64_t id) {
  static constexpr char kCharset[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string name(9, ' ');
  id >>= 10;
  for (int i = 8; i >= 0; --i) {
    name[static_cast<size_t>(i)] = kCharset[id & 63];
    id >>= 6;
  }
  return name;
}

// lpEncodeBacklen's size for an entry of `l` bytes (note the strict
// comparisons: 16383 takes 3 bytes, as Redis writes it).
uint64_t lp_backlen_size(uint64_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

// ---------------------------------------------------------------------------
// Reader: exact-size reads from a Source, with the running CRC-64.
// ---------------------------------------------------------------------------

// Small reads (a length byte, a short member) are copied to a staging
// buffer and the CRC runs over it when it fills: crc64() is fast over
// kilobytes, slow byte by byte.
class Reader {
 public:
  explicit Reader(Source& src) : src_(src) {}

  void enable_checksum(uint64_t initial) {
    crc_on_ = true;
    crc_ = initial;
  }
  uint64_t crc() {
    flush_crc();
    return crc_;
  }
  uint64_t offset() const { return src_.offset(); }
  bool size_known() const { return src_.remaining_hint() != UINT64_MAX; }
  uint64_t remaining() const { return src_.remaining_hint(); }

  void read(void* buf, size_t n) {
    if (n == 0) return;
    const size_t got = src_.read(static_cast<char*>(buf), n);
    if (crc_on_ && got > 0) account(buf, got);
    if (got < n) truncated();
  }
  uint8_t u8() {
    unsigned char b;
    read(&b, 1);
    return b;
  }
  uint64_t le(int bytes) {
    unsigned char b[8];
    read(b, static_cast<size_t>(bytes));
    return load_le(b, bytes);
  }
  uint64_t be(int bytes) {
    unsigned char b[8];
    read(b, static_cast<size_t>(bytes));
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | b[i];
    return v;
  }

  // Fails at once if `n` more bytes (announced by the field at `at`) cannot
  // be in the input.
  void need(uint64_t n, uint64_t at, const char* what) const {
    const uint64_t left = remaining();  // UINT64_MAX when unknown
    if (n > left) {
      fail(at, "unexpected end of input: " + std::string(what) + " of " + std::to_string(n) +
                   " bytes, only " + std::to_string(left) + " left");
    }
  }

  // Reads and drops `n` bytes.
  void skip(uint64_t n, uint64_t at) {
    need(n, at, "data");
    if (!scratch_) scratch_ = std::make_unique<char[]>(kChunk);
    while (n > 0) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, kChunk));
      read(scratch_.get(), k);
      n -= k;
    }
  }

  [[noreturn]] void truncated() const {
    if (!src_.error().empty()) fail(offset(), src_.error());
    fail(offset(), "unexpected end of input");
  }

 private:
  void account(const void* p, size_t n) {
    if (n >= kCrcStage / 4) {
      flush_crc();
      crc_ = crc64(crc_, p, n);
      return;
    }
    if (staged_ + n > kCrcStage) flush_crc();
    std::memcpy(stage_ + staged_, p, n);
    staged_ += n;
  }
  void flush_crc() {
    crc_ = crc64(crc_, stage_, staged_);
    staged_ = 0;
  }

  static constexpr size_t kCrcStage = 4096;

  Source& src_;
  bool crc_on_ = false;
  uint64_t crc_ = 0;
  size_t staged_ = 0;
  char stage_[kCrcStage];
  std::unique_ptr<char[]> scratch_;
};

enum class Outcome { kValue, kEmpty };

// ---------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------

class Decoder {
 public:
  Decoder(Source& src, const DecodeOptions& opts, RdbVisitor* visitor)
      : reader_(src), opts_(opts), visitor_(visitor) {}

  Reader& reader() { return reader_; }

  // The whole stream: header, opcodes, keys, EOF, checksum.
  void run(DecodeResult& res);

  // The value of a supported `type` (already read) into `out`.
  Outcome value(uint8_t type, std::optional<db::Object>& out);

  uint64_t keys() const { return keys_; }
  uint64_t skipped() const { return skipped_; }
  uint64_t functions_skipped() const { return functions_skipped_; }
  // One function record's code (after its opcode).
  std::string function_code(uint8_t opcode) {
    std::string code;
    if (opcode == rdb::kOpFunction2) {
      string(code);
      return code;
    }
    // 7.0 release candidates: name, engine, [description], code.
    std::string name, engine, desc, blob;
    string(name);
    string(engine);
    if (length() != 0) string(desc);
    string(blob);
    return "#!" + engine + " name=" + name + "\n" + blob;
  }

 private:
  struct Len {
    uint64_t value;
    bool encoded;  // a special string encoding (RDB_ENCVAL), not a length
  };
  Len len_or_encoding();
  uint64_t length();
  void string(std::string& out);
  void raw(std::string& out, uint64_t n, uint64_t at);
  void lzf(std::string& out, uint64_t at);
  void skip_string();

  // Fails if `count` items of at least `min_bytes` each cannot be in the
  // input; returns how many may be reserved up front.
  uint64_t plausible_count(uint64_t count, uint64_t min_bytes, uint64_t at, const char* what) const;

  Outcome set_value(std::optional<db::Object>& out);
  Outcome intset_value(std::optional<db::Object>& out);
  Outcome listpack_set_value(std::optional<db::Object>& out);
  template <class F>
  uint64_t walk_listpack(std::string_view lp, uint64_t at, F&& fn);

  void skip_value(uint8_t type);
  void skip_module_opcodes();
  void skip_stream(uint8_t type);

  void key_value(uint8_t type, uint64_t at);
  void progress();

  Reader reader_;
  const DecodeOptions& opts_;
  RdbVisitor* visitor_;
  uint64_t next_progress_ = kProgressInterval;

  int db_ = 0;
  int64_t expire_ms_ = -1;
  int64_t idle_ = -1;
  int freq_ = -1;

  uint64_t keys_ = 0;
  uint64_t skipped_ = 0;
  uint64_t functions_skipped_ = 0;

  // Scratch, reused across keys.
  std::string member_;
  std::string blob_;
  std::string lzf_in_;
  std::string aux_key_;
  std::string aux_value_;
  std::vector<int64_t> ints_;
};

void Decoder::progress() {
  if (visitor_ == nullptr || reader_.offset() < next_progress_) return;
  next_progress_ = reader_.offset() + kProgressInterval;
  if (!visitor_->on_progress(reader_.offset())) fail(reader_.offset(), "loading aborted");
}

Decoder::Len Decoder::len_or_encoding() {
  const uint64_t at = reader_.offset();
  const uint8_t b = reader_.u8();
  switch (b >> 6) {
    case rdb::kLen6Bit:
      return {static_cast<uint64_t>(b & 0x3f), false};
    case rdb::kLen14Bit:
      return {(static_cast<uint64_t>(b & 0x3f) << 8) | reader_.u8(), false};
    case rdb::kEncVal:
      return {static_cast<uint64_t>(b & 0x3f), true};
    default:
      break;
  }
  if (b == rdb::kLen32Bit) return {reader_.be(4), false};
  if (b == rdb::kLen64Bit) return {reader_.be(8), false};
  char buf[64];
  std::snprintf(buf, sizeof buf, "Unknown length encoding 0x%02x", b);
  fail(at, buf);
}

uint64_t Decoder::length() {
  const uint64_t at = reader_.offset();
  const Len l = len_or_encoding();
  if (l.encoded) fail(at, "a string encoding where a length was expected");
  return l.value;
}

void Decoder::raw(std::string& out, uint64_t n, uint64_t at) {
  if (n <= kChunk || reader_.size_known()) {
    reader_.need(n, at, "a string");
    out.resize(static_cast<size_t>(n));
    reader_.read(out.data(), out.size());
    return;
  }
  // Unknown input size: the string grows with the bytes that arrive.
  out.clear();
  while (out.size() < n) {
    const size_t have = out.size();
    const auto step = static_cast<size_t>(std::min<uint64_t>(n - have, std::max(have, kChunk)));
    out.resize(have + step);
    reader_.read(out.data() + have, step);
  }
}

void Decoder::lzf(std::string& out, uint64_t at) {
  const uint64_t clen = length();
  const uint64_t len = length();
  if (clen == 0 || len == 0 || clen > UINT_MAX || len > UINT_MAX || len > clen * kLzfMaxExpansion) {
    fail(at, "Invalid LZF compressed string: " + std::to_string(clen) +
                 " compressed bytes cannot expand to " + std::to_string(len));
  }
  raw(lzf_in_, clen, at);
  out.resize(static_cast<size_t>(len));
  if (!lzf_decompress_into(lzf_in_, out.data(), out.size()))
    fail(at, "Invalid LZF compressed string");
}

void Decoder::string(std::string& out) {
  const uint64_t at = reader_.offset();
  const Len l = len_or_encoding();
  if (!l.encoded) {
    raw(out, l.value, at);
    return;
  }
  int64_t v = 0;
  switch (l.value) {
    case rdb::kEncInt8:
      v = static_cast<int8_t>(reader_.u8());
      break;
    case rdb::kEncInt16:
      v = static_cast<int16_t>(reader_.le(2));
      break;
    case rdb::kEncInt32:
      v = static_cast<int32_t>(reader_.le(4));
      break;
    case rdb::kEncLzf:
      lzf(out, at);
      return;
    default:
      fail(at, "Unknown RDB string encoding type " + std::to_string(l.value));
  }
  char buf[ds::kInt64DecimalBufSize];
  out.assign(ds::format_int64(v, buf));
}

void Decoder::skip_string() {
  const uint64_t at = reader_.offset();
  const Len l = len_or_encoding();
  if (!l.encoded) {
    reader_.skip(l.value, at);
    return;
  }
  switch (l.value) {
    case rdb::kEncInt8:
      reader_.skip(1, at);
      return;
    case rdb::kEncInt16:
      reader_.skip(2, at);
      return;
    case rdb::kEncInt32:
      reader_.skip(4, at);
      return;
    case rdb::kEncLzf: {
      const uint64_t clen = length();
      length();
      reader_.skip(clen, at);
      return;
    }
    default:
      fail(at, "Unknown RDB string encoding type " + std::to_string(l.value));
  }
}

uint64_t Decoder::plausible_count(uint64_t count, uint64_t min_bytes, uint64_t at,
                                  const char* what) const {
  if (!reader_.size_known()) return std::min(count, kUnknownSizeReserveCap);
  const uint64_t left = reader_.remaining();
  if (count > left / min_bytes) {
    fail(at, "unexpected end of input: " + std::string(what) + " of " + std::to_string(count) +
                 " elements, only " + std::to_string(left) + " bytes left");
  }
  return count;
}

// ---- sets ------------------------------------------------------------------

Outcome Decoder::set_value(std::optional<db::Object>& out) {
  const uint64_t at = reader_.offset();
  const uint64_t n = length();
  if (n == 0) return Outcome::kEmpty;
  const uint64_t reserve = plausible_count(n, 1, at, "a set");
  // rdbLoadObject: a hashtable from the start when there are more members
  // than set-max-intset-entries (capped at 2^30), else an intset that
  // converts on the first non-integer member (to a listpack if everything
  // so far fits one, as SetObject::add decides; a listpack converts to a
  // hashtable when a member does not fit). A conversion to a hashtable
  // pre-sizes it for the whole set, as Redis does.
  const ds::SetLimits& limits = opts_.set_limits;
  ds::SetObject set = n > limits.intset_cap()
                          ? ds::SetObject::empty_hashtable(static_cast<size_t>(reserve))
                          : ds::SetObject();
  bool sized = n > limits.intset_cap();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t mat = reader_.offset();
    string(member_);
    if (!set.add(member_, limits)) fail(mat, "Duplicate set members detected");
    if (!sized && set.encoding() == ds::SetObject::Encoding::kHashTable) {
      set.as_hash_set()->reserve(static_cast<size_t>(reserve));
      sized = true;
    }
    if ((i & 0xfff) == 0xfff) progress();
  }
  out = db::Object::set(std::move(set));
  return Outcome::kValue;
}

Outcome Decoder::intset_value(std::optional<db::Object>& out) {
  const uint64_t at = reader_.offset();
  string(blob_);
  // intsetValidateIntegrity (deep): header, encoding, exact size, not empty,
  // strictly ascending.
  auto bad = [&](const std::string& why) { fail(at, "Intset integrity check failed: " + why); };
  if (blob_.size() < 8) bad("blob of " + std::to_string(blob_.size()) + " bytes has no header");
  const auto* p = reinterpret_cast<const unsigned char*>(blob_.data());
  const auto width = static_cast<uint32_t>(load_le(p, 4));
  const auto count = static_cast<uint32_t>(load_le(p + 4, 4));
  if (width != 2 && width != 4 && width != 8)
    bad("encoding " + std::to_string(width) + " is not 2, 4 or 8");
  if (8 + uint64_t{count} * width != blob_.size()) {
    bad(std::to_string(count) + " members of " + std::to_string(width) + " bytes in a blob of " +
        std::to_string(blob_.size()) + " bytes");
  }
  if (count == 0) bad("no members");
  ints_.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t u = load_le(p + 8 + size_t{i} * width, static_cast<int>(width));
    int64_t v;
    if (width == 2) {
      v = static_cast<int16_t>(u);
    } else if (width == 4) {
      v = static_cast<int32_t>(u);
    } else {
      v = static_cast<int64_t>(u);
    }
    if (i > 0 && v <= ints_[i - 1]) bad("members not in strictly ascending order");
    ints_[i] = v;
  }
  if (count > opts_.set_limits.max_intset_entries) {
    // Redis converts an intset above set-max-intset-entries at load.
    ds::SetObject set = ds::SetObject::empty_hashtable(count);
    char buf[ds::kInt64DecimalBufSize];
    for (int64_t v : ints_) set.add(ds::format_int64(v, buf), opts_.set_limits);
    out = db::Object::set(std::move(set));
  } else {
    const auto w = static_cast<ds::IntSet::Width>(width);
    out = db::Object::set(ds::SetObject::from_intset(ds::IntSet::from_sorted_unique(ints_, w)));
  }
  return Outcome::kValue;
}

// Walks the listpack `lp`, validating it as lpValidateIntegrity (deep) does
// (total bytes, entry encodings, entries inside the blob, each backlen
// matching its entry, 0xFF terminator at the very end, entry count), and
// calls fn(member) per entry, integers formatted in decimal. Returns the
// number of entries.
template <class F>
uint64_t Decoder::walk_listpack(std::string_view lp, uint64_t at, F&& fn) {
  auto bad = [&](const std::string& why) {
    fail(at, "Set listpack integrity check failed: " + why);
  };
  const auto* p = reinterpret_cast<const unsigned char*>(lp.data());
  const size_t size = lp.size();
  if (size < kLpHeader + 1) bad("blob of " + std::to_string(size) + " bytes");
  if (load_le(p, 4) != size) {
    bad("header says " + std::to_string(load_le(p, 4)) + " bytes, blob has " +
        std::to_string(size));
  }
  if (p[size - 1] != kLpEof) bad("no terminator");
  const auto header_count = static_cast<uint32_t>(load_le(p + 4, 2));
  const size_t last = size - 1;  // index of the terminator
  size_t pos = kLpHeader;
  uint64_t count = 0;
  char buf[ds::kInt64DecimalBufSize];
  while (p[pos] != kLpEof) {
    const unsigned char b = p[pos];
    const auto where = [&] {
      return "entry " + std::to_string(count) + " at byte " + std::to_string(pos);
    };
    uint64_t len_bytes = 1;  // encoding byte plus length bytes
    uint64_t enc_size = 0;   // encoding, length and data bytes
    bool is_int = true;
    uint64_t str_len = 0;
    if ((b & 0x80) == 0) {  // 0xxxxxxx: 7-bit unsigned
      enc_size = 1;
    } else if ((b & 0xc0) == 0x80) {  // 10xxxxxx: string up to 63 bytes
      is_int = false;
      str_len = b & 0x3f;
      enc_size = 1 + str_len;
    } else if ((b & 0xe0) == 0xc0) {  // 110xxxxx: 13-bit signed
      enc_size = 2;
    } else if (b == 0xf1) {
      enc_size = 3;
    } else if (b == 0xf2) {
      enc_size = 4;
    } else if (b == 0xf3) {
      enc_size = 5;
    } else if (b == 0xf4) {
      enc_size = 9;
    } else if ((b & 0xf0) == 0xe0) {  // 1110xxxx: string up to 4095 bytes
      is_int = false;
      len_bytes = 2;
    } else if (b == 0xf0) {  // string with a 32-bit length
      is_int = false;
      len_bytes = 5;
    } else {
      char ebuf[40];
      std::snprintf(ebuf, sizeof ebuf, "unknown encoding 0x%02x", b);
      bad(where() + ": " + ebuf);
    }
    if (pos + len_bytes > last) bad(where() + ": header runs past the end");
    if (len_bytes == 2) {
      str_len = (static_cast<uint64_t>(b & 0x0f) << 8) | p[pos + 1];
      enc_size = 2 + str_len;
    } else if (len_bytes == 5) {
      str_len = load_le(p + pos + 1, 4);
      enc_size = 5 + str_len;
    }
    const uint64_t entry_size = enc_size + lp_backlen_size(enc_size);
    if (pos + entry_size > last) bad(where() + ": runs past the end");
    // lpDecodeBacklen, from the entry's last byte backwards.
    size_t q = pos + static_cast<size_t>(entry_size) - 1;
    uint64_t backlen = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (shift > 28) bad(where() + ": backlen longer than 5 bytes");
      backlen |= static_cast<uint64_t>(p[q] & 127) << shift;
      if ((p[q] & 128) == 0) break;
      --q;  // at most 4 steps back from byte >= 7: stays inside the blob
    }
    if (backlen != enc_size) {
      bad(where() + ": backlen " + std::to_string(backlen) + " for an entry of " +
          std::to_string(enc_size) + " bytes");
    }
    std::string_view member;
    if (is_int) {
      int64_t v = 0;
      const unsigned char* d = p + pos;
      if (enc_size == 1) {
        v = b & 0x7f;
      } else if (enc_size == 2) {
        const uint64_t u = (static_cast<uint64_t>(b & 0x1f) << 8) | d[1];
        v = u >= (1u << 12) ? static_cast<int64_t>(u) - (1 << 13) : static_cast<int64_t>(u);
      } else if (enc_size == 3) {
        v = static_cast<int16_t>(load_le(d + 1, 2));
      } else if (enc_size == 4) {
        const uint64_t u = load_le(d + 1, 3);
        v = u >= (1u << 23) ? static_cast<int64_t>(u) - (1 << 24) : static_cast<int64_t>(u);
      } else if (enc_size == 5) {
        v = static_cast<int32_t>(load_le(d + 1, 4));
      } else {
        v = static_cast<int64_t>(load_le(d + 1, 8));
      }
      member = ds::format_int64(v, buf);
    } else {
      member = lp.substr(pos + static_cast<size_t>(len_bytes), static_cast<size_t>(str_len));
    }
    fn(member);
    ++count;
    pos += static_cast<size_t>(entry_size);
  }
  if (pos != last) bad("terminator at byte " + std::to_string(pos) + " before the end");
  if (header_count != kLpCountUnknown && header_count != count) {
    bad("header counts " + std::to_string(header_count) + " entries, found " +
        std::to_string(count));
  }
  return count;
}

Outcome Decoder::listpack_set_value(std::optional<db::Object>& out) {
  const uint64_t at = reader_.offset();
  string(blob_);
  // The count in the header (checked against the entries by the walk)
  // chooses the starting encoding as RDB_TYPE_SET's length does; an
  // unknown count starts as an intset, which converts as members arrive.
  const auto header_count = blob_.size() >= kLpHeader
                                ? static_cast<uint32_t>(load_le(
                                      reinterpret_cast<const unsigned char*>(blob_.data()) + 4, 2))
                                : 0;
  const ds::SetLimits& limits = opts_.set_limits;
  const bool known = header_count != kLpCountUnknown;
  if (limits.listpack_enabled() && known && header_count <= limits.max_listpack_entries) {
    // Redis 7.2 keeps the listpack as it is (after checking it has no
    // duplicates), converting it to a hashtable only when it holds more
    // than set-max-listpack-entries members.
    ds::ListPack lp;
    ds::HashSet seen;  // duplicate check for a long listpack
    const bool use_seen = header_count > kLinearDupCheckEntries;
    walk_listpack(blob_, at, [&](std::string_view m) {
      const bool fresh = use_seen ? seen.insert(m) : !lp.contains(m);
      if (!fresh) fail(at, "Duplicate set members detected");
      lp.append(m);
    });
    if (lp.empty()) return Outcome::kEmpty;
    out = db::Object::set(ds::SetObject::from_listpack(std::move(lp)));
    return Outcome::kValue;
  }
  if (limits.listpack_enabled()) {
    // Over set-max-listpack-entries (or a count of "unknown", normally
    // 65535 or more): a hashtable, unless the members turn out to be few.
    ds::SetObject set = ds::SetObject::empty_hashtable(known ? header_count : 0);
    ds::HashSet& hs = *set.as_hash_set();
    const uint64_t n = walk_listpack(blob_, at, [&](std::string_view m) {
      if (!hs.insert(m)) fail(at, "Duplicate set members detected");
    });
    if (n == 0) return Outcome::kEmpty;
    if (n <= limits.max_listpack_entries) {
      ds::ListPack lp;
      hs.for_each([&](std::string_view m) { lp.append(m); });
      set = ds::SetObject::from_listpack(std::move(lp));
    }
    out = db::Object::set(std::move(set));
    return Outcome::kValue;
  }
  // Redis 7.0 has no listpack sets: loaded as the members of a plain set
  // (an unknown count starts as an intset, which converts as members
  // arrive).
  ds::SetObject set = known && header_count > limits.intset_cap()
                          ? ds::SetObject::empty_hashtable(header_count)
                          : ds::SetObject();
  const uint64_t n = walk_listpack(blob_, at, [&](std::string_view m) {
    if (!set.add(m, limits)) fail(at, "Duplicate set members detected");
  });
  if (n == 0) return Outcome::kEmpty;
  out = db::Object::set(std::move(set));
  return Outcome::kValue;
}

Outcome Decoder::value(uint8_t type, std::optional<db::Object>& out) {
  switch (type) {
    case rdb::kTypeString: {
      std::string s;
      string(s);
      out = db::Object::string(std::move(s));
      return Outcome::kValue;
    }
    case rdb::kTypeSet:
      return set_value(out);
    case rdb::kTypeSetIntset:
      return intset_value(out);
    case rdb::kTypeSetListpack:
      return listpack_set_value(out);
    default:
      fail(reader_.offset(), "RDB type " + std::to_string(type) + " is not a string or a set");
  }
}

// ---- skipping ----------------------------------------------------------------

void Decoder::skip_module_opcodes() {
  // rdbLoadCheckModuleValue: typed fields up to RDB_MODULE_OPCODE_EOF.
  for (;;) {
    progress();
    const uint64_t at = reader_.offset();
    const uint64_t op = length();
    switch (op) {
      case kModuleEof:
        return;
      case kModuleSint:
      case kModuleUint:
        length();
        break;
      case kModuleFloat:
        reader_.skip(4, at);
        break;
      case kModuleDouble:
        reader_.skip(8, at);
        break;
      case kModuleString:
        skip_string();
        break;
      default:
        fail(at, "Unknown module value opcode " + std::to_string(op));
    }
  }
}

void Decoder::skip_stream(uint8_t type) {
  // rdbLoadObject, RDB_TYPE_STREAM_LISTPACKS{,_2,_3}.
  const bool v2 = type >= rdb::kTypeStreamListpacks2;
  const bool v3 = type >= rdb::kTypeStreamListpacks3;
  uint64_t at = reader_.offset();
  const uint64_t nodes = length();
  plausible_count(nodes, 2, at, "a stream's listpacks");
  for (uint64_t i = 0; i < nodes; ++i) {
    progress();
    skip_string();  // master ID
    skip_string();  // listpack
  }
  for (int i = 0; i < (v2 ? 8 : 3); ++i) length();  // length, IDs, entries added
  at = reader_.offset();
  const uint64_t groups = length();
  plausible_count(groups, 5, at, "a stream's consumer groups");
  for (uint64_t g = 0; g < groups; ++g) {
    progress();
    skip_string();                                    // name
    for (int i = 0; i < (v2 ? 3 : 2); ++i) length();  // last ID, entries read
    at = reader_.offset();
    const uint64_t pel = length();
    plausible_count(pel, 25, at, "a consumer group's pending entries");
    for (uint64_t i = 0; i < pel; ++i) {
      progress();
      reader_.skip(16 + 8, reader_.offset());  // stream ID, delivery time
      length();                                // delivery count
    }
    at = reader_.offset();
    const uint64_t consumers = length();
    plausible_count(consumers, 10, at, "a consumer group's consumers");
    for (uint64_t c = 0; c < consumers; ++c) {
      progress();
      skip_string();                                // name
      reader_.skip(v3 ? 16 : 8, reader_.offset());  // seen (and active) time
      at = reader_.offset();
      const uint64_t own = length();
      plausible_count(own, 16, at, "a consumer's pending entries");
      if (own > UINT64_MAX / 16) fail(at, "a consumer's pending entries: impossible count");
      reader_.skip(own * 16, at);  // stream IDs
    }
  }
}

void Decoder::skip_value(uint8_t type) {
  const uint64_t at = reader_.offset();
  switch (type) {
    case rdb::kTypeList:
    case rdb::kTypeListQuicklist: {
      const uint64_t n = length();
      plausible_count(n, 1, at, "a list");
      for (uint64_t i = 0; i < n; ++i) {
        progress();
        skip_string();
      }
      return;
    }
    case rdb::kTypeListQuicklist2: {
      const uint64_t n = length();
      plausible_count(n, 2, at, "a quicklist");
      for (uint64_t i = 0; i < n; ++i) {
        progress();
        const uint64_t cat = reader_.offset();
        const uint64_t container = length();
        if (container != kQuicklistPlain && container != kQuicklistPacked)
          fail(cat, "Quicklist integrity check failed: container " + std::to_string(container));
        skip_string();
      }
      return;
    }
    case rdb::kTypeHash: {
      const uint64_t n = length();
      plausible_count(n, 2, at, "a hash");
      for (uint64_t i = 0; i < n; ++i) {
        progress();
        skip_string();  // field
        skip_string();  // value
      }
      return;
    }
    case rdb::kTypeZset: {
      const uint64_t n = length();
      plausible_count(n, 2, at, "a sorted set");
      for (uint64_t i = 0; i < n; ++i) {
        progress();
        skip_string();
        // rdbLoadDoubleValue: a length byte, 253-255 for nan/+inf/-inf.
        const uint64_t dat = reader_.offset();
        const uint8_t len = reader_.u8();
        if (len < 253) reader_.skip(len, dat);
      }
      return;
    }
    case rdb::kTypeZset2: {
      const uint64_t n = length();
      plausible_count(n, 9, at, "a sorted set");
      for (uint64_t i = 0; i < n; ++i) {
        progress();
        skip_string();
        reader_.skip(8, reader_.offset());  // binary double
      }
      return;
    }
    case rdb::kTypeModule2:
      length();  // module type id
      skip_module_opcodes();
      return;
    case rdb::kTypeHashZipmap:
    case rdb::kTypeListZiplist:
    case rdb::kTypeZsetZiplist:
    case rdb::kTypeHashZiplist:
    case rdb::kTypeHashListpack:
    case rdb::kTypeZsetListpack:
    case rdb::kTypeHashListpackExPreGa:
      skip_string();
      return;
    case rdb::kTypeHashListpackEx:
      reader_.skip(8, at);  // minimum field expiry
      skip_string();
      return;
    case rdb::kTypeStreamListpacks:
    case rdb::kTypeStreamListpacks2:
    case rdb::kTypeStreamListpacks3:
      skip_stream(type);
      return;
    case rdb::kTypeHashMetadata:
    case rdb::kTypeHashMetadataPreGa: {
      if (type == rdb::kTypeHashMetadata) reader_.skip(8, at);  // minimum field expiry
      const uint64_t nat = reader_.offset();
      const uint64_t n = length();
      plausible_count(n, 3, nat, "a hash");
      for (uint64_t i = 0; i < n; ++i) {
        progress();
        length();  // field TTL
        skip_string();
        skip_string();
      }
      return;
    }
    default:
      fail(at, "RDB type " + std::to_string(type) + " cannot be skipped");
  }
}

// ---- the main loop -----------------------------------------------------------

void Decoder::key_value(uint8_t type, uint64_t at) {
  std::string key;
  string(key);
  const std::string_view name = rdb::type_name(type);
  const auto context = [&] {
    return " (key " + quoted(key) + ", RDB type " + std::to_string(type) + ")";
  };
  if (!is_supported(type)) {
    if (type == rdb::kTypeModulePreGa) {
      fail(at, "key " + quoted(key) +
                   " holds a module value in the pre-release format of Redis 4.0 release "
                   "candidates (RDB type 6), which cannot be read or skipped");
    }
    if (!opts_.skip_unsupported) {
      std::string what = std::string(name);
      if (type == rdb::kTypeModule2)
        what += " value of module type '" + module_name(length()) + "'";
      fail(at, "key " + quoted(key) + " holds a " + what +
                   ": setd holds strings and sets (set rdb-skip-unsupported-types yes to skip "
                   "such keys)");
    }
    try {
      skip_value(type);
    } catch (Failure& f) {
      f.message += context();
      throw;
    }
    if (visitor_ != nullptr) visitor_->on_skipped(db_, key, name);
    ++skipped_;
    return;
  }
  std::optional<db::Object> v;
  Outcome outcome;
  try {
    outcome = value(type, v);
  } catch (Failure& f) {
    f.message += context();
    throw;
  }
  if (outcome == Outcome::kEmpty) {
    if (visitor_ != nullptr) visitor_->on_empty_key(db_, key);
    ++skipped_;
    return;
  }
  LoadedKey k;
  k.db = db_;
  k.key = std::move(key);
  k.value = std::move(*v);
  k.expire_ms = expire_ms_;
  k.idle_seconds = idle_;
  k.freq = freq_;
  if (visitor_ != nullptr) {
    std::string err = visitor_->on_key(std::move(k));
    if (!err.empty()) fail(at, std::move(err));
  }
  ++keys_;
}

void Decoder::run(DecodeResult& res) {
  char magic[9];
  reader_.read(magic, sizeof magic);
  if (std::memcmp(magic, "REDIS", 5) != 0)
    fail(0, "not an RDB file: it does not start with \"REDIS\"");
  int version = 0;
  for (size_t i = 5; i < 9; ++i) {
    if (magic[i] < '0' || magic[i] > '9') fail(5, "not an RDB file: bad version digits");
    version = version * 10 + (magic[i] - '0');
  }
  res.version = version;
  if (version < 1 || version > rdb::kMaxReadVersion) {
    fail(5, "Can't handle RDB format version " + std::to_string(version) + " (setd reads 1 to " +
                std::to_string(rdb::kMaxReadVersion) + ")");
  }
  const bool has_checksum = version >= 5;
  if (has_checksum && opts_.verify_checksum) reader_.enable_checksum(crc64(0, magic, sizeof magic));

  for (;;) {
    progress();
    const uint64_t at = reader_.offset();
    const uint8_t type = reader_.u8();
    switch (type) {
      case rdb::kOpEof:
        break;
      case rdb::kOpSelectDb: {
        const uint64_t db = length();
        if (db > static_cast<uint64_t>(std::numeric_limits<int>::max()))
          fail(at, "database index " + std::to_string(db) + " out of range");
        db_ = static_cast<int>(db);
        if (visitor_ != nullptr) visitor_->on_select_db(db_);
        continue;
      }
      case rdb::kOpResizeDb: {
        const uint64_t keys = length();
        const uint64_t expires = length();
        if (visitor_ != nullptr) visitor_->on_resize_db(keys, expires);
        continue;
      }
      case rdb::kOpExpireTimeMs:
        expire_ms_ = static_cast<int64_t>(reader_.le(8));
        continue;
      case rdb::kOpExpireTime:
        expire_ms_ = int64_t{static_cast<int32_t>(reader_.le(4))} * 1000;
        continue;
      case rdb::kOpIdle:
        idle_ = static_cast<int64_t>(std::min<uint64_t>(length(), INT64_MAX));
        continue;
      case rdb::kOpFreq:
        freq_ = reader_.u8();
        continue;
      case rdb::kOpAux:
        string(aux_key_);
        string(aux_value_);
        if (visitor_ != nullptr) visitor_->on_aux(aux_key_, aux_value_);
        continue;
      case rdb::kOpModuleAux: {
        length();  // module type id
        const uint64_t wat = reader_.offset();
        if (length() != kModuleUint) fail(wat, "module aux data: bad when_opcode");
        length();  // when
        skip_module_opcodes();
        continue;
      }
      case rdb::kOpFunctionPreGa:
        if (visitor_ != nullptr && visitor_->accepts_functions()) {
          if (std::string err = visitor_->on_function(function_code(type)); !err.empty())
            fail(at, err);
          continue;
        }
        fail(at,
             "the RDB holds functions in the pre-release format of Redis 7.0 release candidates, "
             "which cannot be read or skipped");
      case rdb::kOpFunction2:
        if (visitor_ != nullptr && visitor_->accepts_functions()) {
          if (std::string err = visitor_->on_function(function_code(type)); !err.empty())
            fail(at, err);
          continue;
        }
        if (!opts_.skip_unsupported) {
          fail(at,
               "the RDB contains Lua functions, which setd does not support (set "
               "rdb-skip-unsupported-types yes to skip them)");
        }
        skip_string();
        ++functions_skipped_;
        continue;
      case rdb::kOpSlotInfo:
        length();  // slot
        length();  // keys in the slot
        length();  // expiring keys in the slot
        continue;
      default:
        if (!rdb::is_value_type(type)) {
          std::string key;
          bool named = false;
          try {
            string(key);
            named = true;
          } catch (const Failure&) {
          }
          fail(at, "Unknown RDB value type " + std::to_string(type) +
                       (named ? " for key " + quoted(key) : std::string()));
        }
        key_value(type, at);
        expire_ms_ = -1;
        idle_ = -1;
        freq_ = -1;
        continue;
    }
    break;  // EOF
  }

  if (has_checksum) {
    const uint64_t computed = reader_.crc();
    const uint64_t at = reader_.offset();
    const uint64_t stored = reader_.le(8);
    if (opts_.verify_checksum && stored != 0 && stored != computed) {
      fail(at,
           "RDB CRC error: the file says " + hex64(stored) + ", its bytes give " + hex64(computed));
    }
  }
  res.ok = true;
}

}  // namespace

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

DecodeResult decode_rdb(Source& src, RdbVisitor& visitor, const DecodeOptions& opts) {
  DecodeResult res;
  Decoder d(src, opts, &visitor);
  try {
    d.run(res);
  } catch (const Failure& f) {
    res.error = f.message;
    res.offset = f.offset;
  } catch (const std::bad_alloc&) {
    res.error = "out of memory while decoding";
    res.offset = src.offset();
  } catch (const std::exception& e) {
    res.error = e.what();
    res.offset = src.offset();
  }
  res.keys = d.keys();
  res.skipped = d.skipped();
  res.functions_skipped = d.functions_skipped();
  return res;
}

namespace {

// DUMP-style payloads end with <RDB version: 2 bytes LE> <CRC-64 of
// everything before: 8 bytes LE> (Redis's createDumpPayload).
void append_footer(std::string& out, RdbEncoder& enc) {
  out.push_back(static_cast<char>(rdb::kVersion & 0xff));
  out.push_back(static_cast<char>((rdb::kVersion >> 8) & 0xff));
  enc.u64_le(crc64(0, out));
}

// Redis's verifyDumpPayload: the body before the footer, or nullopt when the
// footer is missing, names a newer RDB version or (if checked) its CRC-64
// does not match.
std::optional<std::string_view> payload_body(std::string_view payload, bool verify_checksum) {
  if (payload.size() < 10) return std::nullopt;
  const auto* footer = reinterpret_cast<const unsigned char*>(payload.data() + payload.size() - 10);
  if (load_le(footer, 2) > static_cast<uint64_t>(rdb::kMaxReadVersion)) return std::nullopt;
  if (verify_checksum && crc64(0, payload.data(), payload.size() - 8) != load_le(footer + 2, 8))
    return std::nullopt;
  return payload.substr(0, payload.size() - 10);
}

}  // namespace

std::string dump_payload(db::ValueView v, bool compress) {
  std::string out;
  RdbEncoder enc(&out, EncodeOptions{.compress = compress});
  enc.typed_value(v);
  append_footer(out, enc);
  return out;
}

RestoreResult restore_payload(std::string_view payload, const DecodeOptions& opts) {
  RestoreResult r;
  const auto body = payload_body(payload, opts.verify_checksum);
  if (!body) {
    r.error = kBadFooter;
    return r;
  }
  StringSource src(*body);
  Decoder d(src, opts, nullptr);
  try {
    const uint8_t type = d.reader().u8();
    if (!rdb::is_value_type(type)) {
      r.error = kBadPayload;
      return r;
    }
    if (!is_supported(type)) {
      r.error = std::string(kBadPayload) + ": setd cannot hold a " +
                std::string(rdb::type_name(type)) + " value";
      return r;
    }
    std::optional<db::Object> v;
    if (d.value(type, v) != Outcome::kValue || src.remaining_hint() != 0) {
      r.error = kBadPayload;
      return r;
    }
    r.value = std::move(v);
  } catch (const Failure&) {
    r.error = kBadPayload;
  } catch (const std::exception&) {
    r.error = kBadPayload;
  }
  return r;
}

std::string functions_payload(const std::vector<std::string>& codes, bool compress) {
  std::string out;
  EncodeOptions eo;
  eo.compress = compress;
  RdbEncoder enc(&out, eo);
  for (const auto& code : codes) {
    enc.type(rdb::kOpFunction2);
    enc.string(code);
  }
  append_footer(out, enc);
  return out;
}

FunctionsPayload decode_functions_payload(std::string_view payload, bool verify_checksum) {
  FunctionsPayload r;
  const auto body = payload_body(payload, verify_checksum);
  if (!body) {
    r.error = kBadFooter;
    return r;
  }
  StringSource src(*body);
  DecodeOptions opts;
  Decoder d(src, opts, nullptr);
  try {
    while (src.remaining_hint() > 0) {
      uint8_t type = 0;
      try {
        type = d.reader().u8();
      } catch (const Failure&) {
        r.error = "can not read data type";
        r.codes.clear();
        return r;
      }
      if (type != rdb::kOpFunction2 && type != rdb::kOpFunctionPreGa) {
        r.error = "given type is not a function";
        r.codes.clear();
        return r;
      }
      r.codes.push_back(d.function_code(type));
    }
  } catch (const Failure&) {
    r.error = "failed loading the given functions payload";
    r.codes.clear();
  } catch (const std::exception&) {
    r.error = "failed loading the given functions payload";
    r.codes.clear();
  }
  return r;
}

}  // namespace setd::persist
