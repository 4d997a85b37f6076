// Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
// BITFIELD_RO; and LCS (a string command that reads two keys). Replies,
// error texts, argument-checking order, keyspace notifications and value
// encodings are Redis 7.0's (bitops.c, t_string.c's lcsCommand).
#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

namespace nf = server::notify;
using db::StringEncoding;
using db::Value;

// --- helpers -------------------------------------------------------------------

// Keyword comparison as C's strcasecmp on the argument's char pointer: up to
// the first NUL ("bit\0x" is BIT).
bool kw(std::string_view arg, std::string_view keyword) {
  return is(base::c_string_view(arg), keyword);
}

// Redis's getLongLongFromObjectOrReply with its default error.
bool parse_int(Context& ctx, std::string_view arg, long long& out) {
  return parse_ll(ctx, arg, out);
}

// Clients whose commands must be obeyed (our master, AOF loading): Redis's
// mustObeyClient, which skips the offset limit.
bool must_obey(const Context& ctx) {
  return ctx.client.repl_role == server::ReplRole::kMaster || ctx.server.loading;
}

constexpr std::string_view kBitOffsetErr = "ERR bit offset is not an integer or out of range";

// Redis's getBitOffsetFromArgument: a non-negative integer whose byte is
// below proto-max-bulk-len; with `hash` and `bits` > 0, "#n" means n * bits
// (BITFIELD). Replies the error and returns false otherwise.
bool bit_offset(Context& ctx, std::string_view arg, uint64_t& out, bool hash = false,
                int bits = 0) {
  const bool use_hash = hash && bits > 0 && !arg.empty() && arg[0] == '#';
  long long v = 0;
  if (!base::string_to_ll(use_hash ? arg.substr(1) : arg, v)) {
    ctx.rb.error(kBitOffsetErr);
    return false;
  }
  if (use_hash) v = static_cast<long long>(static_cast<unsigned long long>(v) * bits);
  if (v < 0 || (!must_obey(ctx) && (v >> 3) >= ctx.server.settings().proto_max_bulk_len)) {
    ctx.rb.error(kBitOffsetErr);
    return false;
  }
  out = static_cast<uint64_t>(v);
  return true;
}

// Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63.
bool bitfield_type(Context& ctx, std::string_view arg, bool& is_signed, int& bits) {
  const std::string_view s = base::c_string_view(arg);
  long long n = 0;
  const bool ok = !s.empty() && (s[0] == 'i' || s[0] == 'u') &&
                  base::string_to_ll(s.substr(1), n) && n >= 1 && n <= (s[0] == 'i' ? 64 : 63);
  if (!ok) {
    ctx.rb.error(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
        "but i64 is.");
    return false;
  }
  is_signed = s[0] == 'i';
  bits = static_cast<int>(n);
  return true;
}

// Stores `v` under `key` as Redis's setKey: added (with the "new" event)
// when missing, else replaced (TTL dropped). Signals WATCH.
void store_key(Context& ctx, std::string_view key, db::Object v) {
  if (lookup_write(ctx, key) != nullptr)
    ctx.db().set(key, std::move(v));
  else
    add_key(ctx, key, std::move(v));
  key_modified(ctx, key);
}

// Redis's lookupStringForBitCommand: the string at argument 1, created
// (zero-filled, "raw") or made raw and zero-padded so that bit `maxbit`
// exists. nullptr after replying WRONGTYPE. `grew`: created or lengthened.
Value* string_for_bits(Context& ctx, uint64_t maxbit, bool& grew) {
  const std::string_view key = ctx.arg(1);
  const size_t need = static_cast<size_t>(maxbit >> 3) + 1;
  Value* v = lookup_write(ctx, key);
  grew = false;
  if (v == nullptr) {
    v = &add_key(ctx, key, db::Object::string(std::string(need, '\0'), StringEncoding::kRaw));
    grew = true;
    return v;
  }
  if (v->type() != db::Type::kString) {
    ctx.wrong_type();
    return nullptr;
  }
  if (v->string_encoding() != StringEncoding::kRaw)
    v = &ctx.db().set(key, db::Object::string(std::string(v->str()), StringEncoding::kRaw), true);
  if (v->str().size() < need) {
    v->raw_resize(need);
    grew = true;
  }
  return v;
}

