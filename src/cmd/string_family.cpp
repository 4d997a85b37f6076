// String commands: GET, SET (and SETNX, SETEX, PSETEX), MGET, MSET, MSETNX,
// GETDEL, GETEX, GETSET, INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT, APPEND,
// STRLEN, GETRANGE, SETRANGE — with Redis 7.0's replies, error texts,
// keyspace notifications and value encodings (t_string.c).
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>

#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

namespace nf = server::notify;
using db::StringEncoding;
using db::Value;

// Redis keeps strings up to this many bytes in one allocation ("embstr").
constexpr size_t kEmbstrLimit = 44;

// --- helpers -------------------------------------------------------------------

// The argument as C code sees it through its char pointer: up to the first
// NUL. Redis compares SET/GETEX option words this way ("EX\0x" is EX).
std::string_view c_str(std::string_view s) {
  const size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// Case-insensitive option keyword match with C-string semantics.
bool opt_is(std::string_view arg, std::string_view keyword) { return is(c_str(arg), keyword); }

// Redis's checkStringLength: replies the error and returns false when a
// string of size + append bytes would exceed proto-max-bulk-len (or when the
// sum overflows).
bool check_string_length(Context& ctx, long long size, long long append) {
  const auto total = static_cast<long long>(static_cast<unsigned long long>(size) +
                                            static_cast<unsigned long long>(append));
  if (total > ctx.server.settings().proto_max_bulk_len || total < size || total < append) {
    ctx.rb.error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    return false;
  }
  return true;
}

// Stores `v` under `key` as Redis's setKey does: a key that did not exist
// (`found` false; the caller has just looked it up with lookup_write) is
// added and announced with the "new" event; an existing one is overwritten,
// dropping its TTL unless `keep_ttl`; `expire_ms` >= 0 gives it that TTL.
// Signals WATCH.
void set_key(Context& ctx, std::string_view key, db::Object v, bool found, bool keep_ttl = false,
             int64_t expire_ms = -1) {
  if (found) {
    ctx.db().set(key, std::move(v), keep_ttl, expire_ms);
  } else {
    add_key(ctx, ctx.client.db, key, std::move(v), expire_ms);
  }
  key_modified(ctx, key);
}

// Makes the string at `key` (value *v) "raw", as Redis's
// dbUnshareStringValue before an in-place change: its bytes then live in a
// heap block that grows in place. *v is updated (the entry may move).
void raw_string(Context& ctx, std::string_view key, Value*& v) {
  if (v->string_encoding() == StringEncoding::kRaw) return;
  v = &ctx.db().set(key, db::Object::string(std::string(v->str()), StringEncoding::kRaw), true);
}

// A string value whose encoding is embstr or raw by length only, as Redis's
// createStringObject (INCRBYFLOAT results are never "int").
db::Object plain_string(std::string bytes) {
  const auto enc = bytes.size() <= kEmbstrLimit ? StringEncoding::kEmbstr : StringEncoding::kRaw;
  return db::Object::string(std::move(bytes), enc);
}

// Redis's getGenericCommand: replies the value of `key` (nil when missing).
// Returns false (after replying WRONGTYPE) when the key holds another type.
bool reply_get(Context& ctx, std::string_view key) {
  const Value* v = lookup_read(ctx, key);
  if (!v) {
    ctx.rb.null();
    return true;
  }
  if (v->type() != db::Type::kString) {
    ctx.wrong_type();
    return false;
  }
  ctx.rb.bulk(v->as_string().bytes);
  return true;
}

// Options shared by SET and GETEX (Redis's parseExtendedStringArguments).
enum SetFlags : unsigned {
  kNone = 0,
  kNx = 1u << 0,
  kXx = 1u << 1,
  kEx = 1u << 2,
  kPx = 1u << 3,
  kKeepTtl = 1u << 4,
  kGet = 1u << 5,
  kExAt = 1u << 6,
  kPxAt = 1u << 7,
  kPersist = 1u << 8,
};
constexpr unsigned kAnyExpire = kEx | kPx | kExAt | kPxAt;

struct StringOptions {
  unsigned flags = kNone;
  std::string_view expire;  // the EX/PX/EXAT/PXAT argument, empty when none
  bool has_expire = false;
  bool seconds = true;  // unit of `expire`
};

// Parses the options of SET (`is_set`, from argument 3) or GETEX (from
// argument 2) with Redis's exact rules: NX/XX exclude each other, the
// expiration forms exclude each other, KEEPTTL and PERSIST (but the same
// form may repeat, the last value winning); anything else, or an expiration
// keyword without a value, is a syntax error (replied; returns false).
bool parse_string_options(Context& ctx, bool is_set, StringOptions& o) {
  for (size_t j = is_set ? 3 : 2; j < ctx.argc(); ++j) {
    const std::string_view opt = ctx.arg(j);
    const bool has_next = j + 1 < ctx.argc();
    const unsigned f = o.flags;
    if (is_set && opt_is(opt, "NX") && !(f & kXx)) {
      o.flags |= kNx;
    } else if (is_set && opt_is(opt, "XX") && !(f & kNx)) {
      o.flags |= kXx;
    } else if (is_set && opt_is(opt, "GET")) {
      o.flags |= kGet;
    } else if (is_set && opt_is(opt, "KEEPTTL") && !(f & (kPersist | kAnyExpire))) {
      o.flags |= kKeepTtl;
    } else if (!is_set && opt_is(opt, "PERSIST") && !(f & (kAnyExpire | kKeepTtl))) {
      o.flags |= kPersist;
    } else if (has_next && (opt_is(opt, "EX") || opt_is(opt, "PX") || opt_is(opt, "EXAT") ||
                            opt_is(opt, "PXAT"))) {
      const unsigned form = opt_is(opt, "EX")     ? kEx
                            : opt_is(opt, "PX")   ? kPx
                            : opt_is(opt, "EXAT") ? kExAt
                                                  : kPxAt;
      if (f & (kKeepTtl | kPersist | (kAnyExpire & ~form))) {
        ctx.syntax_error();
        return false;
      }
      o.flags |= form;
      o.expire = ctx.arg(++j);
      o.has_expire = true;
      o.seconds = form == kEx || form == kExAt;
    } else {
      ctx.syntax_error();
      return false;
    }
  }
  return true;
}

// Redis's getExpireMillisecondsOrReply: turns the EX/PX/EXAT/PXAT argument
// into an absolute unix time in ms. Replies the error and returns false for
// a non-integer, a value <= 0, or one that overflows.
bool expire_ms(Context& ctx, const StringOptions& o, long long& when) {
  long long v = 0;
  if (!parse_ll(ctx, o.expire, v)) return false;
  const auto invalid = [&] {
    ctx.rb.error("ERR invalid expire time in '" + ctx.spec.name + "' command");
    return false;
  };
  if (v <= 0 || (o.seconds && v > LLONG_MAX / 1000)) return invalid();
  if (o.seconds) v *= 1000;
  if (o.flags & (kEx | kPx)) {
    const long long now = base::now_ms();
    if (v > LLONG_MAX - now) return invalid();
    v += now;
  }
  when = v;
  return true;
}

// Redis's setGenericCommand, shared by SET, SETNX, SETEX and PSETEX.
// `ok_as_int`: SETNX replies 1 / 0 instead of OK / nil.
void set_generic(Context& ctx, const StringOptions& o, std::string_view key, std::string_view value,
                 bool ok_as_int = false) {
  long long when = 0;
  if (o.has_expire && !expire_ms(ctx, o, when)) return;
  const bool get = (o.flags & kGet) != 0;
  if (get && !reply_get(ctx, key)) return;
  const bool found = lookup_write(ctx, key) != nullptr;
  if (((o.flags & kNx) && found) || ((o.flags & kXx) && !found)) {
    if (!get) {
      if (ok_as_int)
        ctx.rb.integer(0);
      else
        ctx.rb.null();
    }
    return;
  }
  set_key(ctx, key, db::Object::string(std::string(value)), found, (o.flags & kKeepTtl) != 0,
          o.has_expire ? when : -1);
  notify(ctx, nf::kString, "set", key);
  if (o.has_expire) {
    notify(ctx, nf::kGeneric, "expire", key);
    // Replayed later, a relative time would mean another instant: the AOF
    // and replicas get SET key value PXAT <ms> (GET dropped), as Redis 7.0.
    if (!(o.flags & kPxAt))
      ctx.propagate_as({"SET", std::string(key), std::string(value), "PXAT", std::to_string(when)});
  }
  if (!get) {
    if (ok_as_int)
      ctx.rb.integer(1);
    else
      ctx.rb.ok();
  }
}

// --- commands --------------------------------------------------------------------

// GET key: the value, nil when missing, WRONGTYPE for a non-string.
void get_cmd(Context& ctx) { reply_get(ctx, ctx.arg(1)); }

// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t|KEEPTTL].
void set_cmd(Context& ctx) {
  StringOptions o;
  if (!parse_string_options(ctx, true, o)) return;
  set_generic(ctx, o, ctx.arg(1), ctx.arg(2));
}

// SETNX key value: 1 if stored, 0 if the key existed.
void setnx_cmd(Context& ctx) {
  StringOptions o;
  o.flags = kNx;
  set_generic(ctx, o, ctx.arg(1), ctx.arg(2), true);
}

// SETEX (seconds) and PSETEX (milliseconds): key ttl value.
void setex_generic(Context& ctx, bool seconds) {
  StringOptions o;
  o.flags = seconds ? kEx : kPx;
  o.expire = ctx.arg(2);
  o.has_expire = true;
  o.seconds = seconds;
  set_generic(ctx, o, ctx.arg(1), ctx.arg(3));
}
// SETEX key seconds value / PSETEX key milliseconds value.
void setex_cmd(Context& ctx) { setex_generic(ctx, true); }
void psetex_cmd(Context& ctx) { setex_generic(ctx, false); }

// MGET key...: one element per key, nil for missing or non-string keys.
void mget_cmd(Context& ctx) {
  ctx.rb.array(ctx.argc() - 1);
  for (size_t j = 1; j < ctx.argc(); ++j) {
    const Value* v = lookup_read(ctx, ctx.arg(j));
    if (v && v->type() == db::Type::kString)
      ctx.rb.bulk(v->as_string().bytes);
    else
      ctx.rb.null();
  }
}

// MSET / MSETNX: every pair is stored (MSETNX: only when none of the keys
// exists), each announced with "set".
void mset_generic(Context& ctx, bool nx) {
  if (ctx.argc() % 2 == 0) {
    ctx.wrong_args();
    return;
  }
  if (nx) {
    for (size_t j = 1; j < ctx.argc(); j += 2) {
      if (lookup_write(ctx, ctx.arg(j))) {
        ctx.rb.integer(0);
        return;
      }
    }
  }
  for (size_t j = 1; j < ctx.argc(); j += 2) {
    const std::string_view key = ctx.arg(j);
    const bool found = lookup_write(ctx, key) != nullptr;
    set_key(ctx, key, db::Object::string(std::string(ctx.arg(j + 1))), found);
    notify(ctx, nf::kString, "set", key);
  }
  if (nx)
    ctx.rb.integer(1);
  else
    ctx.rb.ok();
}
// MSET key value ... (OK) / MSETNX key value ... (1 or 0).
void mset_cmd(Context& ctx) { mset_generic(ctx, false); }
void msetnx_cmd(Context& ctx) { mset_generic(ctx, true); }

// GETDEL key: the value, then the key is deleted ("del" event).
void getdel_cmd(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  if (!reply_get(ctx, key)) return;
  if (ctx.db().erase(key)) {
    key_modified(ctx, key);
    notify(ctx, nf::kGeneric, "del", key);
    ctx.propagate_as({"DEL", std::string(key)});
  }
}

// GETEX key [EX|PX|EXAT|PXAT t|PERSIST]: the value, then its TTL is
// changed; options are parsed before the lookup, the time checked after it.
void getex_cmd(Context& ctx) {
  StringOptions o;
  if (!parse_string_options(ctx, false, o)) return;
  const std::string_view key = ctx.arg(1);
  const Value* v = lookup_read(ctx, key);
  if (!v) {
    ctx.rb.null();
    return;
  }
  if (v->type() != db::Type::kString) {
    ctx.wrong_type();
    return;
  }
  long long when = 0;
  if (o.has_expire && !expire_ms(ctx, o, when)) return;
  ctx.rb.bulk(v->as_string().bytes);
  if ((o.flags & (kExAt | kPxAt)) && ctx.server.deletes_when_already_expired(when)) {
    // An absolute time already passed: the key goes now (as UNLINK with
    // lazyfree-lazy-expire, Redis's getexCommand).
    const bool lazy = ctx.server.settings().lazyfree_lazy_expire;
    ctx.db().erase_sync(key);
    key_modified(ctx, key);
    notify(ctx, nf::kGeneric, "del", key);
    ctx.propagate_as({lazy ? "UNLINK" : "DEL", std::string(key)});
  } else if (o.has_expire) {
    ctx.db().set_expire(key, when);
    key_modified(ctx, key);
    notify(ctx, nf::kGeneric, "expire", key);
    ctx.propagate_as({"PEXPIREAT", std::string(key), std::to_string(when)});
  } else if (o.flags & kPersist) {
    if (ctx.db().persist(key)) {
      key_modified(ctx, key);
      notify(ctx, nf::kGeneric, "persist", key);
      ctx.propagate_as({"PERSIST", std::string(key)});
    }
  }
}

// GETSET key value: the old value; the new one is stored without TTL.
void getset_cmd(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  if (!reply_get(ctx, key)) return;
  const bool found = lookup_write(ctx, key) != nullptr;
  set_key(ctx, key, db::Object::string(std::string(ctx.arg(2))), found);
  notify(ctx, nf::kString, "set", key);
  ctx.propagate_as({"SET", std::string(key), std::string(ctx.arg(2))});
}

// Redis's incrDecrCommand: adds `incr` to the integer at `key` (0 when
// missing), keeping its TTL; the result is always "int" encoded.
void incr_decr(Context& ctx, long long incr) {
  const std::string_view key = ctx.arg(1);
  Value* v = lookup_write(ctx, key);
  if (v && v->type() != db::Type::kString) {
    ctx.wrong_type();
    return;
  }
  long long value = 0;
  if (v && !parse_ll(ctx, v->as_string().bytes, value)) return;
  if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
      (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
    ctx.rb.error("ERR increment or decrement would overflow");
    return;
  }
  value += incr;
  std::string text = base::ll_to_string(value);
  if (v) {
    ctx.db().set(key, db::Object::string(text, StringEncoding::kInt), true);
    key_modified(ctx, key);
  } else {
    set_key(ctx, key, db::Object::string(text, StringEncoding::kInt), false);
  }
  notify(ctx, nf::kString, "incrby", key);
  ctx.rb.integer(value);
}

// INCR / DECR key.
void incr_cmd(Context& ctx) { incr_decr(ctx, 1); }
void decr_cmd(Context& ctx) { incr_decr(ctx, -1); }

// INCRBY key increment.
void incrby_cmd(Context& ctx) {
  long long incr = 0;
  if (!parse_ll(ctx, ctx.arg(2), incr)) return;
  incr_decr(ctx, incr);
}

// DECRBY key decrement (LLONG_MIN cannot be negated: its own error).
void decrby_cmd(Context& ctx) {
  long long decr = 0;
  if (!parse_ll(ctx, ctx.arg(2), decr)) return;
  if (decr == LLONG_MIN) {
    ctx.rb.error("ERR decrement would overflow");
    return;
  }
  incr_decr(ctx, -decr);
}

// INCRBYFLOAT key increment: long double sum, stored and replied in
// human form (never exponent notation), TTL kept.
void incrbyfloat_cmd(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  Value* v = lookup_write(ctx, key);
  if (v && v->type() != db::Type::kString) {
    ctx.wrong_type();
    return;
  }
  long double value = 0, incr = 0;
  if ((v && !base::string_to_ld(v->as_string().bytes, value)) ||
      !base::string_to_ld(ctx.arg(2), incr)) {
    ctx.rb.error("ERR value is not a valid float");
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.rb.error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string text = base::ld_to_string_human(value);
  if (v) {
    ctx.db().set(key, plain_string(text), true);
    key_modified(ctx, key);
  } else {
    set_key(ctx, key, plain_string(text), false);
  }
  notify(ctx, nf::kString, "incrbyfloat", key);
  // Replayed, a float sum could round differently: the result is stored.
  ctx.propagate_as({"SET", std::string(key), text, "KEEPTTL"});
  ctx.rb.bulk(text);
}

// APPEND key value: the new length; an existing string becomes "raw".
void append_cmd(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  const std::string_view tail = ctx.arg(2);
  Value* v = lookup_write(ctx, key);
  size_t total = 0;
  if (!v) {
    set_key(ctx, key, db::Object::string(std::string(tail)), false);
    total = tail.size();
  } else {
    if (v->type() != db::Type::kString) {
      ctx.wrong_type();
      return;
    }
    const size_t len = v->str().size();
    if (!check_string_length(ctx, static_cast<long long>(len), static_cast<long long>(tail.size())))
      return;
    raw_string(ctx, key, v);
    std::memcpy(v->raw_resize(len + tail.size()) + len, tail.data(), tail.size());
    total = len + tail.size();
    key_modified(ctx, key);
  }
  notify(ctx, nf::kString, "append", key);
  ctx.rb.integer(static_cast<long long>(total));
}

// STRLEN key: the length, 0 when missing.
void strlen_cmd(Context& ctx) {
  const Value* v = lookup_read(ctx, ctx.arg(1));
  if (!v) {
    ctx.rb.integer(0);
    return;
  }
  if (v->type() != db::Type::kString) {
    ctx.wrong_type();
    return;
  }
  ctx.rb.integer(static_cast<long long>(v->as_string().bytes.size()));
}

// GETRANGE key start end: inclusive byte range, negative from the end,
// clamped like Redis ("" when empty or missing).
void getrange_cmd(Context& ctx) {
  long long start = 0, end = 0;
  if (!parse_ll(ctx, ctx.arg(2), start) || !parse_ll(ctx, ctx.arg(3), end)) return;
  const Value* v = lookup_read(ctx, ctx.arg(1));
  if (!v) {
    ctx.rb.bulk("");
    return;
  }
  if (v->type() != db::Type::kString) {
    ctx.wrong_type();
    return;
  }
  const std::string_view s = v->str();
  const auto len = static_cast<long long>(s.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.rb.bulk("");
    return;
  }
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len == 0) {
    ctx.rb.bulk("");
    return;
  }
  ctx.rb.bulk(
      std::string_view(s).substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

// SETRANGE key offset value: overwrites from offset, zero-padding; the
// new length. An empty value changes nothing (and creates no key).
void setrange_cmd(Context& ctx) {
  const std::string_view key = ctx.arg(1);
  const std::string_view value = ctx.arg(3);
  long long offset = 0;
  if (!parse_ll(ctx, ctx.arg(2), offset)) return;
  if (offset < 0) {
    ctx.rb.error("ERR offset is out of range");
    return;
  }
  Value* v = lookup_write(ctx, key);
  if (!v) {
    if (value.empty()) {
      ctx.rb.integer(0);
      return;
    }
    if (!check_string_length(ctx, offset, static_cast<long long>(value.size()))) return;
    std::string bytes(static_cast<size_t>(offset), '\0');
    bytes.append(value);
    const auto total = static_cast<long long>(bytes.size());
    set_key(ctx, key, db::Object::string(std::move(bytes), StringEncoding::kRaw), false);
    notify(ctx, nf::kString, "setrange", key);
    ctx.rb.integer(total);
    return;
  }
  if (v->type() != db::Type::kString) {
    ctx.wrong_type();
    return;
  }
  const size_t len = v->str().size();
  if (value.empty()) {
    ctx.rb.integer(static_cast<long long>(len));
    return;
  }
  if (!check_string_length(ctx, offset, static_cast<long long>(value.size()))) return;
  const size_t off = static_cast<size_t>(offset);
  raw_string(ctx, key, v);
  const size_t total = std::max(len, off + value.size());
  std::memcpy(v->raw_resize(total) + off, value.data(), value.size());
  key_modified(ctx, key);
  notify(ctx, nf::kString, "setrange", key);
  ctx.rb.integer(static_cast<long long>(total));
}

// --- registration ----------------------------------------------------------------

// A key spec on argument 1 (lastkey 0 = just that key; -1 = up to the end).
KeySpec spec1(std::string flags, int lastkey = 0, int keystep = 1) {
  KeySpec k;
  k.flags = std::move(flags);
  k.begin_index = 1;
  k.lastkey = lastkey;
  k.keystep = keystep;
  return k;
}

// A string command with the usual shape: @string, one key spec.
CommandSpec string_cmd(std::string name, int arity, std::string flags, KeySpec key, Handler h,
                       std::string summary, std::string since, std::string args,
                       std::string complexity = "O(1)") {
  CommandSpec s =
      make_command(std::move(name), arity, std::move(flags), h, "string", std::move(summary),
                   std::move(since), std::move(complexity), std::move(args), "@string");
  s.keys = {std::move(key)};
  return s;
}

// SET's key flags for COMMAND GETKEYSANDFLAGS (Redis's setGetKeys): with
// GET the old value is read (RW access update), without it is only
// overwritten (OW update).
std::vector<std::string_view> set_key_flags(std::span<const std::string_view> args) {
  const bool get = std::any_of(args.begin() + std::min<size_t>(3, args.size()), args.end(),
                               [](std::string_view a) { return is(a, "GET"); });
  if (get) return {"RW", "access", "update"};
  return {"OW", "update"};
}

}  // namespace

// Adds the string commands with Redis 7.0's COMMAND INFO / DOCS data.
void register_string_commands(Registry& r) {
  const std::string kExpiration =
      "EX seconds:integer | PX milliseconds:integer | EXAT unix-time-seconds:unix-time | "
      "PXAT unix-time-milliseconds:unix-time";
  // SET's, with the version that added each option.
  const std::string kSetExpiration =
      "EX seconds:integer@2.6.12 | PX milliseconds:integer@2.6.12 | "
      "EXAT unix-time-seconds:unix-time@6.2.0 | PXAT unix-time-milliseconds:unix-time@6.2.0 | "
      "KEEPTTL@6.0.0";
  r.add(string_cmd("get", 2, "readonly fast", spec1("RO access"), get_cmd, "Get the value of a key",
                   "1.0.0", "key"));
  {
    KeySpec k = spec1("RW access update variable_flags");
    k.notes = "RW and ACCESS due to the optional `GET` argument";
    CommandSpec s = string_cmd(
        "set", -3, "write denyoom", std::move(k), set_cmd, "Set the string value of a key", "1.0.0",
        "key value [condition= NX | XX]@2.6.12 [GET]@6.2.0 [expiration= " + kSetExpiration + "]");
    s.variable_key_flags = set_key_flags;
    s.doc.history = {{"2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."},
                     {"6.0.0", "Added the `KEEPTTL` option."},
                     {"6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."},
                     {"7.0.0", "Allowed the `NX` and `GET` options to be used together."}};
    r.add(std::move(s));
  }
  r.add(string_cmd("setnx", 3, "write denyoom fast", spec1("OW insert"), setnx_cmd,
                   "Set the value of a key, only if the key does not exist", "1.0.0", "key value"));
  r.add(string_cmd("setex", 4, "write denyoom", spec1("OW update"), setex_cmd,
                   "Set the value and expiration of a key", "2.0.0", "key seconds:integer value"));
  r.add(string_cmd("psetex", 4, "write denyoom", spec1("OW update"), psetex_cmd,
                   "Set the value and expiration in milliseconds of a key", "2.6.0",
                   "key milliseconds:integer value"));
  {
    CommandSpec s = string_cmd("mget", -2, "readonly fast", spec1("RO access", -1), mget_cmd,
                               "Get the values of all the given keys", "1.0.0", "key...",
                               "O(N) where N is the number of keys to retrieve.");
    s.tips = {"request_policy:multi_shard"};
    r.add(std::move(s));
  }
  {
    CommandSpec s =
        string_cmd("mset", -3, "write denyoom", spec1("OW update", -1, 2), mset_cmd,
                   "Set multiple keys to multiple values", "1.0.1", "(key_value= key value)...",
                   "O(N) where N is the number of keys to set.");
    s.tips = {"request_policy:multi_shard", "response_policy:all_succeeded"};
    r.add(std::move(s));
  }
  {
    CommandSpec s =
        string_cmd("msetnx", -3, "write denyoom", spec1("OW insert", -1, 2), msetnx_cmd,
                   "Set multiple keys to multiple values, only if none of the keys exist", "1.0.1",
                   "(key_value= key value)...", "O(N) where N is the number of keys to set.");
    s.tips = {"request_policy:multi_shard", "response_policy:agg_min"};
    r.add(std::move(s));
  }
  r.add(string_cmd("getdel", 2, "write fast", spec1("RW access delete"), getdel_cmd,
                   "Get the value of a key and delete the key", "6.2.0", "key"));
  {
    KeySpec k = spec1("RW access update");
    k.notes = "RW and UPDATE because it changes the TTL";
    r.add(string_cmd("getex", -2, "write fast", std::move(k), getex_cmd,
                     "Get the value of a key and optionally set its expiration", "6.2.0",
                     "key [expiration= " + kExpiration + " | PERSIST]"));
  }
  {
    CommandSpec s =
        string_cmd("getset", 3, "write denyoom fast", spec1("RW access update"), getset_cmd,
                   "Set the string value of a key and return its old value", "1.0.0", "key value");
    s.doc.doc_flags = {"deprecated"};
    s.doc.deprecated_since = "6.2.0";
    s.doc.replaced_by = "`SET` with the `!GET` argument";
    r.add(std::move(s));
  }
  r.add(string_cmd("incr", 2, "write denyoom fast", spec1("RW access update"), incr_cmd,
                   "Increment the integer value of a key by one", "1.0.0", "key"));
  r.add(string_cmd("decr", 2, "write denyoom fast", spec1("RW access update"), decr_cmd,
                   "Decrement the integer value of a key by one", "1.0.0", "key"));
  r.add(string_cmd("incrby", 3, "write denyoom fast", spec1("RW access update"), incrby_cmd,
                   "Increment the integer value of a key by the given amount", "1.0.0",
                   "key increment:integer"));
  r.add(string_cmd("decrby", 3, "write denyoom fast", spec1("RW access update"), decrby_cmd,
                   "Decrement the integer value of a key by the given number", "1.0.0",
                   "key decrement:integer"));
  r.add(string_cmd("incrbyfloat", 3, "write denyoom fast", spec1("RW access update"),
                   incrbyfloat_cmd, "Increment the float value of a key by the given amount",
                   "2.6.0", "key increment:double"));
  r.add(string_cmd("append", 3, "write denyoom fast", spec1("RW insert"), append_cmd,
                   "Append a value to a key", "2.0.0", "key value",
                   "O(1). The amortized time complexity is O(1) assuming the appended value is "
                   "small and the already present value is of any size, since the dynamic "
                   "string library used by Redis will double the free space available on every "
                   "reallocation."));
  r.add(string_cmd("strlen", 2, "readonly fast", spec1("RO"), strlen_cmd,
                   "Get the length of the value stored in a key", "2.2.0", "key"));
  r.add(string_cmd("getrange", 4, "readonly", spec1("RO access"), getrange_cmd,
                   "Get a substring of the string stored at a key", "2.4.0",
                   "key start:integer end:integer",
                   "O(N) where N is the length of the returned string. The complexity is "
                   "ultimately determined by the returned length, but because creating a "
                   "substring from an existing string is very cheap, it can be considered O(1) "
                   "for small strings."));
  r.add(string_cmd("setrange", 4, "write denyoom", spec1("RW update"), setrange_cmd,
                   "Overwrite part of a string at key starting at the specified offset", "2.2.0",
                   "key offset:integer value",
                   "O(1), not counting the time taken to copy the new string in place. Usually, "
                   "this string is very small so the amortized complexity is O(1). Otherwise, "
                   "complexity is O(M) with M being the length of the value argument."));
}

}  // namespace setd::cmd
