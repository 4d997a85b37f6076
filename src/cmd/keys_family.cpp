// Keyspace commands (Redis's "generic" group): DEL, UNLINK, EXISTS, TYPE,
// RENAME, RENAMENX, COPY, MOVE, SWAPDB, KEYS, SCAN, RANDOMKEY, TOUCH, OBJECT,
// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, PERSIST, EXPIRETIME,
// PEXPIRETIME.
//
// Each handler follows Redis 7.0's db.c / expire.c / object.c step by step:
// the same lookup flavour (read lookups count keyspace hits/misses, write
// lookups do not), the same error precedence, the same keyspace
// notifications in the same order relative to the reply.
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

#include "setd/base/clock.hpp"
#include "setd/base/glob.hpp"
#include "setd/base/random.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

namespace {

using server::notify::kGeneric;

// Redis's shared integers: int-encoded strings 0..9999 are one object with
// this reference count (OBJ_SHARED_INTEGERS / OBJ_SHARED_REFCOUNT).
constexpr long long kSharedIntegers = 10000;
constexpr long long kSharedRefcount = INT_MAX;

// What a C "%s" of the argument prints: the bytes before the first NUL.
std::string_view c_str(std::string_view s) {
  const size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// Redis's getIntFromObjectOrReply: an integer that fits in an int. With an
// empty `msg` the errors are "value is not an integer or out of range" and
// "value is out of range, value must between INT_MIN and INT_MAX"; otherwise
// `msg` for both. Replies the error and returns false on failure.
bool parse_int(Context& ctx, std::string_view arg, int& out, std::string_view msg = {}) {
  long long v = 0;
  if (!base::string_to_ll(arg, v)) {
    if (msg.empty())
      ctx.not_integer();
    else
      ctx.rb.error(msg);
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    if (msg.empty())
      ctx.rb.error("ERR value is out of range, value must between -2147483648 and 2147483647");
    else
      ctx.rb.error(msg);
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

// A database index argument (MOVE, COPY ... DB): parse_int, then Redis's
// selectDb range check. Replies the error and returns false on failure.
bool parse_db_index(Context& ctx, std::string_view arg, int& out) {
  if (!parse_int(ctx, arg, out)) return false;
  if (out < 0 || out >= ctx.server.db_count()) {
    ctx.rb.error("ERR DB index is out of range");
    return false;
  }
  return true;
}

// A deep copy of `v` as Redis's COPY makes it: strings keep their encoding
// (dupStringObject) but an int-encoded copy is a private object; sets keep
// their encoding too.
db::Object clone_value(const db::Value& v) {
  if (v.type() == db::Type::kSet) return db::Object::set(v.as_set().clone());
  const auto s = v.as_string();
  db::Object copy = db::Object::string(std::string(s.bytes), s.encoding);
  copy.private_int = s.encoding == db::StringEncoding::kInt;
  return copy;
}

// --- DEL / UNLINK / EXISTS / TYPE / TOUCH -----------------------------------

// DEL and UNLINK: deletes each named key that exists (an expired one is
// reclaimed as "expired", not counted); replies the number deleted.
// DEL key...: UNLINK's way with lazyfree-lazy-user-del yes.
// UNLINK key...: big values are freed by the lazyfree thread.
void del_generic(Context& ctx, bool lazy) {
  long long deleted = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const auto key = ctx.arg(i);
    if (!(lazy ? ctx.server.unlink_key(ctx.client.db, key) : ctx.db().erase_sync(key))) continue;
    key_modified(ctx, key);
    notify(ctx, kGeneric, "del", key);
    ++deleted;
  }
  ctx.rb.integer(deleted);
}

void del(Context& ctx) { del_generic(ctx, ctx.server.settings().lazyfree_lazy_user_del); }
void unlink(Context& ctx) { del_generic(ctx, true); }

// EXISTS: how many of the arguments name live keys (repeats count again).
void exists(Context& ctx) {
  long long count = 0;
  for (size_t i = 1; i < ctx.argc(); ++i)
    if (lookup_read(ctx, ctx.arg(i), kLookupNoTouch)) ++count;
  ctx.rb.integer(count);
}

// TYPE: "string", "set" or "none", as a simple string.
void type(Context& ctx) {
  const db::Value* v = lookup_read(ctx, ctx.arg(1), kLookupNoTouch);
  ctx.rb.simple(v ? v->type_name() : "none");
}

// TOUCH: refreshes the access time of each key; replies how many exist.
void touch(Context& ctx) {
  long long count = 0;
  for (size_t i = 1; i < ctx.argc(); ++i)
    if (lookup_read(ctx, ctx.arg(i))) ++count;
  ctx.rb.integer(count);
}

// --- RENAME / RENAMENX / COPY / MOVE / SWAPDB -------------------------------

// RENAME (nx = false) and RENAMENX (nx = true). The value keeps its TTL; an
// existing destination is dropped silently (no "del" event) and the key
// re-added under the new name, so "new" is always announced, as in Redis.
void rename_generic(Context& ctx, bool nx) {
  const auto from = ctx.arg(1), to = ctx.arg(2);
  auto& db = ctx.db();
  if (!lookup_write(ctx, from)) {
    ctx.rb.error("ERR no such key");
    return;
  }
  if (from == to) {
    if (nx)
      ctx.rb.integer(0);
    else
      ctx.rb.ok();
    return;
  }
  if (lookup_write(ctx, to) && nx) {
    ctx.rb.integer(0);
    return;
  }
  auto taken = db.take(from);
  db.erase(to);
  add_key(ctx, ctx.client.db, to, std::move(taken->first), taken->second);
  key_modified(ctx, from);
  key_modified(ctx, to);
  notify(ctx, kGeneric, "rename_from", from);
  notify(ctx, kGeneric, "rename_to", to);
  if (nx)
    ctx.rb.integer(1);
  else
    ctx.rb.ok();
}

// RENAME key newkey / RENAMENX key newkey.
void rename(Context& ctx) { rename_generic(ctx, false); }
void renamenx(Context& ctx) { rename_generic(ctx, true); }

// COPY source destination [DB db] [REPLACE]: a deep copy, TTL included.
void copy(Context& ctx) {
  const int src_id = ctx.client.db;
  int dst_id = src_id;
  bool replace = false;
  for (size_t j = 3; j < ctx.argc(); ++j) {
    const size_t additional = ctx.argc() - j - 1;
    if (is(ctx.arg(j), "REPLACE")) {
      replace = true;
    } else if (is(ctx.arg(j), "DB") && additional >= 1) {
      if (!parse_db_index(ctx, ctx.arg(j + 1), dst_id)) return;
      ++j;
    } else {
      ctx.syntax_error();
      return;
    }
  }
  const auto key = ctx.arg(1), newkey = ctx.arg(2);
  if (src_id == dst_id && key == newkey) {
    ctx.rb.error("ERR source and destination objects are the same");
    return;
  }
  const db::Value* v = lookup_read(ctx, key);
  if (!v) {
    ctx.rb.integer(0);
    return;
  }
  auto& src = ctx.db();
  auto& dst = ctx.server.db(dst_id);
  const int64_t expire = src.expire_at(key);
  if (lookup_write(dst, newkey) && !replace) {
    ctx.rb.integer(0);
    return;
  }
  db::Object copied = clone_value(*v);
  dst.erase(newkey);  // REPLACE: dropped silently, then added ("new")
  add_key(ctx, dst_id, newkey, std::move(copied), expire);
  ctx.server.signal_modified_key(dst_id, newkey);
  ctx.dirty();
  ctx.server.notify_keyspace_event(kGeneric, "copy_to", newkey, dst_id);
  ctx.rb.integer(1);
}

// MOVE key db: moves the key (with its TTL) unless the target has it.
void move(Context& ctx) {
  const int src_id = ctx.client.db;
  int dst_id = 0;
  if (!parse_db_index(ctx, ctx.arg(2), dst_id)) return;
  if (dst_id == src_id) {
    ctx.rb.error("ERR source and destination objects are the same");
    return;
  }
  const auto key = ctx.arg(1);
  auto& src = ctx.db();
  auto& dst = ctx.server.db(dst_id);
  if (!lookup_write(ctx, key) || lookup_write(dst, key)) {
    ctx.rb.integer(0);
    return;
  }
  auto taken = src.take(key);
  add_key(ctx, dst_id, key, std::move(taken->first), taken->second);
  ctx.server.signal_modified_key(src_id, key);
  ctx.server.signal_modified_key(dst_id, key);
  ctx.dirty();
  ctx.server.notify_keyspace_event(kGeneric, "move_from", key, src_id);
  ctx.server.notify_keyspace_event(kGeneric, "move_to", key, dst_id);
  ctx.rb.integer(1);
}

// SWAPDB index1 index2. Swapping a database with itself changes nothing
// (and, as in Redis, touches no WATCHed key).
void swapdb(Context& ctx) {
  int a = 0, b = 0;
  if (!parse_int(ctx, ctx.arg(1), a, "ERR invalid first DB index") ||
      !parse_int(ctx, ctx.arg(2), b, "ERR invalid second DB index"))
    return;
  const int n = ctx.server.db_count();
  if (a < 0 || a >= n || b < 0 || b >= n) {
    ctx.rb.error("ERR DB index is out of range");
    return;
  }
  if (a != b) ctx.server.swap_dbs(a, b);
  ctx.dirty();
  ctx.rb.ok();
}

// --- KEYS / SCAN / RANDOMKEY ------------------------------------------------

// KEYS pattern: every live key matching the pattern ("*" matches all, the
// empty key included). Expired keys are skipped but not reclaimed.
void keys(Context& ctx) {
  const auto pattern = ctx.arg(1);
  const bool all = pattern == "*";
  auto& db = ctx.db();
  const size_t mark = ctx.rb.begin_deferred();
  size_t n = 0;
  db.for_each([&](std::string_view key, db::Value&) {
    if (!all && !base::glob_match(pattern, key)) return;
    if (db.is_expired(key)) return;
    ctx.rb.bulk(key);
    ++n;
  });
  ctx.rb.end_deferred(mark, n);
}

// Redis's parseScanCursorOrReply: strtoul() on the argument as a C string;
// leading white space, trailing bytes and overflow are "invalid cursor"
// ("" is cursor 0 and "-1" wraps, as in Redis).
bool parse_cursor(Context& ctx, std::string_view arg, uint64_t& cursor) {
  const std::string text(c_str(arg));
  errno = 0;
  char* end = nullptr;
  const unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if ((!text.empty() && std::isspace(static_cast<unsigned char>(text[0]))) || *end != '\0' ||
      errno == ERANGE) {
    ctx.rb.error("ERR invalid cursor");
    return false;
  }
  cursor = v;
  return true;
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. Collects at least
// COUNT keys (or up to 10 x COUNT cursor steps) from Database::scan, then
// filters them by pattern, type and expiry, as Redis's scanGenericCommand.
void scan(Context& ctx) {
  uint64_t cursor = 0;
  if (!parse_cursor(ctx, ctx.arg(1), cursor)) return;
  long long count = 10;
  std::string_view pattern, type_name;
  bool use_pattern = false, use_type = false;
  for (size_t i = 2; i < ctx.argc();) {
    const size_t left = ctx.argc() - i;
    if (is(ctx.arg(i), "COUNT") && left >= 2) {
      if (!parse_ll(ctx, ctx.arg(i + 1), count)) return;
      if (count < 1) {
        ctx.syntax_error();
        return;
      }
      i += 2;
    } else if (is(ctx.arg(i), "MATCH") && left >= 2) {
      pattern = ctx.arg(i + 1);
      use_pattern = pattern != "*";
      i += 2;
    } else if (is(ctx.arg(i), "TYPE") && left >= 2) {
      type_name = c_str(ctx.arg(i + 1));
      use_type = true;
      i += 2;
    } else {
      ctx.syntax_error();
      return;
    }
  }

  auto& db = ctx.db();
  std::vector<std::string> found;
  long long max_steps = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
  do {
    cursor = db.scan(cursor, [&](std::string_view key, db::Value&) { found.emplace_back(key); });
  } while (cursor != 0 && max_steps-- && found.size() < static_cast<unsigned long long>(count));

  // Filtering may reclaim expired keys, so it runs on copies of the names.
  size_t kept = 0;
  for (size_t i = 0; i < found.size(); ++i) {
    std::string& key = found[i];
    bool filter = use_pattern && !base::glob_match(pattern, key);
    if (!filter && use_type) {
      // Redis looks the key up here (a read: hits/misses count, an expired
      // key is reclaimed and then reads as "none").
      const db::Value* v = lookup_read(ctx, key, kLookupNoTouch);
      if (!base::iequals(type_name, v ? v->type_name() : "none")) filter = true;
    }
    if (!filter && db.is_expired(key)) {
      db.find(key);  // reclaims it (lazy expiry)
      filter = true;
    }
    if (filter) continue;
    if (kept != i) found[kept] = std::move(key);
    ++kept;
  }
  found.resize(kept);

  ctx.rb.array(2);
  ctx.rb.bulk(std::to_string(cursor));
  ctx.rb.array(found.size());
  for (const auto& key : found) ctx.rb.bulk(key);
}

// RANDOMKEY: a random live key (expired ones met are reclaimed), or nil.
void randomkey(Context& ctx) {
  auto& db = ctx.db();
  std::optional<std::string> key;
  // Database::random_key gives up after a bounded number of expired keys,
  // each of which it reclaims; Redis keeps trying until it finds a live key
  // or the database is empty, so keep asking.
  while (!(key = db.random_key(base::rng())) && db.size() > 0) {
  }
  if (key)
    ctx.rb.bulk(*key);
  else
    ctx.rb.null();
}

// --- OBJECT -----------------------------------------------------------------

// OBJECT's key lookup: a read that neither touches the access time nor
// emits "keymiss" (Redis's objectCommandLookup). Replies nil when missing.
const db::Value* object_lookup(Context& ctx) {
  const db::Value* v = lookup_read(ctx, ctx.arg(2), kLookupNoTouch | kLookupNoNotify);
  if (!v) ctx.rb.null();
  return v;
}

// OBJECT ENCODING: int/embstr/raw for strings, intset/listpack/hashtable for
// sets.
void object_encoding(Context& ctx) {
  if (const db::Value* v = object_lookup(ctx)) ctx.rb.bulk(v->encoding_name());
}

// OBJECT REFCOUNT: 1, except for the integers Redis shares (an int-encoded
// string 0..9999 not made by COPY), which report INT_MAX.
void object_refcount(Context& ctx) {
  const db::Value* v = object_lookup(ctx);
  if (!v) return;
  long long refcount = 1;
  if (v->type() == db::Type::kString && v->as_string().encoding == db::StringEncoding::kInt &&
      !v->private_int()) {
    long long n = -1;
    if (base::string_to_ll(v->as_string().bytes, n) && n >= 0 && n < kSharedIntegers)
      refcount = kSharedRefcount;
  }
  ctx.rb.integer(refcount);
}

// OBJECT IDLETIME: whole seconds since the key was last accessed; an LFU
// maxmemory-policy keeps no idle time (Redis's error, after the lookup).
void object_idletime(Context& ctx) {
  const db::Value* v = object_lookup(ctx);
  if (!v) return;
  if (db::access_tracking().lfu)
    return ctx.rb.error(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.");
  const uint32_t now = db::lru_clock();
  ctx.rb.integer(static_cast<long long>(v->idle_seconds(now)));
}

// OBJECT FREQ: the LFU counter (decayed) under an LFU maxmemory-policy,
// Redis's error otherwise (after the key lookup, as Redis does).
void object_freq(Context& ctx) {
  const db::Value* v = object_lookup(ctx);
  if (!v) return;
  if (!db::access_tracking().lfu)
    return ctx.rb.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time to "
        "adjust.");
  ctx.rb.integer(v->lfu_counter());
}

// OBJECT HELP: Redis 7.0's text, line for line.
void object_help(Context& ctx) {
  reply_help(ctx, "object",
             {"ENCODING <key>",
              "    Return the kind of internal representation used in order to store the value",
              "    associated with a <key>.", "FREQ <key>",
              "    Return the access frequency index of the <key>. The returned integer is",
              "    proportional to the logarithm of the recent access frequency of the key.",
              "IDLETIME <key>",
              "    Return the idle time of the <key>, that is the approximated number of",
              "    seconds elapsed since the last access to the key.", "REFCOUNT <key>",
              "    Return the number of references of the value associated with the specified",
              "    <key>."});
}

// --- EXPIRE family ----------------------------------------------------------

enum ExpireFlag : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// Redis's parseExtendedExpireArgumentsOrReply: NX | XX | GT | LT after the
// time. Replies the error and returns false on failure.
bool parse_expire_flags(Context& ctx, unsigned& flags) {
  for (size_t j = 3; j < ctx.argc(); ++j) {
    const auto opt = ctx.arg(j);
    if (is(opt, "NX")) {
      flags |= kNx;
    } else if (is(opt, "XX")) {
      flags |= kXx;
    } else if (is(opt, "GT")) {
      flags |= kGt;
    } else if (is(opt, "LT")) {
      flags |= kLt;
    } else {
      ctx.rb.error("ERR Unsupported option " + std::string(c_str(opt)));
      return false;
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    ctx.rb.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return false;
  }
  if ((flags & kGt) && (flags & kLt)) {
    ctx.rb.error("ERR GT and LT options at the same time are not compatible");
    return false;
  }
  return true;
}

// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT: `relative` adds now, `seconds`
// scales by 1000. A time already past deletes the key ("del" event).
void expire_generic(Context& ctx, bool relative, bool seconds) {
  unsigned flags = 0;
  if (!parse_expire_flags(ctx, flags)) return;
  long long when = 0;
  if (!parse_ll(ctx, ctx.arg(2), when)) return;
  const auto invalid = [&] {
    ctx.rb.error("ERR invalid expire time in '" + ctx.spec.name + "' command");
  };
  if (seconds) {
    if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) return invalid();
    when *= 1000;
  }
  const long long base_time = relative ? base::now_ms() : 0;
  if (when > LLONG_MAX - base_time) return invalid();
  when += base_time;

  const auto key = ctx.arg(1);
  auto& db = ctx.db();
  if (!lookup_write(ctx, key)) {
    ctx.rb.integer(0);
    return;
  }
  if (flags) {
    const int64_t current = db.expire_at(key);
    const bool refuse = ((flags & kNx) && current != -1) || ((flags & kXx) && current == -1) ||
                        ((flags & kGt) && (current == -1 || when <= current)) ||
                        ((flags & kLt) && current != -1 && when >= current);
    if (refuse) {
      ctx.rb.integer(0);
      return;
    }
  }
  // A time already past deletes the key (not while loading, not on a
  // replica: ServerState::deletes_when_already_expired).
  if (ctx.server.deletes_when_already_expired(when)) {
    // lazyfree-lazy-expire: freed as UNLINK frees, propagated as UNLINK
    // (Redis's expireGenericCommand).
    const bool lazy = ctx.server.settings().lazyfree_lazy_expire;
    if (lazy)
      ctx.server.unlink_key(ctx.client.db, key);
    else
      db.erase_sync(key);
    key_modified(ctx, key);
    notify(ctx, kGeneric, "del", key);
    ctx.propagate_as({lazy ? "UNLINK" : "DEL", std::string(key)});
    ctx.rb.integer(1);
    return;
  }
  db.set_expire(key, when);
  ctx.rb.integer(1);
  key_modified(ctx, key);
  notify(ctx, kGeneric, "expire", key);
  // Propagated as PEXPIREAT <absolute ms>, the NX/XX/GT/LT flags kept.
  if (relative || seconds) {
    std::vector<std::string> args(ctx.args.begin(), ctx.args.end());
    args[0] = "PEXPIREAT";
    args[2] = std::to_string(when);
    ctx.propagate_as(std::move(args));
  }
}

// EXPIRE key seconds / PEXPIRE key ms / EXPIREAT key unix-s / PEXPIREAT key
// unix-ms, each with [NX | XX | GT | LT].
void expire(Context& ctx) { expire_generic(ctx, true, true); }
void pexpire(Context& ctx) { expire_generic(ctx, true, false); }
void expireat(Context& ctx) { expire_generic(ctx, false, true); }
void pexpireat(Context& ctx) { expire_generic(ctx, false, false); }

// TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 for a missing key, -1 without a
// TTL; seconds are rounded to the nearest ((ms + 500) / 1000), as Redis.
void ttl_generic(Context& ctx, bool in_ms, bool absolute) {
  const auto key = ctx.arg(1);
  if (!lookup_read(ctx, key, kLookupNoTouch)) {
    ctx.rb.integer(-2);
    return;
  }
  const int64_t at = ctx.db().expire_at(key);
  if (at == -1) {
    ctx.rb.integer(-1);
    return;
  }
  long long ttl = absolute ? at : at - base::now_ms();
  if (ttl < 0) ttl = 0;
  ctx.rb.integer(in_ms ? ttl : (ttl + 500) / 1000);
}

// TTL / PTTL (remaining time), EXPIRETIME / PEXPIRETIME (absolute time).
void ttl(Context& ctx) { ttl_generic(ctx, false, false); }
void pttl(Context& ctx) { ttl_generic(ctx, true, false); }
void expiretime(Context& ctx) { ttl_generic(ctx, false, true); }
void pexpiretime(Context& ctx) { ttl_generic(ctx, true, true); }

// PERSIST: drops the TTL; 1 if there was one.
void persist(Context& ctx) {
  const auto key = ctx.arg(1);
  if (!lookup_write(ctx, key) || !ctx.db().persist(key)) {
    ctx.rb.integer(0);
    return;
  }
  key_modified(ctx, key);
  notify(ctx, kGeneric, "persist", key);
  ctx.rb.integer(1);
}

// --- registration -----------------------------------------------------------

// Key specs as Redis 7.0 reports them.
KeySpec spec(std::string flags, int begin, int lastkey = 0) {
  KeySpec k;
  k.flags = std::move(flags);
  k.begin_index = begin;
  k.lastkey = lastkey;
  return k;
}

const std::vector<std::string> kMultiKeyTips = {"request_policy:multi_shard",
                                                "response_policy:agg_sum"};

// One OBJECT subcommand that takes a key (read-only, key at index 2).
CommandSpec object_sub(std::string name, Handler h, std::string summary, std::string since) {
  CommandSpec s = make_command("object|" + name, 3, "readonly", h, "generic", std::move(summary),
                               std::move(since), "O(1)", "key", "@keyspace");
  s.keys = {spec("RO", 2)};
  s.tips = {"nondeterministic_output"};
  return s;
}

// One of EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT.
CommandSpec expire_spec(std::string name, Handler h, std::string summary, std::string since,
                        std::string time_arg) {
  CommandSpec s = make_command(
      std::move(name), -3, "write fast", h, "generic", std::move(summary), std::move(since), "O(1)",
      "key " + time_arg + " [condition= NX | XX | GT | LT]@7.0.0", "@keyspace");
  s.keys = {spec("RW update", 1)};
  s.doc.history = {{"7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."}};
  return s;
}

// One of TTL / PTTL / EXPIRETIME / PEXPIRETIME.
CommandSpec ttl_spec(std::string name, Handler h, std::string summary, std::string since,
                     bool nondeterministic) {
  CommandSpec s = make_command(std::move(name), 2, "readonly fast", h, "generic",
                               std::move(summary), std::move(since), "O(1)", "key", "@keyspace");
  s.keys = {spec("RO access", 1)};
  if (nondeterministic) {
    s.doc.history = {{"2.8.0", "Added the -2 reply."}};
    s.tips = {"nondeterministic_output"};
  }
  return s;
}

}  // namespace

// Adds the keyspace family to the command table.
void register_keyspace_commands(Registry& r) {
  r.add({.name = "del",
         .arity = -2,
         .flags = "write",
         .acl = "@keyspace",
         .keys = {spec("RM delete", 1, -1)},
         .handler = del,
         .doc = {"Delete a key", "1.0.0", "generic",
                 "O(N) where N is the number of keys that will be removed. When a key to remove "
                 "holds a value other than a string, the individual complexity for this key is "
                 "O(M) where M is the number of elements in the list, set, sorted set or hash. "
                 "Removing a single key that holds a string value is O(1).",
                 "key..."},
         .tips = kMultiKeyTips});
  r.add({.name = "unlink",
         .arity = -2,
         .flags = "write fast",
         .acl = "@keyspace",
         .keys = {spec("RM delete", 1, -1)},
         .handler = unlink,
         .doc = {"Delete a key asynchronously in another thread. Otherwise it is just as DEL, but "
                 "non blocking.",
                 "4.0.0", "generic",
                 "O(1) for each key removed regardless of its size. Then the command does O(N) "
                 "work in a different thread in order to reclaim memory, where N is the number "
                 "of allocations the deleted objects where composed of.",
                 "key..."},
         .tips = kMultiKeyTips});
  r.add({.name = "exists",
         .arity = -2,
         .flags = "readonly fast",
         .acl = "@keyspace",
         .keys = {spec("RO", 1, -1)},
         .handler = exists,
         .doc = {"Determine if a key exists",
                 "1.0.0",
                 "generic",
                 "O(N) where N is the number of keys to check.",
                 "key...",
                 {{"3.0.3", "Accepts multiple `key` arguments."}}},
         .tips = kMultiKeyTips});
  r.add({.name = "type",
         .arity = 2,
         .flags = "readonly fast",
         .acl = "@keyspace",
         .keys = {spec("RO", 1)},
         .handler = type,
         .doc = {"Determine the type stored at key", "1.0.0", "generic", "O(1)", "key"}});
  r.add({.name = "rename",
         .arity = 3,
         .flags = "write",
         .acl = "@keyspace",
         .keys = {spec("RW access delete", 1), spec("OW update", 2)},
         .handler = rename,
         .doc = {"Rename a key", "1.0.0", "generic", "O(1)", "key newkey"}});
  r.add({.name = "renamenx",
         .arity = 3,
         .flags = "write fast",
         .acl = "@keyspace",
         .keys = {spec("RW access delete", 1), spec("OW insert", 2)},
         .handler = renamenx,
         .doc = {"Rename a key, only if the new key does not exist",
                 "1.0.0",
                 "generic",
                 "O(1)",
                 "key newkey",
                 {{"3.2.0",
                   "The command no longer returns an error when source and destination names are "
                   "the same."}}}});
  r.add({.name = "copy",
         .arity = -3,
         .flags = "write denyoom",
         .acl = "@keyspace",
         .keys = {spec("RO access", 1), spec("OW update", 2)},
         .handler = copy,
         .doc = {"Copy a key", "6.2.0", "generic",
                 "O(N) worst case for collections, where N is the number of nested items. O(1) "
                 "for string values.",
                 "source destination [DB destination-db:integer] [REPLACE]"}});
  r.add({.name = "move",
         .arity = 3,
         .flags = "write fast",
         .acl = "@keyspace",
         .keys = {spec("RW access update", 1)},
         .handler = move,
         .doc = {"Move a key to another database", "1.0.0", "generic", "O(1)", "key db:integer"}});
  r.add({.name = "swapdb",
         .arity = 3,
         .flags = "write fast",
         .acl = "@keyspace @dangerous",
         .handler = swapdb,
         .doc = {"Swaps two Redis databases", "4.0.0", "server",
                 "O(N) where N is the count of clients watching or blocking on keys from both "
                 "databases.",
                 "index1:integer index2:integer"}});
  r.add({.name = "keys",
         .arity = 2,
         .flags = "readonly",
         .acl = "@keyspace @dangerous",
         .handler = keys,
         .doc = {"Find all keys matching the given pattern", "1.0.0", "generic",
                 "O(N) with N being the number of keys in the database, under the assumption "
                 "that the key names in the database and the given pattern have limited length.",
                 "pattern:pattern"},
         .tips = {"request_policy:all_shards", "nondeterministic_output_order"}});
  r.add({.name = "scan",
         .arity = -2,
         .flags = "readonly",
         .acl = "@keyspace",
         .handler = scan,
         .doc = {"Incrementally iterate the keys space",
                 "2.8.0",
                 "generic",
                 "O(1) for every call. O(N) for a complete iteration, including enough command "
                 "calls for the cursor to return back to 0. N is the number of elements inside "
                 "the collection.",
                 "cursor:integer [MATCH pattern:pattern] [COUNT count:integer] "
                 "[TYPE type]@6.0.0",
                 {{"6.0.0", "Added the `TYPE` subcommand."}}},
         .tips = {"nondeterministic_output", "request_policy:special"}});
  r.add({.name = "randomkey",
         .arity = 1,
         .flags = "readonly",
         .acl = "@keyspace",
         .handler = randomkey,
         .doc = {"Return a random key from the keyspace", "1.0.0", "generic", "O(1)", ""},
         .tips = {"request_policy:all_shards", "nondeterministic_output"}});
  r.add({.name = "touch",
         .arity = -2,
         .flags = "readonly fast",
         .acl = "@keyspace",
         .keys = {spec("RO", 1, -1)},
         .handler = touch,
         .doc = {"Alters the last access time of a key(s). Returns the number of existing keys "
                 "specified.",
                 "3.2.1", "generic", "O(N) where N is the number of keys that will be touched.",
                 "key..."},
         .tips = kMultiKeyTips});

  CommandSpec object{.name = "object",
                     .arity = -2,
                     .flags = "",
                     .acl = "",
                     .handler = nullptr,
                     .doc = {"A container for object introspection commands", "2.2.3", "generic",
                             "Depends on subcommand.", ""}};
  CommandSpec help;
  help.name = "object|help";
  help.arity = 2;
  help.flags = "loading stale";
  help.acl = "@keyspace";
  help.handler = object_help;
  help.doc = {"Show helpful text about the different subcommands", "6.2.0", "generic", "O(1)", ""};
  // Redis 7.0's order (its command table is a hash table).
  object.subcommands = {
      object_sub("idletime", object_idletime, "Get the time since a Redis object was last accessed",
                 "2.2.3"),
      object_sub("encoding", object_encoding, "Inspect the internal encoding of a Redis object",
                 "2.2.3"),
      std::move(help),
      object_sub("freq", object_freq,
                 "Get the logarithmic access frequency counter of a Redis object", "4.0.0"),
      object_sub("refcount", object_refcount,
                 "Get the number of references to the value of the key", "2.2.3"),
  };
  r.add(std::move(object));

  r.add(expire_spec("expire", expire, "Set a key's time to live in seconds", "1.0.0",
                    "seconds:integer"));
  r.add(expire_spec("pexpire", pexpire, "Set a key's time to live in milliseconds", "2.6.0",
                    "milliseconds:integer"));
  r.add(expire_spec("expireat", expireat, "Set the expiration for a key as a UNIX timestamp",
                    "1.2.0", "unix-time-seconds:unix-time"));
  r.add(expire_spec("pexpireat", pexpireat,
                    "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
                    "2.6.0", "unix-time-milliseconds:unix-time"));
  r.add(ttl_spec("ttl", ttl, "Get the time to live for a key in seconds", "1.0.0", true));
  r.add(ttl_spec("pttl", pttl, "Get the time to live for a key in milliseconds", "2.6.0", true));
  r.add(ttl_spec("expiretime", expiretime, "Get the expiration Unix timestamp for a key", "7.0.0",
                 false));
  r.add(ttl_spec("pexpiretime", pexpiretime,
                 "Get the expiration Unix timestamp for a key in milliseconds", "7.0.0", false));
  r.add({.name = "persist",
         .arity = 2,
         .flags = "write fast",
         .acl = "@keyspace",
         .keys = {spec("RW update", 1)},
         .handler = persist,
         .doc = {"Remove the expiration from a key", "2.2.0", "generic", "O(1)", "key"}});
}

}  // namespace setd::cmd