// A string key for reading: nullptr when missing; `wrong` after replying
// WRONGTYPE.
const Value* read_string(Context& ctx, std::string_view key, bool& wrong) {
  const Value* v = lookup_read(ctx, key);
  wrong = v != nullptr && v->type() != db::Type::kString;
  if (wrong) ctx.wrong_type();
  return v;
}

long long popcount(const unsigned char* p, size_t n) {
  long long bits = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    bits += __builtin_popcountll(w);
  }
  for (; i < n; ++i) bits += __builtin_popcount(p[i]);
  return bits;
}

// Redis's redisBitpos: the first bit equal to `bit` in n bytes; when
// looking for 0 and none is found, n * 8 (the string is zero-padded on the
// right); when looking for 1 and none is found, -1.
long long first_bit(const unsigned char* p, size_t n, int bit) {
  const unsigned char skip = bit ? 0x00 : 0xff;
  size_t i = 0;
  while (i < n && p[i] == skip) ++i;
  if (i == n) return bit ? -1 : static_cast<long long>(n) * 8;
  const unsigned char b = p[i];
  for (int j = 0; j < 8; ++j)
    if (((b >> (7 - j)) & 1) == bit) return static_cast<long long>(i) * 8 + j;
  return -1;  // unreachable
}

// --- SETBIT / GETBIT -------------------------------------------------------------

// SETBIT key offset value: the bit's previous value.
void setbit_cmd(Context& ctx) {
  uint64_t offset = 0;
  if (!bit_offset(ctx, ctx.arg(2), offset)) return;
  long long on = 0;
  if (!base::string_to_ll(ctx.arg(3), on) || (on & ~1LL) != 0) {
    ctx.rb.error("ERR bit is not an integer or out of range");
    return;
  }
  bool grew = false;
  Value* v = string_for_bits(ctx, offset, grew);
  if (v == nullptr) return;
  unsigned char* p = reinterpret_cast<unsigned char*>(v->raw_data());
  const size_t byte = static_cast<size_t>(offset >> 3);
  const int shift = 7 - static_cast<int>(offset & 7);
  const int old = (p[byte] >> shift) & 1;
  if (grew || old != on) {
    p[byte] = static_cast<unsigned char>((p[byte] & ~(1 << shift)) | (on << shift));
    key_modified(ctx, ctx.arg(1));
    notify(ctx, nf::kString, "setbit", ctx.arg(1));
  }
  ctx.rb.integer(old);
}

// GETBIT key offset: 0 or 1 (0 past the end or for a missing key).
void getbit_cmd(Context& ctx) {
  uint64_t offset = 0;
  if (!bit_offset(ctx, ctx.arg(2), offset)) return;
  bool wrong = false;
  const Value* v = read_string(ctx, ctx.arg(1), wrong);
  if (wrong) return;
  int bit = 0;
  if (v != nullptr) {
    const std::string_view s = v->str();
    const uint64_t byte = offset >> 3;
    if (byte < s.size())
      bit = (static_cast<unsigned char>(s[static_cast<size_t>(byte)]) >> (7 - (offset & 7))) & 1;
  }
  ctx.rb.integer(bit);
}

// --- BITCOUNT / BITPOS -------------------------------------------------------------

