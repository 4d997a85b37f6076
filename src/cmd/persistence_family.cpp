// Persistence commands (Redis 7.0's rdb.c, aof.c, cluster.c DUMP/RESTORE,
// debug.c): SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF, DUMP, RESTORE and DEBUG
// (RELOAD, LOADAOF, SLEEP, OBJECT, DIGEST, DIGEST-VALUE, SET-ACTIVE-EXPIRE,
// QUICKLIST-PACKED-THRESHOLD, CHANGE-REPL-ID, HELP). The work itself is
// server::Persistence's.
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <strings.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "setd/base/clock.hpp"
#include "setd/base/strconv.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"
#include "setd/persist/rdb_decoder.hpp"
#include "setd/persist/rdb_encoder.hpp"
#include "setd/repl/replication.hpp"

namespace setd::cmd {

namespace {

using server::Persistence;

// SAVE: a dump written before the reply; -ERR if it failed.
void save_cmd(Context& ctx) {
  if (!ctx.server.persistence().bgsave_in_progress()) ctx.server.persistence().count_save();
  const std::string err = ctx.server.persistence().save();
  if (err.empty()) return ctx.rb.ok();
  if (err == "Background save already in progress") return ctx.rb.error("ERR " + err);
  ctx.rb.error("ERR");
}

// BGSAVE [SCHEDULE]
void bgsave_cmd(Context& ctx) {
  bool schedule = false;
  if (ctx.argc() > 1) {
    if (ctx.argc() == 2 && is(ctx.arg(1), "SCHEDULE"))
      schedule = true;
    else
      return ctx.syntax_error();
  }
  // Inside EXEC a snapshot would split the transaction: scheduled instead.
  auto& p = ctx.server.persistence();
  if (ctx.dispatcher.in_exec() && !p.bgsave_in_progress()) {
    p.schedule_bgsave();
    return ctx.rb.simple("Background saving scheduled");
  }
  switch (p.bgsave(schedule)) {
    case Persistence::BgsaveStart::kStarted:
      return ctx.rb.simple("Background saving started");
    case Persistence::BgsaveStart::kScheduled:
      return ctx.rb.simple("Background saving scheduled");
    case Persistence::BgsaveStart::kInProgress:
      return ctx.rb.error("ERR Background save already in progress");
    case Persistence::BgsaveStart::kBusy:
      return ctx.rb.error(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
          "SCHEDULE in order to schedule a BGSAVE whenever possible.");
    case Persistence::BgsaveStart::kFailed:
      return ctx.rb.error("ERR");
  }
}

void lastsave_cmd(Context& ctx) { ctx.rb.integer(ctx.server.persistence().lastsave()); }

// BGREWRITEAOF
void bgrewriteaof_cmd(Context& ctx) {
  auto& p = ctx.server.persistence();
  if (p.aof_rewrite_in_progress())
    return ctx.rb.error("ERR Background append only file rewriting already in progress");
  if (ctx.dispatcher.in_exec()) {
    p.schedule_aof_rewrite();
    return ctx.rb.simple("Background append only file rewriting scheduled");
  }
  const std::string r = p.bgrewriteaof();
  if (r.empty()) return ctx.rb.simple("Background append only file rewriting started");
  if (r == "scheduled") return ctx.rb.simple("Background append only file rewriting scheduled");
  ctx.rb.error(
      "ERR Can't execute an AOF background rewriting. Please check the server logs for more "
      "information.");
}

// DUMP key: Redis's serialization of the value (nil when missing).
void dump_cmd(Context& ctx) {
  const db::Value* v = lookup_read(ctx, ctx.arg(1));
  if (v == nullptr) return ctx.rb.null();
  ctx.rb.bulk(persist::dump_payload(*v, ctx.server.settings().rdbcompression));
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
// [FREQ frequency]: checks in Redis 7.0's order (options, BUSYKEY, TTL,
// payload footer, payload body).
void restore_cmd(Context& ctx) {
  bool replace = false, absttl = false;
  long long idle = -1, freq = -1;
  for (size_t j = 4; j < ctx.argc(); ++j) {
    const size_t additional = ctx.argc() - j - 1;
    if (is(ctx.arg(j), "REPLACE")) {
      replace = true;
    } else if (is(ctx.arg(j), "ABSTTL")) {
      absttl = true;
    } else if (is(ctx.arg(j), "IDLETIME") && additional >= 1 && freq == -1) {
      if (!parse_ll(ctx, ctx.arg(j + 1), idle)) return;
      if (idle < 0) return ctx.rb.error("ERR Invalid IDLETIME value, must be >= 0");
      ++j;
    } else if (is(ctx.arg(j), "FREQ") && additional >= 1 && idle == -1) {
      if (!parse_ll(ctx, ctx.arg(j + 1), freq)) return;
      if (freq < 0 || freq > 255)
        return ctx.rb.error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      ++j;
    } else {
      return ctx.syntax_error();
    }
  }
  const std::string_view key = ctx.arg(1);
  if (!replace && lookup_write(ctx, key) != nullptr)
    return ctx.rb.error("BUSYKEY Target key name already exists.");
  long long ttl = 0;
  if (!parse_ll(ctx, ctx.arg(2), ttl)) return;
  if (ttl < 0) return ctx.rb.error("ERR Invalid TTL value, must be >= 0");
  persist::DecodeOptions opts;
  opts.set_limits = ctx.server.settings().set_limits();
  auto restored = persist::restore_payload(ctx.arg(3), opts);
  if (!restored.value) return ctx.rb.error("ERR " + restored.error);
  bool deleted = false;
  if (replace) deleted = ctx.db().erase(key);
  if (ttl != 0 && !absttl) ttl += base::now_ms();
  if (ttl != 0 && ttl <= base::now_ms() && !ctx.server.loading) {
    // Already expired: the key is not created (and a replaced one is gone).
    if (deleted) {
      key_modified(ctx, key);
      notify(ctx, server::notify::kGeneric, "del", key);
      ctx.propagate_as({"DEL", std::string(key)});
    }
    return ctx.rb.ok();
  }
  db::Value& v = add_key(ctx, ctx.client.db, key, std::move(*restored.value), ttl != 0 ? ttl : -1);
  // As Redis's objectSetLRUOrLFU: FREQ under an LFU policy, IDLETIME under
  // the others (the 24-bit clock wraps).
  v.set_lru_or_lfu(freq, idle);
  if (ttl != 0) {
    if (!absttl) {
      // Replayed later, the TTL must mean the same instant.
      std::vector<std::string> args(ctx.args.begin(), ctx.args.end());
      args[2] = std::to_string(ttl);
      args.emplace_back("ABSTTL");
      ctx.propagate_as(std::move(args));
    }
  }
  key_modified(ctx, key);
  notify(ctx, server::notify::kGeneric, "restore", key);
  ctx.rb.ok();
}

// --- DEBUG DIGEST / DIGEST-VALUE (Redis's debug.c) ---------------------------

using Digest = std::array<unsigned char, 20>;

// xorDigest: digest ^= SHA1(data) (order-insensitive "addition").
void xor_digest(Digest& digest, const void* data, size_t len) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(data, len, md, &md_len, EVP_sha1(), nullptr);
  for (size_t j = 0; j < digest.size(); ++j) digest[j] ^= md[j];
}

// mixDigest: digest = SHA1(digest ^ SHA1(data)) (order matters).
void mix_digest(Digest& digest, const void* data, size_t len) {
  xor_digest(digest, data, len);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(digest.data(), digest.size(), md, &md_len, EVP_sha1(), nullptr);
  std::memcpy(digest.data(), md, digest.size());
}

// xorObjectDigest: the value's type, its contents (a string's bytes, an
// int-encoded one as its decimal text; a set's members xored) and whether
// it has a TTL.
void object_digest(Digest& digest, const db::Value& v) {
  // OBJ_STRING is 0, OBJ_SET 2.
  const uint32_t type = htonl(v.type() == db::Type::kString ? 0u : 2u);
  mix_digest(digest, &type, sizeof type);
  if (v.type() == db::Type::kString) {
    const std::string_view bytes = v.as_string().bytes;
    mix_digest(digest, bytes.data(), bytes.size());
  } else {
    v.as_set().for_each([&](std::string_view m) { xor_digest(digest, m.data(), m.size()); });
  }
  if (v.expire_ms() != -1) xor_digest(digest, "!!expire!!", 10);
}

std::string digest_hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(40);
  for (const unsigned char b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// computeDatasetDigest: per non-empty database its id mixed in, then the
// xor of the SHA1 of every key's (key, value) digest. Keys whose TTL has passed but that
// are not yet reclaimed count, as in Redis (it walks the dict).
Digest dataset_digest(server::ServerState& s) {
  Digest final{};
  for (int j = 0; j < s.db_count(); ++j) {
    db::Database& d = s.db(j);
    if (d.key_table().size() == 0) continue;
    const uint32_t id = htonl(static_cast<uint32_t>(j));
    mix_digest(final, &id, sizeof id);
    d.key_table().for_each([&](db::Value& v) {
      Digest kv{};
      const std::string_view key = v.key();
      mix_digest(kv, key.data(), key.size());
      object_digest(kv, v);
      xor_digest(final, kv.data(), kv.size());  // final ^= SHA1(key-value digest)
    });
  }
  return final;
}

// Redis's memtoull: digits then an optional unit (b, k, kb, m, mb, g, gb);
// a leading '-' or another suffix is an error. The product wraps as in C.
bool memtoull(std::string_view text, unsigned long long& out) {
  const std::string p(text.substr(0, text.find('\0')));
  out = 0;
  if (!p.empty() && p[0] == '-') return false;
  size_t u = 0;
  while (u < p.size() && std::isdigit(static_cast<unsigned char>(p[u]))) ++u;
  const char* unit = p.c_str() + u;
  unsigned long long mul = 0;
  if (*unit == '\0' || strcasecmp(unit, "b") == 0)
    mul = 1;
  else if (strcasecmp(unit, "k") == 0)
    mul = 1000;
  else if (strcasecmp(unit, "kb") == 0)
    mul = 1024;
  else if (strcasecmp(unit, "m") == 0)
    mul = 1000ull * 1000;
  else if (strcasecmp(unit, "mb") == 0)
    mul = 1024ull * 1024;
  else if (strcasecmp(unit, "g") == 0)
    mul = 1000ull * 1000 * 1000;
  else if (strcasecmp(unit, "gb") == 0)
    mul = 1024ull * 1024 * 1024;
  else
    return false;
  if (u >= 128) return false;
  const std::string digits = p.substr(0, u);
  char* end = nullptr;
  errno = 0;
  const unsigned long long val = std::strtoull(digits.c_str(), &end, 10);
  if ((val == 0 && errno == EINVAL) || *end != '\0') return false;
  out = val * mul;
  return true;
}

// DEBUG OBJECT key: Redis's line about the value. setd has no robj: the
// address is the entry's, the serialized length what RDB would write for
// the value (rdbSavedObjectLen), lru the entry's 24-bit field.
void debug_object(Context& ctx) {
  // As Redis (dictFind): a key whose TTL has passed is still shown.
  const db::Value* v = ctx.db().key_table().find(ctx.arg(2));
  if (v == nullptr) return ctx.rb.error("ERR no such key");
  long long refcount = 1;
  if (v->type() == db::Type::kString && v->as_string().encoding == db::StringEncoding::kInt &&
      !v->private_int()) {
    long long n = -1;
    // Redis's shared integers (OBJ_SHARED_INTEGERS, OBJ_SHARED_REFCOUNT).
    if (base::string_to_ll(v->as_string().bytes, n) && n >= 0 && n < 10000) refcount = INT_MAX;
  }
  std::string scratch;
  persist::RdbEncoder enc(&scratch, {.compress = ctx.server.settings().rdbcompression});
  enc.typed_value(db::ValueView(*v));
  const size_t serialized = scratch.size() - 1;  // without the type byte
  // estimateObjectIdleTime, in seconds (its wrap-around arithmetic too).
  const uint32_t clock = db::lru_clock() & db::kLruMask;
  const uint32_t lru = v->lru();
  const unsigned long long idle =
      clock >= lru ? clock - lru : static_cast<unsigned long long>(clock) + (db::kLruMask - lru);
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "Value at:%p refcount:%lld encoding:%s serializedlength:%zu lru:%u "
                "lru_seconds_idle:%llu",
                static_cast<const void*>(v), refcount, v->encoding_name(), serialized, lru, idle);
  ctx.rb.simple(buf);
}

// DEBUG <subcommand>: the subcommands tests and operators use.
void debug_cmd(Context& ctx) {
  const std::string_view sub = ctx.arg(1);
  auto& p = ctx.server.persistence();
  if (is(sub, "HELP") && ctx.argc() == 2) {
    return reply_help(
        ctx, "DEBUG",
        {"CHANGE-REPL-ID",
         "    Change the replication IDs of the instance.",
         "    Dangerous: should be used only for testing the replication subsystem.",
         "DIGEST",
         "    Output a hex signature representing the current DB content.",
         "DIGEST-VALUE <key> [<key> ...]",
         "    Output a hex signature of the values of all the specified keys.",
         "LOADAOF",
         "    Flush the AOF buffers on disk and reload the AOF in memory.",
         "OBJECT <key>",
         "    Show low level info about `key` and associated value.",
         "RELOAD [option ...]",
         "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
         "    * MERGE: conflicting keys will be loaded from RDB.",
         "    * NOFLUSH: the existing database will not be removed before load, but",
         "      conflicting keys will generate an exception and kill the server.",
         "    * NOSAVE: the database will be loaded from an existing RDB file.",
         "    Examples:",
         "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
         "      the database.",
         "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
         "      existing RDB file.",
         "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
         "      file to the database.",
         "SET-ACTIVE-EXPIRE <0|1>",
         "    Setting it to 0 disables expiring keys in background when they are not",
         "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
         "    default.",
         "QUICKLIST-PACKED-THRESHOLD <size>",
         "    Sets the threshold for elements to be inserted as plain vs packed nodes",
         "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
         "SLEEP <seconds>",
         "    Stop the server for <seconds>. Decimals allowed."});
  }
  if (is(sub, "OBJECT") && ctx.argc() == 3) return debug_object(ctx);
  if (is(sub, "DIGEST") && ctx.argc() == 2)
    return ctx.rb.simple(digest_hex(dataset_digest(ctx.server)));
  if (is(sub, "DIGEST-VALUE")) {
    // As Redis: keys whose TTL has passed are digested too.
    ctx.rb.array(ctx.argc() - 2);
    for (size_t j = 2; j < ctx.argc(); ++j) {
      Digest d{};
      if (const db::Value* v = ctx.db().key_table().find(ctx.arg(j))) object_digest(d, *v);
      ctx.rb.simple(digest_hex(d));
    }
    return;
  }
  if (is(sub, "SET-ACTIVE-EXPIRE") && ctx.argc() == 3) {
    // atoi(): any text that does not start with a non-zero number disables.
    const std::string arg(ctx.arg(2));
    ctx.server.active_expire_enabled = std::atoi(arg.c_str()) != 0;
    return ctx.rb.ok();
  }
  if (is(sub, "QUICKLIST-PACKED-THRESHOLD") && ctx.argc() == 3) {
    // setd keeps no lists: the size is validated as Redis's
    // quicklistisSetPackedThreshold does, and nothing else changes.
    unsigned long long sz = 0;
    if (!memtoull(ctx.arg(2), sz) || sz > (1ull << 32) - (1ull << 20))
      return ctx.rb.error("ERR argument must be a memory value bigger than 1 and smaller than 4gb");
    return ctx.rb.ok();
  }
  if (is(sub, "CHANGE-REPL-ID") && ctx.argc() == 2) {
    ctx.dispatcher.replication().debug_change_replid();
    return ctx.rb.ok();
  }
  if (is(sub, "RELOAD")) {
    bool flush = true, save = true, merge = false;
    for (size_t j = 2; j < ctx.argc(); ++j) {
      if (is(ctx.arg(j), "MERGE"))
        merge = true;
      else if (is(ctx.arg(j), "NOFLUSH"))
        flush = false;
      else if (is(ctx.arg(j), "NOSAVE"))
        save = false;
      else
        return ctx.rb.error(
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
    }
    if (save && !p.save().empty()) return ctx.rb.error("ERR");
    if (ctx.server.loading) return ctx.rb.error("ERR DEBUG RELOAD while loading");
    if (flush) {
      // As Redis's emptyData(): the function libraries go too.
      ctx.server.flush_all();
      if (ctx.server.scripts != nullptr) ctx.server.scripts->flush_functions();
    }
    const std::string err = p.load_rdb_file(ctx.server.settings().dbfilename, merge);
    if (!err.empty()) return ctx.rb.error("ERR Error trying to load the RDB dump");
    return ctx.rb.ok();
  }
  if (is(sub, "LOADAOF")) {
    if (!p.aof_enabled()) return ctx.rb.error("ERR AOF is not enabled");
    // Never from inside a load (an AOF holding DEBUG LOADAOF would recurse).
    if (ctx.server.loading) return ctx.rb.error("ERR DEBUG LOADAOF while loading");
    const std::string err = p.reload_aof();
    if (!err.empty()) return ctx.rb.error("ERR " + err);
    ctx.server.dirty = 0;
    return ctx.rb.ok();
  }
  if (is(sub, "SLEEP") && ctx.argc() == 3) {
    double secs = 0;
    try {
      secs = std::stod(std::string(ctx.arg(2)));
    } catch (...) {
      secs = 0;
    }
    if (secs > 0) std::this_thread::sleep_for(std::chrono::duration<double>(secs));
    return ctx.rb.ok();
  }
  subcommand_syntax_error(ctx);
}

}  // namespace

void register_persistence_commands(Registry& r) {
  r.add({.name = "save",
         .arity = 1,
         .flags = "admin noscript no_async_loading no_multi",
         .handler = save_cmd,
         .doc = {"Synchronously save the dataset to disk", "1.0.0", "server",
                 "O(N) where N is the total number of keys in all databases", ""}});
  r.add({.name = "bgsave",
         .arity = -1,
         .flags = "admin noscript no_async_loading",
         .handler = bgsave_cmd,
         .doc = {"Asynchronously save the dataset to disk",
                 "1.0.0",
                 "server",
                 "O(1)",
                 "[SCHEDULE]@3.2.2",
                 {{"3.2.2", "Added the `SCHEDULE` option."}}}});
  r.add({.name = "lastsave",
         .arity = 1,
         .flags = "loading stale fast",
         .acl = "@admin @dangerous",
         .handler = lastsave_cmd,
         .doc = {"Get the UNIX time stamp of the last successful save to disk", "1.0.0", "server",
                 "O(1)", ""},
         .tips = {"nondeterministic_output"}});
  r.add({.name = "bgrewriteaof",
         .arity = 1,
         .flags = "admin noscript no_async_loading",
         .handler = bgrewriteaof_cmd,
         .doc = {"Asynchronously rewrite the append-only file", "1.0.0", "server", "O(1)", ""}});
  KeySpec ro;
  ro.flags = "RO access";
  KeySpec ow;
  ow.flags = "OW update";
  r.add({.name = "dump",
         .arity = 2,
         .flags = "readonly",
         .acl = "@keyspace",
         .keys = {ro},
         .handler = dump_cmd,
         .doc = {"Return a serialized version of the value stored at the specified key.", "2.6.0",
                 "generic",
                 "O(1) to access the key and additional O(N*M) to serialize it, where N is the "
                 "number of Redis objects composing the value and M their average size. For small "
                 "string values the time complexity is thus O(1)+O(1*M) where M is small, so "
                 "simply O(1).",
                 "key"},
         .tips = {"nondeterministic_output"}});
  r.add(
      {.name = "restore",
       .arity = -4,
       .flags = "write denyoom",
       .acl = "@keyspace @dangerous",
       .keys = {ow},
       .handler = restore_cmd,
       .doc = {"Create a key using the provided serialized value, previously obtained using DUMP.",
               "2.6.0",
               "generic",
               "O(1) to create the new key and additional O(N*M) to reconstruct the serialized "
               "value, where N is the number of Redis objects composing the value and M their "
               "average size. For small string values the time complexity is thus O(1)+O(1*M) "
               "where M is small, so simply O(1). However for sorted set values the complexity "
               "is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
               "key ttl:integer serialized-value [REPLACE]@3.0.0 [ABSTTL]@5.0.0 [IDLETIME "
               "seconds:integer]@5.0.0 [FREQ frequency:integer]@5.0.0",
               {{"3.0.0", "Added the `REPLACE` modifier."},
                {"5.0.0", "Added the `ABSTTL` modifier."},
                {"5.0.0", "Added the `IDLETIME` and `FREQ` options."}}}});
  r.add({.name = "debug",
         .arity = -2,
         .flags = "admin noscript loading stale protected",
         .handler = debug_cmd,
         .doc = {"A container for debugging commands",
                 "1.0.0",
                 "server",
                 "Depends on subcommand.",
                 "",
                 {},
                 {"syscmd"}}});
}

}  // namespace setd::cmd
