// Transaction commands: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis 7.0's
// multi.c). Queueing itself happens in the dispatcher while client.in_multi
// is set; a command that fails to queue sets client.multi_error.
#include <string>
#include <vector>

#include "setd/cmd/dispatcher.hpp"
#include "setd/cmd/util.hpp"

namespace setd::cmd {

// See dispatcher.hpp.
void discard_transaction(server::ServerState& state, server::Client& c) {
  std::vector<server::QueuedCommand>().swap(c.multi_queue);
  c.in_multi = false;
  c.multi_error = false;
  c.dirty_cas = false;
  c.multi_write = false;
  c.multi_denyoom = false;
  c.multi_may_replicate = false;
  state.unwatch_all(c);
}

namespace {

// True when CLIENT REPLY OFF / SKIP silences what the client is sent now.
bool muted(const server::Client& c) {
  return c.reply_mode == server::ReplyMode::kOff || c.reply_mode == server::ReplyMode::kSkipThis;
}

// MULTI: starts queueing (not nestable).
void multi_cmd(Context& ctx) {
  if (ctx.client.in_multi) {
    ctx.rb.error("ERR MULTI calls can not be nested");
    return;
  }
  ctx.client.in_multi = true;
  ctx.rb.ok();
}

// DISCARD: drops the queue and every WATCH.
void discard_cmd(Context& ctx) {
  if (!ctx.client.in_multi) {
    ctx.rb.error("ERR DISCARD without MULTI");
    return;
  }
  discard_transaction(ctx.server, ctx.client);
  ctx.rb.ok();
}

// Writes EXEC's own reply (an error or the null array) unless the client's
// replies are silenced; the dispatcher leaves that judgement to EXEC.
template <class Write>
void exec_own_reply(Context& ctx, Write&& write) {
  const size_t mark = ctx.client.out.size();
  const bool silent = muted(ctx.client);
  write();
  if (silent) ctx.client.out.resize(mark);
}

// EXEC: fails with EXECABORT when a command failed to queue, with a null
// array when a WATCHed key changed or expired; otherwise runs the queued
// commands in order, replying an array of their replies (errors included).
// CLIENT REPLY inside the transaction acts on the replies that follow it,
// as in Redis.
void exec_cmd(Context& ctx) {
  auto& c = ctx.client;
  if (!c.in_multi) {
    exec_own_reply(ctx, [&] { ctx.rb.error("ERR EXEC without MULTI"); });
    return;
  }
  if (ctx.server.watched_key_expired(c)) c.dirty_cas = true;
  if (c.multi_error || c.dirty_cas) {
    exec_own_reply(ctx, [&] {
      if (c.multi_error)
        ctx.rb.error("EXECABORT Transaction discarded because of previous errors.");
      else
        ctx.rb.null_array();
    });
    discard_transaction(ctx.server, c);
    return;
  }
  ctx.server.unwatch_all(c);
  // Stays queued (and the client in MULTI) while it runs: CLIENT INFO shows
  // "flags=x multi=<n>" from inside, as in Redis. Nothing can queue more.
  const size_t count = c.multi_queue.size();
  exec_own_reply(ctx, [&] { ctx.rb.array(count); });
  std::vector<std::string_view> args;
  for (size_t j = 0; j < count && j < c.multi_queue.size(); ++j) {
    const auto& queued = c.multi_queue[j].args;
    args.assign(queued.begin(), queued.end());
    const size_t mark = c.out.size();
    // It resolved when queued, and the command table does not change.
    const CommandSpec* spec = ctx.dispatcher.resolve(c, args);
    // Permissions are checked again: the rules may have changed since.
    size_t pos = 0;
    const acl::Verdict v =
        spec && c.user ? ctx.dispatcher.acl_check(*c.user, *spec, args, pos) : acl::Verdict::kOk;
    if (v != acl::Verdict::kOk) {
      ctx.dispatcher.acl_log(c, v, acl::LogContext::kMulti, *spec, args, pos);
      const char* reason = v == acl::Verdict::kDeniedKey
                               ? "no permission to touch the specified keys"
                           : v == acl::Verdict::kDeniedChannel
                               ? "no permission to access one of the channels used as arguments"
                               : "no permission to execute the command or subcommand";
      ctx.rb.error(
          std::string("NOPERM ACLs rules changed between the moment the transaction was "
                      "accumulated and the EXEC call. This command is no longer allowed for the "
                      "following reason: ") +
          reason);
    } else if (spec) {
      ctx.dispatcher.call(c, *spec, args);
    }
    if (muted(c)) c.out.resize(mark);
  }
  discard_transaction(ctx.server, c);
}

// WATCH key...: remembers the keys in the current database.
void watch_cmd(Context& ctx) {
  auto& c = ctx.client;
  if (c.in_multi) {
    ctx.rb.error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  // A dirty client's EXEC fails anyway: no point in watching more.
  if (!c.dirty_cas)
    for (size_t j = 1; j < ctx.argc(); ++j) ctx.server.watch_key(c, c.db, ctx.arg(j));
  ctx.rb.ok();
}

// UNWATCH: forgets every watched key and any change already seen.
void unwatch_cmd(Context& ctx) {
  ctx.server.unwatch_all(ctx.client);
  ctx.client.dirty_cas = false;
  ctx.rb.ok();
}

// A transaction command: @transaction, documented in group "transactions".
CommandSpec tx_cmd(std::string name, int arity, std::string flags, Handler h, std::string summary,
                   std::string since, std::string complexity, std::string args = "") {
  return make_command(std::move(name), arity, std::move(flags), h, "transactions",
                      std::move(summary), std::move(since), std::move(complexity), std::move(args),
                      "@transaction");
}

}  // namespace

// Adds the transaction commands with Redis 7.0's COMMAND INFO / DOCS data.
void register_transaction_commands(Registry& r) {
  r.add(tx_cmd("multi", 1, "noscript loading stale fast allow_busy", multi_cmd,
               "Mark the start of a transaction block", "1.2.0", "O(1)"));
  r.add(tx_cmd("exec", 1, "noscript loading stale skip_slowlog", exec_cmd,
               "Execute all commands issued after MULTI", "1.2.0",
               "Depends on commands in the transaction"));
  r.add(tx_cmd("discard", 1, "noscript loading stale fast allow_busy", discard_cmd,
               "Discard all commands issued after MULTI", "2.0.0",
               "O(N), when N is the number of queued commands"));
  {
    CommandSpec s = tx_cmd("watch", -2, "noscript loading stale fast allow_busy", watch_cmd,
                           "Watch the given keys to determine execution of the MULTI/EXEC block",
                           "2.2.0", "O(1) for every key.", "key...");
    KeySpec k;
    k.flags = "RO";
    k.begin_index = 1;
    k.lastkey = -1;
    k.keystep = 1;
    s.keys = {k};
    r.add(std::move(s));
  }
  r.add(tx_cmd("unwatch", 1, "noscript loading stale fast allow_busy", unwatch_cmd,
               "Forget about all watched keys", "2.2.0", "O(1)"));
}

}  // namespace setd::cmd