// BITCOUNT key [start end [BYTE|BIT]]. As Redis, the key is looked up (and
// a missing one answers 0) before the range is parsed.
void bitcount_cmd(Context& ctx) {
  bool wrong = false;
  const Value* v = read_string(ctx, ctx.arg(1), wrong);
  if (wrong) return;
  if (v == nullptr) {
    ctx.rb.integer(0);
    return;
  }
  const std::string_view s = v->str();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto strlen = static_cast<long long>(s.size());
  long long start = 0, end = 0;
  unsigned char first_mask = 0, last_mask = 0;
  if (ctx.argc() == 4 || ctx.argc() == 5) {
    long long total = strlen;
    if (!parse_int(ctx, ctx.arg(2), start) || !parse_int(ctx, ctx.arg(3), end)) return;
    if (start < 0 && end < 0 && start > end) {
      ctx.rb.integer(0);
      return;
    }
    bool isbit = false;
    if (ctx.argc() == 5) {
      if (kw(ctx.arg(4), "bit")) {
        isbit = true;
      } else if (!kw(ctx.arg(4), "byte")) {
        ctx.syntax_error();
        return;
      }
    }
    if (isbit) total <<= 3;
    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (isbit && start <= end) {
      first_mask = static_cast<unsigned char>(~((1 << (8 - (start & 7))) - 1) & 0xff);
      last_mask = static_cast<unsigned char>((1 << (7 - (end & 7))) - 1);
      start >>= 3;
      end >>= 3;
    }
  } else if (ctx.argc() == 2) {
    start = 0;
    end = strlen - 1;
  } else {
    ctx.syntax_error();
    return;
  }
  if (start > end) {
    ctx.rb.integer(0);
    return;
  }
  long long count = popcount(p + start, static_cast<size_t>(end - start + 1));
  // The edge bytes' bits outside a BIT range are taken off again.
  if (first_mask != 0) count -= __builtin_popcount(p[start] & first_mask);
  if (last_mask != 0) count -= __builtin_popcount(p[end] & last_mask);
  ctx.rb.integer(count);
}

// BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to `bit`.
void bitpos_cmd(Context& ctx) {
  long long bit = 0;
  if (!parse_int(ctx, ctx.arg(2), bit)) return;
  if (bit != 0 && bit != 1) {
    ctx.rb.error("ERR The bit argument must be 1 or 0.");
    return;
  }
  bool wrong = false;
  const Value* v = read_string(ctx, ctx.arg(1), wrong);
  if (wrong) return;
  if (v == nullptr) {
    // A missing key is an endless run of zeros.
    ctx.rb.integer(bit ? -1 : 0);
    return;
  }
  const std::string_view s = v->str();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto strlen = static_cast<long long>(s.size());
  long long start = 0, end = 0;
  bool end_given = false;
  unsigned char first_mask = 0, last_mask = 0;
  const size_t argc = ctx.argc();
  if (argc >= 4 && argc <= 6) {
    long long total = strlen;
    if (!parse_int(ctx, ctx.arg(3), start)) return;
    bool isbit = false;
    if (argc == 6) {
      if (kw(ctx.arg(5), "bit")) {
        isbit = true;
      } else if (!kw(ctx.arg(5), "byte")) {
        ctx.syntax_error();
        return;
      }
    }
    if (argc >= 5) {
      if (!parse_int(ctx, ctx.arg(4), end)) return;
      end_given = true;
    } else {
      end = total - 1;
    }
    if (isbit) total <<= 3;
    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (isbit && start <= end) {
      first_mask = static_cast<unsigned char>(~((1 << (8 - (start & 7))) - 1) & 0xff);
      last_mask = static_cast<unsigned char>((1 << (7 - (end & 7))) - 1);
      start >>= 3;
      end >>= 3;
    }
  } else if (argc == 3) {
    start = 0;
    end = strlen - 1;
  } else {
    ctx.syntax_error();
    return;
  }
  if (start > end) {
    // An empty range holds neither a 0 nor a 1.
    ctx.rb.integer(-1);
    return;
  }
  long long bytes = end - start + 1;
  long long pos = 0;
  // The edge bytes of a BIT range: the bits outside it are set to what is
  // not looked for.
  const auto masked = [&](unsigned char b, unsigned char mask) {
    return static_cast<unsigned char>(bit ? (b & ~mask) : (b | mask));
  };
  bool done = false;
  if (first_mask != 0) {
    unsigned char c = masked(p[start], first_mask);
    if (last_mask != 0 && bytes == 1) c = masked(c, last_mask);
    pos = first_bit(&c, 1, static_cast<int>(bit));
    if (bytes == 1 || (pos != -1 && pos != 8)) {
      done = true;
    } else {
      ++start;
      --bytes;
    }
  }
  if (!done) {
    const long long middle = bytes - (last_mask != 0 ? 1 : 0);
    if (middle > 0) {
      pos = first_bit(p + start, static_cast<size_t>(middle), static_cast<int>(bit));
      if (bytes == middle || (pos != -1 && pos != middle * 8)) {
        done = true;
      } else {
        start += middle;
        bytes -= middle;
      }
    }
  }
  if (!done) {
    const unsigned char c = masked(p[end], last_mask);
    pos = first_bit(&c, 1, static_cast<int>(bit));
  }
  // Looking for a 0 within an explicit range that has none: -1 rather than
  // the first bit past the range.
  if (end_given && bit == 0 && pos == bytes * 8) {
    ctx.rb.integer(-1);
    return;
  }
  if (pos != -1) pos += start * 8;
  ctx.rb.integer(pos);
}

