// Persistence commands (Redis 7.0's rdb.c, aof.c, cluster.c DUMP/RESTORE,
// debug.c): SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF, DUMP, RESTORE and DEBUG
// (RELOAD, LOADAOF, SLEEP, HELP). The work itself is server::Persistence's.
#include <chrono>
#include <climits>
#include <thread>

#include "setd/base/clock.hpp"
#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"
#include "setd/persist/rdb_decoder.hpp"

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

// DEBUG <subcommand>: the subcommands tests and operators use.
void debug_cmd(Context& ctx) {
  const std::string_view sub = ctx.arg(1);
  auto& p = ctx.server.persistence();
  if (is(sub, "HELP") && ctx.argc() == 2) {
    return reply_help(ctx, "DEBUG",
                      {"LOADAOF", "    Flush the AOF buffers on disk and reload the AOF in memory.",
                       "RELOAD [option ...]",
                       "    Save the RDB on disk and reload it back to memory. Available options:",
                       "    * MERGE: Merge the content of the RDB file with the current "
                       "dataset (keys already present are replaced).",
                       "    * NOFLUSH: Do not empty the dataset before loading the RDB file.",
                       "    * NOSAVE: Do not save the dataset on disk, load the existing RDB.",
                       "SLEEP <seconds>", "    Stop the server for <seconds>. Decimals allowed."});
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
      for (int i = 0; i < ctx.server.db_count(); ++i) ctx.server.flush_db(i);
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