// --- BITOP ---------------------------------------------------------------------------

// BITOP AND|OR|XOR|NOT destkey key...: the length of the stored result
// (the longest input); an empty result deletes destkey.
void bitop_cmd(Context& ctx) {
  enum Op { kAnd, kOr, kXor, kNot };
  const std::string_view name = ctx.arg(1);
  Op op;
  if (kw(name, "and")) {
    op = kAnd;
  } else if (kw(name, "or")) {
    op = kOr;
  } else if (kw(name, "xor")) {
    op = kXor;
  } else if (kw(name, "not")) {
    op = kNot;
  } else {
    ctx.syntax_error();
    return;
  }
  if (op == kNot && ctx.argc() != 4) {
    ctx.rb.error("ERR BITOP NOT must be called with a single source key.");
    return;
  }
  const size_t n = ctx.argc() - 3;
  std::vector<std::string> src(n);  // copies: the target may be a source
  size_t maxlen = 0;
  for (size_t j = 0; j < n; ++j) {
    bool wrong = false;
    const Value* v = read_string(ctx, ctx.arg(3 + j), wrong);
    if (wrong) return;
    if (v != nullptr) src[j] = std::string(v->str());
    maxlen = std::max(maxlen, src[j].size());
  }
  const std::string_view target = ctx.arg(2);
  if (maxlen > 0) {
    std::string res(maxlen, '\0');
    for (size_t i = 0; i < maxlen; ++i) {
      const auto at = [&](size_t j) {
        return i < src[j].size() ? static_cast<unsigned char>(src[j][i]) : 0;
      };
      unsigned char out = at(0);
      if (op == kNot) out = static_cast<unsigned char>(~out);
      for (size_t j = 1; j < n; ++j) {
        if (op == kAnd)
          out &= at(j);
        else if (op == kOr)
          out |= at(j);
        else
          out ^= at(j);
      }
      res[i] = static_cast<char>(out);
    }
    store_key(ctx, target, db::Object::string(std::move(res), StringEncoding::kRaw));
    notify(ctx, nf::kString, "set", target);
  } else if (ctx.db().erase(target)) {
    key_modified(ctx, target);
    notify(ctx, nf::kGeneric, "del", target);
  }
  ctx.rb.integer(static_cast<long long>(maxlen));
}

// --- BITFIELD ------------------------------------------------------------------------

enum class Overflow { kWrap, kSat, kFail };

// Bits [offset, offset + bits) of p as an unsigned number, most
// significant first (bit 0 is the top bit of byte 0).
uint64_t get_unsigned(const unsigned char* p, uint64_t offset, int bits) {
  uint64_t value = 0;
  for (int j = 0; j < bits; ++j, ++offset)
    value = (value << 1) | ((p[offset >> 3] >> (7 - (offset & 7))) & 1);
  return value;
}
int64_t get_signed(const unsigned char* p, uint64_t offset, int bits) {
  uint64_t u = get_unsigned(p, offset, bits);
  if (bits < 64 && (u & (uint64_t{1} << (bits - 1)))) u |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(u);
}
void set_unsigned(unsigned char* p, uint64_t offset, int bits, uint64_t value) {
  for (int j = 0; j < bits; ++j, ++offset) {
    const unsigned bitval = (value >> (bits - 1 - j)) & 1;
    const int shift = 7 - static_cast<int>(offset & 7);
    unsigned char& b = p[offset >> 3];
    b = static_cast<unsigned char>((b & ~(1u << shift)) | (bitval << shift));
  }
}

// Redis's checkUnsignedBitfieldOverflow: whether value + incr leaves a
// `bits`-bit unsigned integer; `limit` gets what to store instead (WRAP:
// the wrapped sum; SAT: the bound).
bool unsigned_overflow(uint64_t value, int64_t incr, int bits, Overflow ow, uint64_t& limit) {
  const uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const auto maxincr = static_cast<int64_t>(max - value);
  const auto minincr = static_cast<int64_t>(uint64_t{0} - value);
  const auto wrap = [&] {
    limit = (value + static_cast<uint64_t>(incr)) & ~(~uint64_t{0} << bits);
  };
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap)
      wrap();
    else if (ow == Overflow::kSat)
      limit = max;
    return true;
  }
  if (incr < 0 && incr < minincr) {
    if (ow == Overflow::kWrap)
      wrap();
    else if (ow == Overflow::kSat)
      limit = 0;
    return true;
  }
  return false;
}

// Redis's checkSignedBitfieldOverflow, likewise for a signed integer.
bool signed_overflow(int64_t value, int64_t incr, int bits, Overflow ow, int64_t& limit) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  const auto maxincr =
      static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  const auto minincr =
      static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  const auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t mask = ~uint64_t{0} << bits;
      if (c & (uint64_t{1} << (bits - 1)))
        c |= mask;
      else
        c &= ~mask;
    }
    limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap)
      wrap();
    else if (ow == Overflow::kSat)
      limit = max;
    return true;
  }
  if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) {
    if (ow == Overflow::kWrap)
      wrap();
    else if (ow == Overflow::kSat)
      limit = min;
    return true;
  }
  return false;
}

struct FieldOp {
  enum Kind { kGet, kSet, kIncrBy } kind;
  uint64_t offset;
  int64_t value;  // SET's value, INCRBY's increment
  Overflow overflow;
  int bits;
  bool is_signed;
};

// Redis's bitfieldGeneric: BITFIELD (readonly_cmd false) and BITFIELD_RO.
// Every operation is parsed first; then the key is read (GETs only) or
// made long enough for the farthest write; then they run in order.
void bitfield_generic(Context& ctx, bool readonly_cmd) {
  std::vector<FieldOp> ops;
  Overflow overflow = Overflow::kWrap;
  bool readonly = true;
  uint64_t highest_write = 0;
  for (size_t j = 2; j < ctx.argc(); ++j) {
    const size_t rem = ctx.argc() - j - 1;
    const std::string_view sub = ctx.arg(j);
    FieldOp op{};
    if (kw(sub, "get") && rem >= 2) {
      op.kind = FieldOp::kGet;
    } else if (kw(sub, "set") && rem >= 3) {
      op.kind = FieldOp::kSet;
    } else if (kw(sub, "incrby") && rem >= 3) {
      op.kind = FieldOp::kIncrBy;
    } else if (kw(sub, "overflow") && rem >= 1) {
      const std::string_view how = ctx.arg(++j);
      if (kw(how, "wrap")) {
        overflow = Overflow::kWrap;
      } else if (kw(how, "sat")) {
        overflow = Overflow::kSat;
      } else if (kw(how, "fail")) {
        overflow = Overflow::kFail;
      } else {
        ctx.rb.error("ERR Invalid OVERFLOW type specified");
        return;
      }
      continue;
    } else {
      ctx.syntax_error();
      return;
    }
    if (!bitfield_type(ctx, ctx.arg(j + 1), op.is_signed, op.bits)) return;
    if (!bit_offset(ctx, ctx.arg(j + 2), op.offset, true, op.bits)) return;
    if (op.kind != FieldOp::kGet) {
      readonly = false;
      highest_write = std::max(highest_write, op.offset + static_cast<uint64_t>(op.bits) - 1);
      long long value = 0;
      if (!parse_int(ctx, ctx.arg(j + 3), value)) return;
      op.value = value;
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == FieldOp::kGet ? 2 : 3;
  }

  const std::string_view key = ctx.arg(1);
  Value* v = nullptr;
  bool grew = false;
  if (readonly) {
    bool wrong = false;
    v = const_cast<Value*>(read_string(ctx, key, wrong));
    if (wrong) return;
  } else {
    if (readonly_cmd) {
      ctx.rb.error("ERR BITFIELD_RO only supports the GET subcommand");
      return;
    }
    v = string_for_bits(ctx, highest_write, grew);
    if (v == nullptr) return;
  }

  ctx.rb.array(ops.size());
  uint64_t changes = 0;
  for (const FieldOp& op : ops) {
    if (op.kind == FieldOp::kGet) {
      // Up to 9 bytes from the field's first byte, zero-padded past the end.
      unsigned char buf[9] = {};
      const uint64_t byte = op.offset >> 3;
      if (v != nullptr) {
        const std::string_view s = v->str();
        for (uint64_t i = 0; i < 9 && byte + i < s.size(); ++i)
          buf[i] = static_cast<unsigned char>(s[static_cast<size_t>(byte + i)]);
      }
      const uint64_t rel = op.offset - byte * 8;
      if (op.is_signed)
        ctx.rb.integer(get_signed(buf, rel, op.bits));
      else
        ctx.rb.integer(static_cast<long long>(get_unsigned(buf, rel, op.bits)));
      continue;
    }
    auto* p = reinterpret_cast<unsigned char*>(v->raw_data());
    if (op.is_signed) {
      const int64_t oldval = get_signed(p, op.offset, op.bits);
      int64_t newval = 0, wrapped = 0, reply = 0;
      bool over = false;
      if (op.kind == FieldOp::kIncrBy) {
        over = signed_overflow(oldval, op.value, op.bits, op.overflow, wrapped);
        newval = over ? wrapped
                      : static_cast<int64_t>(static_cast<uint64_t>(oldval) +
                                             static_cast<uint64_t>(op.value));
        reply = newval;
      } else {
        newval = op.value;
        over = signed_overflow(newval, 0, op.bits, op.overflow, wrapped);
        if (over) newval = wrapped;
        reply = oldval;
      }
      if (over && op.overflow == Overflow::kFail) {
        ctx.rb.null();
        continue;
      }
      ctx.rb.integer(reply);
      set_unsigned(p, op.offset, op.bits, static_cast<uint64_t>(newval));
      if (grew || oldval != newval) ++changes;
    } else {
      const uint64_t oldval = get_unsigned(p, op.offset, op.bits);
      uint64_t newval = 0, wrapped = 0, reply = 0;
      bool over = false;
      if (op.kind == FieldOp::kIncrBy) {
        newval = oldval + static_cast<uint64_t>(op.value);
        over = unsigned_overflow(oldval, op.value, op.bits, op.overflow, wrapped);
        if (over) newval = wrapped;
        reply = newval;
      } else {
        newval = static_cast<uint64_t>(op.value);
        over = unsigned_overflow(newval, 0, op.bits, op.overflow, wrapped);
        if (over) newval = wrapped;
        reply = oldval;
      }
      if (over && op.overflow == Overflow::kFail) {
        ctx.rb.null();
        continue;
      }
      ctx.rb.integer(static_cast<long long>(reply));
      set_unsigned(p, op.offset, op.bits, newval);
      if (grew || oldval != newval) ++changes;
    }
  }
  if (changes > 0) {
    // As Redis: one WATCH signal and event, `changes` counted as dirty.
    key_modified(ctx, key);
    ctx.dirty(changes - 1);
    notify(ctx, nf::kString, "setbit", key);
  }
}

void bitfield_cmd(Context& ctx) { bitfield_generic(ctx, false); }
void bitfield_ro_cmd(Context& ctx) { bitfield_generic(ctx, true); }

// BITFIELD's key flags for COMMAND GETKEYSANDFLAGS and ACL (Redis's
// bitfieldGetKeys): read-only while every operation is a GET (an OVERFLOW
// does not count), read-write from the first SET / INCRBY or anything else.
std::vector<std::string_view> bitfield_key_flags(std::span<const std::string_view> args) {
  bool readonly = true;
  for (size_t i = 2; i < args.size(); ++i) {
    const size_t rem = args.size() - i - 1;
    const std::string_view a = args[i];
    if (kw(a, "get") && rem >= 2) {
      i += 2;
    } else if ((kw(a, "set") || kw(a, "incrby")) && rem >= 3) {
      readonly = false;
      break;
    } else if (kw(a, "overflow") && rem >= 1) {
      i += 1;
    } else {
      readonly = false;
      break;
    }
  }
  if (readonly) return {"RO", "access"};
  return {"RW", "access", "update"};
}

// --- LCS -----------------------------------------------------------------------------

// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
// common subsequence, its length, or the matching ranges (last first).
// Keys are read before the options are parsed, as Redis does.
void lcs_cmd(Context& ctx) {
  const Value* va = lookup_read(ctx, ctx.arg(1));
  const Value* vb = lookup_read(ctx, ctx.arg(2));
  if ((va && va->type() != db::Type::kString) || (vb && vb->type() != db::Type::kString)) {
    ctx.rb.error("ERR The specified keys must contain string values");
    return;
  }
  const std::string a = va ? std::string(va->str()) : std::string();
  const std::string b = vb ? std::string(vb->str()) : std::string();
  long long minmatchlen = 0;
  bool getlen = false, getidx = false, withmatchlen = false;
  for (size_t j = 3; j < ctx.argc(); ++j) {
    const std::string_view opt = ctx.arg(j);
    const bool more = j + 1 < ctx.argc();
    if (kw(opt, "IDX")) {
      getidx = true;
    } else if (kw(opt, "LEN")) {
      getlen = true;
    } else if (kw(opt, "WITHMATCHLEN")) {
      withmatchlen = true;
    } else if (kw(opt, "MINMATCHLEN") && more) {
      if (!parse_int(ctx, ctx.arg(j + 1), minmatchlen)) return;
      if (minmatchlen < 0) minmatchlen = 0;
      ++j;
    } else {
      ctx.syntax_error();
      return;
    }
  }
  if (getlen && getidx) {
    ctx.rb.error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    ctx.rb.error("ERR String too long for LCS");
    return;
  }
  const auto alen = static_cast<uint32_t>(a.size());
  const auto blen = static_cast<uint32_t>(b.size());
  const unsigned long long cells = static_cast<unsigned long long>(alen + 1ULL) * (blen + 1ULL);
  if (cells * sizeof(uint32_t) >
      static_cast<unsigned long long>(ctx.server.settings().proto_max_bulk_len)) {
    ctx.rb.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    return;
  }
  std::vector<uint32_t> table;
  try {
    table.assign(static_cast<size_t>(cells), 0);
  } catch (const std::bad_alloc&) {
    ctx.rb.error("ERR Insufficient memory, failed allocating transient memory for LCS");
    return;
  }
  const auto at = [&](uint32_t i, uint32_t j) -> uint32_t& {
    return table[static_cast<size_t>(j) + static_cast<size_t>(i) * (blen + 1)];
  };
  for (uint32_t i = 1; i <= alen; ++i)
    for (uint32_t j = 1; j <= blen; ++j)
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));

  const uint32_t total = at(alen, blen);
  const bool compute = getidx || !getlen;
  std::string result(compute ? total : 0, '\0');
  struct Range {
    uint32_t a0, a1, b0, b1;
  };
  std::vector<Range> ranges;
  uint32_t idx = total;
  uint32_t a_start = alen, a_end = 0, b_start = 0, b_end = 0;  // a_start == alen: none open
  uint32_t i = alen, j = blen;
  while (compute && i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (a_start == alen) {
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) {
        // Contiguous with the open range: extend it backwards.
        --a_start;
        --b_start;
      } else {
        emit = true;
      }
      if (a_start == 0 || b_start == 0) emit = true;
      --idx;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1))
        --i;
      else
        --j;
      if (a_start != alen) emit = true;
    }
    if (emit) {
      const uint32_t len = a_end - a_start + 1;
      if (minmatchlen == 0 || len >= minmatchlen)
        ranges.push_back({a_start, a_end, b_start, b_end});
      a_start = alen;
    }
  }

  if (getidx) {
    ctx.rb.map(2);
    ctx.rb.bulk("matches");
    ctx.rb.array(ranges.size());
    for (const Range& r : ranges) {
      ctx.rb.array(withmatchlen ? 3 : 2);
      ctx.rb.array(2);
      ctx.rb.integer(r.a0);
      ctx.rb.integer(r.a1);
      ctx.rb.array(2);
      ctx.rb.integer(r.b0);
      ctx.rb.integer(r.b1);
      if (withmatchlen) ctx.rb.integer(r.a1 - r.a0 + 1);
    }
    ctx.rb.bulk("len");
    ctx.rb.integer(total);
  } else if (getlen) {
    ctx.rb.integer(total);
  } else {
    ctx.rb.bulk(result);
  }
}

// --- registration ------------------------------------------------------------------

KeySpec spec_at(std::string flags, int begin, int lastkey = 0) {
  KeySpec k;
  k.flags = std::move(flags);
  k.begin_index = begin;
  k.lastkey = lastkey;
  return k;
}

CommandSpec bitmap_cmd(std::string name, int arity, std::string flags, KeySpec key, Handler h,
                       std::string summary, std::string since, std::string args,
                       std::string complexity = "O(1)") {
  CommandSpec s =
      make_command(std::move(name), arity, std::move(flags), h, "bitmap", std::move(summary),
                   std::move(since), std::move(complexity), std::move(args), "@bitmap");
  s.keys = {std::move(key)};
  return s;
}

}  // namespace

// Adds the bitmap commands and LCS with Redis 7.0's COMMAND INFO / DOCS.
void register_bit_commands(Registry& r) {
  const std::vector<std::pair<std::string, std::string>> kUnitHistory = {
      {"7.0.0", "Added the `BYTE|BIT` option."}};
  r.add(bitmap_cmd("setbit", 4, "write denyoom", spec_at("RW access update", 1), setbit_cmd,
                   "Sets or clears the bit at offset in the string value stored at key", "2.2.0",
                   "key offset:integer value:integer"));
  r.add(bitmap_cmd("getbit", 3, "readonly fast", spec_at("RO access", 1), getbit_cmd,
                   "Returns the bit value at offset in the string value stored at key", "2.2.0",
                   "key offset:integer"));
  {
    CommandSpec s =
        bitmap_cmd("bitcount", -2, "readonly", spec_at("RO access", 1), bitcount_cmd,
                   "Count set bits in a string", "2.6.0",
                   "key [index= start:integer end:integer [index_unit= BYTE | BIT]@7.0.0]", "O(N)");
    s.doc.history = kUnitHistory;
    r.add(std::move(s));
  }
  {
    CommandSpec s = bitmap_cmd("bitpos", -3, "readonly", spec_at("RO access", 1), bitpos_cmd,
                               "Find first bit set or clear in a string", "2.8.7",
                               "key bit:integer [index= start:integer [end_index= end:integer "
                               "[index_unit= BYTE | BIT]@7.0.0]]",
                               "O(N)");
    s.doc.history = kUnitHistory;
    r.add(std::move(s));
  }
  {
    CommandSpec s = bitmap_cmd("bitop", -4, "write denyoom", spec_at("OW update", 2), bitop_cmd,
                               "Perform bitwise operations between strings", "2.6.0",
                               "operation destkey key...", "O(N)");
    s.keys.push_back(spec_at("RO access", 3, -1));
    r.add(std::move(s));
  }
  {
    KeySpec k = spec_at("RW access update variable_flags", 1);
    k.notes = "This command allows both access and modification of the key";
    CommandSpec s = bitmap_cmd(
        "bitfield", -2, "write denyoom", std::move(k), bitfield_cmd,
        "Perform arbitrary bitfield integer operations on strings", "3.2.0",
        "key [operation= (encoding_offset= GET encoding offset:integer) | (write= [OVERFLOW "
        "(wrap_sat_fail= WRAP | SAT | FAIL)] (write_operation= (encoding_offset_value= SET "
        "encoding offset:integer value:integer) | (encoding_offset_increment= INCRBY encoding "
        "offset:integer increment:integer)))]...",
        "O(1) for each subcommand specified");
    s.variable_key_flags = bitfield_key_flags;
    r.add(std::move(s));
  }
  r.add(bitmap_cmd("bitfield_ro", -2, "readonly fast", spec_at("RO access", 1), bitfield_ro_cmd,
                   "Perform arbitrary bitfield integer operations on strings. Read-only variant "
                   "of BITFIELD",
                   "6.0.0", "key [encoding_offset= GET encoding offset:integer]...",
                   "O(1) for each subcommand specified"));
  {
    CommandSpec s = make_command(
        "lcs", -3, "readonly", lcs_cmd, "string", "Find longest common substring", "7.0.0",
        "O(N*M) where N and M are the lengths of s1 and s2, respectively",
        "key1:key key2:key [LEN] [IDX] [MINMATCHLEN len:integer] [WITHMATCHLEN]", "@string");
    s.keys = {spec_at("RO access", 1, 1)};
    r.add(std::move(s));
  }
}

}  // namespace setd::cmd
